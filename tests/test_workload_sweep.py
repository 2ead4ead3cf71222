"""The workload framework: Ctrl-C keeps finished points, the plot, the exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pimsim.apps import WORKLOADS
from pimsim.apps.sweep import count_text, format_table, point_label, sweep
from pimsim.cli.main import cli
from pimsim.config import load_config

POINTS = [{"users": 1 << 20, "weeks": 2}, {"users": 1 << 21, "weeks": 2}]


def _stop_after_first(point):
    if point["users"] == 1 << 20:
        raise KeyboardInterrupt


def test_ctrl_c_keeps_the_finished_points():
    cfg = load_config("ddr3-1600", ())
    doc = sweep(WORKLOADS["bitmap-index"], cfg, POINTS, banks=8, on_point=_stop_after_first)
    assert doc["interrupted"] is True
    assert [p["params"] for p in doc["points"]] == POINTS[:1]
    assert "[interrupted]" in format_table(doc)
    assert doc["summary"]["speedup_hmean"]["dram-and+cpu-count"] > 1.0


def test_command_exits_130_after_ctrl_c_with_the_table(monkeypatch):
    real = WORKLOADS["bitmap-index"]
    calls = []

    def run(*args):
        calls.append(args)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real.run(*args)

    from dataclasses import replace

    monkeypatch.setitem(WORKLOADS, "bitmap-index", replace(real, run=run))
    result = CliRunner().invoke(
        cli, ["workload", "bitmap-index", "--users", "1M,2M", "--weeks", "2", "--banks", "4"]
    )
    assert result.exit_code == 130
    assert "users=1M weeks=2" in result.output and "users=2M" not in result.output


def test_plot_is_written(tmp_path):
    path = tmp_path / "sweep.png"
    result = CliRunner().invoke(
        cli,
        ["workload", "bitmap-index", "--users", "1M", "--weeks", "2,3", "--no-data", "--plot",
         str(path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_bad_plot_extension_is_refused_before_any_work():
    result = CliRunner().invoke(cli, ["workload", "bitmap-index", "--plot", "x.nope"])
    assert result.exit_code == 2 and "extension" in result.output


@pytest.mark.parametrize(
    "value, text", [(8 << 20, "8M"), (3 << 30, "3G"), (1000, "1000"), (64 << 10, "64K")]
)
def test_counts_are_shown_in_binary_units(value, text):
    assert count_text(value) == text
    assert point_label({"users": value, "weeks": 2}) == f"users={text} weeks=2"
