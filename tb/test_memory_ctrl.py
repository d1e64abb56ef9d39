"""cocotb tests for the training-vector memory (rtl/memory/mem_ctrl.v).

HDL parameters and run sizes come from the environment (tb/units_memory.py):
MEM_UNIFIED, MEM_SLOTS, MEM_VPS, MEM_VEC_WORDS, MEM_BURST, MEM_ADDR_W,
MEM_RD_WORDS (words per compute-side beat), MEM_TAGS (run tags on SDRAM
requests), MEM_VECS (vectors in test_stream), MEM_RESET_VECS (vectors in
the reset tests). SDRAM holds real MNIST vectors (models/mem_ref.py); the
scoreboard expects every vector once, in order, bit-exact, packed MEM_RD_WORDS
words to a beat, m_last on the final beat, and nothing else.
test_reset_stale needs MEM_TAGS=1 (tb/units_memory.py leaves it out of units
built without tags).
"""

import os
import random

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models.mem_ref import expected_beats, mnist_vectors, sdram_image
from tb.lib.clock_reset import reset, start_clock
from tb.lib.scoreboard import CheckScoreboard
from tb.lib.sdram import SdramModel
from tb.lib.stream import StreamMonitor
from tb.lib.waits import backstop_us


VEC_WORDS = int(os.environ.get("MEM_VEC_WORDS", "16"))
BURST = int(os.environ.get("MEM_BURST", "8"))
ADDR_W = int(os.environ.get("MEM_ADDR_W", "24"))
N_VECS = int(os.environ.get("MEM_VECS", "2000"))
N_RESET_VECS = int(os.environ.get("MEM_RESET_VECS", "300"))
RD_WORDS = int(os.environ.get("MEM_RD_WORDS", "1"))
TAGS = int(os.environ.get("MEM_TAGS", "0"))
VEC_BEATS = VEC_WORDS // RD_WORDS
PAUSE = float(os.environ.get("MEM_PAUSE", "1"))   # scales how often the compute side pauses

# A demanding SDRAM: half the SRAM rate, jittered latency, native bursts with
# row gaps, periodic refresh.
SDRAM_NOISY = dict(latency=12, jitter=20, bandwidth=0.5, burst_len=8, burst_gap=2,
                   refresh_interval=780, refresh_clocks=24, max_outstanding=3)


class ComputeReady:
    """Drives m_ready like a consumer that sometimes stops to compute: low with
    probability ``stall_prob`` each clock, and with probability ``pause_prob``
    a pause of 1..pause_max clocks begins, at any word of a vector."""

    def __init__(self, signal, clock, stall_prob=0.0, pause_prob=0.0, pause_max=1, seed=None):
        self.signal, self.clock = signal, clock
        self.stall_prob, self.pause_prob, self.pause_max = stall_prob, pause_prob, pause_max
        self.rng = random.Random(seed)
        self.signal.value = 1
        cocotb.start_soon(self._run())

    async def _run(self):
        pause = 0
        rnd = self.rng.random
        while True:
            await RisingEdge(self.clock)
            if pause == 0 and rnd() < self.pause_prob:
                pause = self.rng.randint(1, self.pause_max)
            if pause:
                pause -= 1
                self.signal.value = 0
            else:
                self.signal.value = int(rnd() >= self.stall_prob)


class MemTB:
    def __init__(self, dut, vectors, base=0, stall_prob=0.3, seed=0, sdram=None, sdram_reset=True):
        self.dut = dut
        self.vectors = vectors
        self.base = base
        start_clock(dut.clk)
        dut.start.value = 0
        dut.cfg_base.value = 0
        dut.cfg_num_vecs.value = 0
        self.sdram = SdramModel(dut, dut.clk, sdram_image(vectors, 0), reset=dut.rst if sdram_reset else None,
                                offset=base, max_request=BURST, seed=seed, tags=bool(TAGS),
                                **(sdram or SDRAM_NOISY))
        cocotb.start_soon(self.sdram.run())
        slot_words = int(os.environ.get("MEM_VPS", "1")) * VEC_WORDS
        self.ready = ComputeReady(dut.m_ready, dut.clk, stall_prob, pause_prob=PAUSE / VEC_BEATS,
                                  pause_max=2 * slot_words, seed=seed + 1)
        self.mon = StreamMonitor(dut, "m", dut.clk, ["data", "last"], reset=dut.rst, callback=self._beat)
        self.expected = []
        self.scoreboard = CheckScoreboard(dut)
        self.scoreboard.add_interface(self.mon, self.expected)
        self.vecs_done = 0       # complete vectors received since the last start
        self.words_in_vec = 0    # beats of the vector now arriving

    def _beat(self, beat):
        if beat["last"]:
            self.vecs_done += 1
            self.words_in_vec = 0
        else:
            self.words_in_vec += 1

    async def reset(self):
        await reset(self.dut.clk, self.dut.rst)

    async def start(self, first, count, expect=True):
        """Starts a run of vectors[first:first+count] (one-clock start pulse)."""
        if expect:
            self.expected.extend(expected_beats(self.vectors, first, count, RD_WORDS))
        await RisingEdge(self.dut.clk)
        self.dut.cfg_base.value = self.base + first * VEC_WORDS
        self.dut.cfg_num_vecs.value = count
        self.dut.start.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.start.value = 0

    async def wait_done(self, timeout):
        for _ in range(timeout):
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            if self.dut.done.value:
                break
        await RisingEdge(self.dut.clk)
        assert self.dut.done.value, f"no done within {timeout} clocks ({len(self.expected)} beats missing)"
        # a spurious extra beat would arrive here and fail the scoreboard
        await ClockCycles(self.dut.clk, 20)
        assert not self.expected, f"{len(self.expected)} beats never came out"
        assert not self.dut.busy.value


