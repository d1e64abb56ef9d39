"""Synthesis flow (synth/): the power hand-check on a reference circuit, a smoke
synthesis of one small block, and the readers. Needs yosys and sta on PATH."""

import dataclasses
import functools
import json
import re
import shutil
import subprocess

import pytest

from models.paths import liberty
from synth import run
from synth.config import Block
from tb.units import COMMON_FP
from synth.liberty import Library
from synth.netlist import load
from synth.power import PowerModel
from synth.saif import read as read_saif

REF = run.SYNTH / "ref" / "ref_circuit.v"
CELLS = ["DFF_X1", "INV_X1", "NAND2_X1", "XOR2_X1"]
ACT = [0.2, 0.4, 0.3, 0.5]          # toggles per clock cycle of d[i] and of flop i's Q
PERIOD, SLEW, PORT_LOAD = 1.0, 0.02, 2.0

def needs_tools(fn):
    """`make test` installs yosys and sta (make synth-tools): without them the
    test fails; it is never skipped."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        assert shutil.which("yosys") and shutil.which("sta"), "yosys/sta missing: run make synth-tools"
        return fn(*args, **kwargs)
    return wrapper


def _ref_netlist(tmp_path):
    out = tmp_path / "ref.json"
    subprocess.run(["yosys", "-q", "-p", f"read_liberty -lib {liberty()}; read_verilog {REF}; "
                    f"hierarchy -top ref_circuit; write_json {out}"], check=True)
    return load(out, "ref_circuit")


def _hand_power():
    """The reference circuit's power written out cell by cell from the Liberty
    tables (f = 1 GHz, every signal duty 0.5, inputs independent):
    internal = D/2 * (E_rise + E_fall) per pin (D transitions per second),
    flop `when` states with P(Q)=P(D)=P(CK)=1/2 (QN = !Q), gate outputs
    weighted by each input's share of the output transitions; switching
    1/2 C V^2 D on cell outputs; leakage state-weighted."""
    lib = Library(liberty(), CELLS, run.WIRE_LOAD)
    f, V = 1e9 / PERIOD, lib.voltage
    cap = lib.pin_cap
    wl = lib.wire_cap
    pw = lambda cell, pin: lib.pin(cell, pin).all("internal_power")

    def e(ip, slew, load=None):
        t = {g.kind: g for g in ip.groups}
        args = (slew,) if load is None else (slew, load)
        return lib.table(t["rise_power"], *args) + lib.table(t["fall_power"], *args)

    # net loads (fF)
    c_q = [cap("INV_X1", "A") + wl(1), cap("NAND2_X1", "A1") + wl(1),
           cap("NAND2_X1", "A2") + cap("XOR2_X1", "A") + wl(2), cap("XOR2_X1", "B") + wl(1)]
    c_y = PORT_LOAD + wl(1)
    # activities (transitions per cycle): INV passes, NAND2 = P(other=1) * D, XOR2 = sum
    d_y = [ACT[0], 0.5 * ACT[1] + 0.5 * ACT[2], ACT[2] + ACT[3]]
    internal = switching = leakage = clock = 0.0
    for i, a in enumerate(ACT):                   # flops
        ck = sum(0.25 * e(ip, SLEW) for ip in pw("DFF_X1", "CK"))   # 4 whens over D, Q
        dp = sum(0.25 * e(ip, SLEW) for ip in pw("DFF_X1", "D"))    # 4 whens over CK, Q
        q = e(pw("DFF_X1", "Q")[0], SLEW, c_q[i])
        qn = e(pw("DFF_X1", "QN")[0], SLEW, 0.0)
        clock += (2 * f) / 2 * ck
        internal += (2 * f) / 2 * ck + a * f / 2 * (dp + q + qn)
        switching += 0.5 * c_q[i] * V * V * a * f
        leakage += sum(float(g.attrs["value"]) for g in lib.cells["DFF_X1"].all("leakage_power")) / 8
    s_q = [lib.out_slew("DFF_X1", "Q", "CK", SLEW, c) for c in c_q]
    internal += d_y[0] * f / 2 * e(pw("INV_X1", "ZN")[0], s_q[0], c_y)
    nand = {ip.attrs["related_pin"]: ip for ip in pw("NAND2_X1", "ZN")}
    internal += (0.5 * ACT[1] * f / 2 * e(nand["A1"], s_q[1], c_y)
                 + 0.5 * ACT[2] * f / 2 * e(nand["A2"], s_q[2], c_y))
    for ip in pw("XOR2_X1", "Z"):                 # when !B / B etc.: 1/2 each
        src = {"A": (ACT[2], s_q[2]), "B": (ACT[3], s_q[3])}[ip.attrs["related_pin"]]
        internal += src[0] * f / 2 * 0.5 * e(ip, src[1], c_y)
    switching += sum(0.5 * c_y * V * V * d * f for d in d_y)
    for cell in ("INV_X1", "NAND2_X1", "XOR2_X1"):  # all inputs at duty 1/2: mean of the states
        vals = [float(g.attrs["value"]) for g in lib.cells[cell].all("leakage_power")]
        leakage += sum(vals) / len(vals)
    mw = 1e3
    return {"internal": internal * 1e-15 * mw, "switching": switching * 1e-15 * mw,
            "leakage": leakage * 1e-9 * mw}, clock * 1e-15 * mw


def _flow_power(tmp_path):
    cells, ports, names = _ref_netlist(tmp_path)
    pm = PowerModel(liberty(), CELLS, run.WIRE_LOAD)
    src = {}
    for i, a in enumerate(ACT):
        src[ports[f"d[{i}]"][1]] = (a, 0.5)
        src[cells[f"f{i}"][1]["Q"]] = (a, 0.5)
    power, dens = pm.analyse(cells, ports, PERIOD, src, in_slew=SLEW, port_load=PORT_LOAD)
    return power, {names[n][0]: d for n, d in dens.items() if n in names}


@needs_tools
def test_power_hand_check(tmp_path):
    """The flow's power model against the hand calculation: within 10% per component."""
    flow, dens = _flow_power(tmp_path)
    hand, _ = _hand_power()
    assert dens["y[1]"] == pytest.approx((0.5 * ACT[1] + 0.5 * ACT[2], 0.75))
    assert dens["y[2]"] == pytest.approx((ACT[2] + ACT[3], 0.5))
    for k in ("internal", "switching", "leakage"):
        assert flow[k] == pytest.approx(hand[k], rel=0.10), (k, flow[k], hand[k])
    assert flow["total"] == pytest.approx(sum(hand.values()), rel=0.10)


