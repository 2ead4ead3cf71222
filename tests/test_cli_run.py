"""`pimsim run`: exit codes, the readable summary, the JSON stats document, errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pimsim.cli.main import cli

SAMPLE = str(Path(__file__).parent.parent / "traces" / "sample.trace")
KEYS = {
    "config",
    "cycles",
    "time_ns",
    "requests",
    "commands",
    "rows_raised",
    "row_buffer",
    "latency_ns",
    "bandwidth_gbps",
    "channels",
}


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_run_prints_a_summary_of_the_sample_trace():
    result = invoke("run", SAMPLE, "--limit", "500")
    assert result.exit_code == 0, result.output
    assert "cycles" in result.output and "row buffer" in result.output


def test_json_to_stdout_carries_only_the_stats_document():
    result = CliRunner().invoke(cli, ["run", SAMPLE, "--limit", "400", "--json", "-"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert set(doc) >= KEYS
    assert doc["requests"]["reads"] + doc["requests"]["writes"] == 400
    assert doc["commands"]["RD"] + doc["requests"]["forwarded_reads"] == doc["requests"]["reads"]
    assert doc["rows_raised"] == doc["commands"]["ACT"]
    assert doc["time_ns"] == pytest.approx(doc["cycles"] * 0.833, abs=1e-3)
    assert "cycles" in result.stderr


def test_json_file_and_overrides_are_reported(tmp_path):
    out = tmp_path / "stats.json"
    result = invoke(
        "run",
        SAMPLE,
        "--limit",
        "200",
        "--config",
        "ddr3-1600",
        "-p",
        "organisation.ranks=2",
        "--json",
        str(out),
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["config"] == {"name": "ddr3-1600", "differences": {"organisation.ranks": 2}}


def test_malformed_trace_line_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "bad.trace"
    bad.write_text("0 R 0x40\n1 Q 0x80\n")
    result = invoke("run", str(bad))
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {bad}:2: op: 'Q' is not R or W"


def test_address_beyond_the_memory_names_the_line(tmp_path):
    bad = tmp_path / "far.trace"
    bad.write_text("0 R 0x40\n# comment\n1 W 0x400000000\n")
    result = invoke("run", str(bad))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bad}:3: address: ")
    assert len(result.output.strip().splitlines()) == 1


def test_bad_config_key_exits_2():
    result = invoke("run", SAMPLE, "-p", "timing.REFI=3")
    assert result.exit_code == 2
    assert (
        result.output.strip() == "Error: -p: timing.REFI: unknown key; did you mean timing.nREFI?"
    )


def test_ctrl_c_keeps_the_stats_gathered_so_far(tmp_path):
    from pimsim.config import load_config
    from pimsim.sim import Replay

    trace = tmp_path / "long.trace"
    trace.write_text("".join(f"0 R {64 * i:#x}\n" for i in range(200_000)))

    def interrupt(sent):
        raise KeyboardInterrupt

    doc = Replay(load_config(), trace, with_data=False, on_progress=interrupt).run()
    assert doc["interrupted"] is True
    done = doc["requests"]["reads"]
    assert 0 < done < 200_000
    assert doc["commands"]["RD"] >= done
