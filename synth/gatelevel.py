"""Zero-delay gate-level simulation of a synthesized netlist under the block's own
cocotb test (Verilator, SAIF trace): per-net toggle counts and high time for
every net, which synth/power.py then uses instead of propagated estimates.
Cell models are written by Yosys from the Liberty `function` and `ff` groups."""

import dataclasses
import os
import subprocess
from pathlib import Path

from models.paths import BUILD, liberty
from synth.saif import read as read_saif


def cell_models():
    out = BUILD / "synth" / "nangate45_cells.v"
    lib = liberty()
    if not out.exists() or out.stat().st_mtime < lib.stat().st_mtime:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp.v")
        subprocess.run(["yosys", "-q", "-p", f"read_liberty -ignore_miss_func {lib}; "
                        f"write_verilog -noattr {tmp}"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tmp.rename(out)
    return out


def simulate(block, netlist_v, fast_compile=True):
    """Runs block.testcase of unit block.unit on the netlist; returns
    ({saif net path: (T0, T1, TC)}, duration, unit, build folder)."""
    from tb.units import UNITS, build_dir_for, run_unit
    unit = UNITS[block.unit]
    models = Path(netlist_v).parent / "macro_models.v"       # RAM macros: their RTL behind a wrapper
    extra = ()
    if models.exists() and models.read_text().strip():
        extra = (str(models),) + tuple(s for s in block.sources if Path(s).stem in block.macros)
    unit = dataclasses.replace(unit, sources=(str(netlist_v), str(cell_models())) + extra, parameters={},
                               env={**unit.env, **block.env})
    old = os.environ.get("MAKEFLAGS")
    if fast_compile:           # a flat netlist is large C++; -O0 compiles it several times faster
        os.environ["MAKEFLAGS"] = ((old or "") + " OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0").strip()
    try:
        tests, failed = run_unit(unit, testcase=block.testcase, trace="saif")
    finally:
        if old is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = old
    if tests == 0 or failed:
        raise RuntimeError(f"gate-level {block.unit}/{block.testcase} on {netlist_v}: "
                           f"{failed} of {tests} failed (the netlist disagrees with the reference)")
    saif, duration = read_saif(build_dir_for(unit, "saif") / "dump.saif")
    return saif, duration
