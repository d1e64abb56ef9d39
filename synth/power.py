"""Activity-annotated power of a mapped netlist, computed from the Liberty tables.

Why not OpenSTA's report_power: Debian's OpenSTA 2.0.17 (a) overwrites every
pin activity annotated with sta::set_power_pin_activity that lies downstream of
an input port or of the clock (all register outputs), so simulated register
activity cannot reach it, and (b) charges output-pin internal energy once per
transition with rise+fall summed, i.e. 2x the Liberty meaning (energy per rise
plus energy per fall, each happening at half the toggle rate). Both were
measured on the reference circuit of tests/test_synth.py. This module is the
one place that replaces it; the same test checks it against a hand calculation.

Model (standard probabilistic power estimation, zero-delay, no glitches):
  * activities: every net the simulation saw (SAIF toggle counts and high
    time: all nets for a gate-level run, registers and ports for an RTL run),
    the clock from its period, any other net by transition-density
    propagation (Najm): D(y) = sum_i P(dy/dx_i) D(x_i), P(y) from the cell
    function, inputs independent. Propagation overestimates arithmetic logic
    badly (measured on fp_add: 5.6 mW propagated vs 3.2 mW gate-level), hence
    the gate-level default.
  * slews: input ports get `in_slew`, each output the mean of the rise and fall
    transition tables over its related pins, in topological order.
  * internal: per output pin, D(y)/2 * (E_rise + E_fall) per related pin,
    weighted by that pin's share of the output's transition density; per input
    pin, D(x)/2 * sum_when P(when) (E_rise + E_fall). `when` states are weighted
    with exact probabilities (QN = !Q).
  * switching: 1/2 C V^2 D(net), C = load pin capacitance + wire load + port load.
  * leakage: sum_when P(when) * value, else cell_leakage_power.
"""

import hashlib
import pickle
import re
from pathlib import Path

from synth.liberty import Library, when_prob

SEQ_Q = {"Q": False, "QN": True}           # flop outputs and whether they invert


def _expr(func):
    """Liberty boolean -> Python expression on 0/1 ints (~ ! ; & * ; ^ ; | +)."""
    py = func.replace("!", "~").replace("*", "&").replace("+", "|")
    return compile(f"({py}) & 1", func, "eval")