@needs_tools
def test_opensta_power_on_reference(tmp_path):
    """Documents why the flow does not use OpenSTA 2.0.17's report_power: with the
    same activities its leakage matches the hand calculation but its internal
    power is about twice it. If a newer OpenSTA fixes this, this test fails and
    synth/power.py's note should be revisited."""
    hand, clock = _hand_power()
    acts = "\n".join(f"sta::set_power_input_port_activity [get_ports {{d[{i}]}}] {a} 0.5"
                     for i, a in enumerate(ACT))
    tcl = tmp_path / "ref.tcl"
    tcl.write_text(f"""read_liberty {liberty()}
read_verilog {REF}
link_design ref_circuit
create_clock -name clk -period {PERIOD} [get_ports clk]
set_input_transition {SLEW} [all_inputs]
set_load {PORT_LOAD} [all_outputs]
set_wire_load_model -name {run.WIRE_LOAD}
{acts}
report_power -digits 6
""")
    log = subprocess.run(["sta", "-no_init", "-exit", str(tcl)], capture_output=True, text=True).stdout
    tot = [float(x) * 1e3 for x in re.search(r"^Total\s+(\S+)\s+(\S+)\s+(\S+)", log, re.M).groups()]
    assert tot[2] == pytest.approx(hand["leakage"], rel=0.10)
    # the clock-pin part agrees (its two errors cancel at duty 1/2); the rest is ~2x
    ratio = (tot[0] - clock) / (hand["internal"] - clock)
    print(f"OpenSTA internal {tot[0]:.5f} mW, hand {hand['internal']:.5f} mW (clock pins {clock:.5f}); "
          f"non-clock ratio {ratio:.2f}; switching {tot[1]:.5f} vs {hand['switching']:.5f}")
    assert 1.6 < ratio < 2.6, (tot, hand, clock)


