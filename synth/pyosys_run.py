"""Runs a Yosys script on PyPI pyosys (a native Yosys, 1.6-2.5x faster than
Debian's 0.23 here): python -m synth.pyosys_run <script.ys> <log>. The flow
uses it when `import pyosys` works and SYNTH_YOSYS is not "debian"."""

import sys


def main():
    script, log = sys.argv[1], sys.argv[2]
    from pyosys import libyosys as ys
    design = ys.Design()
    ys.run_pass(f"tee -q -o {log} script {script}", design)


if __name__ == "__main__":
    main()
