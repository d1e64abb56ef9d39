"""Unit of the accelerator's command front end (rtl/accel/accel_cmd.v): host/accel's
SDRAM images of the small net and ResNet-20 through the SdramModel, every decoded
command against host/accel's Program, bad input against ModelDevice."""

from tb.units import Unit

UNITS = {
    "accel_cmd": Unit(
        toplevel="accel_cmd",
        sources=("common/stream_check.v", "accel/accel_cmd_rules.v", "accel/accel_cmd.v"),
        # the package path: tests/test_accel_cmd.py (the pytest) would shadow a bare name
        test_module="tb.test_accel_cmd",
        # a small watchdog, so that test_watchdog_and_sdram_end runs it out; ResNet-20's
        # longest list has 40 commands
        parameters={"AW": 32, "MAX_OPS": 12, "MAX_CMDS": 100},
        env={"CMD_MAX_CMDS": "100", "CMD_FUZZ": "400"},
        doc="command front end: fetch, decode, table entries, ModelDevice's data-free checks",
    ),
}
