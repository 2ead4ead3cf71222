"""The ``pimsim`` group and ``pimsim configs``: output, exit codes, one-line errors."""

from __future__ import annotations

import json

import click
import pytest
import yaml
from click.testing import CliRunner

from pimsim.cli.main import cli
from pimsim.cli.options import config_options, load_config_or_fail


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_configs_lists_the_presets():
    result = invoke("configs")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ddr3-1066", "ddr3-1600", "ddr4-2400"]
    assert "RowClone" in lines[0] and lines[2].endswith("(default)")


def test_show_applies_overrides():
    result = invoke("configs", "show", "ddr3-1600", "-p", "timing.nRCD=9")
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    assert doc["timing"]["nRCD"] == 9
    assert (doc["name"], doc["organisation"]["rows"]) == ("ddr3-1600", 65536)
    assert "# differs from ddr3-1600: timing.nRCD=9" in result.stdout


def test_show_json_defaults_to_ddr4_2400():
    result = invoke("configs", "show", "--json", "-p", "timing.tRAS=32")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["name"], doc["timing"]["nRAS"], doc["timing"]["tCK"]) == ("ddr4-2400", 39, 0.833)


def test_shown_yaml_loads_back(tmp_path):
    shown = invoke("configs", "show", "ddr3-1066", "-p", "organisation.ranks=2").stdout
    path = tmp_path / "again.yaml"
    path.write_text(shown)
    result = invoke("configs", "show", str(path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["organisation"]["ranks"] == 2


def bad_yaml(tmp_path) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text("preset: ddr4-2400\ntiming: [\n")
    return str(path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["configs", "show", "ddr5"], "Error: --config: ddr5: no such preset or file;"),
        (
            ["configs", "show", "-p", "timing.REFI=1"],
            "Error: -p: timing.REFI: unknown key; did you mean timing.nREFI?",
        ),
        (["configs", "show", "-p", "timing.nRC=40"], "Error: -p: timing.nRC: nRC = 40 is less"),
        (["configs", "show", "-p", "timing.nRCD=-1"], "Error: -p: timing.nRCD: must be positive"),
        (["configs", "show", "-p", "organisation.ranks=3"], "Error: -p: organisation.ranks:"),
        (["configs", "show", "-p", "pim.split_decoder=2"], "Error: -p: pim.split_decoder:"),
        (["configs", "show", "missing.yaml"], "Error: --config: missing.yaml: no such file"),
        (["configs", "show", "BAD"], "Error: {bad}:3: YAML syntax:"),
    ],
)
def test_errors_exit_2_with_one_line(tmp_path, args, expected):
    bad = bad_yaml(tmp_path)
    args = [bad if a == "BAD" else a for a in args]
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(expected.format(bad=bad))
    assert "Traceback" not in result.output


def test_shared_config_options():
    @click.command()
    @config_options
    def probe(config, params):
        """Print nRCD."""
        click.echo(load_config_or_fail(config, params).timing["nRCD"])

    runner = CliRunner()
    assert runner.invoke(probe, ["--config", "ddr3-1066", "-p", "timing.nRCD=9"]).stdout == "9\n"
    assert runner.invoke(probe, []).stdout == "16\n"
    result = runner.invoke(probe, ["--param", "timing.nRCD=x"])
    assert result.exit_code == 2
    assert result.stderr == "Error: -p: timing.nRCD: integer expected, got 'x'\n"


@pytest.mark.parametrize("args", [[], ["configs"], ["configs", "show"]])
def test_every_help_has_an_example(args):
    result = invoke(*args, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_version_and_verbosity_flags():
    assert invoke("--version").stdout.startswith("pimsim, version ")
    assert invoke("-v", "configs").exit_code == 0
    assert invoke("-q", "configs").exit_code == 0


def test_unknown_command_is_bad_usage():
    assert invoke("frobnicate").exit_code == 2
