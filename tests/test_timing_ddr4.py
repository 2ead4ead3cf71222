"""DDR4 timing: every constraint of pimsim.standards.DDR4 is tight on the device.

Tight means: the following command is refused (TimingViolationError) at t - 1, accepted at t,
and ``earliest()`` says t, where t is the cycle the constraint demands. The named tests write
the famous rules out with the ddr4-2400 numbers (cycles of tCK); the generated test at the end
walks ``DDR4.constraints`` itself, so a rule added to the table is tested without a new test.
The AACT tests speak ticks where the preset's split row decoder splits the cycle (5 per cycle).
"""

from __future__ import annotations

import pytest
from timing_helpers import (
    NO_SPLIT,
    Adjust,
    Case,
    _rule,
    assert_tight,
    assert_tight_tick,
    assert_xfail_is_needed,
    build_scenario,
    common_adjust,
    cycle_timings,
    generated_cases,
    make_device,
    run_case,
)

from pimsim.standards import DDR4

PRESET = "ddr4-2400"
TWO_RANKS = "organisation.ranks=2"

# The ddr4-2400 preset, in cycles.
nBL = 4
nCL = nRCD = nRP = 16
nRAS, nRC = 39, 55
nWR, nRTP, nCWL = 18, 9, 12
nCCD_S, nCCD_L = 4, 6
nRRD_S, nRRD_L = 4, 6
nWTR_S, nWTR_L = 3, 9
nFAW, nRFC, nCS = 26, 420, 2

T = 1000  # when the command under test's predecessor issues; the device is idle before


@pytest.fixture
def dev():
    return make_device(PRESET, TWO_RANKS)


def test_preset_has_the_datasheet_timings(dev):
    expected = dict(
        nBL=nBL,
        nCL=nCL,
        nRCD=nRCD,
        nRP=nRP,
        nRAS=nRAS,
        nRC=nRC,
        nWR=nWR,
        nRTP=nRTP,
        nCWL=nCWL,
        nCCD_S=nCCD_S,
        nCCD_L=nCCD_L,
        nRRD_S=nRRD_S,
        nRRD_L=nRRD_L,
        nWTR_S=nWTR_S,
        nWTR_L=nWTR_L,
        nFAW=nFAW,
        nRFC=nRFC,
        nCS=nCS,
    )
    assert {k: dev.config.timing[k] for k in expected} == expected


# (timing within one bank: tests/test_timing_bank.py, for every preset)


# --- activations across banks -----------------------------------------------------------------


def test_act_to_act_same_bankgroup_respects_nrrd_l(dev):
    dev.issue("ACT", T, bankgroup=1, bank=0)
    assert_tight(dev, "ACT", T + nRRD_L, bankgroup=1, bank=1)


def test_act_to_act_other_bankgroup_respects_nrrd_s(dev):
    dev.issue("ACT", T, bankgroup=1, bank=0)
    assert_tight(dev, "ACT", T + nRRD_S, bankgroup=2, bank=0)


def test_fifth_act_respects_nfaw(dev):
    dev.issue("ACT", T, bankgroup=0)
    assert_tight(dev, "ACT", T + nRRD_S, bankgroup=1)
    assert_tight(dev, "ACT", T + 2 * nRRD_S, bankgroup=2)
    assert_tight(dev, "ACT", T + 3 * nRRD_S, bankgroup=3)
    # nRRD alone would allow T + 4 * nRRD_S = T + 16; the window holds it to the first + nFAW.
    assert_tight(dev, "ACT", T + nFAW, bankgroup=1, bank=1)


def test_acts_to_other_rank_do_not_fill_the_faw_window(dev):
    for i in range(4):
        dev.issue("ACT", T + i * nRRD_S, rank=1, bankgroup=i)
    assert_tight(dev, "ACT", T + 3 * nRRD_S + 1, rank=0)


# --- column commands ---------------------------------------------------------------------------


@pytest.fixture
def open_banks(dev):
    """Row 5 open in banks 0 and 1 of bank groups 0 and 1 of both ranks, long ago."""
    cycle = 0
    for rank in (0, 1):
        for bankgroup in (0, 1):
            for bank in (0, 1):
                cycle += 50
                dev.issue("ACT", cycle, rank=rank, bankgroup=bankgroup, bank=bank, row=5)
    return dev


def test_rd_to_rd_same_bankgroup_respects_nccd_l(open_banks):
    open_banks.issue("RD", T, bankgroup=0, bank=0, row=5)
    assert_tight(open_banks, "RD", T + nCCD_L, bankgroup=0, bank=1, row=5)


