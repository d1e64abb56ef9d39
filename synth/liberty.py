"""A small Liberty reader and the power arithmetic a sign-off tool does, written
from the Liberty reference (not from OpenSTA): table interpolation, `when`
state weighting, wire-load capacitance. Used by the power hand-check
(tests/test_synth.py) to judge the flow's figures on a small reference circuit.
Pure Python; knows nothing of Yosys or OpenSTA."""

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z0-9_.+\-!\[\]]+|[{}():;,]')


@dataclass
class Group:
    kind: str                      # e.g. "cell", "pin", "internal_power"
    args: list
    attrs: dict = field(default_factory=dict)
    groups: list = field(default_factory=list)

    def all(self, kind):
        return [g for g in self.groups if g.kind == kind]

    def get(self, kind, name=None):
        for g in self.groups:
            if g.kind == kind and (name is None or (g.args and g.args[0] == name)):
                return g
        raise KeyError(f"{kind}({name}) not in {self.kind}({self.args})")


def _tokens(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S).replace("\\\n", " ")
    return _TOKEN.findall(text)


def _parse(tokens, pos, kind, args):
    g = Group(kind, args)
    while pos < len(tokens):
        tok = tokens[pos]
        if tok == "}":
            return g, pos + 1
        name = tok
        nxt = tokens[pos + 1]
        if nxt == ":":                                   # simple attribute
            g.attrs[name] = tokens[pos + 2].strip('"')
            pos += 3
            if pos < len(tokens) and tokens[pos] == ";":
                pos += 1
        elif nxt == "(":                                 # complex attribute or group
            end = tokens.index(")", pos + 2)
            vals = [t.strip('"') for t in tokens[pos + 2:end] if t != ","]
            pos = end + 1
            if pos < len(tokens) and tokens[pos] == "{":
                sub, pos = _parse(tokens, pos + 1, name, vals)
                g.groups.append(sub)
            else:
                g.attrs.setdefault(name, []).append(vals)
                if pos < len(tokens) and tokens[pos] == ";":
                    pos += 1
        else:
            pos += 1
    return g, pos


def _block(text, header):
    """The text of the group that starts with `header` (brace matched)."""
    start = text.index(header)
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[start:j + 1]
    raise ValueError(f"unbalanced group {header}")


class Library:
    """The cells it is asked for, the table templates and one wire-load model."""

    def __init__(self, path, cells, wire_load=None):
        text = open(path).read()
        self.templates = {}
        for m in re.finditer(r"(?:power_lut_template|lu_table_template)\s*\((\w+)\)\s*\{", text):
            g, _ = _parse(_tokens(_block(text, m.group(0))), 0, "root", [])
            self.templates[m.group(1)] = g.groups[0]
        self.cells = {}
        for c in cells:
            g, _ = _parse(_tokens(_block(text, f"cell ({c})")), 0, "root", [])
            self.cells[c] = g.groups[0]
        self.voltage = float(re.search(r"nom_voltage\s*:\s*([0-9.]+)", text).group(1))
        self.wire_load = None
        if wire_load:
            g, _ = _parse(_tokens(_block(text, f'wire_load("{wire_load}")')), 0, "root", [])
            self.wire_load = g.groups[0]

    # ------------------------------------------------------------------ tables
    def table(self, tab, x1, x2=None):
        """Bilinear interpolation (linear extrapolation outside) of a 1-D or 2-D table."""
        tmpl = self.templates.get(tab.args[0]) if tab.args else None

        def axis(k):
            src = tab.attrs.get(f"index_{k}") or (tmpl.attrs.get(f"index_{k}") if tmpl else None)
            return [float(v) for v in src[0][0].split(",")] if src else None

        rows = [[float(v) for v in r.split(",")] for r in tab.attrs["values"][0]]
        i1, i2 = axis(1), axis(2)
        if i1 is None:
            return rows[0][0]
        flat = rows[0] if len(rows) == 1 and i2 is None else None
        if i2 is None:
            return _interp1(i1, flat if flat is not None else [r[0] for r in rows], x1)
        return _interp1(i1, [_interp1(i2, r, x2) for r in rows], x1)

    # ------------------------------------------------------------------ pins
    def pin(self, cell, name):
        return self.cells[cell].get("pin", name)

    def pin_cap(self, cell, name):
        """Mean of rise and fall capacitance (fF)."""
        p = self.pin(cell, name)
        r = float(p.attrs.get("rise_capacitance", p.attrs["capacitance"]))
        f = float(p.attrs.get("fall_capacitance", p.attrs["capacitance"]))
        return (r + f) / 2

    def wire_cap(self, fanout):
        """Wire-load capacitance (fF) of a net with `fanout` loads."""
        if self.wire_load is None or fanout == 0:
            return 0.0
        wl = self.wire_load
        pts = sorted((int(a[0]), float(a[1])) for a in wl.attrs["fanout_length"])
        table = dict(pts)
        if fanout in table:
            length = table[fanout]
        elif fanout > pts[-1][0]:
            length = pts[-1][1] + (fanout - pts[-1][0]) * float(wl.attrs["slope"])
        else:
            lo = max(p for p in pts if p[0] < fanout)
            hi = min(p for p in pts if p[0] > fanout)
            length = lo[1] + (hi[1] - lo[1]) * (fanout - lo[0]) / (hi[0] - lo[0])
        return length * float(wl.attrs["capacitance"])

    def out_slew(self, cell, out, related, in_slew, load):
        """Mean of the rise and fall output transition (ns)."""
        for t in self.pin(cell, out).all("timing"):
            if t.attrs.get("related_pin") == related and "rise_transition" in [g.kind for g in t.groups]:
                return (self.table(t.get("rise_transition"), in_slew, load)
                        + self.table(t.get("fall_transition"), in_slew, load)) / 2
        raise KeyError(f"{cell}: no transition table {related}->{out}")


def _interp1(xs, ys, x):
    if len(xs) == 1:
        return ys[0]
    k = 0
    while k < len(xs) - 2 and x > xs[k + 1]:
        k += 1
    t = (x - xs[k]) / (xs[k + 1] - xs[k])
    return ys[k] + t * (ys[k + 1] - ys[k])


def when_prob(expr, prob):
    """Probability that a Liberty boolean `when` is true, the pins independent
    with P(pin = 1) = prob[pin] (a pin missing from prob must not appear)."""
    if not expr:
        return 1.0
    names = sorted(set(re.findall(r"[A-Za-z_]\w*", expr)))
    py = expr.replace("!", " not ").replace("&", " and ").replace("*", " and ") \
             .replace("|", " or ").replace("+", " or ")
    if "^" in py:
        raise ValueError("xor in when is not supported")
    total = 0.0
    for bits in range(1 << len(names)):
        env = {n: bool(bits >> i & 1) for i, n in enumerate(names)}
        p = 1.0
        for n, v in env.items():
            p *= prob[n] if v else 1 - prob[n]
        if p and eval(py, {}, env):
            total += p
    return total
