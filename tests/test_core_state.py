"""Bank state and addresses: illegal commands are refused with a message naming the command
and the address, and a refused command changes nothing.

The rules: ACT needs a closed bank; PRE an open one; RD/WR/RDA/WRA an open bank with the same
row, and RDA/WRA close it; REF needs every bank of its rank closed; PREA closes every bank of
its rank (in any state). AACT (the second activation of an AAP) needs an open bank, may name any
row in range, and leaves the bank open with the row it had. Addresses are checked against the
organisation, and columns of column commands must be multiples of the burst length. Every
command here is issued long after anything before it, so the refusals are about state, never
about timing.
"""

from __future__ import annotations

import re

import pytest
from timing_helpers import make_device

from pimsim.errors import IllegalCommandError, TimingViolationError
from pimsim.standards import COMMANDS

CAS = ("RD", "WR", "RDA", "WRA")
AT = dict(rank=1, bankgroup=2, bank=3)  # a bank whose address shows in a message
ROW, OTHER_ROW, COLUMN = 1234, 99, 48
LATER = 10_000  # a cycle no timing constraint reaches


@pytest.fixture
def dev():
    return make_device("ddr4-2400", "organisation.ranks=2")


def state(dev) -> tuple:
    """Everything a refused command must leave alone: counts, open rows, timing."""
    org = dev.config.organisation
    rows = tuple(
        dev.open_row(0, r, g, b)
        for r in range(org.ranks)
        for g in range(org.bankgroups)
        for b in range(org.banks_per_group)
    )
    timing = []
    for rank in range(org.ranks):
        for bankgroup, bank in ((0, 0), (2, 3)):
            for cmd in COMMANDS:
                try:
                    timing.append(
                        dev.earliest(
                            cmd, rank=rank, bankgroup=bankgroup, bank=bank, row=ROW, column=COLUMN
                        )
                    )
                except IllegalCommandError as error:
                    timing.append(type(error).__name__)
    return dev.command_counts(), rows, tuple(timing)


def assert_names(message: str, cmd: str, **address) -> None:
    """The message names the command and every given part of the address."""
    assert re.search(rf"\b{cmd}\b", message), f"{message!r} does not name {cmd}"
    for part, value in address.items():
        assert re.search(rf"\b{part} {value}(?![\w-])", message), (
            f"{message!r} does not name {part} {value}"
        )


def assert_refused(dev, cmd: str, **address) -> str:
    """``cmd`` is illegal (not merely early) at ``address``, both when asked and when issued,
    names the command and the address, and changes nothing. Returns the message."""
    before = state(dev)
    with pytest.raises(IllegalCommandError) as asked:
        dev.earliest(cmd, **address)
    with pytest.raises(IllegalCommandError) as issued:
        dev.issue(cmd, LATER, **address)
    for error in (asked.value, issued.value):
        assert not isinstance(error, TimingViolationError), str(error)
    assert state(dev) == before, f"refused {cmd} changed the device"
    shown = {k: v for k, v in address.items() if k != "column" or cmd in CAS}
    assert_names(str(issued.value), cmd, **shown)
    return str(issued.value)


# --- bank state ------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", CAS)
def test_column_command_to_a_closed_bank_is_illegal(dev, cmd):
    assert_refused(dev, cmd, **AT, row=ROW, column=COLUMN)


@pytest.mark.parametrize("cmd", CAS)
def test_column_command_to_the_wrong_row_is_illegal(dev, cmd):
    dev.issue("ACT", 100, **AT, row=ROW)
    assert_refused(dev, cmd, **AT, row=OTHER_ROW, column=COLUMN)
    assert dev.open_row(0, 1, 2, 3) == ROW


def test_act_to_an_open_bank_is_illegal(dev):
    dev.issue("ACT", 100, **AT, row=ROW)
    assert_refused(dev, "ACT", **AT, row=OTHER_ROW)
    assert_refused(dev, "ACT", **AT, row=ROW)
    assert dev.open_row(0, 1, 2, 3) == ROW


def test_pre_to_a_closed_bank_is_illegal(dev):
    assert_refused(dev, "PRE", **AT)


def test_pre_after_rda_is_illegal(dev):
    dev.issue("ACT", 100, **AT, row=ROW)
    dev.issue("RDA", 200, **AT, row=ROW, column=COLUMN)
    assert_refused(dev, "PRE", **AT)


def test_aact_to_a_closed_bank_is_illegal(dev):
    message = assert_refused(dev, "AACT", **AT, row=ROW)
    assert "column" not in message, message


def test_aact_after_closing_is_illegal(dev):
    dev.issue("ACT", 100, **AT, row=ROW)
    dev.issue("AACT", 200, **AT, row=OTHER_ROW)
    dev.issue("PRE", 300, **AT)
    assert_refused(dev, "AACT", **AT, row=OTHER_ROW)


def test_ref_with_an_open_bank_is_illegal(dev):
    dev.issue("ACT", 100, **AT, row=ROW)
    message = assert_refused(dev, "REF", rank=1)
    assert_names(message, "REF", rank=1)


def test_ref_is_legal_on_the_other_rank_and_after_closing(dev):
    dev.issue("ACT", 100, **AT, row=ROW)
    dev.issue("REF", 200, rank=0)
    dev.issue("PRE", 300, **AT)
    dev.issue("REF", 400, rank=1)
    assert dev.command_counts()["REF"] == 2


def test_unknown_command_is_illegal(dev):
    with pytest.raises(IllegalCommandError, match="NOP"):
        dev.issue("NOP", LATER)


# --- legal transitions -------------------------------------------------------------------------


