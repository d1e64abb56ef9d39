"""Cycle-level cocotb model of an SDRAM behind a burst-read port.

Ports (names given by ``prefix``, default ``sdram``):
  request  {p}_req_valid, {p}_req_ready, {p}_req_addr, {p}_req_len (words)
  data     {p}_rd_valid,  {p}_rd_ready,  {p}_rd_data
Requests are served in order. A request accepted at clock t delivers its first
word no earlier than t + latency + jitter (jitter uniform in 0..jitter, drawn
per request) and never before the previous request's last word. Words come
out at ``bandwidth`` words per clock on average (a credit accumulator, so 0.5
means one word every other clock). The device splits a request into native
bursts of ``burst_len`` words and pays ``burst_gap`` idle clocks between them
(row activation). Every ``refresh_interval`` clocks it refreshes for
``refresh_clocks`` clocks and starts no new word. A word once presented stays
on the bus until taken (valid/ready rules). At most ``max_outstanding``
requests are queued; req_ready is low when the queue is full.

The model checks the protocol it sees: a request of 0 words, one longer than
``max_request`` or one outside the memory raises ``SdramProtocolError``.
``inject_spurious(word)`` presents a word nobody asked for (error injection).
Reset (``rst`` high) drops the queue and the word on the bus, like the SDRAM
controller reset together with the DNN; with ``reset=None`` the model is never
reset, so bursts in flight when the DNN resets still arrive afterwards.

Optional request tags (``tags=True``): the model samples {p}_req_tag with each
request and drives {p}_rd_tag with every word of it (``words_by_tag`` counts
the words delivered per tag).

``sleep_when_idle=True`` (the clock started by tb.lib.clock_reset.start_clock):
with nothing queued, on the bus or in a burst gap, the model sleeps until a
request, a reset or an injected word instead of waking every clock, then
steps the clocks it slept at once; the bus is the same clock for clock. Its
``cycle`` and ``refresh_cycles`` are brought up to date only when it wakes.
"""

import random
from collections import deque

import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import Event, First, ReadOnly, RisingEdge

from tb.lib.clock_reset import clock_period_ns
from tb.lib.protocol import StreamProtocolChecker


class SdramProtocolError(AssertionError):
    pass


