"""Block configurations for `make synth`. To add a block, drop a file here,
e.g. synth/blocks/neuron.py:

    from synth.config import Block
    BLOCKS = [Block(
        name="neuron", top="neuron",
        sources=("common/fp_add.v", ..., "neuron/neuron.v"),   # relative to rtl/
        parameters={"N": 128}, clock_ns=1.6,
        unit="neuron", testcase="test_mnist", env={"VECTORS": "200"},  # tb.units UNITS entry
        activity_doc="MNIST images through one neuron",
        op_signal="m_valid", op_name="FP32 MAC", ops_per_valid=1)]

The activity test must drive the top's ports only (it also runs on the netlist)
and keep the sink ready, so that ops per cycle = duty of op_signal. A block
whose sources are missing is reported as skipped. `make synth BLOCK=neuron`."""
