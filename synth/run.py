"""make synth [BLOCK=<name>]: Yosys -> NanGate45 netlist, OpenSTA timing and fmax,
activity from the block's cocotb test (Verilator SAIF), power from the Liberty
tables (synth/power.py) -> reports/synth/<block>.json."""

import argparse
import dataclasses
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from models.paths import BUILD, REPO, liberty
from synth import fanout, macros
from synth.config import all_blocks
from synth.netlist import load
from synth.power import PowerModel
from synth.saif import read as read_saif
from tb.lib import provenance

MIN_REGISTER_MATCH = 0.98     # below: the block fails, unless it propagates D -> Q (Block.registers_from_d)

RTL = REPO / "rtl"
SYNTH = REPO / "synth"
REPORTS = REPO / "reports" / "synth"
DONT_USE = ("CLKBUF_X1", "CLKBUF_X2", "CLKBUF_X3", "AOI211_X1", "OAI211_X1")  # as OpenROAD-flow-scripts
IO_DELAY_NS = 0.0      # ports are assumed registered in the neighbouring block
PORT_LOAD_FF = 2.0     # about one X1 gate input plus a short wire
STA_TIMEOUT_S = 1800
WIRE_LOAD = "5K_hvratio_1_1"


def syn_liberty():
    """The typical liberty with dont_use on the cells ABC must not pick."""
    lib = liberty()
    out = BUILD / "synth" / f"{lib.stem}_dont_use.lib"
    if not out.exists() or out.stat().st_mtime < lib.stat().st_mtime:
        out.parent.mkdir(parents=True, exist_ok=True)
        text = lib.read_text()
        for cell in DONT_USE:
            text, n = re.subn(rf"cell \({cell}\) \{{", f"cell ({cell}) {{\n    dont_use : true;", text)
            assert n == 1, cell
        out.write_text(text)
    return out


def have_pyosys():
    return importlib.util.find_spec("pyosys") is not None


def use_pyosys(block=None):
    """PyPI pyosys when installed, unless the block asks for Debian's yosys
    (block.yosys) or SYNTH_YOSYS=debian forces /usr/bin/yosys everywhere."""
    if os.environ.get("SYNTH_YOSYS", "") == "debian" or (block is not None and block.yosys == "debian"):
        return False
    return have_pyosys()


def yosys_cmd(script, log, pyosys):
    if pyosys:
        return [sys.executable, "-m", "synth.pyosys_run", str(script), str(log)]
    return ["yosys", "-q", "-l", str(log), str(script)]


def yosys_version(pyosys):
    if pyosys:
        from importlib.metadata import version
        return f"pyosys {version('pyosys')} (PyPI)"
    return subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()


def yosys(block, out, abc_ns=None, pyosys=None):
    chparams = (f"chparam " + " ".join(f"-set {k} {v}" for k, v in block.parameters.items())
                + f" {block.top}") if block.parameters else ""
    script = (SYNTH / "synth.ys").read_text().format(
        sources=" ".join(str(RTL / s) for s in block.sources), top=block.top, chparams=chparams,
        incdirs=" ".join(sorted({f"-I{(RTL / s).parent}" for s in block.sources})),
        blackbox=macros.blackbox_cmds(tuple(block.macros) + tuple(block.submodules)),
        synth_opts=block.synth_opts, lib_syn=syn_liberty(), lib=liberty(), out=out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "synth.ys").write_text(script)
    # delay-driven mapping: Yosys 0.23's default `abc -D` script ignores the target
    # here (same netlist at 1.0 and 2.5 ns); this one gave fp_add 525 vs 335 MHz
    (out / "abc.script").write_text((SYNTH / "abc_speed.script").read_text().format(
        clock_ps=int((abc_ns or block.clock_ns) * 1000)))
    pyosys = use_pyosys(block) if pyosys is None else pyosys
    res = subprocess.run(yosys_cmd(out / "synth.ys", out / "yosys.log", pyosys), capture_output=True, text=True,
                         cwd=REPO)
    tool = yosys_version(pyosys)
    if res.returncode != 0 and pyosys:
        # pyosys 0.70 asserts in `hierarchy` on mlp_net (rtlil_bufnorm.cc:679): Debian's yosys then
        (out / "yosys_pyosys_failed.log").write_bytes((out / "yosys.log").read_bytes())
        res = subprocess.run(["yosys", "-q", "-l", str(out / "yosys.log"), str(out / "synth.ys")],
                             capture_output=True, text=True)
        tool = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip() + \
            " (pyosys failed on this block)"
    (out / "yosys_tool.txt").write_text(tool)
    if res.returncode != 0:
        raise RuntimeError(f"yosys failed on {block.name}, see {out / 'yosys.log'}:\n{res.stderr[-2000:]}")
    buffers = fanout_repair(block, out, pyosys and "pyosys failed" not in tool) if block.max_fanout else 0
    unsign_wires(out / "netlist.v")
    stat = (out / "stat.txt").read_text()
    hard = make_macros(block, out)
    n_hard = sum(h["count"] for h in hard.values())
    return {"area_um2": float(re.search(r"Chip area for module .*?: ([0-9.]+)", stat).group(1)),
            "cells": _stat_cells(stat) - n_hard, "fanout_buffers": buffers}