def test_act_opens_and_pre_closes(dev):
    dev.issue("ACT", 100, **AT, row=ROW)
    assert dev.open_row(0, 1, 2, 3) == ROW
    dev.issue("PRE", 200, **AT)
    assert dev.open_row(0, 1, 2, 3) is None


@pytest.mark.parametrize("cmd", ["RD", "WR"])
def test_rd_and_wr_leave_the_row_open(dev, cmd):
    dev.issue("ACT", 100, **AT, row=ROW)
    dev.issue(cmd, 200, **AT, row=ROW, column=COLUMN)
    assert dev.open_row(0, 1, 2, 3) == ROW


@pytest.mark.parametrize("row", [ROW, OTHER_ROW])
def test_aact_leaves_the_open_row_unchanged(dev, row):
    dev.issue("ACT", 100, **AT, row=ROW)
    dev.issue("AACT", 200, **AT, row=row)
    assert dev.open_row(0, 1, 2, 3) == ROW
    assert dev.command_counts()["AACT"] == 1
    # the open row is still the ACT's: column commands to it are legal, to the AACT's are not
    if row != ROW:
        assert_refused(dev, "RD", **AT, row=row, column=COLUMN)
    dev.issue("RD", 300, **AT, row=ROW, column=COLUMN)
    dev.issue("AACT", 400, **AT, row=OTHER_ROW)  # and another AACT is still legal
    assert dev.open_row(0, 1, 2, 3) == ROW


@pytest.mark.parametrize("cmd", ["RDA", "WRA"])
def test_auto_precharge_closes_the_bank(dev, cmd):
    dev.issue("ACT", 100, **AT, row=ROW)
    dev.issue(cmd, 200, **AT, row=ROW, column=COLUMN)
    assert dev.open_row(0, 1, 2, 3) is None
    dev.issue("ACT", 400, **AT, row=OTHER_ROW)


def test_prea_closes_every_bank_of_its_rank_only(dev):
    dev.issue("ACT", 100, rank=1, bankgroup=0, bank=0, row=1)
    dev.issue("ACT", 200, rank=1, bankgroup=2, bank=3, row=2)
    dev.issue("ACT", 300, rank=0, bankgroup=2, bank=3, row=3)
    dev.issue("PREA", 400, rank=1)
    assert dev.open_row(0, 1, 0, 0) is None
    assert dev.open_row(0, 1, 2, 3) is None
    assert dev.open_row(0, 0, 2, 3) == 3
    dev.issue("REF", 500, rank=1)


def test_prea_with_every_bank_closed_is_legal(dev):
    dev.issue("PREA", 100, rank=1)
    assert dev.command_counts()["PREA"] == 1


# --- addresses ---------------------------------------------------------------------------------


def _limits(dev) -> dict[str, int]:
    org = dev.config.organisation
    return dict(
        channel=org.channels,
        rank=org.ranks,
        bankgroup=org.bankgroups,
        bank=org.banks_per_group,
        row=dev.rows_per_bank,  # data rows and the subarrays' extra wordlines
        column=org.columns,
    )


@pytest.mark.parametrize("part", ["channel", "rank", "bankgroup", "bank", "row"])
@pytest.mark.parametrize("edge", ["one past the end", "negative"])
def test_act_out_of_range_is_illegal(dev, part, edge):
    value = _limits(dev)[part] if edge == "one past the end" else -1
    assert_refused(dev, "ACT", **{**AT, "row": ROW, part: value})


@pytest.mark.parametrize("edge", ["one past the end", "negative"])
def test_aact_row_out_of_range_is_illegal(dev, edge):
    dev.issue("ACT", 100, **AT, row=ROW)
    value = _limits(dev)["row"] if edge == "one past the end" else -1
    assert_refused(dev, "AACT", **AT, row=value)
    assert dev.open_row(0, 1, 2, 3) == ROW


@pytest.mark.parametrize("edge", ["one past the end", "negative"])
def test_column_out_of_range_is_illegal(dev, edge):
    dev.issue("ACT", 100, **AT, row=ROW)
    value = _limits(dev)["column"] if edge == "one past the end" else -8
    assert_refused(dev, "RD", **AT, row=ROW, column=value)


@pytest.mark.parametrize("cmd", ["REF", "PREA"])
@pytest.mark.parametrize("part", ["channel", "rank"])
def test_rank_command_out_of_range_is_illegal(dev, cmd, part):
    assert_refused(dev, cmd, **{"channel": 0, "rank": 0, part: _limits(dev)[part]})


@pytest.mark.parametrize("cmd", CAS)
def test_misaligned_column_is_illegal(dev, cmd):
    dev.issue("ACT", 100, **AT, row=ROW)
    burst = dev.config.organisation.burst_length
    assert_refused(dev, cmd, **AT, row=ROW, column=COLUMN + burst // 2)
    assert_refused(dev, cmd, **AT, row=ROW, column=1)


def test_last_aligned_column_and_last_row_are_legal(dev):
    limits, burst = _limits(dev), dev.config.organisation.burst_length
    last_row, last_column = limits["row"] - 1, limits["column"] - burst
    dev.issue("ACT", 100, **AT, row=last_row)
    dev.issue("RD", 200, **AT, row=last_row, column=last_column)
    assert dev.open_row(0, 1, 2, 3) == last_row


# --- timing refusals change nothing either -------------------------------------------------------


def test_a_command_refused_for_timing_changes_nothing(dev):
    dev.issue("ACT", 100, **AT, row=ROW)
    before = state(dev)
    with pytest.raises(TimingViolationError) as refused:
        dev.issue("RD", 101, **AT, row=ROW, column=COLUMN)
    assert state(dev) == before
    assert_names(str(refused.value), "RD", **AT, row=ROW, column=COLUMN)
