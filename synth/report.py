"""make report: the results page docs/results.md (and its PNG plots under
docs/results/) from the bench reports (reports/*.json) and the synthesis
reports (reports/synth/*.json), both committed,
beside the papers' figures (000: FP32 training neuron, 45 nm-class ASIC at
250 MHz; 004: INT8/FP16 training accelerator on a Virtex-7 at 200 MHz). Every
figure names the report it comes from and that report's commit."""

import json
from pathlib import Path

from models.paths import REPO
from tb.lib import provenance

REPORTS = REPO / "reports"
SYNTH = REPORTS / "synth"
# the bench each report comes from (`make bench-<name>`)
BENCH_OF = {"mnist_training.json": "mnist", "memory.json": "memory", "pe_array.json": "pe", "bn.json": "bn",
            "neuron_cycles.json": "neuron"}
PAGE = REPO / "docs" / "results.md"          # the page; its plots in PAGE's folder under results/
PLOT_DIR = "results"


def _ref(name):
    """`reports/<name>` as a link from the page (docs/) to the committed report."""
    return f"[`reports/{name}`](../reports/{name})"

# Blocks the issue asks for, in report order: (report name, what it is).
PLANNED = [
    ("fp_add", "FP32 adder, LATENCY 3"), ("fp_add_l4", "FP32 adder, LATENCY 4"),
    ("fp_mul", "FP32 multiplier, LATENCY 3"), ("fp_mul_l4", "FP32 multiplier, LATENCY 4"),
    ("fp_mul_l5", "FP32 multiplier, LATENCY 5"),
    ("mlp_lane", "FP32 neuron lane of the MNIST engine: MUL_LAT 5, ADD_LAT 2, inputs and operands registered"),
    ("mlp_lane_l2", "FP32 neuron lane, MUL_LAT = ADD_LAT = 2 (Table I)"),
    ("mlp_lane_l3", "FP32 neuron lane, latency 3"), ("mlp_lane_l4", "FP32 neuron lane, latency 4"),
    ("mlp_net_3331", "3-3-3-1 network (P = 3)"),
    ("mlp_net_mnist", "MNIST 784-100-100-10 datapath, P = 10, SRAM macros, 10 x mlp_lane (hier.)"),
    ("mlp_net_mnist_p100", "the same, P = 100 (hier., buffer trees; only with BLOCK=)"),
    ("mem_dbuf_4x4x16", "double-buffer controller (4 slots x 4 vectors x 16 words, run tags, SRAM macros)"),
    ("mem_unified", "unified-memory baseline (run tags)"),
    ("pe", "one PE (3 INT8 MACs)"), ("pe_array", "16x32 PE array (hier.: glue + 512 x pe)"),
    ("pe_top", "pe_array + tiling controller + buffers (hier., SRAM macros; only with BLOCK=)"),
    ("bn_unit", "FP16 BN unit (synth -noshare)"),
    ("bn_stat_exact", "exact BN STAT, 4 lanes, 24-bit count"),
]

# Paper 000 (Table I and Sec. IV): clocks for one neuron iteration vs inputs, 4 ns clock.
PAPER_NEURON_CLOCKS = {2: 152, 4: 225, 8: 368, 16: 661, 32: 1192, 64: 2325, 128: 4647}
PAPER_000 = [
    ("neuron clock", "4 ns (250 MHz)"),
    ("neuron area", "51171.5 (unit printed as nm^2)"),
    ("neuron power", "4.47 mW dynamic + 0.269 mW leakage"),
    ("3-3-3-1 network area", "248.44 (unit printed as um^2)"),
    ("3-3-3-1 network power", "23.88 mW dynamic + 1.31 mW leakage"),
    ("MNIST 784-100-100-10, 100k inputs", "6.43 s, 5.37 W, 6493.22 mm^2 (extrapolated)"),
]
PAPER_004 = [("throughput", "421 GOPS at 200 MHz (Virtex-7 FPGA)"),
             ("energy efficiency", "43.18 GOPS/W")]


def _load():
    reps = {}
    for p in sorted(SYNTH.glob("*.json")):
        try:
            r = json.loads(p.read_text())
        except json.JSONDecodeError:
            continue
        if "block" in r:
            reps[r["block"]] = r
    return reps


def _fmt(v, nd=1):
    return "-" if v is None else f"{v:,.{nd}f}"


