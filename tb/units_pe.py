"""Simulation units of the PE array (rtl/pe_array): the default 16 x 32 array
and a 4 x 8 array for fast sweeps. The cocotb module reads its shape and the
run configuration from the environment (see tb/test_pe_rtl.py)."""

from tb.units import Unit

PE_SOURCES = ("pe_array/pe.v", "pe_array/pe_requant.v", "pe_array/pe_array.v")


def pe_unit(rows=16, cols=32, out_rows=2, acc_w=32, **env):
    """env: PE_SIDE, PE_N, PE_LAYERS, PE_PHASES, PE_STALL, PE_IDLE, PE_REPORT."""
    return Unit(
        toplevel="pe_array",
        sources=PE_SOURCES,
        test_module="test_pe_rtl",
        parameters={"ROWS": rows, "COLS": cols, "OUT_ROWS": out_rows, "ACC_W": acc_w},
        env={"PE_ROWS": str(rows), "PE_COLS": str(cols), "PE_OUT_ROWS": str(out_rows),
             "PE_ACC_W": str(acc_w), **{k: str(v) for k, v in env.items()}},
        doc=f"{rows}x{cols} 3-MAC PE array, INT8 FP/BP/WG",
    )


UNITS = {
    "pe_array": pe_unit(16, 32, PE_SIDE=16, PE_N=1, PE_STALL=0.3),
    "pe_array_4x8": pe_unit(4, 8, PE_SIDE=8, PE_N=2, PE_STALL=0.3),
}
