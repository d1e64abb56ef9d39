"""Simulation units of the training-vector memory (rtl/memory)."""

from tb.units import Unit

MEM_SOURCES = ("memory/mem_sram.v", "memory/mem_dbuf.v", "memory/mem_unified.v", "memory/mem_ctrl.v")


def mem_unit(unified=0, slots=4, vps=4, vec_words=16, burst=8, addr_w=24, vecs=2000, reset_vecs=300,
             test_module="test_memory_ctrl", env=None):
    params = {"UNIFIED": unified, "SLOTS": slots, "VECS_PER_SLOT": vps, "VEC_WORDS": vec_words,
              "BURST_LEN": burst, "ADDR_W": addr_w}
    return Unit(
        toplevel="mem_ctrl",
        sources=MEM_SOURCES,
        test_module=test_module,
        parameters=params,
        env={"MEM_UNIFIED": str(unified), "MEM_SLOTS": str(slots), "MEM_VPS": str(vps),
             "MEM_VEC_WORDS": str(vec_words), "MEM_BURST": str(burst), "MEM_ADDR_W": str(addr_w),
             "MEM_VECS": str(vecs), "MEM_RESET_VECS": str(reset_vecs), **(env or {})},
        doc=("unified" if unified else f"distributed {slots}x{vps}") + f" x {vec_words} words, burst {burst}",
    )


UNITS = {
    # the 10k-vector scoreboard run on short vectors
    "mem_dbuf": mem_unit(slots=4, vps=4, vec_words=16, burst=8, vecs=10_000, env={"MEM_PAUSE": "0.2"}),
    # odd sizes: 3 slots of 3 vectors, bursts that do not divide a vector, 20-bit addresses
    "mem_dbuf_odd": mem_unit(slots=3, vps=3, vec_words=21, burst=5, addr_w=20, vecs=1500),
    # whole 784-word MNIST images in the smallest double buffer (2 slots of 1
    # vector), with a request length longer than a slot
    "mem_mnist": mem_unit(slots=2, vps=1, vec_words=784, burst=1024, vecs=30, reset_vecs=12,
                          env={"MEM_PAUSE": "0.3"}),
    # unified mode, request length longer than a vector
    "mem_unified": mem_unit(unified=1, vec_words=16, burst=64, vecs=1000, reset_vecs=150),
}
