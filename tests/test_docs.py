"""The documentation as an entry point: README.md stays short, every relative
link in README.md and docs/ resolves (files and the results page's section
anchors), and every unit, synthesis block and testbench is named in a doc page,
so that a block can be found by its name alone."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(page):
    """GitHub's heading anchors of a markdown page (duplicates get -1, -2, ...)."""
    seen, out = {}, set()
    for line in page.read_text().splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if not m:
            continue
        a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        out.add(a if n == 0 else f"{a}-{n}")
    return out


def test_readme_is_short():
    assert len((REPO / "README.md").read_bytes()) <= 10_000


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):          # http:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.exists(), f"{page.name}: link to {target}: no such file"
        if anchor and dest.suffix == ".md":
            assert anchor in _anchors(dest), f"{page.name}: link to {target}: no such section"


def _named():
    text = "\n".join(p.read_text() for p in PAGES)
    return set(re.findall(r"`([^`\s]+)`", text)) | set(re.findall(r"[\w/.]+", text))


def test_every_unit_block_and_testbench_is_documented():
    from synth.config import all_blocks
    from tb.units import UNITS
    named = _named()
    missing = [f"unit {u}" for u in UNITS if u not in named]
    missing += [f"synthesis block {b}" for b in all_blocks() if b not in named]
    missing += [f"testbench {p.relative_to(REPO / 'tb')}" for p in sorted((REPO / "tb").glob("test_*.py"))
                if p.name not in named and f"tb/{p.name}" not in named]
    assert not missing, "not named in README.md or docs/*.md: " + ", ".join(missing)


def test_results_page_is_current(tmp_path, monkeypatch):
    """docs/results.md is what `make report` makes of the reports in reports/ now (its own
    stamp line aside): no figure on it is typed by hand or left behind by a newer report."""
    from synth import report
    monkeypatch.setattr(report, "PAGE", tmp_path / "results.md")
    report.main()
    strip = lambda text: [line for line in text.splitlines() if not line.startswith("This page: commit")]
    assert strip((tmp_path / "results.md").read_text()) == strip((REPO / "docs" / "results.md").read_text()), \
        "docs/results.md is stale: run `make report` and commit it with the reports"