@needs_tools
def test_smoke_synthesis(tmp_path, monkeypatch):
    """One small block end to end: binary16 adder, 2k random vectors for activity.
    RTL activity (registers + ports, propagated) keeps it fast; `make synth` runs
    the gate-level simulation instead."""
    block = Block(name="smoke_fp16_add", top="fp_add",
                  sources=COMMON_FP + ("common/fp_add.v",),
                  parameters={"EXP_W": 5, "MAN_W": 10, "LATENCY": 3}, clock_ns=1.5,
                  unit="fp16_add", testcase="test_random/flow=0", env={"FP_VECTORS": "4000"},
                  activity_doc="smoke", op_signal="m_valid", op_name="FP16 add")
    monkeypatch.setattr(run, "BUILD", tmp_path)
    rep = run.run_block(block, gate_level=False)
    assert rep["status"] == "ok" and rep["activity"]["level"] == "rtl"
    assert rep["area_um2"] > 100 and rep["cells"] > 100
    assert rep["fmax_netlist_mhz"] == pytest.approx(1000 / rep["critical_path_ns"], rel=1e-3)
    assert rep["fmax_mhz"] == max(t["fmax_mhz"] for t in rep["fmax_search"]) >= rep["fmax_netlist_mhz"]
    assert abs(rep["fmax_check_slack_ns"]) < 0.002          # met at exactly 1/fmax
    assert rep["activity"]["registers_matched"] == rep["activity"]["registers"] > 0
    assert rep["activity"]["register_match_ratio"] == 1.0 and rep["activity"]["unmatched_registers"] == "none"
    assert rep["inputs_hash"] == run.inputs_hash(block) and len(rep["provenance"]["commit"]) == 40
    assert 0.9 < rep["activity"]["ops_per_cycle"] <= 1.0
    assert all(rep["power_mw"][k] > 0 for k in ("internal", "switching", "leakage"))
    e = rep["power_mw"]["total"] * rep["clock_ns"] / rep["activity"]["ops_per_cycle"]
    assert rep["energy_pj_per_op"]["FP16 add"] == pytest.approx(e, rel=1e-2)
    json.dumps(rep)


def test_missing_sources_are_skipped():
    block = Block(name="not_yet", top="nope", sources=("no_such_block/nope.v",))
    rep = run.run_block(block)
    assert rep["status"] == "skipped" and "no_such_block/nope.v" in rep["reason"]


def test_unknown_block_is_an_error():
    with pytest.raises(SystemExit):
        run.main(["--block", "no_such_block"])


def test_saif_reader(tmp_path):
    p = tmp_path / "t.saif"
    p.write_text('(SAIFILE (SAIFVERSION "2.0") (DIVIDER / ) (TIMESCALE 1ps) (DURATION 100)\n'
                 ' (INSTANCE top (NET (a\\[0\\] (T0 60) (T1 40) (TZ 0) (TC 3)))\n'
                 '  (INSTANCE u (NET (q (T0 100) (T1 0) (TC 0))))\n'
                 '  (NET (b (T0 10) (T1 90) (TC 1)))))\n')
    nets, dur = read_saif(p)
    assert dur == 100
    assert nets == {"top/a[0]": (60, 40, 3), "top/u/q": (100, 0, 0), "top/b": (10, 90, 1)}


@needs_tools
def test_sram_macros(tmp_path, monkeypatch):
    """RAMs become macros: no flip-flop arrays in the netlist, area = logic +
    the macro model's area per instance, OpenSTA reads the generated stub and
    times the macro's clock-to-Q path into the logic."""
    from synth import macros
    block = Block(name="macro_ref", top="macro_top", sources=("common/ram_1r1w.v", "../synth/ref/macro_top.v"),
                  clock_ns=1.0, abc_targets=(1.0,))
    monkeypatch.setattr(run, "BUILD", tmp_path)
    rep = run.run_block(block)
    assert rep["status"] == "ok"
    hm = rep["hard_macros"]
    assert {k: v["count"] for k, v in hm.items()} == {"RAM_ram_1r1w_16x64": 2, "RAM_ram_1r1w_4x8": 1}
    expect = 2 * macros.sram_figures(16, 64)["area_um2"] + macros.sram_figures(4, 8)["area_um2"]
    assert rep["area_um2"] == pytest.approx(rep["area_logic_um2"] + expect, abs=0.01)
    assert rep["area_sram_um2"] == pytest.approx(expect, abs=0.1)
    assert rep["cells"] < 150            # 2 x 1024 + 32 RAM bits as flops would be > 2000 cells
    # the worst path starts at a macro: its clock-to-Q (stub) plus the XOR into dout_q
    assert rep["critical_path"]["start"] in ("u_a", "u_b", "u_c")
    assert macros.sram_figures(16, 64)["clk_q_ns"] < rep["critical_path_ns"] < 1.0
    assert rep["power_mw"]["leakage"] > rep["power_logic_mw"]["leakage"]


