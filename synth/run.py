"""make synth [BLOCK=<name>]: Yosys -> NanGate45 netlist, OpenSTA timing and fmax,
activity from the block's cocotb test (Verilator SAIF), power from the Liberty
tables (synth/power.py) -> reports/synth/<block>.json."""

import argparse
import dataclasses
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from models.paths import BUILD, REPO, liberty
from synth.config import all_blocks
from synth.netlist import load
from synth.power import PowerModel
from synth.saif import read as read_saif

RTL = REPO / "rtl"
SYNTH = REPO / "synth"
REPORTS = REPO / "reports" / "synth"
DONT_USE = ("CLKBUF_X1", "CLKBUF_X2", "CLKBUF_X3", "AOI211_X1", "OAI211_X1")  # as OpenROAD-flow-scripts
IO_DELAY_NS = 0.0      # ports are assumed registered in the neighbouring block
PORT_LOAD_FF = 2.0     # about one X1 gate input plus a short wire
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


def yosys(block, out, abc_ns=None):
    chparams = " ".join(f"-chparam {k} {v}" for k, v in block.parameters.items())
    script = (SYNTH / "synth.ys").read_text().format(
        sources=" ".join(str(RTL / s) for s in block.sources), top=block.top, chparams=chparams,
        lib_syn=syn_liberty(), lib=liberty(), out=out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "synth.ys").write_text(script)
    # delay-driven mapping: Yosys 0.23's default `abc -D` script ignores the target
    # here (same netlist at 1.0 and 2.5 ns); this one gave fp_add 525 vs 335 MHz
    (out / "abc.script").write_text((SYNTH / "abc_speed.script").read_text().format(
        clock_ps=int((abc_ns or block.clock_ns) * 1000)))
    res = subprocess.run(["yosys", "-q", "-l", str(out / "yosys.log"), str(out / "synth.ys")],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"yosys failed on {block.name}, see {out / 'yosys.log'}:\n{res.stderr[-2000:]}")
    stat = (out / "stat.txt").read_text()
    return {"area_um2": float(re.search(r"Chip area for module .*?: ([0-9.]+)", stat).group(1)),
            "cells": int(re.search(r"Number of cells:\s+(\d+)", stat).group(1))}


def sta(netlist, top, clock_ns, extra="", out=None, name="sta"):
    tcl = f"""read_liberty {liberty()}
read_verilog {netlist}
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
    res = subprocess.run(["sta", "-no_init", "-exit", str(path)], capture_output=True, text=True)
    (Path(out) / f"{name}.log").write_text(res.stdout + res.stderr)
    if res.returncode != 0 or "Error" in res.stdout:
        raise RuntimeError(f"OpenSTA failed, see {path.with_suffix('.log')}")
    return res.stdout


ABC_TARGETS = (1.0, 0.8, 0.6)     # ABC delay targets as fractions of the block's clock


def synth_search(block, out):
    """Synthesizes at several ABC delay targets. fmax is the best any of them
    reaches; the netlist analysed further is the smallest one that meets the
    block's clock, else the fastest."""
    tries = []
    for frac in ABC_TARGETS:
        abc_ns = round(block.clock_ns * frac, 3)
        d = out / f"abc_{int(abc_ns * 1000)}ps"
        r = yosys(block, d, abc_ns)
        log = sta(d / "netlist.v", block.top, block.clock_ns, out=d, name="sta_timing")
        slack = float(re.search(r"worst slack (-?[0-9.]+)", log).group(1))
        tries.append({"abc_target_ns": abc_ns, "dir": d, **r, "worst_slack_ns": slack,
                      "fmax_mhz": round(1000.0 / (block.clock_ns - slack), 1)})
    meets = [t for t in tries if t["worst_slack_ns"] >= 0]
    best = min(meets, key=lambda t: t["area_um2"]) if meets else max(tries, key=lambda t: t["fmax_mhz"])
    return best, tries


