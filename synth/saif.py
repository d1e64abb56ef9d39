"""SAIF reader: {hierarchical net name: (T0, T1, TC)} and the duration."""

import re


def read(path):
    text = open(path).read()
    dur = float(re.search(r"\(DURATION\s+([0-9.eE+]+)\)", text).group(1))
    nets, stack = {}, []
    tok = re.compile(r"\(|\)|[^\s()]+")
    toks = tok.findall(text)
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "(" and toks[i + 1] == "INSTANCE":
            stack.append(toks[i + 2].replace("\\", ""))
            i += 3
            continue
        if t == "(" and toks[i + 1] == "NET":
            i += 2
            while toks[i] == "(":                       # (name (T0 x) (T1 y) ... )
                name = toks[i + 1].replace("\\", "")
                vals = {}
                j = i + 2
                while toks[j] == "(":
                    vals[toks[j + 1]] = float(toks[j + 2])
                    j += 4
                nets["/".join(stack + [name])] = (vals.get("T0", 0), vals.get("T1", 0), vals.get("TC", 0))
                i = j + 1
            i += 1                                      # closes NET
            continue
        if t == ")" and stack:
            # every other group is consumed above, so a bare ')' ends an INSTANCE
            stack.pop()
        i += 1
    return nets, dur