def _table(reps):
    names = [n for n, _ in PLANNED] + sorted(set(reps) - {n for n, _ in PLANNED})
    doc = dict(PLANNED)
    rows = ["| block | what | area um^2 | cells | clock ns | WNS ns | fmax MHz | internal mW | "
            "switching mW | leakage mW | total mW | energy/op | critical path | registers matched | commit |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|"]
    # fmax column: best over the ABC targets; critical path: of the netlist reported
    for n in names:
        r = reps.get(n)
        if r is None or r.get("status") != "ok":
            why = f"not yet synthesized (`make synth BLOCK={n}`)" if r is None else f"skipped: {r.get('reason', '')}"
            rows.append(f"| {n} | {doc.get(n, '')} | {why} |" + " |" * 12)
            continue
        p = r["power_mw"]
        e = "; ".join(f"{v:.2f} pJ/{k}" for k, v in r.get("energy_pj_per_op", {}).items()) or "-"
        if r.get("energy_pj_per_op_own"):   # a sub-block's power is at its own run's load: its own logic only
            e = "; ".join(f"{v:.3f} pJ/{k} without sub-blocks" for k, v in r["energy_pj_per_op_own"].items())
        cp = r.get("critical_path", {})
        rows.append(f"| {n} | {doc.get(n, r.get('top', ''))} | {_fmt(r['area_um2'])} | {r['cells']:,} | "
                    f"{r['clock_ns']} | {r['wns_ns']:.3f} | {_fmt(r['fmax_mhz'])} | {p['internal']:.3f} | "
                    f"{p['switching']:.3f} | {p['leakage']:.4f} | {p['total']:.3f} | {e} | "
                    f"{cp.get('start', '')} -> {cp.get('end', '')} | "
                    f"{_fmt(100 * r['activity']['register_match_ratio']) + '%' if 'register_match_ratio' in r.get('activity', {}) else '-'} | "
                    f"{provenance.short(provenance.of(r))} |")
    return "\n".join(rows)


