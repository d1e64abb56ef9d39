"""Hard macros in the flow: SRAMs and hierarchically synthesized sub-blocks.

A block lists modules to keep out of the standard-cell netlist:

  * Block.macros (default ("ram_1r1w",)): RAM modules that become SRAM macros.
    Yosys blackboxes them (`blackbox` after `hierarchy`, so every parameter set
    is one derived module); each derived module becomes a macro cell
    RAM_<module>_<WIDTH>x<DEPTH> with a generated Liberty stub (area, setup,
    clock-to-Q, pin capacitance) that OpenSTA reads next to NanGate45, and a
    behavioural Verilog wrapper (the RTL module) for the gate-level simulation.
    Macro area, read/write energy and leakage come from sram_figures() below
    and are reported apart from the logic.
  * Block.submodules ({module: block name}): a module synthesized once as its
    own block (e.g. the PE) is a blackbox in the parent (e.g. the PE array's
    glue). Its stub carries the timing seen at its boundary in its own run
    (input-to-register setup, register-to-output and input-to-output delay,
    worst over its ports) and its input pin loads; the parent reports
    area = glue + n x block, power = glue + n x block power, fmax = the
    slower of the parent's STA over glue paths and paths through the stubs
    (`fmax_glue_mhz`) and the block's own fmax (synth/run.sub_fmax). OpenSTA 2.0.17
    reads a stub with both a setup check and an input-to-output arc as a
    latch: a path through it starts at the stub with the input's arrival as
    "time given to startpoint", which is exact while that arrival is under
    half the clock (true for registered glue driving the PE array's PEs).

SRAM figures (NanGate45 has no SRAM; this is the one place they are set):
  * area: 6T bit cell 0.346 um^2 (Intel 45 nm, Mistry et al., IEDM 2007) over
    an array efficiency of 0.5 (decoders, sense amplifiers, I/O), so
    0.69 um^2 per bit, plus 1,500 um^2 fixed periphery per macro.
  * read energy: 10 pJ per 64-bit access of an 8 KB SRAM at 45 nm, x2 per 4x
    capacity (8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ: M. Horowitz, "Computing's
    energy problem", ISSCC 2014), i.e. E = 10 pJ x (W / 64) x sqrt(bytes / 8 KB),
    and at least 0.5 pJ per access; write energy taken equal to read.
  * timing: clock-to-Q 0.40 ns at 8 KB, +0.10 ns per 4x capacity (at least
    0.30 ns), setup 0.10 ns; pin capacitance 2 fF. (Assumed, in line with
    OpenRAM/FreePDK45 and commercial 45 nm compiler macros of a few KB, which
    run at or above 1 GHz.)
  * leakage: 20 pW per bit (assumed; 45 nm 6T cells with high-Vt/body
    biasing leak 10-50 pA at 1 V, sense-amplifier and decoder leakage lumped in).
The energies are per access, charged at the access rate measured in the
simulation (duty of rd_en and wr_en at the macro pins); the power is added to
the block's internal power and listed as `macros` in the report.
"""

import json
import math
import re

SRAM_SOURCE = ("SRAM macro model in synth/macros.py: area 0.346 um^2 6T cell (Intel 45 nm, IEDM 2007) "
               "/ 0.5 array efficiency + 1500 um^2; energy per access 10 pJ x (W/64) x sqrt(bytes/8KB) "
               "(Horowitz, ISSCC 2014, 45 nm); clock-to-Q 0.40 ns at 8 KB (+0.1 ns per 4x), setup 0.10 ns; "
               "leakage 20 pW/bit (assumed)")
PIN_CAP_FF = 2.0
OUT_SLEW_NS = 0.05