def test_rd_to_rd_other_bankgroup_respects_nccd_s(open_banks):
    # nCCD_S = nBL here: the column rule and the data bus demand the same cycle.
    open_banks.issue("RD", T, bankgroup=0, row=5)
    assert_tight(open_banks, "RD", T + nCCD_S, bankgroup=1, row=5)


def test_wr_to_wr_same_bankgroup_respects_nccd_l(open_banks):
    open_banks.issue("WR", T, bankgroup=0, bank=0, row=5)
    assert_tight(open_banks, "WR", T + nCCD_L, bankgroup=0, bank=1, row=5)


def test_wr_to_rd_respects_nwtr_l(open_banks):
    open_banks.issue("WR", T, bankgroup=0, bank=0, row=5)
    assert_tight(open_banks, "RD", T + nCWL + nBL + nWTR_L, bankgroup=0, bank=1, row=5)


def test_wr_to_rd_respects_nwtr_s(open_banks):
    open_banks.issue("WR", T, bankgroup=0, row=5)
    assert_tight(open_banks, "RD", T + nCWL + nBL + nWTR_S, bankgroup=1, row=5)


def test_rd_to_wr_turnaround(open_banks):
    open_banks.issue("RD", T, row=5)
    assert_tight(open_banks, "WR", T + nCL + nBL + 2 - nCWL, row=5)


def test_rank_switch_rd_to_rd_respects_ncs(open_banks):
    open_banks.issue("RD", T, rank=0, row=5)
    assert_tight(open_banks, "RD", T + nBL + nCS, rank=1, row=5)


def test_rank_switch_rd_to_wr(open_banks):
    open_banks.issue("RD", T, rank=0, row=5)
    assert_tight(open_banks, "WR", T + nBL + nCS, rank=1, row=5)


def test_rank_switch_wr_to_rd(open_banks):
    open_banks.issue("WR", T, rank=0, row=5)
    assert_tight(open_banks, "RD", T + nCL + nBL + nCS - nCWL, rank=1, row=5)


def test_rank_switch_wr_to_wr_is_held_by_the_data_bus_only(open_banks):
    open_banks.issue("WR", T, rank=0, row=5)
    assert_tight(open_banks, "WR", T + nBL, rank=1, row=5)


def test_rd_to_prea_respects_nrtp(open_banks):
    open_banks.issue("RD", T, row=5)
    assert_tight(open_banks, "PREA", T + nRTP)
    assert all(open_banks.open_row(0, 0, g, b) is None for g in range(4) for b in range(4))


def test_wr_to_prea_respects_write_recovery(open_banks):
    open_banks.issue("WR", T, row=5)
    assert_tight(open_banks, "PREA", T + nCWL + nBL + nWR)


# --- rank-wide commands and refresh ------------------------------------------------------------


def test_act_to_prea_respects_nras(dev):
    dev.issue("ACT", T, bankgroup=2, bank=3)
    assert_tight(dev, "PREA", T + nRAS)


def test_prea_to_act_respects_nrp(dev):
    dev.issue("ACT", T - 500, bankgroup=2, bank=3)
    dev.issue("PREA", T)
    assert_tight(dev, "ACT", T + nRP, bankgroup=2, bank=3)


@pytest.mark.parametrize("cmd", ["ACT", "PREA", "REF"])
def test_ref_blocks_rank_for_nrfc(dev, cmd):
    # PRE is blocked too, but it needs an open bank and none can open before nRFC has passed.
    dev.issue("REF", T)
    assert_tight(dev, cmd, T + nRFC, bankgroup=3, bank=2)


@pytest.mark.parametrize("cmd", ["ACT", "PREA", "REF"])
def test_ref_does_not_block_the_other_rank(dev, cmd):
    dev.issue("REF", T, rank=0)
    assert_tight(dev, cmd, T + 1, rank=1)
    assert dev.earliest("ACT", rank=0) == T + nRFC


# --- the command bus ---------------------------------------------------------------------------


def test_command_bus_one_per_cycle(dev):
    dev.issue("ACT", T, rank=0)
    assert_tight(dev, "ACT", T + 1, rank=1)


def test_command_bus_is_per_channel():
    dev = make_device(PRESET, "organisation.channels=2")
    dev.issue("ACT", T, channel=0)
    dev.issue("ACT", T, channel=1)
    assert dev.command_counts()["ACT"] == 2


# --- AACT: the second activation of an AAP ---------------------------------------------------

K = 5  # ticks per cycle with the split decoder: tCK 0.833 ns, tWLOV 4 ns = 4.8 cycles
nAAP = 24  # tWLOV in ticks

#: tRRD is a rule between different banks, so an ACT and the AACT of its own bank are held
#: apart by nAAP alone; with tRRD lowered below tWLOV the result must be the same.
SPLIT_CONFIGS = [
    pytest.param((), id="preset"),
    pytest.param(("timing.nRRD_L=4",), id="nRRD_L=4"),
]