def test_sram_macro_power():
    """Macro power = clock x (reads x E_read + writes x E_write) per instance + leakage,
    with the access rates the duty of the enables."""
    hard = {"RAM_x": {"kind": "sram", "e_read_pj": 2.0, "e_write_pj": 3.0, "leakage_mw": 0.001}}
    cells = {"u0": ("RAM_x", {"rd_en": ["n1"], "wr_en": ["n2"]}),
             "u1": ("RAM_x", {"rd_en": ["n2"], "wr_en": ["n3"]})}
    dens = {"n1": (0.5, 0.25), "n2": (0.2, 0.1), "n3": (0.0, 0.0)}
    tot, detail = run._hard_power(None, hard, cells, dens, {("u1", "wr_en"): 0.5}, 2.0)
    f = 0.5e9
    u0 = f * (0.25 * 2.0 + 0.1 * 3.0) * 1e-9          # pJ/s -> mW
    u1 = f * (0.1 * 2.0 + 0.5 * 3.0) * 1e-9           # the SAIF duty wins over the net estimate
    assert tot["internal"] == pytest.approx(u0 + u1)
    assert tot["leakage"] == pytest.approx(0.002)
    assert detail["RAM_x"]["reads_per_cycle"] == pytest.approx((0.25 + 0.1) / 2)


def test_scoped_activity_average():
    """Activity of a repeated sub-block: the SAIF nets of every matching instance,
    averaged, renamed under the sub-block's top; other instances ignored."""
    saif = {"arr/clk": (5, 5, 20), "arr/g[0]/u/clk": (5, 5, 20), "arr/g[1]/u/clk": (5, 5, 20),
            "arr/g[0]/u/q[1]": (8, 2, 4), "arr/g[1]/u/q[1]": (2, 8, 6),
            "arr/g[0]/u/m/r_q": (10, 0, 0), "arr/g[1]/u/m/r_q": (0, 10, 2), "arr/g[0]/v/q[1]": (0, 10, 9)}
    nets, n = run._scoped(saif, "arr/g[*]/u", "pe")
    assert n == 2
    assert nets == {"pe/clk": (5, 5, 20), "pe/q[1]": (5, 5, 5), "pe/m/r_q": (5, 5, 1)}
    with pytest.raises(RuntimeError):
        run._scoped(saif, "arr/h[*]/u", "pe")


def _hier_blocks(tmp_path, monkeypatch):
    """The reference leaf (synth/ref/hier_top.v) and its parent, built and reported under tmp_path."""
    monkeypatch.setattr(run, "BUILD", tmp_path)
    monkeypatch.setattr(run, "REPORTS", tmp_path / "reports")
    src = ("../synth/ref/hier_top.v",)
    leaf = Block(name="leaf", top="hier_leaf", sources=src, clock_ns=1.0, abc_targets=(1.0,), macros=())
    top = Block(name="hier", top="hier_top", sources=src, clock_ns=1.0, abc_targets=(1.0,), macros=(),
                submodules={"hier_leaf": "leaf"})
    return leaf, top