SDRAM_FAST = dict(latency=0, jitter=0, bandwidth=1.0, burst_gap=0)
SDRAM_SLOW = dict(latency=SDRAM_NOISY["latency"], jitter=SDRAM_NOISY["jitter"],
                  bandwidth=SDRAM_NOISY["bandwidth"], burst_gap=SDRAM_NOISY["burst_gap"])


async def _vary_traffic(tb, rng, period=1500):
    """Changes phase every ``period`` clocks: the compute side nearly always
    ready or often stalled, with no, some or many pauses of up to two slots'
    worth of clocks (the SRAM fills, refills wait for a slot, and a refill
    may run up to the word being read), and the SDRAM noisy and slow or fast with no latency (refill data
    lands right behind the read pointer)."""
    while True:
        await ClockCycles(tb.dut.clk, period)
        tb.ready.stall_prob = rng.choice([0.05, 0.3, 0.7])
        tb.ready.pause_prob = PAUSE * rng.choice([0.0, 1.0 / VEC_BEATS, 4.0 / VEC_BEATS])
        tb.sdram.configure(**rng.choice([SDRAM_SLOW, SDRAM_SLOW, SDRAM_FAST]))


def done_bound(vectors):
    """wait_done's bound for a run of `vectors`."""
    return vectors * VEC_WORDS * 40 + 20000


@cocotb.test(timeout_time=backstop_us(2 * done_bound(N_VECS)), timeout_unit="us")
async def test_stream(dut):
    """MEM_VECS MNIST vectors through the memory under random compute-side
    backpressure and pauses, jittered SDRAM latency, burst gaps and refresh,
    alternating with a fast zero-latency SDRAM."""
    vectors = mnist_vectors(N_VECS, VEC_WORDS)
    tb = MemTB(dut, vectors, base=1000, stall_prob=0.3, seed=11)
    await tb.reset()
    cocotb.start_soon(_vary_traffic(tb, random.Random(12), period=max(300, 20 * VEC_WORDS)))
    await tb.start(0, N_VECS)
    await tb.wait_done(timeout=done_bound(N_VECS))
    assert tb.vecs_done == N_VECS
    assert int(dut.error.value) == 0
    dut._log.info("stream: %d vectors, %d words checked; SDRAM %d requests, %d refresh clocks",
                  tb.vecs_done, tb.scoreboard.checked, tb.sdram.requests, tb.sdram.refresh_cycles)
    assert tb.scoreboard.checked == N_VECS * VEC_BEATS
    assert tb.scoreboard.result


async def _reset_runs(dut, sdram_reset, seed, reset_clocks=(3,), min_owed=0, sdram=None):
    """Runs N_RESET_VECS vectors with six resets at random points; after each
    the compute side restarts the run at the first vector it has not fully
    received. Reset k is high for reset_clocks[k % len] (>= 3) rising edges
    and waits (bounded) until the SDRAM owes at least min_owed words. Returns
    the TB and, per reset, the words the SDRAM owed when reset rose and when it
    fell (stale bursts, when the SDRAM is not reset with the memory)."""
    n = N_RESET_VECS
    vectors = mnist_vectors(n, VEC_WORDS, first=20000 if sdram_reset else 25000)
    tb = MemTB(dut, vectors, base=4096, stall_prob=0.3, seed=seed, sdram=sdram, sdram_reset=sdram_reset)
    rng = random.Random(seed + 1)
    await tb.reset()

    def owed():
        return sum(q[1] for q in tb.sdram.queue)

    got = 0                   # vectors received complete, over all restarts
    resets = partial_dropped = 0
    owed_rise, owed_fall = [], []
    while got < n:
        tb.vecs_done = tb.words_in_vec = 0
        await tb.start(got, n - got)
        if resets < 6:
            # reset somewhere inside the transfer, up to a few vectors in
            await ClockCycles(dut.clk, rng.randrange(1, 6 * VEC_WORDS + 200))
            for _ in range(20 * VEC_WORDS + 2000):
                if owed() >= min_owed:
                    break
                await RisingEdge(dut.clk)
            owed_rise.append(owed())
            high = reset_clocks[resets % len(reset_clocks)]
            dut.rst.value = 1
            tb.expected.clear()
            await ClockCycles(dut.clk, 1)
            await ReadOnly()
            got += tb.vecs_done
            partial_dropped += tb.words_in_vec
            resets += 1
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert not dut.m_valid.value and not dut.busy.value and not dut.sdram_req_valid.value
            for _ in range(high - 3):
                await RisingEdge(dut.clk)
            owed_fall.append(owed())
            await RisingEdge(dut.clk)
            dut.rst.value = 0
            await RisingEdge(dut.clk)
            assert int(dut.error.value) == 0 and not dut.done.value
        else:
            await tb.wait_done(timeout=done_bound(n))
            got += tb.vecs_done
    assert got == n, f"{got} vectors received, {n} sent"
    dut._log.info("reset: %d resets, %d partial-vector beats dropped and re-fetched, %d beats checked; "
                  "SDRAM words owed at reset rise %s, at reset fall %s", resets, partial_dropped,
                  tb.scoreboard.checked, owed_rise, owed_fall)
    assert int(dut.error.value) == 0
    return tb, owed_rise, owed_fall