def test_split_decoder_counts_five_ticks_per_cycle():
    from pimsim.clock import Clock, tick_timings

    dev = make_device(PRESET)
    assert dev.config.pim.split_decoder
    assert (dev.config.tCK_ns, dev.config.pim.tWLOV_ns) == (0.833, 4.0)
    assert Clock.of(dev.config) == dev.clock == Clock(dev.config.tCK_ns, K)
    ticks = tick_timings(dev.config, dev.clock)
    assert (ticks["nCK"], ticks["nAAP"], ticks["nRAS"]) == (K, nAAP, nRAS * K)


@pytest.mark.parametrize("overrides", SPLIT_CONFIGS)
def test_act_to_aact_respects_twlov_in_ticks(overrides):
    dev = make_device(PRESET, *overrides)
    dev.issue_tick("ACT", 0, bankgroup=1, row=5)
    assert dev.earliest("AACT", bankgroup=1, row=7) == 5  # ceil(4.8)
    assert_tight_tick(dev, "AACT", nAAP, bankgroup=1, row=7)
    assert_tight_tick(dev, "PRE", nAAP + nRAS * K, bankgroup=1)


def test_without_split_decoder_act_to_aact_respects_nras():
    dev = make_device(PRESET, "pim.split_decoder=false")
    assert dev.clock.ticks_per_cycle == 1
    dev.issue("ACT", T, row=5)
    assert_tight(dev, "AACT", T + nRAS, row=7)
    assert dev.open_row(0, 0, 0, 0) == 5


def test_aact_counts_in_nrrd_l_and_nfaw():
    dev = make_device(PRESET, "pim.split_decoder=false")
    dev.issue("ACT", T - 500, bankgroup=0, bank=0, row=5)
    dev.issue("ACT", T - 400, bankgroup=1, bank=1, row=5)
    dev.issue("AACT", T, bankgroup=0, bank=0, row=7)
    assert_tight(dev, "ACT", T + nRRD_L, bankgroup=0, bank=1)
    assert_tight(dev, "ACT", T + nRRD_L + nRRD_S, bankgroup=2)
    assert_tight(dev, "AACT", T + nRRD_L + 2 * nRRD_S, bankgroup=1, bank=1, row=7)
    # four activations since T: the fifth waits for T + nFAW (nRRD_S alone: T + 18)
    assert_tight(dev, "ACT", T + nFAW, bankgroup=3)


# --- every constraint of the table, generated ---------------------------------------------------


def _adjust(con, p, f, timings):
    common = common_adjust(DDR4, con, p, f, timings)
    if common:
        return common
    if con.level == "channel" and con.latency == "nBL":
        # The data bus: across ranks the rank switch (nBL + nCS) always exceeds it, and in one
        # rank nCCD_S equals nBL in the preset; so: one rank, nCCD_S lowered below nBL.
        return Adjust(
            relation="rank",
            overrides=lambda t: (f"timing.nCCD_S={t['nBL'] - 1}",),
            why="nCCD_S below nBL",
        )
    if con.level == "rank" and not con.sibling and con.latency == "nCCD_S":
        # nCCD_S ties the data bus (nBL) in the preset; one more cycle (still <= nCCD_L).
        return Adjust(
            overrides=lambda t: (f"timing.nCCD_S={t['nBL'] + 1}",), why="nCCD_S above nBL"
        )
    return None


def _cases():
    from pimsim.config import load_config

    timings = cycle_timings(load_config(PRESET, overrides=[NO_SPLIT]))
    return generated_cases(DDR4, PRESET, timings, _adjust, always=(TWO_RANKS,))


@pytest.mark.parametrize("case", _cases())
def test_every_ddr4_constraint_is_tight(case):
    run_case(case)


@pytest.mark.parametrize("case", [pytest.param(p.values[0], id=p.id) for p in _cases() if p.marks])
def test_every_ddr4_xfail_is_needed(case):
    assert_xfail_is_needed(case)


def test_generator_notices_a_tie():
    # Without its override, nCCD_S (4) ties the data bus (nBL = 4): the scenario must say so
    # rather than pass without proving anything about nCCD_S.
    from pimsim.config import load_config

    con = _rule(DDR4, "rank", False, "RD", "RD")
    case = Case(DDR4, PRESET, con, "RD", "RD", "rank", common=(NO_SPLIT, TWO_RANKS))
    config = load_config(PRESET, overrides=[NO_SPLIT, TWO_RANKS])
    scenario = build_scenario(case, cycle_timings(config), config.organisation)
    assert "[nBL] demands" in scenario.report