@needs_tools
def test_hierarchical_block(tmp_path, monkeypatch):
    """A sub-block synthesized once and blackboxed in its parent: area and
    leakage = glue + n x sub-block, and the parent's worst path runs through the
    sub-block's stub (its input-to-output delay plus the glue adder)."""
    leaf, top = _hier_blocks(tmp_path, monkeypatch)
    monkeypatch.setattr(run, "all_blocks", lambda: {"leaf": leaf, "hier": top})
    rep = run.run_block(top)
    sub = json.loads((tmp_path / "reports" / "leaf.json").read_text())
    assert rep["status"] == sub["status"] == "ok"
    (h,) = rep["hard_macros"].values()
    assert h["kind"] == "block" and h["count"] == 2
    assert rep["area_um2"] == pytest.approx(rep["area_logic_um2"] + 2 * sub["area_um2"], abs=0.01)
    assert rep["power_mw"]["leakage"] == pytest.approx(rep["power_logic_mw"]["leakage"]
                                                       + 2 * sub["power_mw"]["leakage"], rel=1e-3)
    # no SRAM macros here: the block's own power is its logic's
    assert rep["power_own_mw"] == pytest.approx(rep["power_logic_mw"]["total"], rel=1e-4)
    assert rep["power_own_mw"] == pytest.approx(rep["power_mw"]["total"] - 2 * sub["power_mw"]["total"], rel=1e-4)
    b = sub["boundary"]
    assert b["input_to_output_ns"] > 0.1 and b["input_to_reg_ns"] > 0 and b["reg_to_output_ns"] > 0
    assert rep["critical_path"]["end"].startswith("sum_q")
    assert rep["critical_path_ns"] > b["input_to_output_ns"] + 0.1     # the stub's arc + the glue adder
    # the block runs at the slower of its own paths and the sub-block's inside
    assert rep["fmax_glue_mhz"] == rep["fmax_netlist_mhz"]
    assert rep["fmax_mhz"] == min(rep["fmax_glue_mhz"], sub["fmax_mhz"])
    slow = dict(rep, fmax_mhz=rep["fmax_netlist_mhz"])
    monkeypatch.setattr(run, "sub_report", lambda name, gate_level=True: {"fmax_mhz": 1.0})
    run.sub_fmax(slow, top)
    assert slow["fmax_mhz"] == 1.0 and slow["fmax_limited_by"] == "sub-block leaf"


@needs_tools
def test_parallel_run_waits_for_sub_blocks(tmp_path, monkeypatch):
    """`make synth` runs blocks two at a time; a block starts only after the
    sub-blocks of the same run that it instantiates (listed after it here), so
    that each sub-block is synthesized once and its report feeds the parent."""
    leaf, top = _hier_blocks(tmp_path, monkeypatch)
    monkeypatch.setattr(run, "all_blocks", lambda: {"hier": top, "leaf": leaf})
    log = tmp_path / "order.txt"
    real = run.run_block

    def logged(block, gate_level=True):          # the workers are forked: they see this
        with open(log, "a") as f:
            f.write(f"start {block.name}\n")
        rep = real(block, gate_level)
        with open(log, "a") as f:
            f.write(f"end {block.name}\n")
        return rep

    monkeypatch.setattr(run, "run_block", logged)
    run.main(["--jobs", "2", "--out", str(tmp_path / "reports")])
    assert log.read_text().split("\n")[:-1] == ["start leaf", "end leaf", "start hier", "end hier"]
    assert json.loads((tmp_path / "reports" / "hier.json").read_text())["status"] == "ok"


def _fanout_netlist():
    """A DFF whose Q drives 40 inverters, a blackbox input and a port, and the
    clock to all of them (Yosys JSON form)."""
    cells = {"ff": {"type": "DFF_X1", "connections": {"CK": [2], "D": [3], "Q": [4], "QN": [5]}}}
    for k in range(40):
        cells[f"inv{k}"] = {"type": "INV_X1", "connections": {"A": [4], "ZN": [100 + k]}}
        cells[f"cf{k}"] = {"type": "DFF_X1", "connections": {"CK": [2], "D": [100 + k], "Q": [200 + k]}}
    cells["box"] = {"type": "box", "connections": {"a": [4], "y": [6], "clk": [2]}}
    mod = {"ports": {"clk": {"direction": "input", "bits": [2]}, "d": {"direction": "input", "bits": [3]},
                     "q": {"direction": "output", "bits": [4]}},
           "cells": cells, "netnames": {}}
    box = {"ports": {"a": {"direction": "input", "bits": [2]}, "y": {"direction": "output", "bits": [3]},
                     "clk": {"direction": "input", "bits": [4]}}, "cells": {}, "netnames": {}}
    return {"modules": {"top": mod, "box": box}}


