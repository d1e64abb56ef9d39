"""Valid/ready stream driver, monitor and backpressure on cocotb-bus.

Timing convention: signals are driven right after a rising edge and sampled in
the ReadOnly phase of the same time step, so a beat counts as transferred when
valid & ready are seen there; the transfer happens at the next rising edge.
While valid is high and ready low, both sides sleep until ready rises instead
of waking every clock, so a DUT that computes for long stretches runs at
simulator speed; each such wait is bounded (``stall_clocks``, default
tb.lib.waits.STALL_CLOCKS) and runs out with a StreamStall naming the stream.
Every stream a StreamDriver drives is watched by a StreamProtocolChecker.
"""

import random

import cocotb
from cocotb.triggers import Event, First, ReadOnly, RisingEdge
from cocotb.types import Logic
from cocotb_bus.drivers import BusDriver
from cocotb_bus.monitors import BusMonitor

from tb.lib.protocol import StreamProtocolChecker
from tb.lib.waits import STALL_CLOCKS, StreamStall, wait_or_clocks

_ENTITY_RESET = object()


class StreamDriver(BusDriver):
    """Drives ``{prefix}_valid`` and the data signals, waits on ``{prefix}_ready``.

    A transaction is a dict of data-signal name -> int. ``idle_prob`` inserts
    random idle cycles (valid low) before each beat. A beat that waits
    ``stall_clocks`` clocks for ready raises StreamStall (which fails the test,
    or reaches whoever awaits ``drain``). ``reset``: the active-high reset the
    protocol checker honours, by default the entity's ``rst`` if it has one.
    """

    def __init__(self, entity, prefix, clock, data_signals, idle_prob=0.0, seed=None,
                 stall_clocks=STALL_CLOCKS, reset=_ENTITY_RESET, **kwargs):
        self._signals = ["valid", "ready", *data_signals]
        self._data_signals = list(data_signals)
        super().__init__(entity, prefix, clock, **kwargs)
        self.idle_prob = idle_prob
        self.rng = random.Random(seed)
        self.stall_clocks = stall_clocks
        self.sent = 0
        self._busy = False
        self._drained = Event()
        self.bus.valid.value = 0
        if reset is _ENTITY_RESET:
            reset = getattr(entity, "rst", None)
        self.checker = StreamProtocolChecker(self.bus.valid, self.bus.ready,
                                             [getattr(self.bus, n) for n in self._data_signals],
                                             reset=reset, name=prefix)

    async def _driver_send(self, transaction, sync=True):
        self._busy = True
        if sync:
            await RisingEdge(self.clock)
        while self.idle_prob and self.rng.random() < self.idle_prob:
            self.bus.valid.value = 0
            await RisingEdge(self.clock)
        for name in self._data_signals:
            getattr(self.bus, name).value = transaction[name]
        self.bus.valid.value = 1
        waited = 0
        while True:
            await ReadOnly()
            if self.bus.ready.value:
                await RisingEdge(self.clock)
                break
            fired, clocks = await wait_or_clocks(RisingEdge(self.bus.ready), self.clock, self.stall_clocks - waited)
            waited += clocks
            if not fired:
                raise StreamStall(f"stream {self.name}: {self.bus.ready._name} low for {waited} clocks with a beat "
                                  f"on {self.bus.valid._name} ({self.sent} beats sent, {len(self._sendQ)} more queued)")
        self.sent += 1
        if not self._sendQ:
            self.bus.valid.value = 0
            self._busy = False
            self._drained.set()

    async def drain(self):
        """Returns once every queued beat has been sent. Raises what stopped the
        send thread (a StreamStall); bounded by ``stall_clocks`` per beat."""
        while self._sendQ or self._busy:
            thread = self._thread
            self._drained.clear()
            await First(self._drained.wait(), thread.complete)
            if thread.done() and not thread.cancelled():
                thread.result()

    def flush(self):
        """Drops queued beats and the one on the bus, deasserts valid (for a
        reset in mid-stream)."""
        self.clear()
        if self._thread is not None:
            self._thread.cancel()
        self._thread = cocotb.start_soon(self._send_thread())
        self._busy = False
        self._drained.set()
        self.checker.abort()
        self.bus.valid.value = 0


class StreamMonitor(BusMonitor):
    """Reports every beat transferred on ``{prefix}_valid``/``{prefix}_ready``
    as a dict of data-signal name -> unsigned int. Beats during reset are ignored."""

    def __init__(self, entity, prefix, clock, data_signals, stall_clocks=STALL_CLOCKS, **kwargs):
        self._signals = ["valid", "ready", *data_signals]
        self._data_signals = list(data_signals)
        self.stall_clocks = stall_clocks
        self.received = 0
        super().__init__(entity, prefix, clock, **kwargs)

    async def _monitor_recv(self):
        valid, ready = self.bus.valid, self.bus.ready
        handles = [(name, getattr(self.bus, name)) for name in self._data_signals]
        waited = 0
        await RisingEdge(self.clock)
        while True:
            await ReadOnly()
            if self.in_reset:
                waited = 0
                await RisingEdge(self.clock)
                continue
            if valid.value and not ready.value:
                fired, clocks = await wait_or_clocks(RisingEdge(ready), self.clock, self.stall_clocks - waited)
                waited += clocks
                if not fired:
                    raise StreamStall(f"stream {self.name}: {valid._name} high for {waited} clocks without "
                                      f"{ready._name} ({self.received} beats received)")
                continue
            waited = 0
            if valid.value:
                self.received += 1
                self._recv({name: _unsigned(h.value) for name, h in handles})
            await RisingEdge(self.clock)


def _unsigned(value):
    return int(value) if isinstance(value, Logic) else value.to_unsigned()


class Backpressure:
    """Drives a ready input low with probability ``stall_prob`` each clock."""

    def __init__(self, signal, clock, stall_prob=0.0, seed=None):
        self.signal = signal
        self.clock = clock
        self.stall_prob = stall_prob
        self.rng = random.Random(seed)
        self.signal.value = 1
        self._task = cocotb.start_soon(self._run()) if stall_prob > 0 else None

    async def _run(self):
        while True:
            await RisingEdge(self.clock)
            self.signal.value = int(self.rng.random() >= self.stall_prob)

    def stop(self):
        if self._task is not None:
            self._task.cancel()
        self.signal.value = 1