def sram_figures(width, depth):
    bits = width * depth
    kb8 = bits / 8.0 / 8192.0
    e = max(0.5, 10.0 * width / 64.0 * math.sqrt(kb8))
    clk_q = max(0.30, 0.40 + 0.10 * math.log(kb8, 4)) if kb8 > 0 else 0.30
    return {"width": width, "depth": depth, "bits": bits,
            "area_um2": round(bits * 0.346 / 0.5 + 1500.0, 1),
            "e_read_pj": round(e, 4), "e_write_pj": round(e, 4),
            "clk_q_ns": round(clk_q, 3), "setup_ns": 0.10, "leakage_mw": bits * 20e-12 * 1e3}


def _param(v):
    """Yosys JSON parameter value (binary string or int) -> int."""
    if isinstance(v, int):
        return v
    return int(v, 2) if re.fullmatch(r"[01]+", str(v)) else int(v)


def blackbox_cmds(modules):
    """Yosys commands that turn every derived version of `modules` into blackboxes."""
    return "\n".join(f"blackbox {m} A:hdlname=\\{m}" for m in modules)


def find_blackboxes(netlist_json, top):
    """Blackbox modules instantiated by `top`: {yosys name: (base module, params, ports)},
    ports = {name: (direction, width)}."""
    d = json.load(open(netlist_json))["modules"]
    used = {c["type"] for c in d[top]["cells"].values()}
    out = {}
    for name, m in d.items():
        if name not in used or not _param(m.get("attributes", {}).get("blackbox", 0)):
            continue
        base = m.get("attributes", {}).get("hdlname", name).lstrip("\\").split()[-1]
        base = base.split("\\")[-1]
        params = {k: _param(v) for k, v in m.get("parameter_default_values", {}).items()}
        ports = {p: (v["direction"], len(v["bits"])) for p, v in m["ports"].items()}
        out[name] = (base, params, ports)
    return out


def macro_name(base, params):
    if "WIDTH" in params and "DEPTH" in params:
        return f"RAM_{base}_{params['WIDTH']}x{params['DEPTH']}"
    tag = "_".join(f"{k}{v}" for k, v in sorted(params.items()))
    return f"HM_{base}" + (f"_{tag}" if tag else "")


def rename_in_netlist(out_dir, rename):
    """Replaces Yosys' derived blackbox names by the macro names in netlist.v/.json."""
    v = (out_dir / "netlist.v").read_text()
    for old, new in rename.items():
        if old.startswith("$"):                          # escaped derived name
            v = v.replace("\\" + old + " ", new + " ")
        else:                                            # a plain module name: instance lines only
            v = re.sub(rf"(?m)^(\s*){re.escape(old)}(\s)", rf"\g<1>{new}\g<2>", v)
    (out_dir / "netlist.v").write_text(v)
    js = json.loads((out_dir / "netlist.json").read_text())
    for m in js["modules"].values():
        for c in m.get("cells", {}).values():
            if c["type"] in rename:
                c["type"] = rename[c["type"]]
    (out_dir / "netlist.json").write_text(json.dumps(js))


# ------------------------------------------------------------------ Liberty stub
def _bus_type(w):
    return (f"  type (bus{w}) {{ base_type : array; data_type : bit; bit_width : {w}; "
            f"bit_from : {w - 1}; bit_to : 0; downto : true; }}\n")


def _bits(port, width):
    return [port] if width == 1 else [f"{port}[{i}]" for i in range(width)]


def _scalar(kind, v):
    return f"{kind} (scalar) {{ values (\"{v:.4f}\"); }}"