def test_fanout_repair(tmp_path):
    """synth/fanout.py: a net with 41 loads becomes a buffer tree of at most 16
    loads per net, every load still driven (through buffers) by the same
    register; the clock net and the output port stay on their nets."""
    from synth import fanout
    path = tmp_path / "n.json"
    path.write_text(json.dumps(_fanout_netlist()))
    assert fanout.repair(path, "top", liberty().read_text(), max_fanout=16) == 3
    mod = json.loads(path.read_text())["modules"]["top"]
    drv, loads = {}, {}
    for name, c in mod["cells"].items():
        for port, (b,) in c["connections"].items():
            if port in ("Q", "QN", "ZN", "Z", "y"):
                drv[b] = name
            else:
                loads.setdefault(b, []).append(name)
    assert len(loads[2]) == 42 and mod["ports"]["q"]["bits"] == [4]          # clock untouched
    assert all(len(v) <= 16 for b, v in loads.items() if b != 2)

    def root(b):
        while drv[b].startswith("fanout_buf"):
            b = mod["cells"][drv[b]]["connections"]["A"][0]
        return b
    assert all(root(mod["cells"][f"inv{k}"]["connections"]["A"][0]) == 4 for k in range(40))
    assert root(mod["cells"]["box"]["connections"]["a"][0]) == 4
    assert {c["type"] for n, c in mod["cells"].items() if n.startswith("fanout_buf")} == {"BUF_X4"}


@needs_tools
def test_fanout_repair_gate_level(tmp_path, monkeypatch):
    """A block synthesized with buffer trees at 4 loads per net still passes
    its own cocotb test as a gate-level netlist (the flow's activity run), and
    no net in the timed netlist has more than 4 loads."""
    block = Block(name="smoke_fanout", top="fp_add", sources=COMMON_FP + ("common/fp_add.v",),
                  parameters={"EXP_W": 5, "MAN_W": 10, "LATENCY": 3}, clock_ns=1.5, abc_targets=(1.0,),
                  unit="fp16_add", testcase="test_random/flow=0", env={"FP_VECTORS": "300"},
                  activity_doc="smoke", op_signal="m_valid", op_name="FP16 add", max_fanout=4)
    monkeypatch.setattr(run, "BUILD", tmp_path)
    rep = run.run_block(block, gate_level=True)
    assert rep["status"] == "ok" and rep["activity"]["level"] == "gate"
    (d,) = [p for p in (tmp_path / "synth" / "smoke_fanout").iterdir() if (p / "fanout.txt").exists()]
    assert rep["max_fanout"] == 4 and rep["fanout_buffers"] == int((d / "fanout.txt").read_text().split()[0]) > 0
    cells, ports, _ = load(d / "netlist.json", "fp_add")
    fan = {}
    for ctype, conn in cells.values():
        for p, net in conn.items():
            if p not in ("Q", "QN", "ZN", "Z", "CO", "S", "CK") and net is not None:
                fan[net] = fan.get(net, 0) + 1
    clk = ports["clk"][1]
    assert max(v for n, v in fan.items() if n != clk) <= 4


def test_unsign_wires(tmp_path):
    """`wire signed` (OpenSTA 2.0.17: a syntax error, which the flow now fails
    on) loses the keyword and nothing else."""
    v = tmp_path / "netlist.v"
    v.write_text("module m(a);\n  input a;\n  wire signed [31:0] \\u.i ;\n  wire [3:0] signed_x;\n"
                 "  wire signed_y;\nendmodule\n")
    run.unsign_wires(v)
    assert v.read_text() == ("module m(a);\n  input a;\n  wire [31:0] \\u.i ;\n  wire [3:0] signed_x;\n"
                             "  wire signed_y;\nendmodule\n")


