"""Ambit and RowClone operations on one subarray: bit-exact results and exact latencies."""

import numpy as np
import pytest

from pimsim.ambit.execute import PimDevice
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.programs.parse import builtin

BANK = (0, 0, 0, 0)
EXPECTED = {
    "not": lambda a, b: ~a,
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "nand": lambda a, b: ~(a & b),
    "nor": lambda a, b: ~(a | b),
    "xor": lambda a, b: a ^ b,
    "xnor": lambda a, b: ~(a ^ b),
    "copy": lambda a, b: a,
    "zero": lambda a, b: np.zeros_like(a),
    "one": lambda a, b: ~np.zeros_like(a),
}
#: One operation on one row of ddr3-1600 (tRAS 35 ns, tRP 10 ns): REFERENCE.md, Ambit.
SPLIT_NS = {"not": 98, "and": 196, "or": 196, "nand": 245, "nor": 245, "xor": 335, "xnor": 335}
NAIVE_NS = {"not": 160, "and": 320, "or": 320, "nand": 400, "nor": 400, "xor": 490, "xnor": 490}


def run_op(name, config, seed=0, subarray=0):
    dev = Device(config)
    pim = PimDevice(dev)
    program = builtin(name)
    rng = np.random.default_rng(seed)
    words = config.organisation.columns
    a, b = (rng.integers(0, 2**64, words, dtype=np.uint64) for _ in range(2))
    rows = {"Di": 3, "Dj": 7, "Dk": 11}
    base = subarray * pim.layout.physical_rows
    dev.write_row(*BANK, base + 3, a)
    dev.write_row(*BANK, base + 7, b)
    span = pim.run(program, BANK, subarray, {n: rows[n] for n in program.operands})
    return dev, pim, span, a, b, base


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("seed", [0, 1])
def test_operation_is_bit_exact_and_leaves_sources_alone(name, seed):
    cfg = load_config("ddr3-1600")
    dev, pim, _, a, b, base = run_op(name, cfg, seed, subarray=seed)
    assert (dev.read_row(*BANK, base + 11) == EXPECTED[name](a, b)).all()
    assert (dev.read_row(*BANK, base + 3) == a).all() and (dev.read_row(*BANK, base + 7) == b).all()
    c0 = base + pim.layout.constant_slot("C0")
    c1 = base + pim.layout.constant_slot("C1")
    assert (dev.read_row(*BANK, c0) == 0).all() and (~dev.read_row(*BANK, c1) == 0).all()


@pytest.mark.parametrize("name", list(SPLIT_NS))
def test_latency_with_split_decoder_matches_ambit(name):
    _, pim, span, *_ = run_op(name, load_config("ddr3-1600"))
    assert pim.device.clock.ticks_to_ns(span.end_tick - span.first_tick) == pytest.approx(
        SPLIT_NS[name], abs=1e-9
    )


@pytest.mark.parametrize("name", list(NAIVE_NS))
def test_latency_without_split_decoder_is_two_tras_plus_trp_per_aap(name):
    _, pim, span, *_ = run_op(name, load_config("ddr3-1600", ["pim.split_decoder=false"]))
    assert pim.device.clock.ticks_to_ns(span.end_tick - span.first_tick) == pytest.approx(
        NAIVE_NS[name], abs=1e-9
    )


def test_rowclone_fpm_copy_on_ddr3_1066_takes_90_ns():
    # RowClone's setting: no split decoder, tRAS 37.5 ns, tRP 15 ns: 2 tRAS + tRP
    _, pim, span, *_ = run_op("copy", load_config("ddr3-1066"))
    assert pim.device.clock.ticks_to_ns(span.end_tick - span.first_tick) == pytest.approx(90.0)


def test_commands_are_real_activations_and_precharges():
    dev, *_ = run_op("xor", load_config("ddr3-1600"))
    counts = dev.command_counts()
    assert (counts["ACT"], counts["AACT"], counts["PRE"]) == (7, 5, 7)


def test_operand_outside_the_data_rows_is_refused():
    cfg = load_config("ddr3-1600")
    pim = PimDevice(Device(cfg))
    with pytest.raises(ValueError, match="is not a data row"):
        pim.run(builtin("copy"), BANK, 0, {"Di": 0, "Dk": 1024})  # C0: 1024 data rows