class SdramModel:
    def __init__(self, dut, clock, memory, prefix="sdram", reset=None, offset=0, latency=20, jitter=0,
                 bandwidth=0.5, burst_len=8, burst_gap=0, refresh_interval=0, refresh_clocks=0,
                 max_outstanding=2, max_request=None, seed=0, tags=False, sleep_when_idle=False):
        self.dut, self.clock, self.reset = dut, clock, reset
        self.period = clock_period_ns(clock) if sleep_when_idle else None
        if sleep_when_idle and self.period is None:
            raise ValueError("sleep_when_idle needs a clock started by start_clock (its period)")
        self._wake = Event()
        self.mem = np.asarray(memory, dtype=np.uint64)
        self.offset = int(offset)          # word address of memory[0]
        self.spurious = deque()            # words to present unrequested (error injection)
        self.latency, self.jitter = int(latency), int(jitter)
        self.bandwidth = float(bandwidth)
        if not 0 < self.bandwidth <= 1:
            raise ValueError("bandwidth must be in (0, 1] words per clock")
        self.burst_len, self.burst_gap = int(burst_len), int(burst_gap)
        self.refresh_interval, self.refresh_clocks = int(refresh_interval), int(refresh_clocks)
        self.max_outstanding = int(max_outstanding)
        self.max_request = max_request
        self.rng = random.Random(seed)
        s = lambda n: getattr(dut, f"{prefix}_{n}")  # noqa: E731
        self.req_valid, self.req_ready = s("req_valid"), s("req_ready")
        self.req_addr, self.req_len = s("req_addr"), s("req_len")
        self.rd_valid, self.rd_ready, self.rd_data = s("rd_valid"), s("rd_ready"), s("rd_data")
        self.tags = bool(tags)
        if self.tags:
            self.req_tag, self.rd_tag = s("req_tag"), s("rd_tag")
        self.last_tag = 0                  # tag of the last accepted request
        self.words_by_tag = {}
        # statistics
        self.requests = 0
        self.words = 0
        self.refresh_cycles = 0
        self.cycle = 0
        self._clear()
        self.req_ready.value = 1
        self.rd_valid.value = 0
        # the read stream is one the testbench drives: the shared checker watches it
        self.checker = StreamProtocolChecker(self.rd_valid, self.rd_ready,
                                             [self.rd_data] + ([self.rd_tag] if self.tags else []),
                                             reset=reset, name=f"{prefix}_rd")

    def configure(self, **kw):
        """Changes timing at any time: latency and jitter apply to requests
        accepted afterwards, the rest from the next clock."""
        known = {"latency", "jitter", "bandwidth", "burst_len", "burst_gap", "refresh_interval",
                 "refresh_clocks", "max_outstanding", "max_request"}
        for k, v in kw.items():
            if k not in known:
                raise AttributeError(f"SdramModel has no setting {k!r}")
            if k == "bandwidth" and not 0 < float(v) <= 1:
                raise ValueError("bandwidth must be in (0, 1] words per clock")
            setattr(self, k, v if k == "max_request" else (float(v) if k == "bandwidth" else int(v)))

    def inject_spurious(self, word, tag=None):
        """Presents ``word`` unrequested; with tags, tagged ``tag`` (default:
        the tag of the last accepted request)."""
        self.spurious.append((word, self.last_tag if tag is None else int(tag)))
        self._wake.set()

    def busy(self):
        return bool(self.queue) or bool(self.presenting)

    def _clear(self):
        self.queue = deque()        # [next_addr, words_left, ready_cycle, words_in_burst, tag]
        self.presenting = False
        self.credit = 0.0
        self.gap = 0
        self.last_done = 0

    async def run(self):
        """Start with cocotb.start_soon(model.run())."""
        clk = self.clock
        while True:
            await ReadOnly()
            in_reset = self.reset is not None and bool(self.reset.value)
            req_fire = bool(self.req_valid.value) and bool(self.req_ready.value)
            rd_fire = self.presenting and bool(self.rd_ready.value)
            if req_fire and not in_reset:
                addr, n = int(self.req_addr.value), int(self.req_len.value)
                tag = int(self.req_tag.value) if self.tags else 0
            elif self.period and not (in_reset or self.busy() or self.spurious or self.gap):
                await self._sleep()
                continue
            await RisingEdge(clk)
            self.cycle += 1
            if in_reset:
                self._clear()
                self.rd_valid.value = 0
                self.req_ready.value = 1
                continue
            if req_fire:
                self._accept(addr, n, tag)
            if rd_fire and self.presenting == "spurious":
                self.presenting = False
            elif rd_fire:
                self.words += 1
                self.presenting = False
                self.credit -= 1.0
                head = self.queue[0]
                self.words_by_tag[head[4]] = self.words_by_tag.get(head[4], 0) + 1
                head[0] += 1
                head[1] -= 1
                head[3] += 1
                if head[1] == 0:
                    self.queue.popleft()
                    self.last_done = self.cycle
                elif head[3] == self.burst_len:
                    head[3] = 0
                    self.gap = self.burst_gap
            self._step()

    async def _sleep(self):
        """Idle from this clock on: sleeps until req_valid or the reset rises or
        a word is injected, then steps the idle clocks slept (an idle step
        drives nothing new: rd_valid stays low, req_ready high). Returns in the
        ReadOnly-sampling position of run()'s loop: the time step of the last
        clock stepped."""
        t0 = round(get_sim_time("ps"))         # integers: edges at x.001 ns left a remainder of 9.99999 ns
        self._wake.clear()
        wakers = [RisingEdge(self.req_valid), self._wake.wait()]
        if self.reset is not None:
            wakers.append(RisingEdge(self.reset))
        await First(*wakers)
        clocks, part = divmod(round(get_sim_time("ps")) - t0, round(self.period * 1000))
        self._skip(int(clocks))
        if part:   # woken between two edges: the next edge still sees the idle inputs sampled before
            await RisingEdge(self.clock)
            self.cycle += 1
            self._step()

    def _skip(self, n):
        """n idle steps at once: the clock count, refresh count and credit."""
        if self.refresh_interval > 0:
            i, r = self.refresh_interval, min(self.refresh_clocks, self.refresh_interval)
            below = lambda c: (c // i) * r + min(c % i, r)  # noqa: E731  refresh clocks among 0..c-1
            self.refresh_cycles += below(self.cycle + n + 1) - below(self.cycle + 1)
        self.cycle += n
        for _ in range(n):
            if self.credit >= 1.0:
                break
            self.credit = min(1.0, self.credit + self.bandwidth)

    def _accept(self, addr, n, tag=0):
        if n <= 0:
            raise SdramProtocolError(f"request of {n} words at 0x{addr:x}")
        if self.max_request is not None and n > self.max_request:
            raise SdramProtocolError(f"request of {n} words > max_request {self.max_request}")
        if addr < self.offset or addr + n > self.offset + len(self.mem):
            raise SdramProtocolError(f"request 0x{addr:x}+{n} outside the memory "
                                     f"0x{self.offset:x}..0x{self.offset + len(self.mem):x}")
        self.requests += 1
        delay = self.latency + (self.rng.randint(0, self.jitter) if self.jitter else 0)
        self.last_tag = tag
        self.queue.append([addr, n, self.cycle + delay, 0, tag])

    def _step(self):
        """Drives the bus for the clock that has just begun."""
        refreshing = (self.refresh_interval > 0
                      and self.cycle % self.refresh_interval < self.refresh_clocks)
        if refreshing:
            self.refresh_cycles += 1
        self.credit = min(1.0, self.credit + self.bandwidth)
        if not self.presenting and self.spurious:
            word, tag = self.spurious.popleft()
            self.rd_data.value = int(word)
            if self.tags:
                self.rd_tag.value = tag
            self.presenting = "spurious"
        elif self.gap:
            self.gap -= 1
        elif not self.presenting and self.queue and not refreshing and self.credit >= 1.0 - 1e-9:
            head = self.queue[0]
            if self.cycle >= head[2]:
                self.rd_data.value = int(self.mem[head[0] - self.offset])
                if self.tags:
                    self.rd_tag.value = head[4]
                self.presenting = True
        self.rd_valid.value = int(bool(self.presenting))
        self.req_ready.value = int(len(self.queue) < self.max_outstanding)


class SdramWriter:
    """Cycle-level cocotb model of the SDRAM's write port, one 32-bit word per
    handshake: {p}_wr_valid, {p}_wr_ready, {p}_wr_addr (word address),
    {p}_wr_data, {p}_wr_strb (byte k of the word written when bit k is set).

    ``memory`` is the word array the SdramModel reader serves (pass its
    ``.mem``), so a later read sees the write; ``offset`` is the word address
    of memory[0]. ``ready_prob`` < 1 drops wr_ready at random clocks (write
    backpressure, drawn per clock from ``seed``). A write outside the memory
    raises SdramProtocolError. ``writes`` counts the words accepted and
    ``written`` is the set of byte addresses changed or rewritten, for tests
    that check what a command may touch. In reset nothing is written. With
    ready_prob = 1 the model sleeps until wr_valid rises instead of waking
    every clock."""

    def __init__(self, dut, clock, memory, prefix="mem", reset=None, offset=0, ready_prob=1.0, seed=0):
        if not 0 < ready_prob <= 1:
            raise ValueError("ready_prob must be in (0, 1]")
        self.clock, self.reset = clock, reset
        self.mem = memory
        self.offset = int(offset)
        self.ready_prob = float(ready_prob)
        self.rng = random.Random(seed)
        s = lambda n: getattr(dut, f"{prefix}_wr_{n}")  # noqa: E731
        self.valid, self.ready, self.addr, self.data, self.strb = (s(n) for n in ("valid", "ready", "addr", "data", "strb"))
        self.writes = 0
        self.written = set()
        self.ready.value = 1
        self.checker = None      # the DUT drives this stream; its own RTL checks its side

    def configure(self, ready_prob=None):
        if ready_prob is not None:
            if not 0 < ready_prob <= 1:
                raise ValueError("ready_prob must be in (0, 1]")
            self.ready_prob = float(ready_prob)

    def _write(self, addr, data, strb):
        i = addr - self.offset
        if not 0 <= i < len(self.mem):
            raise SdramProtocolError(f"write at word 0x{addr:x} outside the memory "
                                     f"0x{self.offset:x}..0x{self.offset + len(self.mem):x}")
        mask = sum(0xFF << (8 * k) for k in range(4) if strb >> k & 1)
        self.mem[i] = (int(self.mem[i]) & ~mask & 0xFFFFFFFF) | (data & mask)
        self.written.update(4 * addr + k for k in range(4) if strb >> k & 1)
        self.writes += 1

    async def run(self):
        """Start with cocotb.start_soon(writer.run())."""
        while True:
            await ReadOnly()
            in_reset = self.reset is not None and bool(self.reset.value)
            fire = bool(self.valid.value) and bool(self.ready.value) and not in_reset
            if fire:
                beat = int(self.addr.value), int(self.data.value), int(self.strb.value)
            elif self.ready_prob >= 1.0 and not bool(self.valid.value) and not in_reset:
                await RisingEdge(self.valid)
                continue
            await RisingEdge(self.clock)
            if fire:
                self._write(*beat)
            self.ready.value = int(self.ready_prob >= 1.0 or self.rng.random() < self.ready_prob)
