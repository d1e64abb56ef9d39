"""Yosys JSON netlist -> cells, ports and the RTL names of each net bit."""

import json


def _key(b):
    return str(b)


def load(path, top):
    mod = json.load(open(path))["modules"][top]
    cells = {}
    for name, c in mod["cells"].items():
        conn = {p: (_key(bits[0]) if bits and bits[0] not in ("x", "z") else None)
                for p, bits in c["connections"].items()}
        cells[name] = (c["type"], conn)
    ports = {}
    for pname, p in mod["ports"].items():
        bits = p["bits"]
        off = p.get("offset", 0)
        for i, b in enumerate(bits):
            ports[pname if len(bits) == 1 else f"{pname}[{i + off}]"] = (p["direction"], _key(b))
    names = {}                                    # net -> [rtl bit names]
    for n, v in mod["netnames"].items():
        if v.get("hide_name"):
            continue
        off = v.get("offset", 0)
        for i, b in enumerate(v["bits"]):
            names.setdefault(_key(b), []).append(n if len(v["bits"]) == 1 else f"{n}[{i + off}]")
    return cells, ports, names
