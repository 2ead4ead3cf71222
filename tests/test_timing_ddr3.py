"""DDR3 timing: every constraint of pimsim.standards.DDR3 is tight on the device.

Tight means: the following command is refused (TimingViolationError) at t - 1, accepted at t,
and ``earliest()`` says t, where t is the cycle the constraint demands. The named tests write
the famous rules out with the ddr3-1600 numbers (cycles of tCK); the generated test at the end
walks ``DDR3.constraints`` itself. DDR3 has no bank groups: one tRRD, tCCD and tWTR for all
banks of a rank, and the rank switch costs nRTRS. The preset has one rank; the rank-switch
tests ask for two.

AACT, the second activation of Ambit's ACTIVATE-ACTIVATE-PRECHARGE, follows its ACT after tWLOV
with the split row decoder the preset has (4 ns = 3.2 cycles: the core counts 5 ticks per cycle)
and after nRAS without it (ddr3-1066); its named tests speak ticks where the cycle is split.
"""

from __future__ import annotations

import pytest
from timing_helpers import (
    NO_SPLIT,
    Adjust,
    assert_tight,
    assert_tight_tick,
    assert_xfail_is_needed,
    common_adjust,
    cycle_timings,
    generated_cases,
    make_device,
    run_case,
)

from pimsim.standards import DDR3

PRESET = "ddr3-1600"
TWO_RANKS = "organisation.ranks=2"

# The ddr3-1600 preset, in cycles.
nBL = 4
nCL = nRCD = nRP = 8
nRAS, nRC = 28, 36
nWR, nRTP, nCWL = 12, 6, 8
nCCD, nRRD, nWTR = 4, 5, 6
nFAW, nRFC, nRTRS = 24, 208, 1

T = 1000  # when the command under test's predecessor issues; the device is idle before


@pytest.fixture
def dev():
    return make_device(PRESET, TWO_RANKS)


def test_preset_has_the_datasheet_timings():
    dev = make_device(PRESET)
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
        nCCD=nCCD,
        nRRD=nRRD,
        nWTR=nWTR,
        nFAW=nFAW,
        nRFC=nRFC,
        nRTRS=nRTRS,
    )
    assert {k: dev.config.timing[k] for k in expected} == expected
    assert dev.config.organisation.ranks == 1
    assert dev.config.organisation.bankgroups == 1


# (timing within one bank: tests/test_timing_bank.py, for every preset)


# --- activations across banks -----------------------------------------------------------------


def test_act_to_act_other_bank_respects_nrrd(dev):
    dev.issue("ACT", T, bank=1)
    assert_tight(dev, "ACT", T + nRRD, bank=2)


def test_fifth_act_respects_nfaw(dev):
    dev.issue("ACT", T, bank=0)
    assert_tight(dev, "ACT", T + nRRD, bank=1)
    assert_tight(dev, "ACT", T + 2 * nRRD, bank=2)
    assert_tight(dev, "ACT", T + 3 * nRRD, bank=3)
    # nRRD alone would allow T + 4 * nRRD = T + 20; the window holds it to the first + nFAW.
    assert_tight(dev, "ACT", T + nFAW, bank=4)


def test_acts_to_other_rank_do_not_fill_the_faw_window(dev):
    for i in range(4):
        dev.issue("ACT", T + i * nRRD, rank=1, bank=i)
    assert_tight(dev, "ACT", T + 3 * nRRD + 1, rank=0)


# --- column commands ---------------------------------------------------------------------------


@pytest.fixture
def open_banks(dev):
    """Row 5 open in banks 0 and 1 of both ranks, long ago."""
    cycle = 0
    for rank in (0, 1):
        for bank in (0, 1):
            cycle += 50
            dev.issue("ACT", cycle, rank=rank, bank=bank, row=5)
    return dev


def test_rd_to_rd_respects_nccd(open_banks):
    # nCCD = nBL here: the column rule and the data bus demand the same cycle.
    open_banks.issue("RD", T, bank=0, row=5)
    assert_tight(open_banks, "RD", T + nCCD, bank=1, row=5)


def test_wr_to_wr_respects_nccd(open_banks):
    open_banks.issue("WR", T, bank=0, row=5)
    assert_tight(open_banks, "WR", T + nCCD, bank=1, row=5)


