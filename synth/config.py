"""Per-block synthesis configuration, in the spirit of OpenROAD-flow-scripts'
config.mk: each file synth/blocks/<name>.py defines BLOCKS, a list of Block."""

import importlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Block:
    name: str                      # report name: reports/synth/<name>.json
    top: str                       # HDL top module
    sources: tuple                 # paths relative to rtl/
    parameters: dict = field(default_factory=dict)
    clock_ns: float = 2.0          # target clock period (SDC and ABC delay target)
    # activity: a cocotb unit of tb.units.UNITS run with trace="saif"
    unit: str = ""                 # unit name; "" = no simulation (vectorless, reported as such)
    testcase: str = ""             # one test of that unit
    env: dict = field(default_factory=dict)       # env overrides for that run (shorter runs)
    activity_doc: str = ""         # what the test feeds the block, for the report
    op_signal: str = ""            # output valid bit: operations per cycle = its duty (ready tied 1)
    op_name: str = ""              # e.g. "FP32 add" (energy per operation in pJ)
    ops_per_valid: int = 1         # operations per valid output beat (e.g. MACs per beat)
    paper: str = ""                # the figure to report beside, free text
    # hierarchy and macros (synth/macros.py)
    macros: tuple = ("ram_1r1w",)  # RAM modules kept as SRAM macros (Liberty stub, own area/energy)
    submodules: dict = field(default_factory=dict)  # module -> block name synthesized on its own
    # flow knobs
    max_fanout: int = 0            # > 0: buffer trees on nets with more loads (synth/fanout.py)
    synth_opts: str = ""           # extra `synth` options, e.g. "-noshare" (0.23's share pass hangs on bn_unit)
    abc_targets: tuple = (1.0, 0.8, 0.6)   # ABC delay targets as fractions of clock_ns (the search)
    abc_quick: tuple = ()          # the targets a plain `make synth` tries (the search's winner);
                                   # () = all of abc_targets; `make synth SEARCH=1` tries all
    yosys: str = ""                # "debian": Yosys 0.23 for this block (the search's winner); "" = pyosys
                                   # when installed; `make synth SEARCH=1` tries both
    activity_level: str = "gate"   # "gate": simulate the netlist; "rtl": RTL SAIF + propagation
    activity_scope: str = ""       # instance path glob in the unit's SAIF ("" = the unit's top is
                                   # this block); several matches are averaged (e.g. all 512 PEs)
    unit_parameters: dict = field(default_factory=dict)  # HDL parameters of the unit when scoped
    registers_from_d: bool = False  # registers no SAIF net matches take their D input's activity
                                    # (synth/power.py); False: fewer than 98% matched fails the block
    in_all: bool = True            # False: only `make synth BLOCK=<name>` runs it (too slow for the full run)


def all_blocks():
    blocks = {}
    for path in sorted((Path(__file__).parent / "blocks").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        mod = importlib.import_module(f"synth.blocks.{path.stem}")
        for b in mod.BLOCKS:
            if b.name in blocks:
                raise RuntimeError(f"{path.name}: block {b.name} defined twice")
            blocks[b.name] = b
    return blocks