def unsign_wires(netlist_v):
    """OpenSTA 2.0.17's Verilog reader rejects `wire signed` (a syntax error
    per declaration, e.g. a function's integer loop variable left unconnected);
    a structural netlist has no arithmetic, so the keyword carries nothing."""
    v = netlist_v.read_text()
    netlist_v.write_text(re.sub(r"^(\s*wire) signed ", r"\1 ", v, flags=re.M))


def fanout_repair(block, out, pyosys):
    """Buffer trees on the nets with more than block.max_fanout loads
    (synth/fanout.py), then netlist.v and the area statistics again."""
    n = fanout.repair(out / "netlist.json", block.top, liberty().read_text(), block.max_fanout)
    script = out / "fanout.ys"
    script.write_text(f"read_json {out}/netlist.json\n"
                      f"tee -o {out}/stat.txt stat -liberty {liberty()}\n"
                      f"write_verilog -noattr -noexpr -nohex -nodec -simple-lhs {out}/netlist.v\n")
    res = subprocess.run(yosys_cmd(script, out / "fanout.log", pyosys), capture_output=True, text=True, cwd=REPO)
    if res.returncode != 0:
        raise RuntimeError(f"fanout repair failed on {block.name}, see {out / 'fanout.log'}")
    (out / "fanout.txt").write_text(f"{n} buffers, at most {block.max_fanout} loads per net\n")
    return n


def _stat_cells(stat):
    """Cell count of `stat` (Yosys 0.23: "Number of cells: N"; newer: "N  area cells")."""
    m = re.search(r"Number of cells:\s+(\d+)", stat) or re.search(r"^\s*(\d+)\s+\S+\s+cells\s*$", stat, re.M)
    return int(m.group(1))


def make_macros(block, out):
    """Blackboxes of the netlist -> macro cells: renamed, a Liberty stub for
    OpenSTA (out/macros.lib), behavioural models for the gate-level simulation
    (out/macro_models.v). Returns {cell type: info} (see synth/macros.py)."""
    bbs = macros.find_blackboxes(out / "netlist.json", block.top)
    mod = json.load(open(out / "netlist.json"))["modules"][block.top]
    rename, hard, stubs, models = {}, {}, {}, []
    for yname, (base, params, ports) in bbs.items():
        name = macros.macro_name(base, params)
        rename[yname] = name
        count = sum(1 for c in mod["cells"].values() if c["type"] == yname)
        if base in block.submodules:
            sub = sub_report(block.submodules[base])
            b = sub["boundary"]
            stubs[name] = {"area": sub["area_um2"], "ports": ports, "clock": "clk",
                           "setup_ns": b["input_to_reg_ns"], "clk_q_ns": b["reg_to_output_ns"],
                           "comb_ns": b["input_to_output_ns"], "pin_cap_ff": b["input_cap_ff"],
                           "leakage_mw": sub["power_mw"]["leakage"]}
            hard[name] = {"kind": "block", "block": sub["block"], "module": base, "count": count,
                          "ports": {p: [d, w, b["input_cap_ff"].get(p, macros.PIN_CAP_FF)]
                                    for p, (d, w) in ports.items()}}
        elif base in block.macros:
            f = macros.sram_figures(params["WIDTH"], params["DEPTH"])
            stubs[name] = {"area": f["area_um2"], "ports": ports, "clock": "clk",
                           "setup_ns": f["setup_ns"], "clk_q_ns": f["clk_q_ns"], "comb_ns": None,
                           "leakage_mw": f["leakage_mw"]}
            hard[name] = {"kind": "sram", "module": base, "count": count, **f,
                          "ports": {p: [d, w, macros.PIN_CAP_FF] for p, (d, w) in ports.items()}}
            models.append(macros.ram_wrapper(name, base, params, ports))
        else:
            raise RuntimeError(f"{block.name}: blackbox {yname} is neither a macro nor a submodule")
    if rename:
        macros.rename_in_netlist(out, rename)
    macros.liberty_stub(stubs, out / "macros.lib")
    (out / "macro_models.v").write_text("".join(models))
    (out / "macros.json").write_text(json.dumps(hard, indent=1))
    return hard


