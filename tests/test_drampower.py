"""The DRAMPower 5.x command trace of `pimsim run --drampower`.

DRAMPower's command-line tool (src/cli, 5.x) reads a CSV with no header and no comments, one
command a line: ``timestamp,command,rank,bankgroup,bank,row,column[,data]``, every number
unsigned (timestamps in clock cycles, ``bank`` the bank within the rank), RD/WR/RDA/WRA with a
hex data field, a name it does not know read as NOP, the energy window ending at the last line.
:func:`drampower_core_nj` below evaluates such a file with DRAMPower's DDR4 core equations
(factor rho 1, IBeta = IDD0), written here from the published formulas and independent of
pimsim.results.energy, and the tests set it against hand-computed figures and against pimsim's own
energy report.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from signals import restore_sigint
from timing_helpers import make_device

from pimsim.agents import System
from pimsim.cli.main import cli
from pimsim.config import load_config
from pimsim.errors import PimsimError
from pimsim.outputs import OutputError
from pimsim.results.drampower import CommandCsv, read_command_counts
from pimsim.sim import Replay
from pimsim.workloads import write_trace

TRACES = Path(__file__).parent.parent / "traces"
NUMBER = re.compile(r"[0-9]+")
HEX = re.compile(r"0x([0-9a-fA-F]{2})*")
CORE_TERMS = ("act", "pre", "rd", "wr", "ref", "background")


def parse_drampower_csv(path: Path) -> list[tuple[int, str, int, int, int, int, int]]:
    """The lines of a command trace, checked against DRAMPower's reader: 7 unsigned fields, 8
    for RD/WR/RDA/WRA whose last is hex data of a 64-byte burst."""
    lines = []
    with open(path, newline="") as fh:
        for row in csv.reader(fh):
            data = row[1] in ("RD", "WR", "RDA", "WRA")
            assert len(row) == (8 if data else 7), row
            assert all(NUMBER.fullmatch(f) for f in row[:1] + row[2:7]), row
            if data:
                assert HEX.fullmatch(row[7]) and len(row[7]) == 2 + 2 * 64, row[:7]
            lines.append((int(row[0]), row[1], *map(int, row[2:7])))
    return lines


def drampower_core_nj(path: Path, config) -> dict[str, float]:
    """DRAMPower's DDR4 core energy (nJ) of a command trace, VDD and VPP rails, per rank of
    ``devices`` devices: ACT (I0 - I3N) tRAS, PRE (I0 - I2N) tRP per bank that closes, RD/WR
    (I4R/W - I3N) nBL tCK, REFA (I5 - I3N) tRFC, background I3N while a bank is open or a
    refresh runs and I2N otherwise, up to the last line's timestamp."""
    p, t, tck = config.power, config.timing, config.tCK_ns
    org = config.organisation
    rails = [(p["VDD"], p["IDD0"], p["IDD2N"], p["IDD3N"], p["IDD4R"], p["IDD4W"], p["IDD5"])]
    if "VPP" in p:  # no IPP4R/W or IPP5 in pimsim's configs: DRAMPower's memspec gets IPP3N
        i3 = p["IPP3N"]
        rails.append((p["VPP"], p["IPP0"], p.get("IPP2N", i3), i3, i3, i3, i3))
    open_banks: dict[int, set[int]] = {r: set() for r in range(org.ranks)}
    refresh_end = dict.fromkeys(range(org.ranks), 0)
    active_since: dict[int, int | None] = dict.fromkeys(range(org.ranks), None)
    active_cycles = Counter()
    counts = Counter()
    lines = parse_drampower_csv(path)

    for stamp, name, rank, _bg, bank, _row, _col in lines:
        for r in range(org.ranks):  # a refresh that ended before this line
            if active_since[r] is not None and not open_banks[r] and 0 < refresh_end[r] <= stamp:
                active_cycles[r] += refresh_end[r] - active_since[r]
                active_since[r] = None
        if name == "ACT":
            counts["act"] += 1
            open_banks[rank].add(bank)
        elif name in ("PRE", "RDA", "WRA") and bank in open_banks[rank]:
            counts["pre"] += 1
            open_banks[rank].discard(bank)
        elif name == "PREA":
            counts["pre"] += len(open_banks[rank])
            open_banks[rank].clear()
        elif name == "REFA":
            counts["ref"] += 1
            refresh_end[rank] = stamp + t["nRFC"]
        counts["rd"] += name in ("RD", "RDA")
        counts["wr"] += name in ("WR", "WRA")
        busy = open_banks[rank] or refresh_end[rank] > stamp
        if busy and active_since[rank] is None:
            active_since[rank] = stamp
        elif not busy and active_since[rank] is not None:
            active_cycles[rank] += stamp - active_since[rank]
            active_since[rank] = None
    end = lines[-1][0]
    for r in range(org.ranks):
        if active_since[r] is not None:
            stop = end if open_banks[r] else min(end, refresh_end[r])
            active_cycles[r] += stop - active_since[r]
    active_ns = sum(active_cycles.values()) * tck
    precharged_ns = org.ranks * end * tck - active_ns
    ras, rp, burst, rfc = t["nRAS"] * tck, t["nRP"] * tck, t["nBL"] * tck, t["nRFC"] * tck
    e = Counter()
    for v, i0, i2n, i3n, i4r, i4w, i5 in rails:
        e["act"] += v * (i0 - i3n) * ras * counts["act"]
        e["pre"] += v * (i0 - i2n) * rp * counts["pre"]
        e["rd"] += v * (i4r - i3n) * burst * counts["rd"]
        e["wr"] += v * (i4w - i3n) * burst * counts["wr"]
        e["ref"] += v * (i5 - i3n) * rfc * counts["ref"]
        e["background"] += v * (i3n * active_ns + i2n * precharged_ns)
    return {k: e[k] * org.devices_per_rank / 1000 for k in CORE_TERMS}


