"""Block configurations for `make synth`. To add a block, drop a file here that
defines BLOCKS, a list of synth.config.Block; e.g. synth/blocks/pe.py's block
`pe`, one PE of the array (shortened):

    from synth.config import Block
    from tb.units import UNITS
    BLOCKS = [Block(
        name="pe", top="pe",                       # name it after its RTL top (one name per block)
        sources=UNITS["pe"].sources,               # from the unit registry, never a copy
        parameters={"ACC_W": 32}, clock_ns=1.4,
        unit="pe", testcase="test_cifar_beats",    # the tb.units UNITS entry whose test gives the activity
        activity_doc="one PE on the beats of three PEs of the 16 x 32 array",
        op_signal="en", op_name="INT8 MAC", ops_per_valid=3)]

The activity test must drive the top's ports only (it also runs on the netlist)
and keep the sink ready, so that ops per cycle = duty of op_signal. A block
whose sources are missing is reported as skipped. `make synth BLOCK=pe`."""