@cocotb.test(timeout_time=backstop_us(8 * done_bound(N_RESET_VECS)), timeout_unit="us")
async def test_reset_midtransfer(dut):
    """Resets at random points of a run, the SDRAM model reset with the
    memory. Defined recovery: reset drops all in flight (SRAM contents,
    outstanding bursts, the vector partly delivered); the compute side discards
    its partial vector and restarts the run at the first vector it has not
    fully received. Every vector then arrives exactly once over the whole
    test, nothing out of order."""
    tb, _, _ = await _reset_runs(dut, sdram_reset=True, seed=21)
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(16 * done_bound(N_RESET_VECS)), timeout_unit="us")
async def test_reset_stale(dut):
    """As test_reset_midtransfer, but the SDRAM is NOT reset: every reset
    rises with SDRAM words owed, and bursts issued before it still arrive
    after it, tagged with the old epoch; they must be dropped (no error,
    nothing stale delivered) while the new run's bursts queue behind them.
    The SDRAM is slowed to 0.25 words per clock so that words are still owed
    when a reset falls. Resets alternate between 3-4 and 32 clocks, 32 being a
    multiple of 2**TAG_W (TAG_W = 4): the epoch must advance once per reset,
    not per clock, or it would come back to the stale tag."""
    assert TAGS, "test_reset_stale needs a unit built with TAGS=1"
    clocks = (3, 32, 4, 32)
    tb, rise, fall = await _reset_runs(dut, sdram_reset=False, seed=41, reset_clocks=clocks, min_owed=12,
                                       sdram=dict(SDRAM_NOISY, bandwidth=0.25))
    assert all(w >= 12 for w in rise), f"a reset rose with too few SDRAM words owed: {rise}"
    for kind, picked in (("short", [f for k, f in enumerate(fall) if clocks[k % 4] < 16]),
                         ("32-clock", [f for k, f in enumerate(fall) if clocks[k % 4] >= 16])):
        assert any(picked), f"no {kind} reset fell with SDRAM words still owed ({fall}): nothing stale to drop"
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(4 * done_bound(40)), timeout_unit="us")
async def test_bad_input(dut):
    """Illegal run configurations, a start while busy and unrequested SDRAM
    data each raise their error bit and leave the data stream intact."""
    n = max(4, min(40, 2000 // VEC_WORDS))
    top = 1 << ADDR_W
    base = top - n * VEC_WORDS            # the data set ends at the last SDRAM word
    vectors = mnist_vectors(n, VEC_WORDS, first=30000)
    tb = MemTB(dut, vectors, base=base, stall_prob=0.2, seed=31)
    await tb.reset()

    async def expect_refused(first, count, cfg_base=None):
        await RisingEdge(dut.clk)
        dut.cfg_base.value = base + first * VEC_WORDS if cfg_base is None else cfg_base
        dut.cfg_num_vecs.value = count
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        for _ in range(30):
            await ReadOnly()
            assert not dut.busy.value and not dut.sdram_req_valid.value and not dut.m_valid.value
            await RisingEdge(dut.clk)
        assert int(dut.error.value) == 0b001

    await expect_refused(0, 0)                                  # empty run
    await expect_refused(1, n)                                  # one vector past the top
    await expect_refused(0, 1, cfg_base=top - VEC_WORDS + 1)    # one word past the top
    # the whole range up to the last word is legal; the error clears at start
    await tb.start(0, n)
    await ClockCycles(dut.clk, 3)
    assert int(dut.error.value) == 0 and dut.busy.value
    # start while busy: flagged, ignored
    await ClockCycles(dut.clk, 100)
    await tb.start(0, 5, expect=False)
    await ReadOnly()
    assert int(dut.error.value) == 0b010
    await tb.wait_done(timeout=done_bound(n))
    assert tb.vecs_done == n
    # SDRAM data nobody asked for: dropped, flagged
    tb.sdram.inject_spurious(0x12345678)
    await ClockCycles(dut.clk, 10)
    assert int(dut.error.value) & 0b100
    assert not dut.m_valid.value
    # and the next run is clean
    tb.vecs_done = 0
    await tb.start(1, n - 1)
    await ClockCycles(dut.clk, 2)
    assert int(dut.error.value) == 0
    await tb.wait_done(timeout=done_bound(n))
    assert tb.vecs_done == n - 1
    assert tb.scoreboard.result