def export(dev, path: Path, end_cycle: int, interrupted: bool = False) -> None:
    out = CommandCsv(path, dev.config, dev.clock)
    out.write(dev.command_log())
    out.finish(end_cycle, interrupted)


def test_a_hand_computed_trace_on_ddr3(tmp_path):
    # DDR3-1600 (MT41J512M8): IDD0 75, IDD2N 50, IDD3N 57, IDD4R 187, IDD4W 165, IDD5 220 mA,
    # 1.5 V, 8 devices; tCK 1.25 ns, nRAS 28, nRP 8, nBL 4, nRFC 208
    dev = make_device("ddr3-1600")
    dev.start_command_log()
    dev.issue("ACT", 0, bank=3, row=7)
    dev.issue("RD", 11, bank=3, row=7, column=8)
    dev.issue("PRE", 28, bank=3)
    dev.issue("REF", 40)
    export(dev, tmp_path / "t.csv", 300)
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert [line.split(",")[:7] for line in lines] == [
        ["0", "ACT", "0", "0", "3", "7", "0"],
        ["11", "RD", "0", "0", "3", "7", "8"],
        ["28", "PRE", "0", "0", "3", "0", "0"],
        ["40", "REFA", "0", "0", "0", "0", "0"],
        ["300", "END", "0", "0", "0", "0", "0"],
    ]
    e = drampower_core_nj(tmp_path / "t.csv", dev.config)
    mw = 1.5 * 8 / 1000  # nJ per mA-ns over a rank
    assert e["act"] == pytest.approx((75 - 57) * 35 * mw)  # 7.56
    assert e["pre"] == pytest.approx((75 - 50) * 10 * mw)  # 3.0
    assert e["rd"] == pytest.approx((187 - 57) * 5 * mw)  # 7.8
    assert e["ref"] == pytest.approx((220 - 57) * 260 * mw)  # 508.56
    # active: the bank open 0..28, the refresh 40..248; precharged the rest of 375 ns
    active_ns, precharged_ns = (28 + 208) * 1.25, (300 - 28 - 208) * 1.25
    assert e["background"] == pytest.approx((57 * active_ns + 50 * precharged_ns) * mw)
    ours = energy_of(dev, 300)
    assert {k: ours[k] for k in CORE_TERMS} == pytest.approx(e)


def energy_of(dev, cycle: int) -> dict[str, float]:
    from pimsim.results.energy import energy_of

    return energy_of(dev.snapshot(cycle * dev.clock.ticks_per_cycle), dev.config)


