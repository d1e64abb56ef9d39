"""Valid/ready stream driver, monitor and backpressure on cocotb-bus.

Timing convention: signals are driven right after a rising edge and sampled in
the ReadOnly phase of the same time step, so a beat counts as transferred when
valid & ready are seen there; the transfer happens at the next rising edge.
While valid is high and ready low, both sides sleep until ready rises instead
of waking every clock, so a DUT that computes for long stretches runs at
simulator speed.
"""

import random

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.types import Logic
from cocotb_bus.drivers import BusDriver
from cocotb_bus.monitors import BusMonitor


class StreamDriver(BusDriver):
    """Drives ``{prefix}_valid`` and the data signals, waits on ``{prefix}_ready``.

    A transaction is a dict of data-signal name -> int. ``idle_prob`` inserts
    random idle cycles (valid low) before each beat.
    """

    def __init__(self, entity, prefix, clock, data_signals, idle_prob=0.0, seed=None, **kwargs):
        self._signals = ["valid", "ready", *data_signals]
        self._data_signals = list(data_signals)
        super().__init__(entity, prefix, clock, **kwargs)
        self.idle_prob = idle_prob
        self.rng = random.Random(seed)
        self.sent = 0
        self.bus.valid.value = 0

    async def _driver_send(self, transaction, sync=True):
        if sync:
            await RisingEdge(self.clock)
        while self.idle_prob and self.rng.random() < self.idle_prob:
            self.bus.valid.value = 0
            await RisingEdge(self.clock)
        for name in self._data_signals:
            getattr(self.bus, name).value = transaction[name]
        self.bus.valid.value = 1
        while True:
            await ReadOnly()
            if self.bus.ready.value:
                await RisingEdge(self.clock)
                break
            await RisingEdge(self.bus.ready)
        self.sent += 1
        if not self._sendQ:
            self.bus.valid.value = 0

    def flush(self):
        """Drops queued beats and the one on the bus, deasserts valid (for a
        reset in mid-stream)."""
        self.clear()
        if self._thread is not None:
            self._thread.cancel()
        self._thread = cocotb.start_soon(self._send_thread())
        self.bus.valid.value = 0


class StreamMonitor(BusMonitor):
    """Reports every beat transferred on ``{prefix}_valid``/``{prefix}_ready``
    as a dict of data-signal name -> unsigned int. Beats during reset are ignored."""

    def __init__(self, entity, prefix, clock, data_signals, **kwargs):
        self._signals = ["valid", "ready", *data_signals]
        self._data_signals = list(data_signals)
        super().__init__(entity, prefix, clock, **kwargs)

    async def _monitor_recv(self):
        valid, ready = self.bus.valid, self.bus.ready
        handles = [(name, getattr(self.bus, name)) for name in self._data_signals]
        await RisingEdge(self.clock)
        while True:
            await ReadOnly()
            if self.in_reset:
                await RisingEdge(self.clock)
                continue
            if valid.value and not ready.value:
                await RisingEdge(ready)
                continue
            if valid.value:
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
