"""gemv: y = W x bit-exact against numpy (several shapes, widths, banks, extreme values),
the token's terms and layout, and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from pimsim.ambit.bulk import BulkEngine
from pimsim.apps import WORKLOADS
from pimsim.apps.gemv import Layer, acc_bits, groups_of, terms_of
from pimsim.apps.sweep import WorkloadError, sweep
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.device import Device

GEMV = WORKLOADS["gemv"]


@pytest.fixture(scope="module")
def ddr4():
    return load_config("ddr4-2400", ())


@pytest.fixture(scope="module")
def ddr3():
    return load_config("ddr3-1600", ())


@pytest.mark.parametrize(
    "rows, cols, bits, banks",
    [(64, 64, 2, None), (64, 64, 4, None), (64, 64, 8, None), (256, 128, 4, 8),
     (100, 37, 8, 4), (3, 1, 2, None)],
)  # fmt: skip
def test_y_equals_numpys(ddr4, rows, cols, bits, banks):
    point = sweep(GEMV, ddr4, [{"rows": rows, "cols": cols, "bits": bits}], banks)["points"][0]
    assert point["correct"] is True
    assert point["accumulator_bits"] == acc_bits(point["inputs_per_group"], bits)


def test_small_subarrays_split_the_token_into_programs():
    # 128-row subarrays: 6 int8 inputs per group (14 groups per bank) and a token's terms
    # over several programs, the accumulators passed from one pair to the other
    cfg = load_config("ddr4-2400", [("-p", "pim.rows_per_subarray=128")])
    point = sweep(GEMV, cfg, [{"rows": 40, "cols": 160, "bits": 8}], banks=2)["points"][0]
    assert point["correct"] is True
    assert point["row_groups"] == 28 and point["inputs_per_group"] == 6
    # 6 * 8 weight rows + a zero row + 4 accumulators of 19 bits fill 125 of 127 rows
    assert point["accumulator_bits"] == 19


@pytest.mark.slow
def test_several_programs_and_groups_per_bank(ddr3):
    # 2 banks of 1024 inputs of int8: several row groups per bank (subarrays of their own),
    # each token split over several programs
    point = sweep(GEMV, ddr3, [{"rows": 96, "cols": 1024, "bits": 8}], banks=2)["points"][0]
    assert point["correct"] is True
    assert point["row_groups"] % 2 == 0 and point["row_groups"] > 2
    assert point["banks_used"] == 2
    assert point["program_commands"] > 5000


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_extreme_values_do_not_overflow(ddr4, bits):
    engine = BulkEngine(Device(ddr4), 4)
    layer = Layer(engine, 70, 200, bits)
    half = 1 << (bits - 1)
    for wv, xv in ((-half, -128), (half - 1, 127), (-half, 127), (half - 1, -128)):
        w = np.full((70, 200), wv, dtype=np.int64)
        w[::2] = -half if wv > 0 else half - 1  # every other output the other extreme
        x = np.full(200, xv, dtype=np.int64)
        x[::3] = 0
        layer.fill(w)
        *_, acc = layer.token(x)
        assert np.array_equal(layer.result(acc, x), w @ x)
    # one group all -128 (shift 7), the others all -127 (shifts 0..6): every shift takes
    # a whole group's steps, the bound the accumulator width must hold
    x = np.where(np.arange(200) < layer.block, -128, -127)
    w = np.full((70, 200), -half, dtype=np.int64)
    layer.fill(w)
    *_, acc = layer.token(x)
    assert np.array_equal(layer.result(acc, x), w @ x)


def test_terms_cover_every_set_bit_once():
    x = np.array([5, -3, 0, 127, -128, 1, -1], dtype=np.int64)
    terms = terms_of(x, groups=3, block=3)
    got = np.zeros(len(x), dtype=np.int64)
    for (sign, k), per in terms.items():
        for g, local in enumerate(per):
            for jl in local:
                got[g * 3 + jl] += (-1 if sign else 1) << k
    assert np.array_equal(got, x)
    assert (0, 0) in terms and (1, 7) in terms and (1, 0) in terms


def test_groups_fit_a_subarray():
    # 4096 int4 inputs on 32 banks of 511 free rows: 64 inputs per group, 2 per bank
    assert groups_of(4096, 4, 32, 511) == (64, 64)
    assert acc_bits(64, 4) == 18  # 15 * 255 * 64 = 244,800 < 2**18
    assert groups_of(10, 8, 32, 511) == (10, 1)  # fewer inputs than banks: one each
    groups, block = groups_of(4096, 8, 16, 511)
    assert groups % 16 == 0 and block * 8 + 1 + 4 * acc_bits(block, 8) <= 511


def test_no_data_takes_the_same_time(ddr4):
    point = {"rows": 64, "cols": 96, "bits": 4}
    timed = sweep(GEMV, ddr4, [point], with_data=False)["points"][0]
    exact = sweep(GEMV, ddr4, [point])["points"][0]
    assert timed["correct"] is None and exact["correct"] is True
    assert timed["ways"] == exact["ways"]


def test_bad_sizes_are_one_line(ddr4):
    with pytest.raises(WorkloadError, match="int2, int4 or int8"):
        sweep(GEMV, ddr4, [{"rows": 8, "cols": 8, "bits": 3}])
    with pytest.raises(WorkloadError, match="65,536 columns"):
        sweep(GEMV, ddr4, [{"rows": 65537, "cols": 8, "bits": 4}])
    result = CliRunner().invoke(cli, ["workload", "gemv", "--shape", "4096x"])
    assert result.exit_code == 2 and "not a shape like 4096x4096" in result.output


def test_command_prints_the_table_and_json(tmp_path):
    out = tmp_path / "g.json"
    result = CliRunner().invoke(
        cli, ["workload", "gemv", "--shape", "32x48,16x16", "--bits", "2,8", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["workload"] == "gemv" and len(doc["points"]) == 4
    assert doc["summary"]["all_correct"] is True
    assert "dram-shift-add" in result.output and "rows=32 cols=48 bits=2" in result.output


@pytest.mark.slow
def test_a_realistic_layer_per_token(ddr4):
    """4096 x 4096 int4, timing only: the numbers the README reports come from here."""
    point = sweep(GEMV, ddr4, [{"rows": 4096, "cols": 4096, "bits": 4}],
                  with_data=False)["points"][0]  # fmt: skip
    cpu, dram = point["ways"]["cpu"], point["ways"]["dram-shift-add"]
    # the CPU reads 8 MiB of weights (2**17 lines of 64 bytes) and x (64 lines) once
    assert cpu["commands"]["RD"] == 4096 * 4096 * 4 // 512 + 4096 // 64
    assert point["row_groups"] == 64 and point["accumulator_bits"] == 18
    assert point["speedup"]["dram-shift-add"] == pytest.approx(
        cpu["time_ns"] / dram["time_ns"], rel=1e-3
    )


@pytest.mark.slow
@pytest.mark.parametrize("bits", [2, 4, 8])
def test_y_equals_numpys_at_1024(ddr4, bits):
    point = sweep(GEMV, ddr4, [{"rows": 1024, "cols": 1024, "bits": bits}])["points"][0]
    assert point["correct"] is True