class PowerModel:
    def __init__(self, lib_path, cells, wire_load="5K_hvratio_1_1", cache_dir=None):
        stamp = [wire_load or "", str(Path(lib_path).stat().st_mtime)]
        digest = hashlib.sha1(" ".join(sorted(cells) + stamp).encode()).hexdigest()[:10]
        key = Path(cache_dir or ".") / f"lib-{Path(lib_path).stem}-{digest}.pkl"
        if cache_dir and key.exists():
            self.lib = pickle.loads(key.read_bytes())
        else:
            self.lib = Library(lib_path, sorted(cells), wire_load)
            if cache_dir:
                key.parent.mkdir(parents=True, exist_ok=True)
                key.write_bytes(pickle.dumps(self.lib))

    # --------------------------------------------------------------- cell info
    def pins(self, cell):
        c = self.lib.cells[cell]
        return {p.args[0]: p for p in c.all("pin")}

    def is_seq(self, cell):
        return bool(self.lib.cells[cell].all("ff"))

    def func(self, cell, pin):
        f = self.pins(cell)[pin].attrs.get("function")
        return _expr(f) if f else None

    # --------------------------------------------------------------- analysis
    def analyse(self, cells, ports, period_ns, src_activity, in_slew=0.02, port_load=2.0,
                clock="clk", extra_load=None, macro_slew=0.05, registers_from_d=False,
                dq_iterations=12, dq_tolerance=1e-3):
        """cells: {name: (type, {pin: net})}; ports: {name: ("input"|"output", net)};
        src_activity: {net: (toggles per clock cycle, P(1))} for primary inputs and
        register outputs. extra_load: {net: fF} of pins outside `cells` (macros);
        nets no cell drives (macro outputs) are sources like register outputs,
        with slew macro_slew. registers_from_d: a register whose Q (or QN) is not in
        src_activity takes its D net's activity (at most one toggle per clock),
        iterated to a fixed point since D may depend on Q; else it is at zero.
        Returns powers in mW and the per-net activity."""
        if not registers_from_d:
            return self._analyse(cells, ports, period_ns, src_activity, in_slew, port_load, clock,
                                 extra_load, macro_slew)
        unmatched = {}                              # Q (or QN) net -> (D net, inverted)
        for typ, conn in cells.values():
            if self.is_seq(typ) and conn.get("D") is not None and not any(
                    conn.get(q) in src_activity for q in SEQ_Q):
                for q, inv in SEQ_Q.items():
                    if conn.get(q) is not None:
                        unmatched[conn[q]] = (conn["D"], inv)
                        break
        src = dict(src_activity)
        self.dq_iterations = 0
        for k in range(dq_iterations):
            power, dens = self._analyse(cells, ports, period_ns, src, in_slew, port_load, clock,
                                        extra_load, macro_slew)
            self.dq_iterations = k + 1
            change = 0.0
            for q, (d, inv) in unmatched.items():
                a, p = dens.get(d, (0.0, 0.0))
                new = (min(a, 1.0), 1 - p if inv else p)
                old = src.get(q, (0.0, 0.0))
                change = max(change, abs(new[0] - old[0]), abs(new[1] - old[1]))
                src[q] = new
            if change < dq_tolerance:
                break
        return power, dens

    def _analyse(self, cells, ports, period_ns, src_activity, in_slew, port_load, clock, extra_load,
                 macro_slew):
        lib, V, f = self.lib, self.lib.voltage, 1e9 / period_ns
        loads, drivers = {}, {}
        for name, (typ, conn) in cells.items():
            pins = self.pins(typ)
            for pin, net in conn.items():
                if net is None:
                    continue
                if pins[pin].attrs["direction"] == "input":
                    loads.setdefault(net, []).append((name, pin))
                else:
                    drivers[net] = (name, pin)
        port_out = {}
        for pname, (d, net) in ports.items():
            if d == "output":
                port_out[net] = port_out.get(net, 0) + 1

        extra_load = extra_load or {}

        def cap(net):
            fan = len(loads.get(net, [])) + port_out.get(net, 0) + (net in extra_load)
            return (sum(lib.pin_cap(cells[c][0], p) for c, p in loads.get(net, []))
                    + port_load * port_out.get(net, 0) + extra_load.get(net, 0.0) + lib.wire_cap(fan))

        clk_net = ports[clock][1] if clock in ports else None
        dens = {}                                   # net -> (toggles per cycle, P(1))
        slew = {}
        for pname, (d, net) in ports.items():
            if d == "input":
                slew[net] = in_slew
                dens[net] = (2.0, 0.5) if net == clk_net else src_activity.get(net, (0.0, 0.0))
        for c in ("0", "1"):
            dens[c] = (0.0, float(c))
            slew[c] = in_slew
        # registers are sources; their output slew from CK
        order, indeg, fanout_cells = [], {}, {}
        for name, (typ, conn) in cells.items():
            if self.is_seq(typ):
                for q, inv in SEQ_Q.items():
                    net = conn.get(q)
                    if net is None:
                        continue
                    a, p = src_activity.get(net, src_activity.get(conn.get("Q"), (0.0, 0.0)))
                    dens[net] = (a, 1 - p if inv and net not in src_activity else p)
                    slew[net] = lib.out_slew(typ, q, "CK", in_slew, cap(net))
                continue
            ins = [n for p, n in conn.items() if self.pins(typ)[p].attrs["direction"] == "input"]
            indeg[name] = sum(1 for n in ins if n in drivers and not self.is_seq(cells[drivers[n][0]][0]))
            for n in ins:
                fanout_cells.setdefault(n, []).append(name)
        for net in loads:                           # driven by a macro (or nothing)
            if net not in drivers and net not in dens:
                dens[net] = src_activity.get(net, (0.0, 0.0))
                slew[net] = macro_slew
        ready = [c for c, k in indeg.items() if k == 0]
        while ready:
            c = ready.pop()
            order.append(c)
            typ, conn = cells[c]
            for p, n in conn.items():
                if self.pins(typ)[p].attrs["direction"] == "output":
                    for c2 in fanout_cells.get(n, []):
                        indeg[c2] -= 1
                        if indeg[c2] == 0:
                            ready.append(c2)
        if len(order) != len(indeg):
            raise ValueError("combinational loop in the netlist")

        internal = switching = leakage = 0.0
        share = {}                                  # (cell, out pin) -> {in pin: share}
        for c in order:                             # propagate densities and slews
            typ, conn = cells[c]
            pins = self.pins(typ)
            ins = [p for p in conn if pins[p].attrs["direction"] == "input"]
            for out in [p for p in conn if pins[p].attrs["direction"] == "output"]:
                fn = self.func(typ, out)
                prob = {p: dens[conn[p]][1] for p in ins}
                names = ins
                p1, dd, parts = 0.0, 0.0, {}
                for bits in range(1 << len(names)):
                    env = {n: bits >> i & 1 for i, n in enumerate(names)}
                    w = 1.0
                    for n in names:
                        w *= prob[n] if env[n] else 1 - prob[n]
                    if not w:
                        continue
                    y = eval(fn, {}, dict(env))
                    p1 += w * y
                    for n in names:                 # Boolean difference w.r.t. n
                        if env[n]:
                            continue
                        flipped = dict(env)
                        flipped[n] = 1
                        w0 = w / (1 - prob[n]) if prob[n] < 1 else 0.0
                        if eval(fn, {}, flipped) != y:
                            parts[n] = parts.get(n, 0.0) + w0 * dens[conn[n]][0]
                dd = sum(parts.values())
                # measured (gate-level simulation) wins over the propagated estimate
                dens[conn[out]] = src_activity.get(conn[out], (dd, p1))
                share[(c, out)] = {n: v / dd for n, v in parts.items()} if dd else {}
                rel = [n for n in ins if n in share[(c, out)]] or ins
                if not rel:                         # tie cell
                    slew[conn[out]] = in_slew
                    continue
                slew[conn[out]] = sum(lib.out_slew(typ, out, n, slew[conn[n]], cap(conn[out]))
                                      for n in rel) / len(rel)

        for c, (typ, conn) in cells.items():        # power per cell
            pins = self.pins(typ)
            prob = {}
            for p, n in conn.items():
                prob[p] = dens.get(n, (0.0, 0.0))[1]
            if self.is_seq(typ):
                q = prob.get("Q", 1 - prob.get("QN", 0.5))
                prob["Q"], prob["QN"] = q, 1 - q
            for pname, pin in pins.items():
                net = conn.get(pname)
                a = dens.get(net, (0.0, 0.0))[0] if net is not None else 0.0
                if self.is_seq(typ) and pname == "QN" and net is None:
                    a = dens.get(conn.get("Q"), (0.0, 0.0))[0]
                if pin.attrs["direction"] == "output" and net is not None:
                    switching += 0.5 * cap(net) * 1e-15 * V * V * a * f
                for ip in pin.all("internal_power"):
                    tabs = {g.kind: g for g in ip.groups}
                    rel = ip.attrs.get("related_pin")
                    wp = _wprob(ip.attrs.get("when", ""), prob, self.is_seq(typ))
                    if pin.attrs["direction"] == "output":
                        load = cap(net) if net is not None else 0.0
                        if self.is_seq(typ):
                            wshare = 1.0
                        else:
                            wshare = share.get((c, pname), {}).get(rel, 0.0)
                        s = slew.get(conn.get(rel), in_slew)
                        e = sum(lib.table(tabs[k], s, load) for k in ("rise_power", "fall_power") if k in tabs)
                        internal += a * f / 2 * e * 1e-15 * wshare * wp
                    else:
                        s = slew.get(net, in_slew)
                        e = sum(lib.table(tabs[k], s) for k in ("rise_power", "fall_power") if k in tabs)
                        internal += a * f / 2 * e * 1e-15 * wp
            lk = self.lib.cells[typ].all("leakage_power")
            if lk:
                leakage += sum(_wprob(g.attrs.get("when", ""), prob, self.is_seq(typ)) * float(g.attrs["value"]) for g in lk) * 1e-9
            else:
                leakage += float(self.lib.cells[typ].attrs.get("cell_leakage_power", 0)) * 1e-9
        mw = lambda w: w * 1e3
        return {"internal": mw(internal), "switching": mw(switching), "leakage": mw(leakage),
                "total": mw(internal + switching + leakage)}, dens


def _wprob(expr, prob, seq):
    """P(when); in a flop QN is read as !Q (one variable, not two independent ones)."""
    if seq:
        expr = re.sub(r"\bQN\b", "(!Q)", expr)
    return when_prob(expr, prob)
