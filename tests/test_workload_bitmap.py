"""bitmap-index: bit-exact counts against numpy, the costs' shape, and the command."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pimsim.apps import WORKLOADS
from pimsim.apps.bitmap import count_bits
from pimsim.apps.sweep import WorkloadError, sweep
from pimsim.cli.main import cli
from pimsim.config import load_config

BITMAP = WORKLOADS["bitmap-index"]
WAYS = ("dram-and+cpu-count", "dram-and+dram-count")


@pytest.fixture(scope="module")
def ddr3():
    return load_config("ddr3-1600", ())


@pytest.mark.parametrize(
    "users, weeks, banks",
    [(1 << 20, 2, 8), (1_000_003, 3, 8), (3 * (1 << 19) + 17, 4, 2), (65536 * 64, 2, None)],
)
def test_counts_equal_numpys(ddr3, users, weeks, banks):
    point = sweep(BITMAP, ddr3, [{"users": users, "weeks": weeks}], banks)["points"][0]
    assert point["correct"] is True
    assert set(point["counts"]) == set(WAYS)
    assert all(c == point["count"] for c in point["counts"].values())
    # random bitmaps: about users / 2**weeks users are active in all k weeks
    assert abs(point["count"] - users / 2**weeks) < 6 * (users / 2**weeks) ** 0.5


def test_the_costs_scale_as_the_bytes_moved(ddr3):
    points = [{"users": 1 << 23, "weeks": k} for k in (2, 4)]
    two, four = sweep(BITMAP, ddr3, points, banks=8, with_data=False)["points"]
    # the CPU streams k bitmaps: twice the bitmaps, twice the time (within 2%)
    cpu_ratio = four["ways"]["cpu"]["time_ns"] / two["ways"]["cpu"]["time_ns"]
    assert cpu_ratio == pytest.approx(2.0, rel=0.02)
    for p in (two, four):
        k = p["params"]["weeks"]
        # Ambit's split still reads one whole bitmap over the bus: it gains less than k
        assert 1.0 < p["speedup"]["dram-and+cpu-count"] < k
        # counting in DRAM reads a fraction of it: faster and cheaper still
        assert p["speedup"]["dram-and+dram-count"] > p["speedup"]["dram-and+cpu-count"]
        assert p["energy_reduction"]["dram-and+dram-count"] > 1.0
        assert p["correct"] is None  # no data: nothing checked
    assert two["count_bits"] == 16 and two["row_groups"] == 8  # 128 rows, 8 banks


def test_count_width_leaves_a_group_per_bank():
    assert count_bits(1024, 16) == 64
    assert count_bits(128, 8) == 16
    assert count_bits(128, 32) == 4
    assert count_bits(3, 32) == 2


def test_a_point_that_does_not_fit_is_refused_before_any_work(ddr3):
    ran = []
    with pytest.raises(WorkloadError, match="--users"):
        sweep(BITMAP, ddr3, [{"users": 1 << 20, "weeks": 2}, {"users": 1 << 34, "weeks": 4}],
              banks=1, on_point=ran.append)  # fmt: skip
    assert ran == []


def test_command_prints_the_table_and_writes_json_csv(tmp_path):
    out = tmp_path / "bm.json"
    csv_path = tmp_path / "bm.csv"
    result = CliRunner().invoke(
        cli,
        ["workload", "bitmap-index", "--config", "ddr3-1600", "--banks", "8", "--users",
         "1M,2M", "--weeks", "2,3", "--json", str(out), "--csv", str(csv_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "users=1M weeks=2" in result.output and "hmean" in result.output
    assert "on the CPU:" in result.output
    doc = json.loads(out.read_text())
    assert doc["workload"] == "bitmap-index" and len(doc["points"]) == 4
    assert doc["summary"]["all_correct"] is True
    assert len(csv_path.read_text().splitlines()) == 1 + 4 * len(WAYS)


def test_bad_options_are_one_line_errors():
    runner = CliRunner()
    for args, words in (
        (["--users", "8X"], "is not a count"),
        (["--weeks", "1"], "outside 2..64"),
        (["--users", "16G", "--weeks", "4"], "--users"),
    ):
        result = runner.invoke(cli, ["workload", "bitmap-index", *args])
        assert result.exit_code == 2, result.output
        assert words in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_ambits_sweep_is_bit_exact_and_gains(ddr3):
    points = [{"users": u << 20, "weeks": k} for u in (8, 16, 32, 64) for k in (2, 3, 4)]
    doc = sweep(BITMAP, ddr3, points, banks=8)
    assert doc["summary"]["all_correct"] is True
    assert all(p["speedup"]["dram-and+dram-count"] > 3 for p in doc["points"])