def test_bank_groups_give_the_bank_within_the_rank_on_ddr4(tmp_path):
    dev = make_device("ddr4-2400")
    dev.start_command_log()
    for bg in range(4):
        dev.issue("ACT", 10 * bg, rank=1, bankgroup=bg, bank=2, row=5)
    export(dev, tmp_path / "t.csv", 200)
    rows = parse_drampower_csv(tmp_path / "t.csv")
    assert [(r[2], r[3], r[4]) for r in rows[:4]] == [(1, bg, bg * 4 + 2) for bg in range(4)]


def test_a_hand_computed_ddr4_trace_with_the_vpp_rail(tmp_path):
    # DDR4-2400 (MT40A512M8): IDD0 64, IDD2N 50, IDD3N 67, IDD4R 160, IDD5 192 mA, 1.2 V;
    # VPP 2.5 V, IPP0 4, IPP2N 3, IPP3N 3 mA; 8 devices, 2 ranks; tCK 0.833 ns, nRAS 39, nRP 16,
    # nBL 4, nRFC 420
    dev = make_device("ddr4-2400")
    dev.start_command_log()
    dev.issue("ACT", 0, bankgroup=1, bank=1, row=9)
    dev.issue("RD", 16, bankgroup=1, bank=1, row=9, column=0)
    dev.issue("PRE", 39, bankgroup=1, bank=1)
    dev.issue("REF", 60, rank=1)
    export(dev, tmp_path / "t.csv", 1000)
    e = drampower_core_nj(tmp_path / "t.csv", dev.config)
    tck, n = 0.833, 8 / 1000
    assert e["act"] == pytest.approx((-3 * 1.2 + 1 * 2.5) * 39 * tck * n)  # -0.286 nJ
    assert e["pre"] == pytest.approx((14 * 1.2 + 1 * 2.5) * 16 * tck * n)  # 2.06
    assert e["rd"] == pytest.approx(93 * 1.2 * 4 * tck * n)
    assert e["ref"] == pytest.approx((192 - 67) * 1.2 * 420 * tck * n)
    active = (39 + 420) * tck
    precharged = 2 * 1000 * tck - active
    bg = ((67 * 1.2 + 3 * 2.5) * active + (50 * 1.2 + 3 * 2.5) * precharged) * n
    assert e["background"] == pytest.approx(bg)
    ours = energy_of(dev, 1000)
    assert {k: ours[k] for k in CORE_TERMS} == pytest.approx(e)


