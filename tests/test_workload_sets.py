"""sets: bit-exact union, intersection and difference against numpy, the and-not program,
the sorted-array model, and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from pimsim.ambit.layout import SubarrayLayout
from pimsim.apps import WORKLOADS
from pimsim.apps.sets import ANDNOT, ID_BYTES, stream
from pimsim.apps.sweep import WorkloadError, sweep
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.programs.hostrun import host_run

SETS = WORKLOADS["sets"]


@pytest.fixture(scope="module")
def ddr3():
    return load_config("ddr3-1600", ())


def test_andnot_is_a_and_not_b_in_four_aaps(ddr3):
    layout = SubarrayLayout.from_params(ddr3.pim)
    a, b = np.random.default_rng(1).integers(0, 2, (2, 1000), dtype=np.uint64)
    assert np.array_equal(host_run(ANDNOT, layout, {"Di": a, "Dj": b})["Dk"], a & (1 - b))
    assert ANDNOT.counts() == {"AAP": 4, "AP": 0}


@pytest.mark.parametrize(
    "universe, elements, banks",
    [(1 << 20, 1 << 14, 8), (1_000_003, 300_000, 8), (65, 64, 2), (3 << 21, 1 << 20, None)],
)
def test_results_equal_numpys(ddr3, universe, elements, banks):
    point = sweep(SETS, ddr3, [{"universe": universe, "elements": elements}], banks)["points"][0]
    assert point["correct"] is True
    n = point["sizes"]
    assert n["union"] + n["intersection"] == n["a"] + n["b"]
    assert n["difference"] + n["intersection"] == n["a"]
    assert abs(n["a"] - elements) < 6 * elements**0.5 + 1


def test_sorted_arrays_cost_what_they_move(ddr3):
    points = [{"universe": 1 << 23, "elements": e} for e in (1 << 16, 1 << 20)]
    sparse, dense = sweep(SETS, ddr3, points, 8, with_data=False)["points"]
    # the bit vectors do not depend on the elements, the sorted arrays grow with them
    assert sparse["ways"]["dram"] == dense["ways"]["dram"]
    assert sparse["ways"]["cpu-bitvector"] == dense["ways"]["cpu-bitvector"]
    ratio = dense["ways"]["cpu-sorted"]["time_ns"] / sparse["ways"]["cpu-sorted"]["time_ns"]
    assert ratio == pytest.approx(16.0, rel=0.05)
    assert 1.0 < sparse["speedup_vs_sorted"] < dense["speedup_vs_sorted"]
    assert dense["speedup"]["dram"] > 10  # three bulk ops against three host passes
    # a write stream moves as much as a read stream of the same bytes, within 20%
    read, write = (stream(ddr3, ID_BYTES << 18, "datasheet", w) for w in (False, True))
    assert write.time_ns == pytest.approx(read.time_ns, rel=0.2)


def test_sparse_sets_are_better_as_sorted_arrays(ddr3):
    point = sweep(SETS, ddr3, [{"universe": 1 << 23, "elements": 64}], 8)["points"][0]
    assert point["correct"] is True and point["speedup_vs_sorted"] < 0.1


def test_bad_points_are_refused_before_any_work(ddr3):
    with pytest.raises(WorkloadError, match="more than the universe"):
        sweep(SETS, ddr3, [{"universe": 1000, "elements": 1001}])
    with pytest.raises(WorkloadError, match="--universe"):
        sweep(SETS, ddr3, [{"universe": 1 << 32, "elements": 1}], banks=1)


def test_command_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "sets.json"
    result = CliRunner().invoke(
        cli,
        ["workload", "sets", "--config", "ddr3-1600", "--banks", "8", "--universe", "1M",
         "--elements", "4K,64K", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "universe=1M elements=64K" in result.output and "cpu-sorted" in result.output
    doc = json.loads(out.read_text())
    assert doc["summary"]["all_correct"] is True
    assert all("speedup_vs_sorted" in p for p in doc["points"])


@pytest.mark.slow
def test_big_sets_are_bit_exact(ddr3):
    points = [{"universe": u << 20, "elements": e << 10} for u in (8, 64) for e in (64, 1024)]
    doc = sweep(SETS, ddr3, points, banks=8)
    assert doc["summary"]["all_correct"] is True