def timing(block, out, names):
    log = sta(out / "netlist.v", block.top, block.clock_ns, out=out, name="sta_timing")
    slack = float(re.search(r"worst slack (-?[0-9.]+)", log).group(1))
    crit = block.clock_ns - slack
    start = re.search(r"Startpoint: (\S+)", log).group(1)
    end = re.search(r"Endpoint: (\S+)", log).group(1)
    # check: the netlist meets a clock of exactly the critical-path delay
    log2 = sta(out / "netlist.v", block.top, round(crit + 0.0005, 4), out=out, name="sta_fmax")
    slack2 = float(re.search(r"worst slack (-?[0-9.]+)", log2).group(1))
    return {"clock_ns": block.clock_ns, "wns_ns": min(slack, 0.0), "worst_slack_ns": slack,
            "critical_path_ns": round(crit, 4), "fmax_mhz": round(1000.0 / crit, 1),
            "fmax_check_slack_ns": slack2,
            "critical_path": {"start": _rtl_name(start, names), "end": _rtl_name(end, names)}}


def _rtl_name(pin, names):
    """`_3515_/CK` -> the register it is (by the RTL name of its Q net)."""
    return names.get(pin.split("/")[0], pin)


def activity(block, netlist_v, q_nets, ports, names, gate_level=True):
    """Per-net (toggles per clock cycle, P(1)) from the block's cocotb test with a
    SAIF trace: on the synthesized netlist (every net), or on the RTL (primary
    inputs and register outputs, matched by name)."""
    sys.path.insert(0, str(REPO / "tb"))
    from tb.units import UNITS, build_dir_for, run_unit
    if gate_level:
        from synth.gatelevel import simulate
        saif, _ = simulate(block, netlist_v)
    else:
        unit = UNITS[block.unit]
        unit = dataclasses.replace(unit, parameters={**unit.parameters, **block.parameters},
                                   env={**unit.env, **block.env})
        tests, failed = run_unit(unit, testcase=block.testcase, trace="saif")
        if tests == 0 or failed:
            raise RuntimeError(f"activity run {block.unit}/{block.testcase}: {failed} of {tests} failed")
        saif, _ = read_saif(build_dir_for(unit, "saif") / "dump.saif")
    top = block.top
    cycles = saif[f"{top}/clk"][2] / 2

    def rate(v):
        return (v[2] / cycles, v[1] / max(v[0] + v[1], 1e-30))

    src = {}
    for pname, (d, net) in ports.items():
        if d == "input" and pname != "clk" and f"{top}/{pname}" in saif:
            src[net] = rate(saif[f"{top}/{pname}"])
    wanted = set(names) if gate_level else set(q_nets)
    for net in wanted:
        for n in names.get(net, []):
            key = f"{top}/{n.replace('.', '/')}" if not gate_level else f"{top}/{n}"
            if key in saif:
                src[net] = rate(saif[key])
                break
    ops = None
    if block.op_signal:
        ops = rate(saif[f"{top}/{block.op_signal}"])[1] * block.ops_per_valid
    return src, {"level": "gate" if gate_level else "rtl",
                 "registers_matched": sum(1 for n in q_nets if n in src), "registers": len(q_nets),
                 "nets_matched": sum(1 for n in names if n in src), "nets": len(names),
                 "sim_cycles": int(cycles), "ops_per_cycle": ops}


