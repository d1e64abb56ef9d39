"""`make sim` entry point: run the tests of one unit under cocotb, or the main demo.

    python tb/run.py [--toplevel UNIT] [--testcase NAME] [--waves]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tb.units import MAIN_DEMO, UNITS, run_unit  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--toplevel", default="", help="unit name; empty runs the main demo")
    ap.add_argument("--testcase", default="", help="the exact name of one test (a parametrized one: all its variants)")
    ap.add_argument("--waves", action="store_true", help="write an FST trace (dump.fst in the build folder)")
    args = ap.parse_args()

    names = [args.toplevel] if args.toplevel else MAIN_DEMO
    unknown = [n for n in names if n not in UNITS]
    if unknown:
        sys.exit(f"unknown unit {unknown[0]!r}; units: {', '.join(sorted(UNITS))}")
    total = failed = 0
    for name in names:
        t, f = run_unit(UNITS[name], testcase=args.testcase or None, waves=args.waves)
        print(f"== {name}: {t} tests, {f} failed")
        total, failed = total + t, failed + f
    print(f"{total - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