def _plots(reps):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = {n: r for n, r in reps.items() if r.get("status") == "ok"}
    files = []
    if ok:
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        names = list(ok)
        ax[0].bar(names, [ok[n]["area_um2"] for n in names], color="tab:blue")
        ax[0].set_ylabel("area (um^2, NanGate45 cells)")
        xs = range(len(names))
        for j, (k, c) in enumerate((("total", "tab:red"), ("internal", "tab:orange"),
                                    ("switching", "tab:green"), ("leakage", "tab:gray"))):
            ax[1].bar([x + (j - 1.5) * 0.2 for x in xs], [ok[n]["power_mw"][k] for n in names], 0.2,
                      label=k, color=c)
        ax[1].set_xticks(list(xs), names)
        ax[1].set_ylabel("power (mW) at the block's clock")
        ax[1].legend()
        for a in ax:
            a.tick_params(axis="x", rotation=45)
            a.set_yscale("log")              # the PE array is 1000x an FP adder
        fig.tight_layout()
        fig.savefig(PAGE.parent / PLOT_DIR / "synth_area_power.png", dpi=120)
        plt.close(fig)
        files.append("synth_area_power.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    n = list(PAPER_NEURON_CLOCKS)
    ax.plot(n, [PAPER_NEURON_CLOCKS[k] * 4e-3 for k in n], "o-", label="paper 000, 4 ns clock")
    cyc = REPORTS / "neuron_cycles.json"        # the neuron owner's RTL cycle counts
    if cyc.exists():
        rows = json.loads(cyc.read_text()).get("rows", [])
        pts = sorted((r["inputs"], r["cycles_lut"]) for r in rows if "cycles_lut" in r)
        ours = reps.get("mlp_lane_l2", {})
        if ours.get("status") == "ok":
            mhz = 1000.0 / _op_clock(ours)
            how = f"at the lane's synthesized clock {mhz:.0f} MHz"
        else:
            mhz, how = 250.0, "at the paper's 4 ns (neuron not synthesized yet)"
        if pts:
            ax.plot([p[0] for p in pts], [p[1] / mhz for p in pts], "s-",
                    label=f"this design's RTL cycles {how}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("inputs per neuron")
    ax.set_ylabel("time per iteration (us)")
    ax.set_title("One neuron iteration vs inputs (Fig. 5 style)")
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(PAGE.parent / PLOT_DIR / "neuron_iteration_time.png", dpi=120)
    plt.close(fig)
    files.append("neuron_iteration_time.png")
    return files


def _op_clock(r):
    """The clock a block runs at: its target when met, else its netlist's fmax."""
    return r["clock_ns"] if r["wns_ns"] >= 0 else 1000.0 / r["fmax_netlist_mhz"]


def _resnet20_util(pe_json):
    """ResNet-20 training utilization of the mapping the controller issues
    (bench-pe's computed_resnet20_ctrl; the schedule's own if absent), batch 32."""
    comp = pe_json.get("computed_resnet20_ctrl") or pe_json.get("computed_resnet20", {})
    b = comp.get("batch32") or comp.get("batch1")
    return b and b.get("utilization")


def _ok(reps, name):
    r = reps.get(name)
    return r if r and r.get("status") == "ok" else None


def _table1(reps):
    """Table I of paper 000: clocks per neuron iteration, and times."""
    cyc = REPORTS / "neuron_cycles.json"
    lane = _ok(reps, "mlp_lane_l2")          # bench-neuron's lane: MUL_LAT = ADD_LAT = 2
    if not cyc.exists():
        return ["reports/neuron_cycles.json missing (`make bench-neuron`)."]
    rows = json.loads(cyc.read_text()).get("rows", [])
    t = _op_clock(lane) if lane else None
    out = [f"Clocks from {_ref('neuron_cycles.json')} (RTL, `make bench-neuron`, commit "
           f"{provenance.short(provenance.of(json.loads(cyc.read_text())))}); time at the lane's "
           + (f"synthesized clock {t:.3f} ns ({_synth_cite(lane)})" if lane else "clock: lane not synthesized")
           + ", paper at 4 ns.", "",
           "| inputs N | paper clocks | paper time (ns) | this design clocks (LUT sigmoid) | "
           "this design time (ns) | speed-up |", "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        pc = PAPER_NEURON_CLOCKS.get(r["inputs"], r.get("paper_cycles"))
        mine = r.get("cycles_lut")
        tm = mine * t if (t and mine) else None
        out.append(f"| {r['inputs']} | {pc} | {pc * 4:,} | {mine} | {_fmt(tm)} | "
                   + (f"{pc * 4 / tm:.1f}x |" if tm else "- |"))
    return out


def _find(d, key):
    """The first dict (depth first) in a JSON tree that has `key`."""
    if isinstance(d, dict):
        if key in d:
            return d
        d = list(d.values())
    if isinstance(d, list):
        for v in d:
            r = _find(v, key)
            if r is not None:
                return r
    return None


def _mnist(reps):
    lane, net = _ok(reps, "mlp_lane"), _ok(reps, "mlp_net_mnist")
    mt = REPORTS / "mnist_training.json"
    if not (mt.exists() and net):
        return ["MNIST network not synthesized yet or reports/mnist_training.json missing."]
    p_lanes = net.get("parameters", {}).get("P", 10)
    rtl = (json.loads(mt.read_text()).get("rtl") or {}).get(f"P{p_lanes}")
    if not rtl or "steady_cycles_per_input" not in rtl:
        return [f"reports/mnist_training.json has no RTL measurement for P = {p_lanes} (`make bench-mnist` "
                "writes it): MNIST time and energy not computed."]
    cpi = rtl["steady_cycles_per_input"]
    # the engine runs at the slower of its lane and its own datapath (lanes as stubs)
    t = max(_op_clock(lane), _op_clock(net)) if lane else _op_clock(net)
    secs = cpi * 1e5 * t * 1e-9
    secs_engine = cpi * 1e5 / (net["fmax_mhz"] * 1e6)
    p_w = net["power_mw"]["total"] * 1e-3
    out = [f"Cycles per training input {cpi:,.1f} (reports/mnist_training.json, measured on the RTL, "
           f"P = {p_lanes}, m = {json.loads(mt.read_text())['rtl'].get('m')}, steady state, loading "
           f"overlapped) x 100,000 inputs x {t:.3f} ns (the slower of block `mlp_lane`, the lane, and "
           f"`mlp_net_mnist`); at the whole "
           f"datapath's own fmax ({net['fmax_mhz']:.0f} MHz) it is {secs_engine:.3f} s. Power of "
           f"block `mlp_net_mnist` (logic + SRAM macros + {p_lanes} lanes) at {net['clock_ns']} ns with its "
           f"simulated MNIST activity. The datapath's critical path: {net['critical_path']['start']} -> "
           f"{net['critical_path']['end']} ({net['critical_path_ns']:.3f} ns)."]
    p100 = (json.loads(mt.read_text()).get("rtl") or {}).get("P100")
    eng = _ok(reps, "mlp_net_mnist_p100")
    cols = [(f"P = {p_lanes}", secs, p_w, net)]
    if p100 and eng and p_lanes != 100:
        t100 = max(_op_clock(lane), _op_clock(eng)) if lane else _op_clock(eng)
        s100 = p100["steady_cycles_per_input"] * 1e5 * t100 * 1e-9
        cols.append(("P = 100", s100, eng["power_mw"]["total"] * 1e-3, eng))
        out.append(f"P = 100 (block `mlp_net_mnist_p100`, with buffer trees): {p100['steady_cycles_per_input']:,.1f} "
                   f"clocks per input (RTL) x 100,000 x {t100:.3f} ns = {s100:.3f} s (goal 0.5 s); its datapath's "
                   f"own fmax {eng['fmax_mhz']:.0f} MHz ({p100['steady_cycles_per_input'] * 1e5 / (eng['fmax_mhz'] * 1e6):.3f} s), "
                   f"critical path {eng['critical_path']['start']} -> {eng['critical_path']['end']}.")
    elif p100 and p_lanes != 100:
        out.append(f"With P = 100 lanes (not synthesized) the RTL takes {p100['steady_cycles_per_input']:,.1f} "
                   f"clocks per input: {p100['steady_cycles_per_input'] * 1e5 * t * 1e-9:.3f} s per 100k "
                   f"inputs at that clock (goal 0.5 s).")
    out.append("Sources: " + "; ".join([f"{_ref('mnist_training.json')}, commit "
                                        f"{provenance.short(provenance.of(json.loads(mt.read_text())))}"]
                                       + [_synth_cite(c[3]) for c in cols] + ([_synth_cite(lane)] if lane else [])) + ".")
    return out + ["",
            "| MNIST 784-100-100-10, 100k training inputs | paper 000 | " + " | ".join(c[0] for c in cols) + " |",
            "|---|---:|" + "---:|" * len(cols),
            "| time (s) | 6.43 | " + " | ".join(f"{c[1]:.3f}" for c in cols) + " |",
            "| power (W) | 5.37 | " + " | ".join(f"{c[2]:.4f}" for c in cols) + " |",
            f"| energy (J) | {6.43 * 5.37:.2f} | " + " | ".join(f"{c[1] * c[2]:.4f}" for c in cols) + " |",
            "| area (mm^2) | 6493.22 (extrapolated) | " + " | ".join(
                f"{c[3]['area_um2'] / 1e6:.3f} (SRAM {c[3].get('area_sram_um2', 0) / 1e6:.3f})" for c in cols) + " |"]


def _pe_bound(reps):
    """Without an array report: the PE block's figures scaled to 16 x 32 (an upper
    bound on clock and efficiency: the glue's paths and power are left out)."""
    pe, part = _ok(reps, "pe"), reps.get("pe_array", {})
    if not pe:
        return ["PE array and PE not synthesized yet."]
    pj = REPORTS / "pe_array.json"
    util = None
    if pj.exists():
        util = _resnet20_util(json.loads(pj.read_text()))
    macs = 3 * 16 * 32
    peak = 2 * macs * pe["fmax_mhz"] * 1e6 / 1e12
    e = list(pe.get("energy_pj_per_op", {}).values())[0]
    lines = [f"The array run did not complete ({part.get('reason', 'no report')}). Below: the PE block "
             f"(`pe`) scaled to 16 x 32 PEs, an upper bound on clock and efficiency (the glue's paths and "
             f"its power are not included; the glue's cells alone are {part.get('glue_area_um2', 0):,.0f} um^2). "
             f"PE energy per MAC slot from its power at {pe['clock_ns']} ns under the array's CIFAR-10 "
             f"simulation averaged over the 512 PEs (RTL activity, transition-density propagation inside the "
             f"PE: an overestimate; on fp_add propagation gave 1.75x the gate-level power).", "",
             "| PE array (PE-only bound) | paper 004 | this work | goal |", "|---|---:|---:|---:|",
             f"| clock | 200 MHz (FPGA) | PE fmax {pe['fmax_mhz']:.0f} MHz | >= 700 MHz |",
             f"| peak = 2 x 3 x 16 x 32 x fmax | - | {peak:.3f} TOPS | - |"]
    if util:
        lines.append(f"| at measured utilization ({util:.4f}, ResNet-20 batch 32) | 421 GOPS | "
                     f"{peak * util * 1000:,.0f} GOPS | >= 1.5 TOPS |")
    lines += [f"| energy per INT8 MAC (PE only) | - | {e:.3f} pJ | - |",
              f"| efficiency (PE only) | 43.18 GOPS/W | {2 / e * 1000:,.0f} GOPS/W ({2 / e:.3f} TOPS/W) | "
              f">= 1 TOPS/W |",
              f"| area | - | 512 x {pe['area_um2']:,.0f} + glue {part.get('glue_area_um2', 0):,.0f} = "
              f"{(512 * pe['area_um2'] + part.get('glue_area_um2', 0)) / 1e6:.3f} mm^2 | - |"]
    return lines


def _pe_array(reps):
    arr, pe = _ok(reps, "pe_array"), _ok(reps, "pe_array") and _ok(reps, "pe")
    pj = REPORTS / "pe_array.json"
    if not arr:
        return _pe_bound(reps)
    rows, cols = arr["parameters"]["ROWS"], arr["parameters"]["COLS"]
    macs = 3 * rows * cols
    util = None
    if pj.exists():
        util = _resnet20_util(json.loads(pj.read_text()))
    f_max = arr["fmax_mhz"] * 1e6
    f_op = 1e9 / _op_clock(arr)
    peak = 2 * macs * f_max / 1e12
    e_mac = list(arr.get("energy_pj_per_op", {}).values())
    e_mac = e_mac[0] if e_mac else None
    topsw = 2 / e_mac if e_mac else None
    lines = [f"Peak = 2 x 3 x {rows} x {cols} x fmax; utilization = ResNet-20 training (FP+BP+WG) "
             f"utilization of the controller's mapping from reports/pe_array.json (`make bench-pe`, "
             f"{'batch 32' if util else 'missing'}); TOPS/W = 2 ops / (energy per INT8 MAC), the "
             f"energy per MAC slot from the array's power at {arr['clock_ns']} ns under its CIFAR-10 "
             f"simulation ({arr['activity']['ops_per_cycle']:.0f} MAC slots per clock).", "",
             "| PE array | paper 004 | this work | goal |", "|---|---:|---:|---:|",
             f"| clock | 200 MHz (FPGA) | fmax {arr['fmax_mhz']:.0f} MHz (run at {f_op / 1e6:.0f} MHz) | >= 700 MHz |",
             f"| peak | - | {peak:.3f} TOPS at fmax | - |"]
    if util:
        lines.append(f"| at measured utilization ({util:.3f}) | 421 GOPS | {peak * util * 1000:,.0f} GOPS "
                     f"({2 * macs * f_op * util / 1e12:.3f} TOPS at {f_op / 1e6:.0f} MHz) | >= 1.5 TOPS |")
    lines.append(f"| power | - | {arr['power_mw']['total']:.1f} mW at {arr['clock_ns']} ns | - |")
    if topsw:
        lines.append(f"| energy per INT8 MAC | - | {e_mac:.3f} pJ | - |")
        lines.append(f"| efficiency | 43.18 GOPS/W | {topsw * 1000:,.0f} GOPS/W ({topsw:.2f} TOPS/W) | >= 1 TOPS/W |")
    lines.append(f"| area | - | {arr['area_um2'] / 1e6:.3f} mm^2 | - |")
    top = _ok(reps, "pe_top")
    lines.insert(0, "Sources: " + "; ".join(
        [_synth_cite(arr)] + ([_synth_cite(top)] if top else [])
        + ([f"{_ref('pe_array.json')}, commit {provenance.short(provenance.of(json.loads(pj.read_text())))}"]
           if pj.exists() else [])) + ".")
    if top:
        lines.append(f"| with controller and buffers (`pe_top`): clock | - | fmax {top['fmax_mhz']:.0f} MHz | - |")
        lines.append(f"| with controller and buffers: area | - | {top['area_um2'] / 1e6:.2f} mm^2 "
                     f"(SRAM macros {top.get('area_sram_um2', 0) / 1e6:.2f}) | - |")
        own = list(top.get("energy_pj_per_op_own", {}).values())
        if own and e_mac:
            e_top = e_mac + own[0]
            lines.append(f"| with controller and buffers: energy per INT8 MAC | - | {e_mac:.3f} + {own[0]:.3f} "
                         f"(controller, buffer logic, SRAM accesses at {top['activity']['ops_per_cycle']:.0f} "
                         f"MAC slots per clock) = {e_top:.3f} pJ | - |")
            lines.append(f"| with controller and buffers: efficiency | 43.18 GOPS/W | {2 / e_top * 1000:,.0f} GOPS/W "
                         f"| >= 1 TOPS/W |")
    return lines


def _bench(name):
    """A bench report and the line that cites it, or (None, why not)."""
    path = REPORTS / name
    if not path.exists():
        return None, f"`reports/{name}` missing (`make bench-{BENCH_OF.get(name, name.split('.')[0])}`)."
    try:
        rep = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        return None, f"{_ref(name)} unreadable ({e})."
    return rep, f"Source: {_ref(name)}, commit {provenance.short(provenance.of(rep))}."


def _carried_note(entry):
    """' (carried over: commit ...)' for an entry kept from an earlier report."""
    c = entry.get("carried_over") if isinstance(entry, dict) else None
    return f" (carried over from {c['from']}, commit {provenance.short(c)})" if c else ""


def _synth_cite(r):
    return f"{_ref('synth/' + r['block'] + '.json')}, commit {provenance.short(provenance.of(r))}"


def _mnist_accuracy():
    rep, cite = _bench("mnist_training.json")
    if rep is None or not rep.get("rows"):
        return [cite if rep is None else "`reports/mnist_training.json` has no accuracy rows."]
    rows = rep["rows"]
    pct = lambda v: "-" if v is None else f"{100 * v:.2f}"
    out = [cite + f" Test set: {rep.get('test_set', 'not recorded')}; m = {rep.get('batch_m')}, alpha "
           f"{rep.get('alpha')} ({rep.get('schedule')}), seed {rep.get('seed')}.", "",
           "| inputs | " + " | ".join(f"{r['inputs'] // 1000}k" for r in rows) + " |",
           "|---|" + "---:|" * len(rows),
           "| hardware numerics (%) | " + " | ".join(pct(r.get("test_accuracy_hw")) for r in rows) + " |",
           "| float32 PyTorch (%) | " + " | ".join(pct(r.get("test_accuracy_torch_f32")) for r in rows) + " |",
           "| paper Table II (%) | " + " | ".join(pct(r.get("paper_test_accuracy")) for r in rows) + " |",
           "| meets the paper | " + " | ".join({True: "yes", False: "no", None: "no paper row"}[r.get("meets_paper")]
                                              for r in rows) + " |"]
    notes = sorted({_carried_note(r) for r in rows} - {""})
    return out + ([""] + [f"Rows{n}." for n in notes] if notes else [])


def _mnist_rtl():
    rep, cite = _bench("mnist_training.json")
    rtl = (rep or {}).get("rtl")
    if not rtl:
        return [cite if rep is None else "`reports/mnist_training.json` has no RTL clocks (`make bench-mnist`)."]
    out = [cite + f" Clock {rtl.get('clock_ns')} ns: {rtl.get('clock_source')}.", "",
           "| lanes P | clocks per training input (steady) | s per 100k inputs at that clock | "
           "at the engine's own fmax | values checked |", "|---:|---:|---:|---:|---:|"]
    for k, v in rtl.items():
        if k.startswith("P") and isinstance(v, dict) and "steady_cycles_per_input" in v:
            eng = v.get("projected_seconds_100k_inputs_at_engine_fmax")
            at_eng = "-" if eng is None else f"{eng:.3f} ({v['engine_fmax_mhz']:.1f} MHz)"
            out.append(f"| {v['lanes_P']}{_carried_note(v)} | {v['steady_cycles_per_input']:,.1f} | "
                       f"{v['projected_seconds_100k_inputs']:.3f} | {at_eng} | {v.get('values_checked', 0):,} |")
    return out + ([f"All of it{_carried_note(rtl)}."] if _carried_note(rtl) else [])


def _memory():
    rep, cite = _bench("memory.json")
    if rep is None:
        return [cite]
    h = rep.get("headline")
    if not h:
        return [cite, "", "No headline in this report (written before it had one): run `make bench-memory`."]
    out = [cite + f" {h['why_this_width']}.", "",
           "| rd_words | access clocks distributed / unified (measured) | (formula) | access ratio measured | "
           "formula | paper | meets the paper |", "|---:|---:|---:|---:|---:|---:|---|",
           f"| {h['rd_words']} | {h['access_clocks_measured']['distributed']:,.1f} / "
           f"{h['access_clocks_measured']['unified']:,.1f} | {h['access_clocks_formula']['distributed']:,.1f} / "
           f"{h['access_clocks_formula']['unified']:,.1f} | {h['access_ratio_measured']:.2f}x | "
           f"{h['access_ratio_formula']:.2f}x | {h['paper_ratio']:.2f}x | {'yes' if h['meets_paper_ratio'] else 'no'} |"]
    for w in rep.get("read_widths", []):
        if w["rd_words"] != h["rd_words"]:
            f = w.get("access_formula_at_sdram_base", {})
            out.append(f"| {w['rd_words']} (needs a {w['rd_words']}-word compute side) | "
                       f"{w['distributed']['steady_access_clocks_mean']:,.1f} / "
                       f"{w['unified']['steady_access_clocks_mean']:,.1f} | "
                       f"{f.get('distributed_clocks', '-')} / {f.get('unified_clocks', '-')} | "
                       f"{w['access_ratio_unified_over_distributed']:.2f}x | {f.get('access_ratio', '-')}x | "
                       f"{h['paper_ratio']:.2f}x | {'yes' if w['meets_paper_ratio'] else 'no'} |")
    return out + ["", f"Formula: {h['formula']}. SDRAM at the base point: {rep.get('sdram_base')}; "
                  f"{rep.get('clock_ns')} ns clock ({rep.get('clock_source')})."]


def _pe_bench():
    rep, cite = _bench("pe_array.json")
    if rep is None:
        return [cite]
    out = [cite]
    layers = (rep.get("measured_rtl") or {}).get("layers", [])
    if layers:
        out += ["", "Measured on the RTL, one CIFAR-10 image" + _carried_note(rep.get("measured_rtl")) + ":", "",
                "| layer | phase | cycles | utilization (array) | through the controller |", "|---|---|---:|---:|---:|"]
        for r in layers:
            out.append(f"| {r['layer']} | {r['phase']} | {r['cycles_measured']:,} | {r['utilization']:.3f} | "
                       f"{'-' if 'ctrl_utilization' not in r else format(r['ctrl_utilization'], '.3f')} |")
    comp = rep.get("computed_resnet20_ctrl") or {}
    for k, v in comp.items():
        out.append(f"- ResNet-20 {k}, the controller's mapping (cycle model){_carried_note(comp)}: "
                   f"utilization {v['utilization']:.3f}")
    for k, v in (rep.get("top_io") or {}).items():
        b2b = [f"{r['layer']} {r['phase']} {r['e2e_util_b2b']:.3f}" for r in v["layers"] if "e2e_util_b2b" in r]
        one = [r["e2e_util_single"] for r in v["layers"] if "3x3" in r["layer"]]
        out.append(f"- pe_top at {v['act_bytes']} B / {v['wgt_words']} words per beat: end-to-end utilization "
                   + (f"back to back: {', '.join(b2b)}; " if b2b else "")
                   + (f"one 3x3 descriptor alone {min(one):.3f}-{max(one):.3f}" if one else ""))
    return out


def _bn_bench():
    rep, cite = _bench("bn.json")
    if rep is None:
        return [cite]
    t = rep["total"]
    out = [cite + f" Batch {rep.get('batch')}; {rep.get('checked', 'checks not recorded')}.", "",
           "| layer | channels | elements per channel | FP cycles | BP cycles | FP elements per clock |",
           "|---|---:|---:|---:|---:|---:|"]
    for r in rep["layers"]:
        out.append(f"| {r['layer']} | {r['channels']} | {r['elements_per_channel']:,} | {r['fp_cycles']:,} | "
                   f"{r['bp_cycles']:,} | {r['fp_elements_per_clock']:.4f} |")
    out.append(f"| all 19 | | {t['elements']:,} elements | {t['fp_cycles']:,} | {t['bp_cycles']:,} | "
               f"{t['fp_elements_per_clock']:.4f} |")
    return out


def _sources(reps):
    """Every report the page read: file, commit, date, command."""
    out = ["| report | commit | date | command |", "|---|---|---|---|"]
    files = sorted(REPORTS.glob("*.json")) + sorted(SYNTH.glob("*.json"))
    for f in files:
        try:
            pv = provenance.of(json.loads(f.read_text()))
        except (json.JSONDecodeError, AttributeError):
            continue
        c = pv.get("commit", "unknown")
        out.append(f"| {_ref(str(f.relative_to(REPORTS)))} | {c[:10]}{' (dirty)' if pv.get('dirty') else ''} | "
                   f"{pv.get('date', '-')} | `{pv.get('command', pv.get('note', '-'))}` |")
    return out


def main():
    reps = _load()
    page = provenance.stamp()
    (PAGE.parent / PLOT_DIR).mkdir(parents=True, exist_ok=True)
    files = _plots(reps)
    ok = [r for r in reps.values() if r.get("status") == "ok"]
    lines = ["# Results", "",
             "<!-- generated by `make report` (synth/report.py): do not edit -->", "",
             "Generated by `make report` from the committed reports the benches (`make bench-<name>`: "
             "`reports/*.json`) and the synthesis flow (`make synth`: `reports/synth/*.json`) wrote; "
             "nothing here is typed by hand. Each section names the report files it quotes and their "
             "commits (`(dirty)`: the working tree differed from that commit when the report was written; "
             "its `provenance.dirty_files` says where). An entry a report kept from an earlier run says "
             "so, with that run's commit.", "", f"This page: commit {provenance.short(page)}, `{page['command']}`.", ""]
    lines += ["## MNIST training accuracy", "", "784-100-100-10 (`mlp_net`, docs/mlp_net.md) beside paper 000's "
              "Table II.", ""] + _mnist_accuracy()
    lines += ["", "## MNIST engine clocks", "", "Clocks per training input of 784-100-100-10 on the RTL.", ""] + _mnist_rtl()
    lines += ["", "## Training-vector memory", "", "`mem_ctrl` (docs/memory.md), distributed vs unified, "
              "paper 000 III-C.", ""] + _memory()
    lines += ["", "## PE array", "", "Cycles and utilization on ResNet-20 layers (`pe_array`, `pe_top`, "
              "docs/pe_array.md; paper 004).", ""] + _pe_bench()
    lines += ["", "## BN unit", "", "`bn_unit` (docs/bn_unit.md): cycles per ResNet-20 BN layer.", ""] + _bn_bench()
    lines += ["", "## Synthesis", "", "Yosys + OpenSTA, NanGate45 typical, 1.1 V, 25 C (docs/synth.md).", "",
             "From `reports/synth/*.json` (`make synth`; each row's commit in the last column). Area is the sum "
             "of standard-cell areas (no placement, no clock tree) plus SRAM macros and hierarchical "
             "sub-blocks where listed. Timing: OpenSTA on the mapped "
             "netlist with the 5K_hvratio_1_1 wire-load model, ports constrained with zero I/O delay, "
             "BUF_X2 drivers and 2 fF loads. Each block is mapped by ABC at up to three delay targets (1, "
             "0.8, 0.6 x its clock); fmax is the best 1 / (clock - worst slack) of them, and area, "
             "cells, WNS and power are those of the smallest netlist that meets the block's clock "
             "(else the fastest). "
             "Power at the target clock from the Liberty tables (`synth/power.py`), with the activity "
             "named in each block's JSON.", "",
             "SRAM macros (RAM modules a block lists, e.g. the MNIST datapath's weight RAMs) are "
             "blackboxes with a generated Liberty stub; their figures come from `synth/macros.py`: "
             "6T cell 0.346 um^2 (Intel 45 nm, IEDM 2007) / 0.5 array efficiency + 1500 um^2 periphery; "
             "10 pJ per 64-bit access of 8 KB, x2 per 4x capacity (Horowitz, ISSCC 2014, 45 nm); "
             "clock-to-Q 0.40 ns at 8 KB; leakage 20 pW/bit (assumed). "
             "Hierarchical blocks (`pe_array`, `mlp_net_mnist`): the repeated sub-block (PE, lane) is "
             "synthesized once as its own block and is a blackbox in the parent whose stub carries its "
             "boundary timing (input-to-register, register-to-output, input-to-output, worst over its "
             "ports); area and power = glue + n x sub-block; fmax = the slower of the parent's STA over "
             "glue paths and paths through the stubs and the sub-block's own fmax.", "",
             "### Blocks", "", _table(reps), ""]
    lines += ["### Hard macros and sub-blocks", ""]
    for r in ok:
        for typ, h in r.get("hard_macros", {}).items():
            p = h["power_mw_each"]
            extra = (f"{h['width']}x{h['depth']}, {h['reads_per_cycle']:.3f} reads and "
                     f"{h['writes_per_cycle']:.3f} writes per clock each, {h['e_read_pj']} pJ per access"
                     if h["kind"] == "sram" else f"block `{h['block']}`, {h['cells_each']:,} cells each")
            lines.append(f"- **{r['block']}**: {h['count']} x {typ} ({extra}): {h['area_um2_each']:,.0f} um^2 "
                         f"and {sum(p.values()):.4f} mW each")
        if r.get("hard_macros"):
            lines.append(f"  - {r['block']} logic (glue) alone: {r['area_logic_um2']:,.0f} um^2, "
                         f"{r['power_logic_mw']['total']:.3f} mW")
    lines += ["", "### Activity sources", ""]
    for r in ok:
        lines.append(f"- **{r['block']}**: {r['activity_source']}")
    lines += ["", "### Goals", ""]
    for r in ok:
        if r["block"].startswith(("fp_add", "fp_mul", "mlp_lane")):
            verdict = "meets" if r["fmax_mhz"] >= 600 else "misses"
            lines.append(f"- {r['block']}: fmax {r['fmax_mhz']:.0f} MHz (best of the ABC targets), "
                         f"{verdict} the 600 MHz FP32 neuron-datapath goal. Reported netlist (ABC target "
                         f"{r.get('abc_target_ns')} ns): {r['fmax_netlist_mhz']:.0f} MHz, critical path "
                         f"{r['critical_path']['start']} -> {r['critical_path']['end']} "
                         f"({r['critical_path_ns']:.3f} ns).")
    arr = _ok(reps, "pe_array")
    pe = _ok(reps, "pe")
    if not arr and pe:
        lines.append(f"- pe_array: run incomplete (see below); its PE alone reaches {pe['fmax_mhz']:.0f} MHz, "
                     f"{'meets' if pe['fmax_mhz'] >= 700 else 'misses'} the 700 MHz goal (critical path "
                     f"{pe['critical_path']['start']} -> {pe['critical_path']['end']}).")
    if arr:
        lines.append(f"- pe_array: fmax {arr['fmax_mhz']:.0f} MHz"
                     + (f" ({arr['fmax_limited_by']}; its own paths {arr['fmax_glue_mhz']:.0f} MHz)"
                        if arr.get("fmax_limited_by") else "") + ", "
                     f"{'meets' if arr['fmax_mhz'] >= 700 else 'misses'} the 700 MHz goal; TOPS and TOPS/W below.")
    lines += ["", "## Beside paper 000", "", "### Table I: one neuron iteration", ""] + _table1(reps)
    lines += ["", "### Figures", "", "| paper 000 (FP32 training neuron) | paper figure | this work |",
              "|---|---|---|"]
    ours = {"neuron clock": reps.get("mlp_lane"), "neuron area": reps.get("mlp_lane"),
            "neuron power": reps.get("mlp_lane"), "3-3-3-1 network area": reps.get("mlp_net_3331"),
            "3-3-3-1 network power": reps.get("mlp_net_3331"),
            "MNIST 784-100-100-10, 100k inputs": reps.get("mlp_net_mnist")}
    for k, v in PAPER_000:
        r = ours.get(k)
        if r is None or r.get("status") != "ok":
            mine = "not yet synthesized"
        elif "clock" in k:
            mine = f"fmax {r['fmax_mhz']:.0f} MHz (lane)"
        elif "MNIST" in k:
            mine = "see the MNIST table below"
        elif "area" in k:
            mine = f"{r['area_um2']:,.0f} um^2"
        else:
            p = r["power_mw"]
            mine = (f"{p['internal'] + p['switching']:.2f} mW dynamic + {p['leakage']:.3f} mW leakage "
                    f"at {r['clock_ns']} ns")
        lines.append(f"| {k} | {v} | {mine} |")
    lines += ["", "### MNIST training time and energy", ""] + _mnist(reps)
    lines += ["", "## Beside paper 004", "", "### PE array", ""] + _pe_array(reps)
    lines += ["", "## Plots", ""] + [f"![{f}]({PLOT_DIR}/{f})" for f in files]
    lines += ["", "## Reports read", ""] + _sources(reps) + [""]
    PAGE.write_text("\n".join(lines))
    print(f"wrote the results page {provenance.rel(PAGE)} ({len(ok)} blocks synthesized) and "
          f"{', '.join(PLOT_DIR + '/' + f for f in files)}")


if __name__ == "__main__":
    main()
