"""Valid/ready protocol checker for the streams a testbench drives.

Rules, outside reset: once valid is high with ready low, valid stays high and
the data keep their value until ready is seen high (the transfer); valid is
never X or Z. StreamDriver attaches one to every stream it drives; a
testbench that drives a stream by hand attaches its own.

Event-driven: the checker sleeps on changes of valid, ready and (during a
stall) the data, never on the clock, so it costs nothing while a stream idles
or waits. States are judged at ReadOnly, after every write of the time step.
The first violation is logged and raised as StreamProtocolError from the
checker's task, which fails the test; the checker then stops.
"""

import logging

import cocotb
from cocotb.triggers import First, ReadOnly, ValueChange


class StreamProtocolError(AssertionError):
    """A driven stream broke the valid/ready rules."""


def _high(handle):
    v = handle.value
    return v.is_resolvable and int(v) == 1


class StreamProtocolChecker:
    """valid, ready: 1-bit handles; data: handles that must hold while stalled;
    reset: active-high handle, or None (no reset); name: the stream in messages."""

    def __init__(self, valid, ready, data, reset=None, name=None):
        self.valid, self.ready, self.data = valid, ready, list(data)
        self.reset = reset
        self.name = name or valid._path
        self.log = logging.getLogger(f"cocotb.protocol.{self.name}")
        self.stalls = 0            # stalls seen (valid high, ready low), for tests of the checker
        self._abort = False
        self.task = cocotb.start_soon(self._run())

    def abort(self):
        """Forgets the stalled beat: the driver withdrew it on purpose (a flush)."""
        self._abort = True

    def stop(self):
        self.task.cancel()

    def _in_reset(self):
        return self.reset is not None and not (self.reset.value.is_resolvable and int(self.reset.value) == 0)

    def _fail(self, message):
        message = f"stream {self.name}: {message}"
        self.log.error(message)
        raise StreamProtocolError(message)

    async def _run(self):
        valid_change = ValueChange(self.valid)
        await ReadOnly()
        while True:
            self._abort = False
            if self._in_reset():
                await First(valid_change, ValueChange(self.reset))
                await ReadOnly()
                continue
            if not self.valid.value.is_resolvable:
                self._fail(f"valid is {self.valid.value} outside reset")
            if not _high(self.valid):
                await valid_change
                await ReadOnly()
                continue
            if _high(self.ready):
                await First(valid_change, ValueChange(self.ready))
                await ReadOnly()
                continue
            await self._stalled()

    async def _stalled(self):
        """valid high, ready low: the beat must stay until ready is seen high."""
        self.stalls += 1
        held = [h.value for h in self.data]
        wake = [ValueChange(self.valid), ValueChange(self.ready), *(ValueChange(h) for h in self.data)]
        if self.reset is not None:
            wake.append(ValueChange(self.reset))
        while True:
            await First(*wake)
            await ReadOnly()
            if self._abort or self._in_reset():
                return
            if not _high(self.valid):
                self._fail(f"valid fell to {self.valid.value} while ready was low (beat not taken)")
            for h, v in zip(self.data, held):
                if h.value != v:
                    self._fail(f"{h._name} changed from {v} to {h.value} while valid was high and ready low")
            if _high(self.ready):
                return
