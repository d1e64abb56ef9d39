"""Fanout repair after mapping, the step a placement flow's repair_design does
and ABC does not: ABC buffers only inside the logic it maps, so a register
broadcast to P lanes (the 100-lane MLP engine's control and operand registers,
up to a thousand loads) would be timed as one unbuffered net. Every net with
more than `max_fanout` loads is driven through a tree of buffers, `max_fanout`
loads per buffer. Works on Yosys's JSON netlist: pin directions of the library
cells from the liberty, of blackboxes (macros, sub-blocks) from the netlist.
Clock nets (any CK or clk pin) are left ideal. Knows nothing of the RTL."""

import json
import re

CLOCK_PINS = ("CK", "clk")


def cell_outputs(lib_text):
    """{cell: set of output pins} of a liberty file."""
    # cells and pin groups with their direction, in file order: a pin belongs to the last cell seen
    events = [(m.start(), "cell", m.group(1)) for m in re.finditer(r"\bcell\s*\(\s*\"?(\w+)\"?\s*\)\s*\{", lib_text)]
    outs = {e[2]: set() for e in events}
    events += [(m.start(), "pin", (m.group(1), m.group(2))) for m in
               re.finditer(r"\bpin\s*\(\s*\"?(\w+)\"?\s*\)\s*\{[^{}]*?direction\s*:\s*(\w+)", lib_text)]
    cell = None
    for _, kind, v in sorted(events, key=lambda e: e[0]):
        if kind == "cell":
            cell = v
        elif cell is not None and v[1] == "output":
            outs[cell].add(v[0])
    return outs


def repair(netlist_json, top, lib_text, max_fanout=16, buf_cell="BUF_X4", buf_in="A", buf_out="Z"):
    """Rewrites netlist_json in place; returns the number of buffers added."""
    d = json.load(open(netlist_json))
    mod = d["modules"][top]
    lib_outs = cell_outputs(lib_text)
    box_outs = {name: {p for p, v in m["ports"].items() if v["direction"] != "input"}
                for name, m in d["modules"].items() if name != top}

    def is_output(ctype, port):
        if ctype in lib_outs:
            return port in lib_outs[ctype]
        if ctype in box_outs:
            return port in box_outs[ctype]
        raise KeyError(f"fanout: cell type {ctype} is neither a liberty cell nor a netlist module")

    sinks, clock = {}, set()
    next_bit = 2
    for c in mod["cells"].values():
        for port, bits in c["connections"].items():
            for i, b in enumerate(bits):
                if not isinstance(b, int):
                    continue
                next_bit = max(next_bit, b + 1)
                if port in CLOCK_PINS:
                    clock.add(b)
                elif not is_output(c["type"], port):
                    sinks.setdefault(b, []).append((c, port, i))
    for p in mod["ports"].values():
        for b in p["bits"]:
            if isinstance(b, int):
                next_bit = max(next_bit, b + 1)
    for n in mod["netnames"].values():
        for b in n["bits"]:
            if isinstance(b, int):
                next_bit = max(next_bit, b + 1)

    added = 0
    for bit, loads in sorted(sinks.items()):
        if bit in clock or len(loads) <= max_fanout:
            continue
        nodes = loads                           # pins to drive: (cell, port, index)
        while len(nodes) > max_fanout:
            parents = []
            for k in range(0, len(nodes), max_fanout):
                net = next_bit
                next_bit += 1
                for c, port, i in nodes[k:k + max_fanout]:
                    c["connections"][port][i] = net
                name = f"fanout_buf_{added}"
                cell = {"hide_name": 0, "type": buf_cell, "parameters": {}, "attributes": {},
                        "connections": {buf_in: [bit], buf_out: [net]}}
                mod["cells"][name] = cell
                mod["netnames"][f"fanout_net_{added}"] = {"hide_name": 0, "bits": [net], "attributes": {}}
                added += 1
                parents.append((cell, buf_in, 0))
            nodes = parents
    json.dump(d, open(netlist_json, "w"))
    return added
