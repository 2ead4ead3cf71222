"""`pimsim compare` and pimsim.compare: the published RowClone and Ambit ratios, the JSON
schema, the outputs (table, CSV, plot) and bad input."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from pimsim.cli.main import cli
from pimsim.compare import BITWISE_OPS, CompareError, compare, hmean, parse_ops
from pimsim.config import load_config

SIDE_KEYS = {
    "time_ns",
    "throughput_gbps",
    "energy_nj",
    "energy_nj_per_kb",
    "commands",
    "rows_raised",
    "energy_breakdown_nj",
    "elements_per_second",
    "energy_pj_per_element",
}


@pytest.fixture(scope="module")
def rowclone():
    """RowClone's setting: 4 KiB on ddr3-1066, one bank, the default (datasheet) profile."""
    return compare(load_config("ddr3-1066"), ("copy", "zero"), 4096, banks=1)


def test_fpm_copy_and_its_baseline_match_rowclone(rowclone):
    copy = rowclone["ops"]["copy"]
    assert copy["correct"]
    assert copy["pim"]["time_ns"] == 90.0  # 2 tRAS + tRP
    assert copy["cpu"]["time_ns"] == pytest.approx(1046, rel=0.15)
    assert copy["energy_reduction"] == pytest.approx(74.4, rel=0.25)
    assert copy["pim"]["commands"] == {"ACT": 1, "PRE": 1, "AACT": 1, "AAP": 1, "AP": 0}


def test_zeroing_matches_rowclone(rowclone):
    zero = rowclone["ops"]["zero"]
    assert zero["correct"]
    assert zero["speedup"] == pytest.approx(6.0, rel=0.25)
    assert zero["energy_reduction"] == pytest.approx(41.5, rel=0.25)
    assert zero["cpu"]["commands"].get("RD", 0) == 0


def test_document_schema(rowclone):
    assert rowclone["config"] == "ddr3-1066"
    assert rowclone["energy_profile"] == "datasheet"
    assert rowclone["size_bytes"] == 4096
    for entry in rowclone["ops"].values():
        assert set(entry) >= {"pim", "cpu", "speedup", "energy_reduction", "correct"}
        assert set(entry["pim"]) == set(entry["cpu"]) == SIDE_KEYS
        for side in ("pim", "cpu"):
            e = entry[side]
            assert e["throughput_gbps"] == pytest.approx(4096 / e["time_ns"], rel=1e-3)
            assert e["energy_nj_per_kb"] == pytest.approx(e["energy_nj"] / 4, rel=1e-3)
            # a bitwise operation's element is one bit of result
            assert e["elements_per_second"] == pytest.approx(4096 * 8 / e["time_ns"] * 1e9, 1e-3)
            assert e["energy_pj_per_element"] == pytest.approx(e["energy_nj"] / 32.768, 1e-3)
            assert e["energy_nj"] == pytest.approx(e["energy_breakdown_nj"]["above_idle"])
    assert rowclone["summary"]["speedup_hmean"] == pytest.approx(
        hmean([e["speedup"] for e in rowclone["ops"].values()]), rel=1e-3
    )


@pytest.mark.slow
def test_ambit_energy_table_with_the_ambit_profile():
    """Ambit (MICRO 2017): 8 banks of ddr3-1600, 32 MiB; reductions within 10% of the
    published ones, harmonic mean 35 +- 3."""
    doc = compare(load_config("ddr3-1600"), BITWISE_OPS, 32 << 20, 8, "ambit-micro17")
    published = {
        "not": 59.5,
        "and": 43.9,
        "or": 43.9,
        "nand": 35.1,
        "nor": 35.1,
        "xor": 25.1,
        "xnor": 25.1,
    }
    for op, value in published.items():
        assert doc["ops"][op]["correct"], op
        assert doc["ops"][op]["energy_reduction"] == pytest.approx(value, rel=0.10), op
    assert doc["summary"]["energy_reduction_hmean"] == pytest.approx(35, abs=3)
    # the in-DRAM side's energy per KB is the table's (1.6, 3.2, 4.0, 5.5 nJ/KB)
    assert doc["ops"]["not"]["pim"]["energy_nj_per_kb"] == pytest.approx(1.6, rel=0.1)
    assert doc["ops"]["xor"]["pim"]["energy_nj_per_kb"] == pytest.approx(5.5, rel=0.1)


def test_every_op_is_correct_on_a_small_ddr4_run():
    doc = compare(load_config("ddr4-2400"), (*BITWISE_OPS, "copy", "zero", "one"), 1 << 17)
    assert doc["summary"]["all_correct"]
    for op, entry in doc["ops"].items():
        assert entry["speedup"] > 1 and entry["energy_reduction"] > 1, op