@pytest.mark.parametrize("trace", ["sample.trace", "sample-pim.trace"])
def test_a_run_exports_its_commands_in_drampower_form(tmp_path, trace):
    out = tmp_path / "cmds.csv"
    result = CliRunner().invoke(
        cli, ["run", str(TRACES / trace), "--drampower", str(out), "--json", "-"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    issued = {k: v for k, v in doc["commands"].items() if v and k not in ("AAP", "AP")}
    issued["REFA"] = issued.pop("REF")
    assert dict(read_command_counts(out)) == issued
    lines = parse_drampower_csv(out)
    stamps = [line[0] for line in lines]
    assert stamps == sorted(stamps)
    assert lines[-1][:2] == (doc["cycles"], "END")
    assert not list(tmp_path.glob(".pimsim-*"))


def test_drampower_equations_on_the_export_match_the_run(tmp_path):
    # refresh, row hits and conflicts, two ranks: DRAMPower's core energy of the exported
    # commands is pimsim's own (the run ends with its END line)
    out = tmp_path / "cmds.csv"
    doc = Replay(load_config("ddr4-2400"), TRACES / "sample.trace", drampower=out).run()
    e = drampower_core_nj(out, load_config("ddr4-2400"))
    for k in CORE_TERMS:
        assert doc["energy_nj"][k] == pytest.approx(e[k], rel=1e-4, abs=1e-2), k


def test_several_channels_get_one_file_each(tmp_path):
    out = tmp_path / "cmds.csv"
    result = CliRunner().invoke(
        cli,
        ["run", str(TRACES / "sample.trace"), "-p", "organisation.channels=2"]
        + ["--limit", "200", "--drampower", str(out), "--json", "-"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmds.ch0.csv", "cmds.ch1.csv"]
    total = read_command_counts(tmp_path / "cmds.ch0.csv")
    total += read_command_counts(tmp_path / "cmds.ch1.csv")
    assert total["RD"] + total["WR"] == 200
    assert total["ACT"] == doc["commands"]["ACT"]


def test_a_file_that_is_not_a_command_trace_is_refused(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("timestamp,command,rank,bankgroup,bank,row,column\n")
    with pytest.raises(PimsimError, match="x.csv:1: not a DRAMPower command line"):
        read_command_counts(bad)
    bad.write_text("5,RD,0,0,0,1,8\n")  # RD without its data
    with pytest.raises(PimsimError, match="not a DRAMPower command line"):
        read_command_counts(bad)


def run_cli(*args: str):
    return CliRunner().invoke(cli, ["run", str(TRACES / "sample.trace"), *args])


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/dev/full", "not a regular file"),
        ("/dev/null", "not a regular file"),
        ("{tmp}", "is a directory, not a file"),
        ("{tmp}/no/x.csv", "no such directory"),
        ("", "an empty path names no file"),
        ("{tmp}/" + "x" * 300 + ".csv", "File name too long"),
    ],
)
def test_an_unwritable_path_is_refused_before_the_run(tmp_path, target, reason):
    started = time.monotonic()
    result = run_cli("--drampower", target.format(tmp=tmp_path))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Invalid value for '--drampower': ")
    assert reason in lines[0]
    assert len(lines[0]) < 200
    assert "cycles" not in result.output  # refused before the run, no stats
    assert time.monotonic() - started < 5
    assert not list(tmp_path.rglob(".pimsim-*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_directory_without_write_permission_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        result = run_cli("--drampower", str(tmp_path / "x.csv"))
    finally:
        tmp_path.chmod(0o700)
    assert result.exit_code == 2
    assert "permission denied" in result.output


def test_a_full_disk_leaves_no_csv_and_one_error_line(tmp_path, monkeypatch):
    """The disk fills while the trace is written: the stats are printed, then one error
    line (exit 1, as for any output that fails when written), and no file is left."""
    import builtins

    import pimsim.outputs as outputs

    def full(file, mode="r", **kwargs):  # the temporary file, as if the disk were full
        os.close(file)
        return builtins.open("/dev/full", mode, **kwargs)

    monkeypatch.setattr(outputs, "open", full, raising=False)
    out = tmp_path / "cmds.csv"
    result = run_cli("--drampower", str(out))
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {OutputError(out, 'cannot write: No space left on device')}"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_only_when_the_run_completes(tmp_path, monkeypatch):
    out = tmp_path / "cmds.csv"
    out.write_text("old\n")
    monkeypatch.setattr(Replay, "stats", lambda self: 1 / 0)  # the run fails at the end
    with pytest.raises(ZeroDivisionError):
        Replay(load_config("ddr4-2400"), TRACES / "sample.trace", drampower=out).run()
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmds.csv"]


def test_an_interrupted_run_keeps_what_ran_and_says_so(tmp_path, monkeypatch):
    calls = []
    advance = System.advance

    def stop_later(self):
        calls.append(1)
        if len(calls) == 3:  # three quanta of 65,536 cycles in
            raise KeyboardInterrupt
        return advance(self)

    monkeypatch.setattr(System, "advance", stop_later)
    out = tmp_path / "cmds.csv"
    trace = write_trace(tmp_path / "t.trace", "mix21", 20_000)
    doc = Replay(load_config("ddr4-2400"), trace, drampower=out).run()
    assert doc["interrupted"] and doc["requests"]["reads"] + doc["requests"]["writes"] < 20_000
    lines = parse_drampower_csv(out)
    assert lines[-2][:2] == (doc["cycles"], "INTERRUPTED")
    assert lines[-1][:2] == (doc["cycles"], "END")
    counts = read_command_counts(out)
    assert counts["ACT"] == doc["commands"]["ACT"] > 0
    assert "INTERRUPTED" not in counts


@pytest.mark.slow
def test_ctrl_c_on_a_real_run_exits_130_with_a_marked_csv(tmp_path):
    trace = write_trace(tmp_path / "big.trace", "mix21", 400_000)
    out = tmp_path / "cmds.csv"
    proc = subprocess.Popen(
        [Path(sys.executable).parent / "pimsim", "run", str(trace), "--drampower", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=restore_sigint,
    )
    # interrupt once the export has begun (the run takes seconds; a fixed sleep would race it)
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size for p in tmp_path.glob(f".{out.name}.*")):
        assert proc.poll() is None and time.monotonic() < deadline, "the export never began"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stdout
    lines = parse_drampower_csv(out)
    assert [line[1] for line in lines[-2:]] == ["INTERRUPTED", "END"]
