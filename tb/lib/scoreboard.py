"""cocotb-bus Scoreboard whose compare knows exact-bit and tolerance checks.

Transactions are dicts of field -> value. Fields are compared exactly unless a
``Tolerance`` is given for them; the base class compares with ``!=`` only.
Read ``result`` last: it ends the test.
"""

import math
from dataclasses import dataclass

from cocotb_bus.scoreboard import Scoreboard


@dataclass(frozen=True)
class Tolerance:
    """|got - exp| <= abs_tol + rel_tol * |exp|, after ``decode`` (bits -> float)."""

    abs_tol: float = 0.0
    rel_tol: float = 0.0
    decode: object = None

    def ok(self, got, exp):
        if self.decode is not None:
            got, exp = self.decode(got), self.decode(exp)
        if math.isnan(exp):
            return math.isnan(got)
        return abs(got - exp) <= self.abs_tol + self.rel_tol * abs(exp)


class ExpectedQueue(list):
    """Expected transactions of one interface. An output that arrives before its
    expectation (a zero-latency DUT: input and output beats in the same clock,
    whose monitors run in either order) waits here until the expectation is
    appended; one that never gets one fails ``CheckScoreboard.result``."""

    def __init__(self):
        super().__init__()
        self.early = []
        self.check = None

    def append(self, exp):
        if self.early and self.check is not None:
            self.check(self.early.pop(0), exp)
        else:
            super().append(exp)

    def extend(self, items):
        for exp in items:
            self.append(exp)


class CheckScoreboard(Scoreboard):
    """Counts every checked transaction and field; mismatches are logged with
    the first few in full and fail the test (at once, or at ``result``).
    Expected transactions go in an ExpectedQueue (or a plain list, matched by
    the base class), in order."""

    def add_interface(self, monitor, expected_output, **kwargs):
        import logging
        if not isinstance(expected_output, ExpectedQueue):
            # a plain list: the base class matching (outputs strictly after their inputs)
            return super().add_interface(monitor, expected_output, **kwargs)
        self.expected[monitor] = expected_output
        log = logging.getLogger(f"{self.log.name}.{getattr(monitor, 'name', 'monitor')}")
        expected_output.check = lambda got, exp: self.compare(got, exp, log)

        def on_received(got):
            if expected_output:
                self.compare(got, expected_output.pop(0), log)
            else:
                expected_output.early.append(got)

        monitor.add_callback(on_received)

    @property
    def result(self):
        for monitor, queue in self.expected.items():
            if getattr(queue, "early", None):
                self.errors += 1
                self.log.error("%d transactions on %s that nothing expected, first %r",
                               len(queue.early), monitor, queue.early[0])
        return super().result

    def __init__(self, dut, tolerances=None, fail_immediately=True, max_logged=10):
        super().__init__(dut, fail_immediately=fail_immediately)
        self.tolerances = dict(tolerances or {})
        self.checked = 0
        self.values_checked = 0
        self.max_logged = max_logged

    def compare(self, got, exp, log, strict_type=True):
        self.checked += 1
        context = exp.get("_context") if isinstance(exp, dict) else None
        exp_fields = {k: v for k, v in exp.items() if not k.startswith("_")}
        bad = []
        for name, exp_value in exp_fields.items():
            got_value = got[name]
            self.values_checked += 1
            tol = self.tolerances.get(name)
            same = tol.ok(got_value, exp_value) if tol else got_value == exp_value
            if not same:
                bad.append(name)
        if bad:
            self.errors += 1
            if self.errors <= self.max_logged:
                fields = ", ".join(f"{n}: got {_fmt(got[n])} expected {_fmt(exp_fields[n])}" for n in bad)
                log.error("mismatch #%d (%s) %s", self.errors, context or "", fields)
            assert not self._imm, f"mismatch in {bad} ({context})"


def _fmt(v):
    return f"0x{v:x}" if isinstance(v, int) else repr(v)
