"""Simulation units of the training-vector memory (rtl/memory)."""

from tb.units import Unit

MEM_SOURCES = ("common/ram_1r1w.v", "common/stream_check.v", "memory/mem_sram.v", "memory/mem_run_ctl.v", "memory/mem_dbuf.v",
               "memory/mem_unified.v", "memory/mem_ctrl.v")

# test_reset_stale needs run tags; units built without them run the other three
NO_TAG_TESTS = r"\.(test_stream|test_reset_midtransfer|test_bad_input)$"


# the environment variable tb/test_memory_ctrl.py reads each HDL parameter from (tb.units.Unit.param_env)
PARAM_ENV = {"UNIFIED": "MEM_UNIFIED", "SLOTS": "MEM_SLOTS", "VECS_PER_SLOT": "MEM_VPS", "VEC_WORDS": "MEM_VEC_WORDS",
             "BURST_LEN": "MEM_BURST", "ADDR_W": "MEM_ADDR_W", "RD_WORDS": "MEM_RD_WORDS", "TAGS": "MEM_TAGS"}


def mem_unit(unified=0, slots=4, vps=4, vec_words=16, burst=8, addr_w=24, rd_words=1, tags=1, vecs=2000,
             reset_vecs=300, test_module="test_memory_ctrl", env=None):
    params = {"UNIFIED": unified, "SLOTS": slots, "VECS_PER_SLOT": vps, "VEC_WORDS": vec_words,
              "BURST_LEN": burst, "ADDR_W": addr_w, "RD_WORDS": rd_words, "TAGS": tags}
    filt = {} if tags or test_module != "test_memory_ctrl" else {"COCOTB_TEST_FILTER": NO_TAG_TESTS}
    return Unit(
        toplevel="mem_ctrl",
        sources=MEM_SOURCES,
        test_module=test_module,
        parameters=params,
        param_env=PARAM_ENV,
        env={"MEM_VECS": str(vecs), "MEM_RESET_VECS": str(reset_vecs), **filt, **(env or {})},
        doc=("unified" if unified else f"distributed {slots}x{vps}") + f" x {vec_words} words, burst {burst}, "
            f"{rd_words} word(s) per beat, tags {'on' if tags else 'off'}",
    )


UNITS = {
    # the 10k-vector scoreboard run on short vectors
    "mem_dbuf": mem_unit(slots=4, vps=4, vec_words=16, burst=8, vecs=10_000, env={"MEM_PAUSE": "0.2"}),
    # the same with two words per compute-side beat (two SRAM banks)
    "mem_dbuf_w2": mem_unit(slots=4, vps=4, vec_words=16, burst=8, rd_words=2, vecs=10_000,
                            env={"MEM_PAUSE": "0.2"}),
    # odd sizes: 3 slots of 3 vectors, bursts that do not divide a vector, 20-bit addresses
    "mem_dbuf_odd": mem_unit(slots=3, vps=3, vec_words=21, burst=5, addr_w=20, vecs=1500),
    # odd sizes with four banks: bursts of 5 cross SRAM rows of 4 words
    "mem_dbuf_odd_w4": mem_unit(slots=3, vps=3, vec_words=20, burst=5, addr_w=20, rd_words=4, vecs=1500),
    # whole 784-word MNIST images in the smallest double buffer (2 slots of 1
    # vector), with a request length longer than a slot; no tags, as in mlp_trainer
    "mem_mnist": mem_unit(slots=2, vps=1, vec_words=784, burst=1024, tags=0, vecs=30, reset_vecs=12,
                          env={"MEM_PAUSE": "0.3"}),
    # unified mode, request length longer than a vector
    "mem_unified": mem_unit(unified=1, vec_words=16, burst=64, vecs=1000, reset_vecs=150),
    # unified mode packing four SDRAM words per beat
    "mem_unified_w4": mem_unit(unified=1, vec_words=16, burst=64, rd_words=4, vecs=500, reset_vecs=100),
}