def liberty_stub(cells, path, voltage=1.1):
    """cells: {name: {"area", "ports": {p: (dir, w)}, "clock": pin, "setup_ns",
    "clk_q_ns", "comb_ns" (None: no input-to-output arc), "pin_cap_ff": {p: fF},
    "leakage_mw"}}. Writes a Liberty file OpenSTA can read beside NanGate45."""
    widths = sorted({w for c in cells.values() for _, w in c["ports"].values() if w > 1})
    s = ["library (flow_macros) {", "  delay_model : table_lookup;", "  time_unit : \"1ns\";",
         "  voltage_unit : \"1V\";", "  current_unit : \"1mA\";", "  capacitive_load_unit (1, ff);",
         "  leakage_power_unit : \"1nW\";", "  pulling_resistance_unit : \"1kohm\";",
         f"  nom_voltage : {voltage}; nom_temperature : 25; nom_process : 1;",
         "  input_threshold_pct_rise : 50; input_threshold_pct_fall : 50;",
         "  output_threshold_pct_rise : 50; output_threshold_pct_fall : 50;",
         "  slew_lower_threshold_pct_rise : 30; slew_upper_threshold_pct_rise : 70;",
         "  slew_lower_threshold_pct_fall : 30; slew_upper_threshold_pct_fall : 70;",
         "  default_max_transition : 1.0;"]
    s += [_bus_type(w).rstrip() for w in widths]
    for name, c in cells.items():
        clk = c["clock"]
        ins = [p for p, (d, _) in c["ports"].items() if d == "input" and p != clk]
        s += [f"  cell ({name}) {{", f"    area : {c['area']:.3f};", "    dont_touch : true;",
              "    dont_use : true;", f"    cell_leakage_power : {c['leakage_mw'] * 1e6:.3f};"]
        s += [f"    pin ({clk}) {{ direction : input; clock : true; capacitance : {PIN_CAP_FF}; }}"]
        for p, (d, w) in c["ports"].items():
            if p == clk:
                continue
            head = f"    bus ({p}) {{ bus_type : bus{w};" if w > 1 else f"    pin ({p}) {{"
            if d == "input":
                cap = c.get("pin_cap_ff", {}).get(p, PIN_CAP_FF)
                body = [f"      direction : input; capacitance : {cap:.3f};"]
                if c["setup_ns"] is not None:
                    body += [f"      timing () {{ related_pin : \"{clk}\"; timing_type : setup_rising;",
                             f"        {_scalar('rise_constraint', c['setup_ns'])}",
                             f"        {_scalar('fall_constraint', c['setup_ns'])} }}"]
            else:
                body = ["      direction : output;"]
                if c["clk_q_ns"] is not None:
                    body += [f"      timing () {{ related_pin : \"{clk}\"; timing_type : rising_edge;",
                             f"        {_scalar('cell_rise', c['clk_q_ns'])} {_scalar('cell_fall', c['clk_q_ns'])}",
                             f"        {_scalar('rise_transition', OUT_SLEW_NS)} "
                             f"{_scalar('fall_transition', OUT_SLEW_NS)} }}"]
                if c.get("comb_ns") is not None and ins:
                    # bit by bit: a bus related to a bus of another width is not a full crossbar
                    bits = " ".join(b for q in ins for b in _bits(q, c["ports"][q][1]))
                    body += [f"      timing () {{ related_pin : \"{bits}\"; timing_sense : non_unate;",
                             f"        {_scalar('cell_rise', c['comb_ns'])} {_scalar('cell_fall', c['comb_ns'])}",
                             f"        {_scalar('rise_transition', OUT_SLEW_NS)} "
                             f"{_scalar('fall_transition', OUT_SLEW_NS)} }}"]
            s += [head] + body + ["    }"]
        s += ["  }"]
    s += ["}"]
    path.write_text("\n".join(s) + "\n")
    return path


def ram_wrapper(name, base, params, ports):
    """Behavioural model of a RAM macro for the gate-level simulation: the RTL module."""
    plist = ", ".join(f".{k}({v})" for k, v in params.items())
    decl = []
    for p, (d, w) in ports.items():
        decl.append(f"    {d} wire {'[' + str(w - 1) + ':0] ' if w > 1 else ''}{p}")
    conn = ", ".join(f".{p}({p})" for p in ports)
    return (f"module {name} (\n" + ",\n".join(decl) + "\n);\n"
            f"    {base} #({plist}) u_ram ({conn});\nendmodule\n")