def test_banks_limit_the_in_dram_parallelism():
    config = load_config("ddr3-1600")
    one = compare(config, ("not",), 1 << 16, banks=1)["ops"]["not"]["pim"]["time_ns"]
    eight = compare(config, ("not",), 1 << 16, banks=8)["ops"]["not"]["pim"]["time_ns"]
    assert eight < one / 2  # tFAW, not the bank count, limits 8 banks of one rank


def test_parse_ops():
    assert parse_ops("all") == BITWISE_OPS
    assert parse_ops("xor, copy,xor") == ("xor", "copy")
    with pytest.raises(CompareError, match="unknown operation 'mul'"):
        parse_ops("and,mul")


@pytest.mark.parametrize(
    "size, banks, message",
    [
        (4096 + 64, None, "not a multiple of the 4,096-byte row"),
        (4096, 9, "--banks"),
        ((1 << 30) + 4096, None, "needs 2 vectors of 1,073,745,920 bytes"),  # > 2 GiB
    ],
)
def test_bad_requests_are_refused(size, banks, message):
    with pytest.raises(CompareError, match=message):
        compare(load_config("ddr3-1066"), ("copy",), size, banks)


def invoke(*args):
    return CliRunner().invoke(cli, ["compare", *args])


def test_cli_prints_the_table_and_writes_json_csv_and_plot(tmp_path):
    out_csv, out_png = tmp_path / "c.csv", tmp_path / "c.png"
    result = invoke(
        "--config", "ddr3-1066", "--ops", "copy,zero", "--size", "4KiB", "--banks", "1",
        "--json", "-", "--csv", str(out_csv), "--plot", str(out_png),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc["ops"]) == ["copy", "zero"]
    assert "energy profile datasheet" in result.stderr and "hmean" in result.stderr
    with out_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["op"] for r in rows] == ["copy", "zero"]
    assert float(rows[0]["pim_time_ns"]) == 90.0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_ranks_and_measured_host():
    result = invoke(
        "--ops", "not", "--size", "64KiB", "--ranks", "2", "--measure-host", "--json", "-"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ranks"] == 2
    measured = doc["ops"]["not"]["host_measured"]
    assert measured["time_ns"] > 0 and measured["throughput_gbps"] > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("--ops", "mul"), "unknown operation 'mul'"),
        (("--size", "100"), "not a multiple"),
        (("--banks", "99"), "--banks"),
        (("--energy-profile", "nope"), "nope"),
        (("-p", "timing.nXYZ=3"), "nXYZ"),
    ],
)
def test_cli_bad_input_is_one_error_line_and_exit_2(args, message):
    result = invoke("--size", "8KiB", *args) if "--size" not in args else invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


TRACES = __import__("pathlib").Path(__file__).parent.parent / "traces"


def test_trace_comparison_replays_both_ways_with_the_same_results():
    from pimsim.compare import compare_trace
    from pimsim.sim import Replay

    config = load_config("ddr4-2400")
    trace = TRACES / "sample-pim.trace"
    doc = compare_trace(config, trace)
    entry = doc["ops"]["sample-pim.trace"]
    assert entry["correct"] and doc["summary"]["all_correct"]
    assert entry["pim"]["time_ns"] == Replay(config, trace).run()["time_ns"]
    assert entry["speedup"] > 1 and entry["energy_reduction"] > 1
    assert entry["cpu"]["commands"].get("AACT", 0) == 0  # nothing ran in DRAM
    assert doc["size_bytes"] % 64 == 0 and doc["size_bytes"] > 0


def test_cli_trace_refuses_operation_options_and_traces_without_bulk_lines():
    result = invoke("--trace", str(TRACES / "sample-pim.trace"), "--ops", "xor")
    assert result.exit_code == 2 and "--ops compares operations" in result.output
    result = invoke("--trace", str(TRACES / "sample.trace"))
    assert result.exit_code == 2 and "no BBOP or COPY line" in result.output


def test_ctrl_c_keeps_the_operations_done_so_far():
    def stop_after_first(op):
        raise KeyboardInterrupt

    doc = compare(load_config("ddr3-1066"), ("copy", "zero"), 4096, 1, on_op=stop_after_first)
    assert doc["interrupted"] is True
    assert list(doc["ops"]) == ["copy"]
    assert doc["summary"]["speedup_hmean"] == doc["ops"]["copy"]["speedup"]