def test_wr_to_rd_respects_nwtr(open_banks):
    open_banks.issue("WR", T, bank=0, row=5)
    assert_tight(open_banks, "RD", T + nCWL + nBL + nWTR, bank=1, row=5)


def test_wr_to_rd_same_bank_respects_nwtr(open_banks):
    open_banks.issue("WR", T, row=5)
    assert_tight(open_banks, "RD", T + nCWL + nBL + nWTR, row=5)


def test_rd_to_wr_turnaround(open_banks):
    open_banks.issue("RD", T, row=5)
    assert_tight(open_banks, "WR", T + nCL + nBL + 2 - nCWL, row=5)


def test_rank_switch_rd_to_rd_respects_nrtrs(open_banks):
    open_banks.issue("RD", T, rank=0, row=5)
    assert_tight(open_banks, "RD", T + nBL + nRTRS, rank=1, row=5)


def test_rank_switch_rd_to_wr(open_banks):
    open_banks.issue("RD", T, rank=0, row=5)
    assert_tight(open_banks, "WR", T + nBL + nRTRS, rank=1, row=5)


def test_rank_switch_wr_to_rd(open_banks):
    open_banks.issue("WR", T, rank=0, row=5)
    assert_tight(open_banks, "RD", T + nCL + nBL + nRTRS - nCWL, rank=1, row=5)


def test_rank_switch_wr_to_wr_is_held_by_the_data_bus_only(open_banks):
    open_banks.issue("WR", T, rank=0, row=5)
    assert_tight(open_banks, "WR", T + nBL, rank=1, row=5)


def test_rd_to_prea_respects_nrtp(open_banks):
    open_banks.issue("RD", T, row=5)
    assert_tight(open_banks, "PREA", T + nRTP)
    assert all(open_banks.open_row(0, 0, 0, b) is None for b in range(8))


def test_wr_to_prea_respects_write_recovery(open_banks):
    open_banks.issue("WR", T, row=5)
    assert_tight(open_banks, "PREA", T + nCWL + nBL + nWR)


# --- rank-wide commands and refresh ------------------------------------------------------------


def test_act_to_prea_respects_nras(dev):
    dev.issue("ACT", T, bank=7)
    assert_tight(dev, "PREA", T + nRAS)


def test_prea_to_act_respects_nrp(dev):
    dev.issue("ACT", T - 500, bank=7)
    dev.issue("PREA", T)
    assert_tight(dev, "ACT", T + nRP, bank=7)


@pytest.mark.parametrize("cmd", ["ACT", "PREA", "REF"])
def test_ref_blocks_rank_for_nrfc(dev, cmd):
    # PRE is blocked too, but it needs an open bank and none can open before nRFC has passed.
    dev.issue("REF", T)
    assert_tight(dev, cmd, T + nRFC, bank=6)


@pytest.mark.parametrize("cmd", ["ACT", "PREA", "REF"])
def test_ref_does_not_block_the_other_rank(dev, cmd):
    dev.issue("REF", T, rank=0)
    assert_tight(dev, cmd, T + 1, rank=1)
    assert dev.earliest("ACT", rank=0) == T + nRFC


# --- the command bus ---------------------------------------------------------------------------


def test_command_bus_one_per_cycle(dev):
    dev.issue("ACT", T, rank=0)
    assert_tight(dev, "ACT", T + 1, rank=1)


# --- AACT: the second activation of an AAP ---------------------------------------------------

K = 5  # ticks per cycle with the split decoder: tCK 1.25 ns, tWLOV 4 ns = 3.2 cycles
nAAP = 16  # tWLOV in ticks

#: tRRD is a rule between different banks, so an ACT and the AACT of its own bank are held
#: apart by nAAP alone; with tRRD lowered below tWLOV the result must be the same.
SPLIT_CONFIGS = [
    pytest.param((), id="preset"),
    pytest.param(("timing.nRRD=3",), id="nRRD=3"),
]


def test_split_decoder_counts_five_ticks_per_cycle():
    from pimsim.clock import Clock, tick_timings

    dev = make_device(PRESET)
    assert dev.config.pim.split_decoder
    assert (dev.config.tCK_ns, dev.config.pim.tWLOV_ns) == (1.25, 4.0)
    assert Clock.of(dev.config) == dev.clock == Clock(dev.config.tCK_ns, K)
    ticks = tick_timings(dev.config, dev.clock)
    assert (ticks["nCK"], ticks["nAAP"], ticks["nRAS"], ticks["nRRD"]) == (K, nAAP, nRAS * K, 25)


