"""Where a report under reports/ came from: the commit (and whether the working
tree differed from it), the date and the command that wrote it. Every bench
(tb/bench_*.py) and the synthesis flow (synth/) stamp their JSON with
stamp(); an entry kept from an earlier report is marked with carried().
No cocotb here: synth/ imports it too."""

import datetime
import os
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNKNOWN = {"commit": "unknown", "note": "written before reports carried a provenance stamp"}


def _git(*args):
    try:
        res = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout if res.returncode == 0 else None


def _command():
    """`make bench-x` when make ran it (the Makefile sets REPORT_COMMAND), and
    the process's own command line, with the interpreter relative to the repo."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    try:
        argv[0] = str(Path(argv[0]).resolve().relative_to(REPO))
    except ValueError:
        pass
    line = shlex.join(argv)
    make = os.environ.get("REPORT_COMMAND")
    return f"{make} ({line})" if make else line


def stamp():
    """{commit, dirty, dirty_files, date, command} of this run."""
    head = _git("rev-parse", "HEAD")
    changed = (_git("status", "--porcelain") or "").splitlines()
    return {"commit": head.strip() if head else "unknown (no git checkout)",
            "dirty": bool(changed),
            # the first few, so that a reader sees what differed from the commit
            "dirty_files": [line[3:] for line in changed[:20]] + (["..."] if len(changed) > 20 else []),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": _command()}


def of(report):
    """The provenance of a report (a dict read from JSON), UNKNOWN if it has none."""
    return (report or {}).get("provenance") or dict(UNKNOWN)


def carried(entry, old_report, path):
    """`entry` (a dict) kept from `old_report` (read from `path`) into a new
    report: marked with the run that measured it. An entry carried before
    keeps its first mark: that is where it was measured."""
    if not isinstance(entry, dict) or "carried_over" in entry:
        return entry
    return {**entry, "carried_over": {"from": rel(path), **of(old_report)}}


def rel(path):
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def short(prov):
    """`abc1234 (dirty), 2025-01-01` for a page or a log line."""
    c = prov.get("commit", "unknown")
    c = c[:10] if len(c) == 40 else c
    return f"{c}{' (dirty)' if prov.get('dirty') else ''}, {prov.get('date', 'no date')[:10]}"


def cite(path, report):
    """`reports/x.json, commit abc1234 (dirty), 2025-01-01`: a figure taken from another report."""
    return f"{rel(path)}, commit {short(of(report))}"
