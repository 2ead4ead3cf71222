"""One-way data flow: the clock's conversions, the counters snapshot, energy and stats as pure
functions of it, and the import graph that keeps them so.

The energy figures are computed by hand from the DDR3-1600 preset's datasheet values
(MT41J512M8: IDD0 75, IDD2N 50, IDD3N 57, IDD4R 187, IDD4W 165 mA, VDD 1.5 V, eight x8
devices per rank, tCK 1.25 ns, tRAS 35 ns, tRP 10 ns, nBL 4, channel I/O 2.9 / 13.3 pJ/bit),
which the first test checks the preset still holds.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from timing_helpers import make_device

from pimsim import _core
from pimsim.clock import MAX_TICKS_PER_CYCLE, Clock, tick_timings
from pimsim.config import load_config
from pimsim.results.counters import Counters
from pimsim.results.energy import energy_of
from pimsim.results.stats import build_stats
from pimsim.standards import CMD, COMMANDS, LEVELS

PIMSIM = Path(__file__).parent.parent / "pimsim"

# -- the clock -----------------------------------------------------------------------------


def pim_timings(tck_ns, twlov_ns=4.0, split_decoder=True, trbm_ns=8.0, lisa=False):
    """The fields Clock.of reads, without a whole config."""
    pim = SimpleNamespace(
        tWLOV_ns=twlov_ns, split_decoder=split_decoder, tRBM_ns=trbm_ns, lisa=lisa
    )
    return SimpleNamespace(tCK_ns=tck_ns, pim=pim)


def test_split_decoder_ticks_are_the_fewest_that_express_twlov():
    # 4 ns of 1.25 ns is 3.2 cycles: 16 ticks of five per cycle
    assert Clock.of(load_config("ddr3-1600")) == Clock(1.25, 5)
    # 4 ns of 0.833 ns is 4.802 cycles: 24.01 ticks of five, within the 2% tolerance
    assert Clock.of(load_config("ddr4-2400")) == Clock(0.833, 5)
    # no split decoder, no LISA: one tick per cycle
    assert Clock.of(load_config("ddr3-1066")) == Clock(1.875, 1)
    assert Clock.of(pim_timings(1.25, split_decoder=False)) == Clock(1.25, 1)


def test_lisa_trbm_also_sets_the_ticks():
    # tRBM 8 ns of 1.25 ns is 6.4 cycles: five ticks; with tWLOV 2.5 ns (2 cycles) alone, one
    assert Clock.of(pim_timings(1.25, 2.5, lisa=True)).ticks_per_cycle == 5
    assert Clock.of(pim_timings(1.25, 2.5, lisa=False)).ticks_per_cycle == 1


def test_a_timing_no_split_expresses_takes_the_most_ticks():
    # 0.53 cycles is within 2% of a whole number of ticks for no split up to 16 (17 would do)
    clock = Clock.of(pim_timings(1.25, 0.53 * 1.25))
    assert clock.ticks_per_cycle == MAX_TICKS_PER_CYCLE == 16
    assert clock.ns_to_ticks(0.53 * 1.25) == 8  # 8.48 ticks, to the nearest


def test_ticks_to_cycles_rounds_up_and_cycle_at_rounds_down():
    clock = Clock(1.25, 5)
    ticks = [0, 1, 4, 5, 6, 16, 20]
    assert [clock.ticks_to_cycles(t) for t in ticks] == [0, 1, 1, 1, 2, 4, 4]
    assert [clock.cycle_at(t) for t in ticks] == [0, 0, 0, 1, 1, 3, 4]
    np.testing.assert_array_equal(clock.ticks_to_cycles(np.array(ticks)), [0, 1, 1, 1, 2, 4, 4])
    np.testing.assert_array_equal(clock.cycle_at(np.array(ticks)), [0, 0, 0, 1, 1, 3, 4])
    assert clock.cycles_to_ticks(7) == 35
    assert clock.ticks_in_cycles(16) == 3.2


def test_nanoseconds_of_cycles_and_ticks():
    clock = Clock(1.25, 5)
    assert clock.tick_ns == 0.25
    assert clock.cycles_to_ns(28) == 35.0  # tRAS
    assert clock.ticks_to_ns(16) == 4.0  # tWLOV
    assert clock.ns_in_ticks(100.0) == 400.0
    assert clock.ns_in_cycles(100.0) == 80.0


def test_datasheet_ns_round_up_to_cycles_with_jedecs_guard_band():
    assert Clock(0.833).ns_to_cycles(32) == 39  # 38.42 cycles
    assert Clock(0.833).ns_to_cycles(13.32) == 16  # 15.99
    assert Clock(1.25).ns_to_cycles(35) == 28  # exact
    assert Clock(1.0).ns_to_cycles(10.02) == 10  # 2% over: within the 2.5% guard band
    assert Clock(1.0).ns_to_cycles(10.03) == 11


def test_pim_ns_round_to_the_nearest_tick_and_at_least_one():
    clock = Clock(1.0, 1)
    assert (clock.ns_to_ticks(2.4), clock.ns_to_ticks(2.6)) == (2, 3)
    assert clock.ns_to_ticks(0.01) == 1


def test_tick_timings_of_the_split_decoder():
    config = load_config("ddr3-1600")
    ticks = tick_timings(config, Clock.of(config))
    assert (ticks["nCK"], ticks["nAAP"], ticks["nRAS"], ticks["nRP"]) == (5, 16, 140, 40)
    assert ticks["nTRANSFER"] == config.pim.transfer_cycles * 5
    assert ticks["nRBM"] == 32  # tRBM 8 ns: 6.4 cycles
    naive = load_config("ddr3-1600", ["pim.split_decoder=false"])
    assert tick_timings(naive, Clock.of(naive))["nAAP"] == naive.timing["nRAS"]


def test_the_device_speaks_cycles_through_its_clock():
    dev = make_device("ddr3-1600")
    assert dev.clock == Clock(1.25, 5)
    dev.issue_tick("ACT", 0, row=5)
    assert dev.earliest_tick("AACT", row=7) == 16
    assert dev.earliest("AACT", row=7) == 4  # 3.2 cycles, rounded up


# -- the counters snapshot -----------------------------------------------------------------


def hammer(dev):
    """ACT row 7 three times as a triple-row activation, RD and WR in between, then PRE."""
    for k in range(3):
        dev.core.set_activation_rows(3)
        dev.issue("ACT", 100 * k, row=7)
        dev.core.set_activation_rows(1)
        dev.issue("RD", 100 * k + 10, row=7, column=0)
        dev.issue("WR", 100 * k + 30, row=7, column=8)
        dev.issue("PRE", 100 * k + 60, row=7)


def test_the_snapshot_holds_what_the_core_counted():
    dev = make_device("ddr3-1600")
    hammer(dev)
    end = dev.clock.cycles_to_ticks(400)
    counters = dev.snapshot(end)
    core = dev.core.activity(end)
    np.testing.assert_array_equal(counters.commands, dev.core.command_counts())
    np.testing.assert_array_equal(counters.rows_raised, core["rows_raised"])
    np.testing.assert_array_equal(counters.banks_precharged, core["banks_precharged"])
    np.testing.assert_array_equal(counters.open_ticks, core["open_ticks"])
    assert counters.command_counts() == dev.command_counts()
    assert {k: v for k, v in counters.command_counts().items() if v} == {
        "ACT": 3,
        "RD": 3,
        "WR": 3,
        "PRE": 3,
    }
    assert counters.rows_raised.tolist() == [9]
    assert counters.banks_precharged.tolist() == [3]
    assert counters.open_ticks.tolist() == [[3 * 60 * 5]]  # ACT to PRE, three times
    assert counters.max_row_activations == 3
    assert (counters.end_tick, counters.time_ns, counters.clock) == (2000, 500.0, dev.clock)


def test_the_snapshot_is_frozen_and_does_not_follow_the_device():
    dev = make_device("ddr3-1600")
    hammer(dev)
    counters = dev.snapshot(dev.clock.cycles_to_ticks(400))
    with pytest.raises(dataclasses.FrozenInstanceError):
        counters.end_tick = 0
    with pytest.raises(ValueError, match="read-only"):
        counters.commands[0, CMD["ACT"]] = 0
    dev.issue("ACT", 400, row=9)
    assert counters.command_counts()["ACT"] == 3
    assert dev.snapshot(0).command_counts()["ACT"] == 4


def test_a_still_open_rank_counts_its_open_time_up_to_the_end():
    dev = make_device("ddr3-1600")
    dev.issue("ACT", 10, row=7)
    assert dev.snapshot(dev.clock.cycles_to_ticks(110)).open_ticks.tolist() == [[100 * 5]]


# -- energy and stats as pure functions of the snapshot ----------------------------------------

MW = 1.5 * 8 / 1000  # nJ per mA * ns over a rank of eight devices at 1.5 V


def hand_counters(clock: Clock, channels: int = 1) -> Counters:
    """One triple-row ACT (3 rows raised), 2 RD, 1 WR, 1 PRE in 100 ns, the rank open 60 ns."""
    commands = np.zeros((channels, len(COMMANDS)), dtype=np.int64)
    for name, n in (("ACT", 1), ("RD", 2), ("WR", 1), ("PRE", 1)):
        commands[0, CMD[name]] = n
    return Counters(
        clock=clock,
        end_tick=clock.cycles_to_ticks(80),
        commands=commands,
        rows_raised=[3] + [0] * (channels - 1),
        banks_precharged=[1] + [0] * (channels - 1),
        open_ticks=[[clock.cycles_to_ticks(48)]] * channels,
        max_row_activations=1,
    )


def test_the_preset_holds_the_datasheet_values_the_hand_figures_use():
    config = load_config("ddr3-1600")
    p, t, org = config.power, config.timing, config.organisation
    assert (p["IDD0"], p["IDD2N"], p["IDD3N"], p["IDD4R"], p["IDD4W"], p["VDD"]) == (
        75,
        50,
        57,
        187,
        165,
        1.5,
    )
    assert (config.tCK_ns, t["nRAS"], t["nRP"], t["nBL"]) == (1.25, 28, 8, 4)
    assert (org.devices_per_rank, org.burst_bytes, org.ranks) == (8, 64, 1)
    assert (p["io_rd_pj_per_bit"], p["io_wr_pj_per_bit"]) == (2.9, 13.3)
    assert config.pim.extra_row_energy_factor == 0.22


@pytest.mark.parametrize("ticks", [1, 5])
def test_energy_of_a_hand_made_snapshot(ticks):
    config = load_config("ddr3-1600")
    e = energy_of(hand_counters(Clock(1.25, ticks)), config)
    pair = (75 * 45 - 57 * 35 - 50 * 10) * MW  # ACT+PRE: IDD0 tRC - IDD3N tRAS - IDD2N tRP
    assert pair == pytest.approx(10.56)
    act = (75 - 57) * 35 * MW + 2 * 0.22 * pair * 35 / 45  # two rows beyond the first
    burst_ns = 4 * 1.25
    expected = {
        "act": act,
        "pre": (75 - 50) * 10 * MW,
        "rd": 2 * (187 - 57) * burst_ns * MW,
        "wr": (165 - 57) * burst_ns * MW,
        "ref": 0.0,
        "transfer": 0.0,
        "io": 512 * (2 * 2.9 + 13.3) / 1000,
        "background": 57 * MW * 60 + 50 * MW * 40,  # 60 ns open, 40 ns precharged
    }
    expected["total"] = sum(expected.values())
    expected["above_idle"] = expected["total"] - 50 * MW * 100
    assert e == pytest.approx(expected)
    assert e["total"] == pytest.approx(111.07, abs=0.01)


def test_energy_of_the_device_snapshot_equals_the_hand_made_one():
    dev = make_device("ddr3-1600")
    dev.core.set_activation_rows(3)
    dev.issue("ACT", 0, row=7)
    dev.core.set_activation_rows(1)
    dev.issue("RD", 10, row=7, column=0)
    dev.issue("RD", 14, row=7, column=8)
    dev.issue("WR", 24, row=7, column=16)
    dev.issue("PRE", 48, row=7)  # WR + nCWL + nBL + nWR
    counters = dev.snapshot(dev.clock.cycles_to_ticks(80))
    hand = hand_counters(dev.clock)
    assert energy_of(counters, dev.config) == pytest.approx(energy_of(hand, dev.config))


def test_stats_of_a_hand_made_snapshot():
    config = load_config("ddr3-1600", ["organisation.channels=2"])
    counters = hand_counters(Clock(1.25, 5), channels=2)
    chans = [
        {
            "reads": r,
            "writes": w,
            "forwarded_reads": 0,
            "row_hits": 0,
            "row_misses": 0,
            "row_conflicts": 0,
            "latency": _no_latency(),
        }
        for r, w in ((2, 1), (0, 0))
    ]
    doc = build_stats(config, counters, chans, 80)
    assert (doc["cycles"], doc["time_ns"], doc["rows_raised"]) == (80, 100.0, 3)
    assert doc["commands"]["ACT"] == 1 and doc["commands"]["RD"] == 2
    assert doc["bandwidth_gbps"] == round(3 * 64 / 100.0, 4)
    assert doc["max_row_activations"] == 1
    assert [c["rows_raised"] for c in doc["channels"]] == [3, 0]
    assert doc["channels"][1]["commands"] == dict.fromkeys(COMMANDS, 0)


def _no_latency():
    from pimsim.results.stats import Latencies

    return Latencies.of_histogram(np.zeros(1, dtype=np.int64))


# -- the import graph ------------------------------------------------------------------------


def module_file(name: str) -> Path | None:
    """The source file of a pimsim module (None: not a Python source of the package)."""
    parts = name.split(".")
    if parts[0] != "pimsim":
        return None
    base = PIMSIM.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imports_of(name: str) -> set[str]:
    """The pimsim modules ``name`` imports when it runs (at top level or in a function; not
    under ``if TYPE_CHECKING``), with the packages that importing them runs."""
    path = module_file(name)
    if path is None:
        return set()
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    modules = {m for m in found if m.startswith("pimsim")}
    packages = {".".join(m.split(".")[:k]) for m in modules for k in range(1, m.count(".") + 1)}
    return {m for m in modules | packages if module_file(m) or m.startswith("pimsim._")}


def reachable(name: str) -> set[str]:
    """Every pimsim module importing ``name`` runs, transitively."""
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(imports_of(module))
    return seen - {name}


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("pimsim.results.energy", "pimsim.config"),
        ("pimsim.results.stats", "pimsim.results.energy"),
        ("pimsim.results.counters", "pimsim.clock"),
        ("pimsim.clock", None),
    ],
)
def test_results_never_import_the_device_or_the_core(module, imported):
    below = reachable(module)
    assert imported in below if imported else below == set()  # the graph is followed
    assert not {"pimsim.device", "pimsim._core", "pimsim._replay"} & below
    assert not any(m == "simpy" or m.startswith("pimsim.sim") for m in below)


def test_the_config_checks_do_not_import_upward():
    assert "pimsim.device" not in reachable("pimsim.config")
    assert "pimsim.device" in reachable("pimsim.sim")  # the test sees a real import


# -- the command and level codes ---------------------------------------------------------------


def test_the_core_was_built_from_the_declared_codes():
    assert _core.COMMAND_NAMES == COMMANDS
    assert _core.LEVEL_NAMES == LEVELS


def test_the_codes_are_declared_once():
    command_list = r'"TRANSFER",\s*"RBM",\s*"PREE"'
    assert re.search(command_list, (PIMSIM / "standards.py").read_text())
    sources = [*PIMSIM.glob("*.pyx"), *PIMSIM.glob("*.pxd"), *PIMSIM.glob("**/*.py")]
    for path in sources:
        text = path.read_text()
        assert "C_ACT = " not in text and "L_BANK = " not in text, path
        assert not re.search(command_list, text) or path.name == "standards.py", path