def run_block(block, gate_level=True):
    missing = [s for s in block.sources if not (RTL / s).exists()]
    if missing:
        return {"block": block.name, "status": "skipped", "reason": f"sources missing: {missing}"}
    t0 = time.time()
    rep = {"block": block.name, "status": "ok", "top": block.top, "parameters": block.parameters}
    best, tries = synth_search(block, BUILD / "synth" / block.name)
    out = best["dir"]
    rep.update({"area_um2": best["area_um2"], "cells": best["cells"], "abc_target_ns": best["abc_target_ns"]})
    t_syn = time.time() - t0
    cells, ports, names = load(out / "netlist.json", block.top)
    regs = {}                                           # flop instance -> RTL register name
    q_nets = []
    for cname, (typ, conn) in cells.items():
        if typ.startswith(("DFF", "SDFF")) and conn.get("Q"):
            q_nets.append(conn["Q"])
            nm = [n for n in names.get(conn["Q"], []) if "_q" in n] or names.get(conn["Q"], [cname])
            regs[cname] = nm[0]
    rep.update(timing(block, out, regs))
    rep["fmax_netlist_mhz"] = rep["fmax_mhz"]            # of the netlist analysed here
    rep["fmax_mhz"] = max(t["fmax_mhz"] for t in tries)  # best over the ABC targets
    rep["fmax_search"] = [{k: v for k, v in t.items() if k != "dir"} for t in tries]
    t_sta = time.time() - t0 - t_syn
    pm = PowerModel(liberty(), {t for t, _ in cells.values()}, WIRE_LOAD, cache_dir=BUILD / "synth")
    if block.unit:
        src, info = activity(block, out / "netlist.v", q_nets, ports, names, gate_level)
        if gate_level:
            how = (f"zero-delay gate-level simulation of the synthesized netlist (Yosys cell models) "
                   f"under that test (which passed on the netlist), SAIF on {info['nets_matched']}/"
                   f"{info['nets']} nets" + ("" if info["nets_matched"] == info["nets"]
                                             else ", the rest by transition-density propagation"))
        else:
            how = (f"RTL SAIF for primary inputs and register outputs ({info['registers_matched']}/"
                   f"{info['registers']} flops matched by name), other nets by transition-density "
                   f"propagation (overestimates arithmetic logic)")
        rep["activity_source"] = f"simulation: {block.activity_doc}; {how}"
    else:
        src, info = {}, {"ops_per_cycle": None}
        rep["activity_source"] = "none: no simulation configured; inputs idle (leakage + clock only)"
    rep["activity"] = info
    power, _ = pm.analyse(cells, ports, block.clock_ns, src, port_load=PORT_LOAD_FF)
    rep["power_mw"] = {k: round(v, 5) for k, v in power.items()}
    rep["power_model"] = "synth/power.py (Liberty tables, NanGate45 typ, 1.1 V, 25 C, wire load " + WIRE_LOAD + ")"
    if info.get("ops_per_cycle"):
        e = power["total"] * 1e-3 * block.clock_ns * 1e-9 / info["ops_per_cycle"] * 1e12
        rep["energy_pj_per_op"] = {block.op_name or "op": round(e, 3)}
    rep["seconds"] = {"synth": round(t_syn, 1), "sta": round(t_sta, 1),
                      "total": round(time.time() - t0, 1)}
    rep["tools"] = {"yosys": subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip(),
                    "sta": "OpenSTA " + subprocess.run(["sta", "-version"], capture_output=True, text=True,
                                                       input="exit\n").stdout.strip()}
    return rep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--block", help="one block (default: all)")
    ap.add_argument("--out", default=str(REPORTS), help="report folder")
    ap.add_argument("--rtl-activity", action="store_true",
                    help="activity from the RTL simulation + propagation (faster, overestimates)")
    args = ap.parse_args(argv)
    blocks = all_blocks()
    names = [args.block] if args.block else list(blocks)
    unknown = [n for n in names if n not in blocks]
    if unknown:
        raise SystemExit(f"unknown block {unknown}; known: {sorted(blocks)}")
    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    for n in names:
        rep = run_block(blocks[n], not args.rtl_activity)
        (outdir / f"{n}.json").write_text(json.dumps(rep, indent=2) + "\n")
        if rep["status"] == "ok":
            print(f"{n}: {rep['area_um2']:.0f} um2, {rep['cells']} cells, fmax {rep['fmax_mhz']} MHz, "
                  f"{rep['power_mw']['total']:.3f} mW at {rep['clock_ns']} ns ({rep['seconds']['total']} s)")
        else:
            print(f"{n}: skipped ({rep['reason']})")


if __name__ == "__main__":
    main()