@pytest.mark.parametrize("overrides", SPLIT_CONFIGS)
def test_act_to_aact_respects_twlov_in_ticks(overrides):
    dev = make_device(PRESET, *overrides)
    dev.issue_tick("ACT", 0, row=5)
    assert_tight_tick(dev, "AACT", nAAP, row=7)
    assert dev.open_row(0, 0, 0, 0) == 5


@pytest.mark.parametrize("overrides", SPLIT_CONFIGS)
def test_act_to_aact_in_cycles_rounds_up(overrides):
    # 16 ticks are 3.2 cycles: the cycle API says 4, and refuses cycle 3.
    dev = make_device(PRESET, *overrides)
    dev.issue("ACT", 0, row=5)
    assert_tight(dev, "AACT", 4, row=7)


@pytest.mark.parametrize("overrides", SPLIT_CONFIGS)
def test_aact_to_pre_respects_nras_in_ticks(overrides):
    # From the AACT, off a cycle boundary: ACT->PRE alone would allow tick nRAS * K = 140.
    dev = make_device(PRESET, *overrides)
    dev.issue_tick("ACT", 0, row=5)
    dev.issue_tick("AACT", nAAP, row=7)
    assert dev.earliest("PRE") == 32  # ceil(156 / 5)
    assert_tight_tick(dev, "PRE", nAAP + nRAS * K)
    assert dev.open_row(0, 0, 0, 0) is None


@pytest.fixture
def ddr3_1066():
    dev = make_device("ddr3-1066")
    assert not dev.config.pim.split_decoder and dev.clock.ticks_per_cycle == 1
    assert (dev.config.timing["nRAS"], dev.config.timing["nRRD"]) == (20, 4)
    return dev


def test_without_split_decoder_act_to_aact_respects_nras(ddr3_1066):
    ddr3_1066.issue("ACT", T, row=5)
    assert_tight(ddr3_1066, "AACT", T + 20, row=7)
    assert ddr3_1066.open_row(0, 0, 0, 0) == 5


def test_without_split_decoder_aact_to_pre_respects_nras(ddr3_1066):
    ddr3_1066.issue("ACT", T, row=5)
    ddr3_1066.issue("AACT", T + 20, row=7)
    assert_tight(ddr3_1066, "PRE", T + 40)


def test_aact_counts_in_nrrd(ddr3_1066):
    ddr3_1066.issue("ACT", T, bank=0, row=5)
    ddr3_1066.issue("AACT", T + 20, bank=0, row=7)
    assert_tight(ddr3_1066, "ACT", T + 24, bank=1, row=5)


# --- every constraint of the table, generated ---------------------------------------------------


def _adjust(con, p, f, timings):
    common = common_adjust(DDR3, con, p, f, timings)
    if common:
        return common
    if con.level == "channel" and con.latency == "nBL":
        # The data bus: across ranks the rank switch (nBL + nRTRS) always exceeds it, and in
        # one rank nCCD equals nBL in the preset; so: one rank, nCCD lowered below nBL.
        return Adjust(
            relation="rank",
            overrides=lambda t: (f"timing.nCCD={t['nBL'] - 1}",),
            why="nCCD below nBL",
        )
    if con.level == "rank" and not con.sibling and con.latency == "nCCD":
        # nCCD ties the data bus (nBL) in the preset; one more cycle.
        return Adjust(overrides=lambda t: (f"timing.nCCD={t['nBL'] + 1}",), why="nCCD above nBL")
    return None


def _cases():
    from pimsim.config import load_config

    timings = cycle_timings(load_config(PRESET, overrides=[NO_SPLIT]))
    return generated_cases(DDR3, PRESET, timings, _adjust, always=(TWO_RANKS,))


@pytest.mark.parametrize("case", _cases())
def test_every_ddr3_constraint_is_tight(case):
    run_case(case)


@pytest.mark.parametrize("case", [pytest.param(p.values[0], id=p.id) for p in _cases() if p.marks])
def test_every_ddr3_xfail_is_needed(case):
    assert_xfail_is_needed(case)
