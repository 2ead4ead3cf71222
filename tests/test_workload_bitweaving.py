"""bitweaving: the specialised range program, bit-exact counts against numpy, the costs'
shape, and the command."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner

from pimsim.ambit.layout import SubarrayLayout
from pimsim.apps import WORKLOADS
from pimsim.apps.bitweaving import bounds, range_program
from pimsim.apps.sweep import WorkloadError, sweep
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.programs.hostrun import host_run

SCAN = WORKLOADS["bitweaving"]
WAY, DRAM_COUNT = WAYS = ("dram-range+cpu-count", "dram-range+dram-count")


@pytest.fixture(scope="module")
def ddr3():
    return load_config("ddr3-1600", ())


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_range_program_is_exact_for_every_value_and_bound(ddr3, bits):
    layout = SubarrayLayout.from_params(ddr3.pim)
    values = np.arange(1 << bits, dtype=np.uint64)
    for c1, c2 in itertools.product(range(1 << bits), repeat=2):
        got = host_run(range_program(bits, c1, c2), layout, {"v": values})["y"]
        assert np.array_equal(got, (values >= c1) & (values <= c2)), (c1, c2)


@pytest.mark.parametrize("bits", [8, 17, 32, 64])
def test_range_program_on_random_values_and_bounds(ddr3, bits):
    layout = SubarrayLayout.from_params(ddr3.pim)
    rng = np.random.default_rng(bits)
    values = rng.integers(0, 2**bits, 4096, dtype=np.uint64)
    for c1, c2 in [bounds(bits), *rng.integers(0, 2**bits, (3, 2), dtype=np.uint64).tolist()]:
        program = range_program(bits, c1, c2)
        assert len(program.steps) <= 5 * bits + 2  # the bound the docstring states
        got = host_run(program, layout, {"v": values})["y"]
        assert np.array_equal(got, (values >= c1) & (values <= c2)), (c1, c2)


@pytest.mark.parametrize(
    "values, bits, banks", [(1 << 20, 4, 8), (1_000_003, 13, 8), (70_001, 32, 2), (65536, 8, None)]
)
def test_counts_equal_numpys(ddr3, values, bits, banks):
    point = sweep(SCAN, ddr3, [{"values": values, "bits": bits}], banks)["points"][0]
    assert point["correct"] is True
    assert set(point["counts"]) == set(WAYS)
    assert all(c == point["count"] for c in point["counts"].values())
    # uniform values: about (c2 - c1 + 1) / 2**b of them qualify
    c1, c2 = bounds(bits)
    share = (c2 - c1 + 1) / 2**bits
    assert abs(point["count"] - values * share) < 6 * (values * share) ** 0.5


def test_the_gain_grows_with_the_width(ddr3):
    points = [{"values": 1 << 23, "bits": b} for b in (4, 32)]
    four, wide = sweep(SCAN, ddr3, points, banks=8, with_data=False)["points"]
    # the CPU reads b bit vectors: 8x the bits, 8x the time (within 2%)
    ratio = wide["ways"]["cpu"]["time_ns"] / four["ways"]["cpu"]["time_ns"]
    assert ratio == pytest.approx(8.0, rel=0.02)
    assert 1.0 < four["speedup"][WAY] < wide["speedup"][WAY]
    assert wide["energy_reduction"][WAY] > four["energy_reduction"][WAY] > 1.0
    # counting in DRAM reads a fraction of the result: faster and cheaper still
    for p in (four, wide):
        assert p["speedup"][DRAM_COUNT] > p["speedup"][WAY]
        assert p["energy_reduction"][DRAM_COUNT] > p["energy_reduction"][WAY]
    assert four["correct"] is None


def test_a_point_that_does_not_fit_is_refused_before_any_work(ddr3):
    ran = []
    with pytest.raises(WorkloadError, match="--values"):
        sweep(SCAN, ddr3, [{"values": 1 << 20, "bits": 4}, {"values": 1 << 34, "bits": 32}],
              banks=1, on_point=ran.append)  # fmt: skip
    assert ran == []


def test_command_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "scan.json"
    result = CliRunner().invoke(
        cli,
        ["workload", "bitweaving", "--config", "ddr3-1600", "--banks", "8", "--values",
         "256K", "--bits", "4,12", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "values=256K bits=12" in result.output and "on the CPU:" in result.output
    doc = json.loads(out.read_text())
    assert doc["summary"]["all_correct"] is True and len(doc["points"]) == 2


def test_bad_options_are_one_line_errors():
    runner = CliRunner()
    for args, words in ((["--bits", "1"], "outside 2..64"), (["--values", "x"], "not a count")):
        result = runner.invoke(cli, ["workload", "bitweaving", *args])
        assert result.exit_code == 2, result.output
        assert words in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_ambits_sweep_is_bit_exact_and_gains(ddr3):
    points = [{"values": n << 20, "bits": b} for n in (8, 32) for b in range(4, 33, 4)]
    doc = sweep(SCAN, ddr3, points, banks=8)
    assert doc["summary"]["all_correct"] is True
    assert all(p["speedup"][WAY] > 2 for p in doc["points"])