def _ref_saif(tmp_path, registers):
    """A SAIF of ref_circuit over 100 clocks: clk, d[3:0] and the flop outputs `registers` (q0..q3)."""
    act = {f"d\\[{i}\\]": (60, 40, 30 + 10 * i) for i in range(4)}
    act.update({f"q{i}": (50, 50, 20 + 10 * i) for i in registers})
    nets = " ".join(f"({n} (T0 {t0}) (T1 {t1}) (TC {tc}))" for n, (t0, t1, tc) in act.items())
    p = tmp_path / "ref.saif"
    p.write_text('(SAIFILE (SAIFVERSION "2.0") (DIVIDER / ) (TIMESCALE 1ns) (DURATION 100)\n'
                 f' (INSTANCE ref_circuit (NET (clk (T0 50) (T1 50) (TC 200)) {nets})))\n')
    return read_saif(p)[0]


def _match(tmp_path, registers):
    cells, ports, names = _ref_netlist(tmp_path)
    q_nets = [cells[f"f{i}"][1]["Q"] for i in range(4)]
    src, cycles = run.match_saif(_ref_saif(tmp_path, registers), "ref_circuit", ports, names, set(q_nets),
                                 gate_level=False)
    info = {"registers": len(q_nets), "registers_matched": sum(1 for n in q_nets if n in src)}
    return cells, ports, q_nets, src, cycles, info


@needs_tools
def test_register_match_fails_or_propagates(tmp_path):
    """A register that no SAIF net matches would count zero activity: with 3 of
    4 matched the block fails; a block that propagates D -> Q gives the
    unmatched flop its D input's activity instead (here the port d[3]:
    30 + 10 * 3 = 60 toggles in 100 clocks, high 40%), and its power rises."""
    cells, ports, q_nets, src, cycles, info = _match(tmp_path, registers=(0, 1, 2))
    assert cycles == 100 and info == {"registers": 4, "registers_matched": 3}
    assert src[q_nets[0]] == pytest.approx((0.2, 0.5)) and q_nets[3] not in src
    strict = Block(name="tiny", top="ref_circuit", sources=())
    with pytest.raises(RuntimeError, match="only 3 of 4 registers"):
        run.check_register_match(strict, dict(info))
    lenient = dict(info)
    assert run.check_register_match(Block(name="tiny", top="ref_circuit", sources=(), registers_from_d=True),
                                    lenient) == 0.75
    assert lenient["register_match_ratio"] == 0.75 and "D input" in lenient["unmatched_registers"]
    pm = PowerModel(liberty(), CELLS, run.WIRE_LOAD)
    zero, dens0 = pm.analyse(cells, ports, PERIOD, src)
    dq, dens = pm.analyse(cells, ports, PERIOD, src, registers_from_d=True)
    assert dens0[q_nets[3]] == (0.0, 0.0)
    assert dens[q_nets[3]] == pytest.approx((0.6, 0.4)) and dens[q_nets[0]] == pytest.approx((0.2, 0.5))
    assert dq["total"] > zero["total"]
    full = _match(tmp_path, registers=(0, 1, 2, 3))[5]
    assert run.check_register_match(strict, full) == 1.0 and full["unmatched_registers"] == "none"


def test_register_match_threshold():
    """98% of the registers matched passes (the rest at zero, said so); below fails."""
    block = Block(name="tiny", top="t", sources=())
    ok = {"registers": 50, "registers_matched": 49}
    assert run.check_register_match(block, ok) == 0.98 and "1 registers at zero" in ok["unmatched_registers"]
    with pytest.raises(RuntimeError, match="48 of 50"):
        run.check_register_match(block, {"registers": 50, "registers_matched": 48})


def test_sub_report_reused_only_when_inputs_match(tmp_path, monkeypatch):
    """A sub-block's report is reused only when its inputs hash (sources,
    parameters, configuration) is the current one; else it is synthesized again."""
    leaf, top = _hier_blocks(tmp_path, monkeypatch)
    monkeypatch.setattr(run, "all_blocks", lambda: {"leaf": leaf, "hier": top})
    runs = []
    monkeypatch.setattr(run, "run_block", lambda block, gate_level=True: runs.append(block.name) or
                        {"block": block.name, "status": "ok", "boundary": {}, "inputs_hash": run.inputs_hash(block)})
    path = tmp_path / "reports" / "leaf.json"
    path.parent.mkdir()
    old = {"block": "leaf", "status": "ok", "boundary": {}, "inputs_hash": run.inputs_hash(leaf), "old": 1}
    path.write_text(json.dumps(old))
    assert run.sub_report("leaf") == old and runs == []
    other = dataclasses.replace(leaf, parameters={"W": 9})
    assert run.inputs_hash(other) != run.inputs_hash(leaf)
    parent = run.inputs_hash(top)
    monkeypatch.setattr(run, "all_blocks", lambda: {"leaf": other, "hier": top})
    assert run.inputs_hash(top) != parent          # a parent's hash covers its sub-blocks'
    assert "old" not in run.sub_report("leaf") and runs == ["leaf"]
    assert "old" not in json.loads(path.read_text())


