"""Unit of pe_top's result side band (m_pos_*, docs/pe_array_results.md):
test_placement of tb/test_pe_top.py alone (PE_PLACE=1 skips the others) on a
4 x 8 array with one PE row per result beat (4 groups per tile), on shapes
that reach every mode pe_ctrl runs. The other pe_top units check the side
band of every layer they run as well."""

from tb.units_pe import pe_top_unit

UNITS = {
    "pe_top_place_4x8": pe_top_unit(4, 8, out_rows=1, idepth=1024, act_bytes=4, wgt_words=3,
                                    PE_SIDE=8, PE_N=2, PE_STALL=0.3, PE_IDLE=0.1, PE_PLACE=1),
}
