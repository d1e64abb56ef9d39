"""Unit of the accelerator's system top (rtl/accel/accel_top.v): the command
front end, the dispatcher, the write guard and the engines, on the small
network's real training iterations against host/accel.ModelDevice."""

from tb.units import Unit
from tb.units_accel_cmd import UNITS as CMD
from tb.units_accel_fc import UNITS as FC
from tb.units_accel_vec import UNITS as VEC


def _union(*lists):
    out = []
    for sources in lists:
        out += [s for s in sources if s not in out]
    return tuple(out)


UNITS = {
    "accel_top": Unit(
        toplevel="accel_top",
        sources=_union(CMD["accel_cmd"].sources, VEC["accel_vec"].sources, FC["accel_fc"].sources,
                       ("accel/accel_top.v",)),
        test_module="tb.test_accel_top",
        parameters={"AW": 32, "MAX_CMDS": 10000},
        doc="system top: chains of engine commands of two small-net iterations vs ModelDevice, "
            "bad input, reset mid-chain",
    ),
}
