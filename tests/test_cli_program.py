"""`pimsim program`: run a built-in or user µprogram over vectors, report and check it."""

import json

from click.testing import CliRunner

from pimsim.cli.main import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_builtin_runs_on_every_bank_and_matches_numpy():
    result = invoke("program", "nand", "--config", "ddr3-1600", "--size", "512KiB", "--json", "-")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["correct"] is True and doc["rows"] == 64 and doc["in_dram_rows"] == 64
    assert doc["commands"]["AAP"] == 5 * 64 and doc["commands"]["AP"] == 0
    assert "matches numpy" in result.stderr


def test_user_program_is_checked_and_costed(tmp_path):
    path = tmp_path / "andnot.pim"
    path.write_text(
        "in Di Dj\nout Dk\nAAP Dj -> B5\nAAP Di -> B0\nAAP B4 -> B1\nAAP C0 -> B2\nAAP B12 -> Dk\n"
    )
    result = invoke("program", str(path), "--config", "ddr3-1600", "--size", "64KiB")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("andnot on 65,536 bytes (ddr3-1600)")
    assert "AAP 40" in result.output


def test_illegal_program_is_one_line_naming_the_line(tmp_path):
    path = tmp_path / "bad.pim"
    path.write_text("in A\nout B\nAAP A -> C1\n")
    result = invoke("program", str(path))
    assert result.exit_code == 2  # a bad program is bad input
    assert result.output.strip() == f"Error: {path}:3: destination: writes the constant row C1"


def test_bad_size_is_a_usage_error():
    result = invoke("program", "not", "--size", "lots")
    assert result.exit_code == 2 and "is not a size like 8192, 4KiB or 32MiB" in result.output