def test_results_page(tmp_path, monkeypatch):
    """`make report` quotes the bench reports, each section naming its file and
    commit, an entry carried over from an earlier run with that run's commit,
    and no paper comparison where the paper has no row."""
    from synth import report
    monkeypatch.setattr(report, "REPORTS", tmp_path)
    monkeypatch.setattr(report, "SYNTH", tmp_path / "synth")
    monkeypatch.setattr(report, "PAGE", tmp_path / "docs" / "results.md")
    prov = lambda c: {"commit": c * 40, "dirty": c == "b", "date": "2026-01-02T00:00:00+00:00", "command": "make x"}
    (tmp_path / "mnist_training.json").write_text(json.dumps({
        "provenance": prov("a"), "test_set": "test split of mnist.npz, 10000 images", "batch_m": 5,
        "rows": [{"inputs": 100000, "test_accuracy_hw": 0.9727, "test_accuracy_torch_f32": 0.9738,
                  "paper_test_accuracy": 0.972, "meets_paper": True,
                  "carried_over": {"from": "reports/mnist_training.json", **prov("c")}},
                 {"inputs": 50000, "test_accuracy_hw": 0.96, "test_accuracy_torch_f32": 0.961,
                  "paper_test_accuracy": None, "meets_paper": None}]}))
    (tmp_path / "memory.json").write_text(json.dumps({
        "provenance": prov("b"), "clock_ns": 2.0, "clock_source": "assumed", "sdram_base": {},
        "headline": {"rd_words": 1, "why_this_width": "mlp_trainer reads 1 word per clock",
                     "access_ratio_measured": 2.06, "access_ratio_formula": 2.057,
                     "access_clocks_measured": {"distributed": 784.0, "unified": 1615.0},
                     "access_clocks_formula": {"distributed": 784.0, "unified": 1612.5},
                     "formula": "f", "paper_ratio": 2.868, "meets_paper_ratio": False}}))
    (tmp_path / "bn.json").write_text(json.dumps({
        "provenance": prov("d"), "batch": 2, "checked": "every beat",
        "layers": [{"layer": "bn1", "channels": 16, "elements_per_channel": 2048, "fp_cycles": 65760,
                    "bp_cycles": 65712, "fp_elements_per_clock": 0.4983}],
        "total": {"elements": 32768, "fp_cycles": 65760, "bp_cycles": 65712, "fp_elements_per_clock": 0.4983}}))
    report.main()
    page = (tmp_path / "docs" / "results.md").read_text()
    assert "Source: [`reports/mnist_training.json`](../reports/mnist_training.json), commit aaaaaaaaaa, 2026-01-02" in page
    assert "carried over from reports/mnist_training.json, commit cccccccccc" in page
    assert "| meets the paper | yes | no paper row |" in page
    assert "Source: [`reports/memory.json`](../reports/memory.json), commit bbbbbbbbbb (dirty)" in page
    assert "| 1 | 784.0 / 1,615.0 | 784.0 / 1,612.5 | 2.06x | 2.06x | 2.87x | no |" in page
    assert "Source: [`reports/bn.json`](../reports/bn.json), commit dddddddddd" in page and "| bn1 | 16 | 2,048 | 65,760 |" in page
    assert "`reports/pe_array.json` missing (`make bench-pe`)" in page
    assert (tmp_path / "docs" / "results" / "neuron_iteration_time.png").exists()
    for section in ("MNIST training accuracy", "MNIST engine clocks", "Training-vector memory", "PE array",
                    "BN unit", "Synthesis", "Beside paper 000", "Beside paper 004"):
        assert f"\n## {section}\n" in page     # README.md links to these anchors
