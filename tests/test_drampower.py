"""The DRAMPower CSV export of `pimsim run --drampower`: it loads back and matches the
run's command counts, host and in-DRAM commands alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pimsim.cli.main import cli
from pimsim.drampower import HEADER, read_command_counts
from pimsim.errors import PimsimError

TRACES = Path(__file__).parent.parent / "traces"


@pytest.mark.parametrize("trace", ["sample.trace", "sample-pim.trace"])
def test_export_matches_the_command_counts(tmp_path, trace):
    out = tmp_path / "cmds.csv"
    result = CliRunner().invoke(
        cli, ["run", str(TRACES / trace), "--drampower", str(out), "--json", "-"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    issued = {k: v for k, v in doc["commands"].items() if v and k not in ("AAP", "AP")}
    assert dict(read_command_counts(out)) == issued


def test_export_lines_are_cycles_and_addresses(tmp_path):
    out = tmp_path / "cmds.csv"
    result = CliRunner().invoke(
        cli, ["run", str(TRACES / "sample.trace"), "--limit", "50", "--drampower", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert tuple(lines[0].split(",")) == HEADER
    first = lines[1].split(",")
    assert first[1] == "ACT" and int(first[5]) >= 0 and first[6] == "-1"
    stamps = [int(line.split(",")[0]) for line in lines[1:]]
    assert stamps == sorted(stamps)


def test_a_file_that_is_not_a_command_trace_is_refused(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(PimsimError, match="not a command trace"):
        read_command_counts(bad)


def test_an_unwritable_path_is_one_error_line(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["run", str(TRACES / "sample.trace"), "--drampower", str(tmp_path / "no" / "x.csv")],
    )
    assert result.exit_code == 2  # refused before the replay (pimsim.outputs)
    assert "'--drampower'" in result.output and "no such directory" in result.output
    assert "Traceback" not in result.output