def sub_fmax(rep, block):
    """A hierarchical block's timing stops at its sub-blocks' boundaries (their
    stubs): the block runs at the slower of its own paths (`fmax_glue_mhz`) and
    each sub-block's fmax."""
    if not block.submodules:
        return
    rep["fmax_glue_mhz"] = rep["fmax_netlist_mhz"]
    for sub in sorted(set(block.submodules.values())):
        f = sub_report(sub)["fmax_mhz"]
        if f < rep["fmax_mhz"]:
            rep["fmax_mhz"], rep["fmax_limited_by"] = f, f"sub-block {sub}"


@functools.lru_cache(maxsize=None)
def _flow_digest(pyosys):
    """The flow itself: its scripts, the liberty and the Yosys version."""
    import hashlib
    h = hashlib.sha1()
    for f in sorted(SYNTH.glob("*.py")) + sorted(SYNTH.glob("*.ys")) + sorted(SYNTH.glob("*.sdc")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(liberty().read_bytes())
    h.update(yosys_version(pyosys).encode())
    return h.hexdigest()


def inputs_hash(block):
    """What a block's report depends on, hashed: its RTL sources' contents, its
    configuration (top, parameters, clock, flow knobs, activity run), the flow
    (scripts, liberty, Yosys version) and its sub-blocks' hashes. Free-text
    fields (activity_doc, paper) and in_all are left out."""
    import hashlib
    h = hashlib.sha1()
    cfg = {k: v for k, v in dataclasses.asdict(block).items() if k not in ("activity_doc", "paper", "in_all")}
    h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
    h.update(_flow_digest(use_pyosys(block)).encode())
    for src in block.sources:
        h.update(src.encode())
        h.update((RTL / src).read_bytes())
    blocks = all_blocks()
    for sub in sorted(set(block.submodules.values())):
        h.update(inputs_hash(blocks[sub]).encode())
    return h.hexdigest()[:16]


def sub_report(name, gate_level=True):
    """The report of a sub-block: the existing one when its inputs hash matches
    the sources and configuration now, else synthesized again."""
    path = REPORTS / f"{name}.json"
    block = all_blocks()[name]
    if path.exists():
        rep = json.loads(path.read_text())
        if rep.get("status") == "ok" and "boundary" in rep and rep.get("inputs_hash") == inputs_hash(block):
            return rep
        print(f"sub-block {name}: {path} is not of these sources and parameters "
              f"(inputs hash {rep.get('inputs_hash')}, now {inputs_hash(block)}): synthesizing it again", flush=True)
    rep = run_block(block, gate_level)
    if rep.get("status") != "ok":
        raise RuntimeError(f"sub-block {name}: {rep.get('reason')}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rep, indent=2) + "\n")
    return rep


def sta(netlist, top, clock_ns, extra="", out=None, name="sta"):
    stub = Path(netlist).parent / "macros.lib"
    extra_lib = f"read_liberty {stub}\n" if stub.exists() and "cell (" in stub.read_text() else ""
    tcl = f"""read_liberty {liberty()}
{extra_lib}read_verilog {netlist}
link_design {top}
set clock_period {clock_ns}
set io_delay {IO_DELAY_NS}
set port_load {PORT_LOAD_FF}
source {SYNTH / 'constraints.sdc'}
report_checks -path_delay max -digits 3
report_worst_slack -digits 4
{extra}
"""
    path = Path(out) / f"{name}.tcl"
    path.write_text(tcl)
    # a bound, so that a design OpenSTA cannot finish fails its block instead of hanging the run
    res = subprocess.run(["sta", "-no_init", "-exit", str(path)], capture_output=True, text=True,
                         timeout=STA_TIMEOUT_S)
    (Path(out) / f"{name}.log").write_text(res.stdout + res.stderr)
    if res.returncode != 0 or "Error" in res.stdout or "Error" in res.stderr:
        raise RuntimeError(f"OpenSTA failed, see {path.with_suffix('.log')}")
    return res.stdout


SEARCH = os.environ.get("SYNTH_SEARCH", "") == "1"   # every ABC target, not only the block's quick ones


def synth_search(block, out):
    """Synthesizes at several ABC delay targets (the block's abc_quick ones in
    a plain run: the winners of an earlier search). fmax is the best any of
    them reaches, and area, timing and power are all of that netlist (the
    smaller of two equally fast)."""
    tries = []
    # the search also tries both Yosys builds: neither maps every block faster
    tools = ([True, False] if SEARCH and have_pyosys() and os.environ.get("SYNTH_YOSYS", "") != "debian"
             else [use_pyosys(block)])
    for frac, pyosys in [(f, t) for f in (block.abc_targets if SEARCH or not block.abc_quick
                                          else block.abc_quick) for t in tools]:
        abc_ns = round(block.clock_ns * frac, 3)
        d = out / f"abc_{int(abc_ns * 1000)}ps_{'pyosys' if pyosys else 'debian'}"
        r = yosys(block, d, abc_ns, pyosys)
        log = sta(d / "netlist.v", block.top, block.clock_ns, out=d, name="sta_timing")
        slack = float(re.search(r"worst slack (-?[0-9.]+)", log).group(1))
        tries.append({"abc_target_ns": abc_ns, "yosys": (d / "yosys_tool.txt").read_text(), "dir": d, **r,
                      "worst_slack_ns": slack,
                      "fmax_mhz": round(1000.0 / (block.clock_ns - slack), 1)})
    best = max(tries, key=lambda t: (t["fmax_mhz"], -t["area_um2"]))
    return best, tries


BOUNDARY = {"input_to_reg_ns": "-from $non_clk_inputs -to [all_registers -data_pins]",
            "reg_to_output_ns": "-from [all_registers -clock_pins] -to [all_outputs]",
            "input_to_output_ns": "-from $non_clk_inputs -to [all_outputs]"}


def timing(block, out, names):
    extra = "\n".join(f'puts "BOUNDARY {k}"\nreport_checks {v} -path_delay max -digits 4'
                      for k, v in BOUNDARY.items())
    log = sta(out / "netlist.v", block.top, block.clock_ns, extra=extra, out=out, name="sta_timing")
    bound = {}
    for part in log.split("BOUNDARY ")[1:]:
        k = part.split()[0]
        m = re.search(r"(-?[0-9.]+)\s+slack", part)
        # zero I/O delay: clock - slack = the delay from/to the port (with setup)
        bound[k] = round(block.clock_ns - float(m.group(1)), 4) if m else None
    log = log.split("BOUNDARY ")[0]
    slack = float(re.search(r"worst slack (-?[0-9.]+)", log).group(1))
    crit = block.clock_ns - slack
    start = re.search(r"Startpoint: (\S+)", log).group(1)
    end = re.search(r"Endpoint: (\S+)", log).group(1)
    # check: the netlist meets a clock of exactly the critical-path delay
    log2 = sta(out / "netlist.v", block.top, round(crit + 0.0005, 4), out=out, name="sta_fmax")
    slack2 = float(re.search(r"worst slack (-?[0-9.]+)", log2).group(1))
    return {"clock_ns": block.clock_ns, "wns_ns": min(slack, 0.0), "worst_slack_ns": slack,
            "critical_path_ns": round(crit, 4), "fmax_mhz": round(1000.0 / crit, 1),
            "fmax_check_slack_ns": slack2, "boundary": bound,
            "critical_path": {"start": _rtl_name(start, names), "end": _rtl_name(end, names)}}


def _rtl_name(pin, names):
    """`_3515_/CK` -> the register it is (by the RTL name of its Q net)."""
    return names.get(pin.split("/")[0], pin)


def _rtl_saif(unit, testcase, run_unit, build_dir_for):
    """The RTL SAIF of a unit's test, cached by unit, test, environment and the
    sources' contents: blocks that share one simulation (the lanes and the
    MNIST datapath; the PE and the array) run it once."""
    import hashlib
    h = hashlib.sha1(json.dumps([unit.toplevel, unit.sources, unit.parameters, unit.env, testcase],
                                sort_keys=True).encode())
    for src in unit.sources:
        h.update((RTL / src).read_bytes())
    cached = BUILD / "synth" / "saif_cache" / f"{unit.toplevel}-{h.hexdigest()[:12]}.saif"
    if not cached.exists():
        tests, failed = run_unit(unit, testcase=testcase or None, trace="saif")
        if tests == 0 or failed:
            raise RuntimeError(f"activity run {unit.toplevel}/{testcase}: {failed} of {tests} failed")
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(build_dir_for(unit, "saif") / "dump.saif", tmp)
        tmp.rename(cached)
    return cached


def _scoped(saif, scope, top):
    """SAIF nets under every instance matching the glob `scope`, averaged over
    the instances and renamed as if `top` were the simulated top."""
    rx = re.compile(re.escape(scope).replace(r"\*", r"[^/]*") + r"/(.+)$")
    acc = {}
    for k, v in saif.items():
        m = rx.match(k)
        if m:
            acc.setdefault(m.group(1), []).append(v)
    n = max((len(v) for v in acc.values()), default=0)
    if not n:
        raise RuntimeError(f"activity scope {scope} matches nothing in the SAIF")
    return {f"{top}/{k}": tuple(sum(x[i] for x in v) / len(v) for i in range(3))
            for k, v in acc.items()}, n


def match_saif(saif, top, ports, names, wanted, gate_level):
    """Activity by name: {net: (toggles per clock cycle, P(1))} of the input
    ports and of each `wanted` net whose RTL name (gate level: netlist name)
    the SAIF has under `top`; and the clock cycles simulated."""
    cycles = saif[f"{top}/clk"][2] / 2

    def rate(v):
        return (v[2] / cycles, v[1] / max(v[0] + v[1], 1e-30))

    src = {}
    for pname, (d, net) in ports.items():
        if d == "input" and pname != "clk" and f"{top}/{pname}" in saif:
            src[net] = rate(saif[f"{top}/{pname}"])
    for net in wanted:
        for n in names.get(net, []):
            key = f"{top}/{n.replace('.', '/')}" if not gate_level else f"{top}/{n}"
            if key in saif:
                src[net] = rate(saif[key])
                break
    return src, cycles


def check_register_match(block, info):
    """A register no SAIF net matches would get zero activity and under-count
    power: below MIN_REGISTER_MATCH of the registers matched the block fails,
    unless it takes their activity from their D inputs (block.registers_from_d).
    Adds the ratio and what the unmatched registers get to `info`."""
    n, got = info["registers"], info["registers_matched"]
    ratio = got / n if n else 1.0
    info["register_match_ratio"] = round(ratio, 5)
    if got == n:
        info["unmatched_registers"] = "none"
    elif block.registers_from_d:
        info["unmatched_registers"] = (f"{n - got} registers take the activity of their D input "
                                       f"(propagated D -> Q to a fixed point, at most 1 toggle per clock)")
    elif ratio < MIN_REGISTER_MATCH:
        raise RuntimeError(f"{block.name}: only {got} of {n} registers ({ratio:.1%}) match a SAIF net, "
                           f"fewer than {MIN_REGISTER_MATCH:.0%}; the rest would count zero activity. "
                           f"Match them (RTL names) or set registers_from_d in the block's config")
    else:
        info["unmatched_registers"] = f"{n - got} registers at zero activity (under {1 - MIN_REGISTER_MATCH:.0%})"
    return ratio


def activity(block, netlist_v, q_nets, ports, names, gate_level=True, extra_nets=(), hard_cells=None):
    """Per-net (toggles per clock cycle, P(1)) from the block's cocotb test with a
    SAIF trace: on the synthesized netlist (every net), or on the RTL (primary
    inputs, register outputs and macro outputs, matched by name; with
    block.activity_scope, of the matching instances of the unit's simulation)."""
    sys.path.insert(0, str(REPO / "tb"))
    from tb.units import UNITS, build_dir_for, run_unit
    instances = 1
    if gate_level:
        from synth.gatelevel import simulate
        saif, _ = simulate(block, netlist_v)
    else:
        unit = UNITS[block.unit]
        params = block.unit_parameters if block.activity_scope else block.parameters
        unit = dataclasses.replace(unit, parameters={**unit.parameters, **params},
                                   env={**unit.env, **block.env})
        saif, _ = read_saif(_rtl_saif(unit, block.testcase, run_unit, build_dir_for))
        if block.activity_scope:
            saif, instances = _scoped(saif, block.activity_scope, block.top)
    top = block.top
    wanted = set(names) if gate_level else set(q_nets) | set(extra_nets)
    src, cycles = match_saif(saif, top, ports, names, wanted, gate_level)

    def rate(v):
        return (v[2] / cycles, v[1] / max(v[0] + v[1], 1e-30))

    ops = None
    if block.op_signal:
        ops = rate(saif[f"{top}/{block.op_signal}"])[1] * block.ops_per_valid
    # RAM macro accesses: the duty of the macro instance's enables where the RTL SAIF has them
    pin_duty = {}
    for cname in (hard_cells or ()):
        for pin in ("rd_en", "wr_en"):
            key = f"{top}/{cname.replace('.', '/')}/{pin}"
            if key in saif:
                pin_duty[(cname, pin)] = rate(saif[key])[1]
    return src, {"level": "gate" if gate_level else "rtl",
                 "registers_matched": sum(1 for n in q_nets if n in src), "registers": len(q_nets),
                 "nets_matched": sum(1 for n in names if n in src), "nets": len(names),
                 "sim_cycles": int(cycles), "ops_per_cycle": ops,
                 **({"scope": block.activity_scope, "instances_averaged": instances}
                    if block.activity_scope else {})}, pin_duty


def _hard_power(block, hard, cells, dens, pin_duty, clock_ns):
    """Power (mW) of the macro cells: SRAM accesses x energy + leakage; sub-blocks
    n x their own report, dynamic part scaled to this block's clock."""
    f = 1e9 / clock_ns
    tot = {"internal": 0.0, "switching": 0.0, "leakage": 0.0}
    detail = {}
    for cname, (typ, conn) in cells.items():
        h = hard.get(typ)
        if h is None:
            continue
        d = detail.setdefault(typ, {"count": 0, "internal": 0.0, "switching": 0.0, "leakage": 0.0,
                                    "reads_per_cycle": 0.0, "writes_per_cycle": 0.0})
        d["count"] += 1
        if h["kind"] == "sram":
            rd = pin_duty.get((cname, "rd_en"), dens.get(conn["rd_en"][0], (0.0, 0.0))[1])
            wr = pin_duty.get((cname, "wr_en"), dens.get(conn["wr_en"][0], (0.0, 0.0))[1])
            d["reads_per_cycle"] += rd
            d["writes_per_cycle"] += wr
            d["internal"] += f * (rd * h["e_read_pj"] + wr * h["e_write_pj"]) * 1e-12 * 1e3
            d["leakage"] += h["leakage_mw"]
        else:
            sub = sub_report(h["block"])
            scale = sub["clock_ns"] / clock_ns
            for k in ("internal", "switching"):
                d[k] += sub["power_mw"][k] * scale
            d["leakage"] += sub["power_mw"]["leakage"]
    for d in detail.values():
        for k in tot:
            tot[k] += d[k]
        for k in ("internal", "switching", "leakage", "reads_per_cycle", "writes_per_cycle"):
            d[k] = round(d[k] / max(d["count"], 1), 6)       # per instance
    return tot, detail


def _input_caps(pm, cells, ports):
    """Worst bit capacitance (fF) each input port drives inside the block (pins + wire load)."""
    loads = {}
    for typ, conn in cells.values():
        pins = pm.pins(typ)
        for p, n in conn.items():
            if n is not None and pins[p].attrs["direction"] == "input":
                loads.setdefault(n, []).append(pm.lib.pin_cap(typ, p))
    caps = {}
    for pname, (d, net) in ports.items():
        if d != "input" or pname == "clk":
            continue
        base = pname.split("[")[0]
        c = sum(loads.get(net, [])) + pm.lib.wire_cap(len(loads.get(net, [])))
        caps[base] = round(max(caps.get(base, 0.0), c), 3)
    return caps


def run_block(block, gate_level=True):
    missing = [s for s in block.sources if not (RTL / s).exists()]
    if missing:
        return {"block": block.name, "status": "skipped", "reason": f"sources missing: {missing}",
                "provenance": provenance.stamp()}
    gate_level = gate_level and block.activity_level == "gate"
    for sub in block.submodules.values():          # sub-blocks first (their reports feed the stubs)
        sub_report(sub, gate_level)
    t0 = time.time()
    rep = {"block": block.name, "status": "ok", "top": block.top, "parameters": block.parameters,
           "provenance": provenance.stamp(), "inputs_hash": inputs_hash(block)}
    best, tries = synth_search(block, BUILD / "synth" / block.name)
    out = best["dir"]
    hard = json.loads((out / "macros.json").read_text())
    rep.update({"area_um2": best["area_um2"], "cells": best["cells"], "abc_target_ns": best["abc_target_ns"]})
    if block.max_fanout:      # buffer trees after mapping (synth/fanout.py), in the area and timing
        rep.update({"max_fanout": block.max_fanout, "fanout_buffers": best["fanout_buffers"]})
    t_syn = time.time() - t0
    all_cells, ports, names = load(out / "netlist.json", block.top)
    all_cells = {c: v for c, v in all_cells.items() if not v[0].startswith("$")}   # e.g. $scopeinfo
    cells = {c: v for c, v in all_cells.items() if v[0] not in hard}
    hard_cells = _hard_conns(out, block.top, hard)
    regs = {}                                           # flop instance -> RTL register name
    q_nets = []
    for cname, (typ, conn) in cells.items():
        if typ.startswith(("DFF", "SDFF")) and conn.get("Q"):
            q_nets.append(conn["Q"])
            nm = [n for n in names.get(conn["Q"], []) if "_q" in n] or names.get(conn["Q"], [cname])
            regs[cname] = nm[0]
    rep.update(timing(block, out, regs))
    rep["fmax_netlist_mhz"] = rep["fmax_mhz"]            # the fastest netlist is the one analysed
    sub_fmax(rep, block)
    rep["fmax_search"] = [{k: v for k, v in t.items() if k != "dir"} for t in tries]
    t_sta = time.time() - t0 - t_syn
    pm = PowerModel(liberty(), {t for t, _ in cells.values()}, WIRE_LOAD, cache_dir=BUILD / "synth")
    rep["boundary"]["input_cap_ff"] = _input_caps(pm, cells, ports)
    # nets the macros drive (sources for the power model) and load (their pin capacitance)
    hard_out, hard_load = set(), {}
    for typ, conn in hard_cells.values():
        for p, nets in conn.items():
            d, _, cap = hard[typ]["ports"][p]
            for n in nets:
                if d == "output":
                    hard_out.add(n)
                elif p != "clk":
                    hard_load[n] = hard_load.get(n, 0.0) + cap
    t_act = time.time()
    pin_duty = {}
    if block.unit:
        src, info, pin_duty = activity(block, out / "netlist.v", q_nets, ports, names, gate_level,
                                       extra_nets=hard_out, hard_cells=hard_cells)
        if gate_level:
            how = (f"zero-delay gate-level simulation of the synthesized netlist (Yosys cell models) "
                   f"under that test (which passed on the netlist), SAIF on {info['nets_matched']}/"
                   f"{info['nets']} nets" + ("" if info["nets_matched"] == info["nets"]
                                             else ", the rest by transition-density propagation"))
        else:
            scope = (f" of the {info['instances_averaged']} instance(s) {block.activity_scope} (averaged)"
                     if block.activity_scope else "")
            how = (f"RTL SAIF{scope} for primary inputs, register and macro outputs "
                   f"({info['registers_matched']}/{info['registers']} flops matched by name), other nets by "
                   f"transition-density propagation (overestimates arithmetic logic)")
        rep["activity_source"] = f"simulation: {block.activity_doc}; {how}"
    else:
        src, info = {}, {"ops_per_cycle": None}
        rep["activity_source"] = "none: no simulation configured; inputs idle (leakage + clock only)"
    if block.unit:
        check_register_match(block, info)
    rep["activity"] = info
    t_act = time.time() - t_act
    power, dens = pm.analyse(cells, ports, block.clock_ns, src, port_load=PORT_LOAD_FF,
                             extra_load=hard_load, registers_from_d=bool(block.unit and block.registers_from_d))
    rep["power_logic_mw"] = {k: round(v, 5) for k, v in power.items()}
    rep["area_logic_um2"] = rep["area_um2"]
    if hard:
        hp, detail = _hard_power(block, hard, hard_cells, dens, pin_duty, block.clock_ns)
        for k in ("internal", "switching", "leakage"):
            power[k] += hp[k]
        power["total"] = power["internal"] + power["switching"] + power["leakage"]
        rep["hard_macros"] = {}
        for typ, h in hard.items():
            d = detail.get(typ, {})
            area = h["area_um2"] if h["kind"] == "sram" else sub_report(h["block"])["area_um2"]
            e = {"kind": h["kind"], "count": h["count"], "area_um2_each": area,
                 "power_mw_each": {k: d.get(k, 0.0) for k in ("internal", "switching", "leakage")}}
            if h["kind"] == "sram":
                e.update({k: h[k] for k in ("width", "depth", "e_read_pj", "e_write_pj", "clk_q_ns", "setup_ns")})
                e.update({k: d.get(k, 0.0) for k in ("reads_per_cycle", "writes_per_cycle")})
                e["source"] = macros.SRAM_SOURCE
            else:
                sub = sub_report(h["block"])
                e["block"] = h["block"]
                e["cells_each"] = sub["cells"]
                # its figures come from that report, maybe of an earlier run
                e["report"] = {"file": f"reports/synth/{h['block']}.json", "inputs_hash": sub.get("inputs_hash"),
                               "provenance": provenance.of(sub)}
                e["note"] = (f"synthesized once as block {h['block']}; here a blackbox with its boundary "
                             f"timing (synth/macros.py); area and power = count x that block's")
                rep["cells"] += h["count"] * e["cells_each"]
            rep["hard_macros"][typ] = e
            rep["area_um2"] = round(rep["area_um2"] + h["count"] * area, 3)
        rep["area_sram_um2"] = round(sum(h["count"] * h["area_um2"] for h in hard.values()
                                         if h["kind"] == "sram"), 1)
    rep["power_mw"] = {k: round(v, 5) for k, v in power.items()}
    rep["power_model"] = "synth/power.py (Liberty tables, NanGate45 typ, 1.1 V, 25 C, wire load " + WIRE_LOAD + ")"
    if info.get("ops_per_cycle"):
        e = power["total"] * 1e-3 * block.clock_ns * 1e-9 / info["ops_per_cycle"] * 1e12
        rep["energy_pj_per_op"] = {block.op_name or "op": round(e, 3)}
    if block.submodules and hard:
        # A sub-block's power is its own report's, taken at ITS activity run's load, not this
        # run's: this block's logic and macros alone, per op at this run's rate, is the figure
        # that adds to the sub-block's own energy per op.
        own = power["total"] - sum(h["count"] * sum(h["power_mw_each"].values())
                                   for h in rep["hard_macros"].values() if h["kind"] == "block")
        rep["power_own_mw"] = round(own, 5)
        if info.get("ops_per_cycle"):
            e = own * 1e-3 * block.clock_ns * 1e-9 / info["ops_per_cycle"] * 1e12
            rep["energy_pj_per_op_own"] = {block.op_name or "op": round(e, 3)}
    rep["seconds"] = {"synth": round(t_syn, 1), "sta": round(t_sta, 1), "activity": round(t_act, 1),
                      "total": round(time.time() - t0, 1),
                      "abc_targets_tried": len(tries), "load_1min": round(os.getloadavg()[0], 2)}
    rep["tools"] = {"yosys": (out / "yosys_tool.txt").read_text(),
                    "sta": "OpenSTA " + subprocess.run(["sta", "-version"], capture_output=True, text=True,
                                                       input="exit\n").stdout.strip()}
    return rep


def _hard_conns(out, top, hard):
    """Macro instances with every bit of their ports: {cell: (type, {port: [nets]})}."""
    mod = json.load(open(out / "netlist.json"))["modules"][top]
    return {c: (v["type"], {p: [str(b) for b in bits] for p, bits in v["connections"].items()})
            for c, v in mod["cells"].items() if v["type"] in hard}


def _run_one(name, gate_level, outdir):
    """One block in a worker process: its report written, a line for the log."""
    try:
        rep = run_block(all_blocks()[name], gate_level)
    except Exception as e:           # one broken block must not stop the others
        return name, False, f"{name}: FAILED ({type(e).__name__}: {str(e)[-400:]}); its previous report is kept"
    (Path(outdir) / f"{name}.json").write_text(json.dumps(rep, indent=2) + "\n")
    if rep["status"] != "ok":
        return name, True, f"{name}: skipped ({rep['reason']})"
    return name, True, (f"{name}: {rep['area_um2']:.0f} um2, {rep['cells']} cells, fmax {rep['fmax_mhz']} MHz, "
                        f"{rep['power_mw']['total']:.3f} mW at {rep['clock_ns']} ns ({rep['seconds']['total']} s)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--block", help="one block, or several separated by commas (default: all)")
    ap.add_argument("--out", default=str(REPORTS), help="report folder")
    ap.add_argument("--rtl-activity", action="store_true",
                    help="activity from the RTL simulation + propagation (faster, overestimates)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("SYNTH_JOBS", 0)) or min(2, os.cpu_count() or 1),
                    help="blocks synthesized at once (default: 2, or the cores if fewer)")
    args = ap.parse_args(argv)
    blocks = all_blocks()
    names = args.block.split(",") if args.block else [n for n, b in blocks.items() if b.in_all]
    unknown = [n for n in names if n not in blocks]
    if unknown:
        raise SystemExit(f"unknown block {unknown}; known: {sorted(blocks)}")
    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    # a block waits for the sub-blocks of this run that it instantiates (their reports feed its stubs)
    deps = {n: {s for s in blocks[n].submodules.values() if s in names and s != n} for n in names}
    # longest chain first: sub-blocks of the run, then by the previous report's duration
    def last_secs(n):
        try:
            return json.loads((outdir / f"{n}.json").read_text())["seconds"]["total"]
        except (OSError, KeyError, ValueError, TypeError):
            return float("inf")          # never run: assume long
    parents = {s for n in names for s in deps[n]}
    names = sorted(names, key=lambda n: (n not in parents, -last_secs(n)))
    t0 = time.time()
    failed, done, running = [], set(), {}
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        pending = list(names)
        while pending or running:
            for n in [n for n in pending if deps[n] <= done]:
                if len(running) >= max(1, args.jobs):
                    break
                pending.remove(n)
                running[pool.submit(_run_one, n, not args.rtl_activity, str(outdir))] = n
            if not running:          # a sub-block failed: its parents cannot run
                for n in pending:
                    print(f"{n}: not run (sub-block failed)")
                failed += pending
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                n, ok, line = fut.result()
                del running[fut]
                print(line, flush=True)
                if ok:
                    done.add(n)
                else:
                    failed.append(n)
    print(f"make synth: {len(done)} block(s) in {time.time() - t0:.0f} s wall, {args.jobs} job(s)")
    if failed:
        raise SystemExit(f"failed: {failed}")


if __name__ == "__main__":
    main()
