"""The Cython core (through pimsim.device.Device) against the plain-Python reference model.

Two parts:

* unit tests of the reference model itself, against numbers worked out by hand from the
  datasheet timings below (they need neither the core nor the config module);
* a hypothesis state machine that drives a Device and a ReferenceDevice with the same random
  legal commands (issued at their earliest cycle plus 0..3 cycles of slack), refused attempts
  (one or more cycles too early, wrong bank state, address out of range), data writes, the three
  row kernels and issue_batch, and after every step compares: earliest() of every command at
  a pool of banks, the open row of every bank, the command counts and every row touched so far.

The device tests import pimsim.device and pimsim.config inside the test, so until those exist
they fail with an ImportError naming the missing module while the reference tests still run.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from pimsim.errors import IllegalCommandError, TimingViolationError
from pimsim.standards import COMMANDS, SCOPE

try:
    from reference_model import ReferenceDevice
except ModuleNotFoundError:  # tests/ is not on sys.path (e.g. --import-mode=importlib)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reference_model import ReferenceDevice

BANK_CMDS = ("ACT", "PRE", "RD", "WR", "RDA", "WRA")
RANK_CMDS = ("PREA", "REF")
CAS = ("RD", "WR", "RDA", "WRA")

# Datasheet timings in cycles (JESD79-4 DDR4-2400R, 8 Gb x8; JESD79-3 DDR3-1600K, 4 Gb x8), so
# the hand-computed numbers below do not depend on the presets in configs/.
DDR4_2400 = dict(
    nBL=4,
    nCL=16,
    nRCD=16,
    nRP=16,
    nRAS=39,
    nRC=55,
    nWR=18,
    nRTP=9,
    nCWL=12,
    nCCD_S=4,
    nCCD_L=6,
    nRRD_S=4,
    nRRD_L=6,
    nWTR_S=3,
    nWTR_L=9,
    nFAW=26,
    nRFC=420,
    nREFI=9360,
    nCS=2,
)
DDR3_1600 = dict(
    nBL=4,
    nCL=11,
    nRCD=11,
    nRP=11,
    nRAS=28,
    nRC=39,
    nWR=12,
    nRTP=6,
    nCWL=8,
    nCCD=4,
    nRRD=5,
    nWTR=6,
    nFAW=24,
    nRFC=208,
    nREFI=6240,
    nRTRS=1,
)


def ddr4(**org) -> ReferenceDevice:
    shape = dict(channels=1, ranks=2, bankgroups=4, banks_per_group=4, rows=64, columns=64)
    shape.update(org)
    return ReferenceDevice("DDR4", timing=DDR4_2400, **shape)


def ddr3(**org) -> ReferenceDevice:
    shape = dict(channels=1, ranks=2, bankgroups=1, banks_per_group=8, rows=64, columns=64)
    shape.update(org)
    return ReferenceDevice("DDR3", timing=DDR3_1600, **shape)


def bank(rank=0, bankgroup=0, bank=0, channel=0, **rest) -> dict[str, int]:
    return dict(channel=channel, rank=rank, bankgroup=bankgroup, bank=bank, **rest)


# =====================================================================================
# The reference model on its own: hand-computed numbers
# =====================================================================================


def test_reference_act_to_rd_waits_nrcd():
    ref = ddr4()
    ref.issue("ACT", 0, **bank(row=5))
    assert ref.earliest("RD", **bank(row=5)) == 16  # nRCD
    assert ref.earliest("WR", **bank(row=5, column=8)) == 16
    assert ref.earliest("ACT", **bank(bank=1)) == 6  # nRRD_L, same bank group
    assert ref.earliest("ACT", **bank(bankgroup=1)) == 4  # nRRD_S
    assert ref.earliest("ACT", **bank(rank=1)) == 1  # only the command bus
    assert ref.earliest("PRE", **bank()) == 39  # nRAS
    assert ref.open_row(0, 0, 0, 0) == 5


def test_reference_fifth_act_waits_for_faw():
    ref = ddr4()
    for group in range(4):
        assert ref.earliest("ACT", **bank(bankgroup=group)) == 4 * group  # nRRD_S
        ref.issue("ACT", 4 * group, **bank(bankgroup=group))
    # nRRD_L from the ACT at 0 gives 6, nRRD_S from the one at 12 gives 16; tFAW gives 0 + 26.
    assert ref.earliest("ACT", **bank(bankgroup=0, bank=1)) == 26
    assert ref.earliest("ACT", **bank(rank=1)) == 13  # another rank has its own window
    ref.issue("ACT", 26, **bank(bankgroup=0, bank=1))
    assert ref.earliest("ACT", **bank(bankgroup=1, bank=1)) == 4 + 26  # window slid by one


def test_reference_ddr3_rrd_and_faw():
    ref = ddr3()
    for i in range(4):
        assert ref.earliest("ACT", **bank(bank=i)) == 5 * i  # nRRD
        ref.issue("ACT", 5 * i, **bank(bank=i))
    assert ref.earliest("ACT", **bank(bank=4)) == 24  # nFAW beats 15 + nRRD
    assert ref.earliest("RD", **bank(bank=3)) == 15 + 11  # nRCD


def test_reference_precharge_then_activate():
    ref = ddr4()
    ref.issue("ACT", 0, **bank())
    with pytest.raises(TimingViolationError):
        ref.issue("PRE", 38, **bank())
    ref.issue("PRE", 40, **bank())
    assert ref.open_row(0, 0, 0, 0) is None
    assert ref.earliest("ACT", **bank()) == 56  # PRE + nRP beats ACT + nRC = 55


def test_reference_write_to_read_turnarounds():
    ref = ddr4()
    ref.issue("ACT", 0, **bank())
    ref.issue("ACT", 6, **bank(bank=1))
    ref.issue("ACT", 10, **bank(bankgroup=1))
    ref.issue("WR", 16, **bank())
    assert ref.earliest("RD", **bank(bank=1)) == 16 + 12 + 4 + 9  # nCWL + nBL + nWTR_L
    assert ref.earliest("RD", **bank(bankgroup=1)) == 16 + 12 + 4 + 3  # ... nWTR_S
    assert ref.earliest("WR", **bank(bank=1, column=8)) == 16 + 6  # nCCD_L
    assert ref.earliest("WR", **bank(bankgroup=1)) == 26  # nRCD (10 + 16) beats nCCD_S
    assert ref.earliest("PRE", **bank()) == 16 + 12 + 4 + 18  # write recovery


def test_reference_rank_switch():
    ref = ddr4()
    ref.issue("ACT", 0, **bank())
    ref.issue("ACT", 1, **bank(rank=1))
    ref.issue("RD", 16, **bank())
    assert ref.earliest("RD", **bank(rank=1)) == 16 + 4 + 2  # nBL + nCS beats nRCD 17
    assert ref.earliest("WR", **bank(rank=1)) == 16 + 4 + 2
    assert ref.earliest("WR", **bank()) == 16 + 16 + 4 + 2 - 12  # nCL + nBL + 2 - nCWL
    ref.issue("WR", 30, **bank())
    # rank switch, write to read: nCL + nBL + nCS - nCWL = 10 after the WR.
    assert ref.earliest("RD", **bank(rank=1)) == 30 + 10


def test_reference_refresh():
    ref = ddr4()
    ref.issue("ACT", 0, **bank())
    with pytest.raises(IllegalCommandError) as info:
        ref.earliest("REF", **bank())
    assert type(info.value) is IllegalCommandError
    assert ref.earliest("PREA", **bank()) == 39
    ref.issue("PREA", 39, **bank())
    assert ref.earliest("REF", **bank()) == 55  # ACT + nRC = PREA + nRP = 55
    ref.issue("REF", 55, **bank())
    assert ref.earliest("ACT", **bank()) == 55 + 420  # nRFC
    assert ref.earliest("REF", **bank(rank=1)) == 56  # the other rank: command bus only
    assert ref.earliest("PREA", **bank()) == 55 + 420


def test_reference_auto_precharge():
    ref = ddr4()
    ref.issue("ACT", 0, **bank(row=3))
    ref.issue("WRA", 16, **bank(row=3, column=16))
    assert ref.open_row(0, 0, 0, 0) is None
    assert ref.earliest("ACT", **bank()) == 16 + 12 + 4 + 18 + 16  # beats nRC = 55
    ref.issue("ACT", 1000, **bank(bank=2, row=1))
    ref.issue("RDA", 1016, **bank(bank=2, row=1))
    assert ref.earliest("ACT", **bank(bank=2)) == 1000 + 55  # nRC beats 1016 + 9 + 16
    assert ref.command_counts() == dict.fromkeys(COMMANDS, 0) | {"ACT": 2, "WRA": 1, "RDA": 1}


def test_reference_illegal_commands():
    ref = ddr4()
    ref.issue("ACT", 0, **bank(row=7))
    cases = [
        ("ACT", bank(row=1)),  # bank open
        ("PRE", bank(bank=1)),  # bank closed
        ("RD", bank(bank=1)),  # bank closed
        ("RD", bank(row=8)),  # another row open
        ("WR", bank(row=7, column=4)),  # not burst aligned
        ("WR", bank(row=7, column=64)),  # column out of range
        ("ACT", bank(bank=4)),  # bank out of range
        ("ACT", bank(bank=1, row=64)),  # row out of range
        ("ACT", bank(bank=1, row=-1)),
        ("PREA", bank(rank=2)),  # rank out of range
        ("PREA", bank(channel=1)),
        ("REF", bank()),  # a bank of the rank is open
        ("NOP", bank()),
    ]
    for cmd, addr in cases:
        with pytest.raises(IllegalCommandError) as info:
            ref.earliest(cmd, **addr)
        assert type(info.value) is IllegalCommandError, (cmd, addr)
        with pytest.raises(IllegalCommandError) as info:
            ref.issue(cmd, 10_000, **addr)
        assert type(info.value) is IllegalCommandError, (cmd, addr)
    assert ref.earliest("PREA", **bank(rank=1)) == 1  # legal with every bank closed
    assert ref.earliest("ACT", **bank(bank=1, column=5)) == 6  # ACT ignores the column
    assert ref.command_counts()["ACT"] == 1 and len(ref.history) == 1


def test_reference_row_data():
    ref = ddr4()
    a, b, c, d = ((0, 0, 0, 0, 1), (0, 0, 0, 0, 2), (0, 0, 1, 0, 1), (0, 1, 3, 3, 63))
    assert not ref.read_row(*a).any() and ref.read_row(*a).dtype == np.uint64
    burst = np.arange(1, 9, dtype=np.uint64) | np.uint64(1 << 63)
    ref.write_burst(*a, 8, burst)
    row = ref.read_row(*a)
    assert (row[8:16] == burst).all() and not row[:8].any() and not row[16:].any()
    assert (ref.read_burst(*a, 8) == burst).all()
    row[0] = 99  # read_row hands out a copy
    assert ref.read_row(*a)[0] == 0
    ref.copy_row(a, [b, d])
    assert (ref.read_row(*b) == ref.read_row(*a)).all()
    assert (ref.read_row(*d) == ref.read_row(*a)).all()
    ref.write_row(*c, np.full(64, 0b1100, dtype=np.uint64))
    ref.write_row(*b, np.full(64, 0b1010, dtype=np.uint64))
    ref.write_row(*a, np.full(64, 0b0110, dtype=np.uint64))
    ref.majority_rows(a, b, c)
    for r in (a, b, c):
        assert (ref.read_row(*r) == 0b1110).all()
    ref.complement_row(a, d)
    assert (ref.read_row(*d) == ~np.uint64(0b1110)).all()
    ref.complement_row((0, 0, 2, 2, 2), (0, 0, 2, 2, 2))  # untouched row, in place
    assert (ref.read_row(0, 0, 2, 2, 2) == np.uint64(2**64 - 1)).all()


# =====================================================================================
# The device against the reference
# =====================================================================================


@functools.cache
def _config(spec: str, overrides: tuple[str, ...]):
    from pimsim.config import load_config

    return load_config(spec, overrides=list(overrides))


def _pair(spec: str, overrides: tuple[str, ...] = ()):
    from pimsim.device import Device

    config = _config(spec, overrides)
    return Device(config), ReferenceDevice.from_config(config)


def _outcome(fn, *args, **kwargs):
    """('ok', value) or ('raises', exception class): what a call did, for comparing."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:  # any class: the class is what gets compared
        return ("raises", type(exc))


def test_device_preset_hand_numbers():
    dev, ref = _pair("ddr4-2400")
    timing = dev.config.timing
    for model in (dev, ref):
        model.issue("ACT", 0, **bank(row=5))
        assert model.earliest("RD", **bank(row=5)) == timing["nRCD"]
    for model in (dev, ref):
        for group in range(1, 4):
            model.issue(
                "ACT", model.earliest("ACT", **bank(bankgroup=group)), **bank(bankgroup=group)
            )
        assert model.earliest("ACT", **bank(bank=1)) == max(
            timing["nFAW"], 4 * timing["nRRD_S"], timing["nRRD_L"]
        )


def test_device_row_kernels_in_place():
    """Copying a row onto itself and complementing it in place, both ways."""
    dev, ref = _pair("ddr4-2400")
    a, b = (0, 0, 0, 0, 5), (0, 1, 3, 3, 7)
    words = np.arange(dev.config.organisation.columns, dtype=np.uint64) * np.uint64(0x9E37)
    for model in (dev, ref):
        model.write_row(*a, words)
        model.copy_row(a, [a, b])
        model.complement_row(b, b)
        model.complement_row((0, 0, 1, 1, 1), (0, 0, 1, 1, 1))  # untouched: becomes all ones
    for row in (a, b, (0, 0, 1, 1, 1)):
        assert (dev.read_row(*row) == ref.read_row(*row)).all(), row


@pytest.mark.parametrize("field", ["rank", "bank", "row", "column"])
def test_device_huge_address_is_illegal(field):
    dev, ref = _pair("ddr4-2400")
    addr = bank(**{field: 2**40})
    for model in (ref, dev):
        with pytest.raises(IllegalCommandError):
            model.earliest("RD", **addr)


class CoreVsReference(RuleBasedStateMachine):
    """Drive a Device and a ReferenceDevice in lockstep; compare after every step."""

    SPEC = "ddr4-2400"
    OVERRIDES: tuple[str, ...] = ()
    WEIGHTS = {
        "ACT": 6,
        "PRE": 2,
        "PREA": 1,
        "RD": 2,
        "WR": 2,
        "RDA": 1,
        "WRA": 1,
        "REF": 1,
        "AACT": 1,
        "TRANSFER": 1,
        "RBM": 1,
        "PREE": 1,
    }

    def __init__(self):
        super().__init__()
        self.dev, self.ref = _pair(self.SPEC, self.OVERRIDES)
        org = self.org = self.dev.config.organisation
        self.burst = org.burst_length
        self.all_banks = [
            (c, r, g, b)
            for c in range(org.channels)
            for r in range(org.ranks)
            for g in range(org.bankgroups)
            for b in range(org.banks_per_group)
        ]
        # Commands go to a pool of banks so that they meet: two banks per bank group (DDR4:
        # 8 per rank, enough for tFAW), six banks of a DDR3 rank; every rank and channel.
        per_group = min(2 if org.bankgroups > 1 else 6, org.banks_per_group)
        self.banks = [b for b in self.all_banks if b[3] < per_group]
        self.ranks = sorted({(c, r) for c, r, _, _ in self.all_banks})
        self.rows = self.dev.rows_per_bank  # physical: data rows and extra wordlines
        self.act_rows = sorted({0, 1, 2, self.rows - 1})
        # Row data goes to a few rows of three banks (two share a bank group, one another rank).
        data_banks = [self.banks[0], self.banks[1], self.banks[-1]]
        self.data_rows = [(*b, r) for b in data_banks for r in (0, 1, self.rows - 1)]
        self.touched: set[tuple[int, ...]] = set()
        self.log: list[str] = []
        self.floor = 0  # legal commands issue no earlier than this (see idle())

    # --- helpers ----------------------------------------------------------------------------

    def context(self) -> str:
        tail = self.log[-25:]
        return f"{self.SPEC} {list(self.OVERRIDES)}; last steps:\n  " + "\n  ".join(tail)

    def addr(self, b, row=0, column=0) -> dict[str, int]:
        return dict(channel=b[0], rank=b[1], bankgroup=b[2], bank=b[3], row=row, column=column)

    def compare_earliest(self, cmd: str, addr: dict[str, int]):
        ref = _outcome(self.ref.earliest, cmd, **addr)
        dev = _outcome(self.dev.earliest, cmd, **addr)
        assert dev == ref, f"earliest({cmd}, {addr}): device {dev}, reference {ref}\n" + (
            self.context()
        )
        return ref

    def legal_choices(self) -> list[tuple[str, tuple[int, ...], int | None]]:
        """(command, bank or rank, open row) for every command legal now in the pools."""
        out = []
        for b in self.banks:
            row = self.ref.open_row(*b)
            if row is None:
                out.append(("ACT", b, None))
            else:
                out += [(cmd, b, row) for cmd in ("PRE", "AACT", "RBM", "PREE", *CAS)]
        for c, r in self.ranks:
            out.append(("PREA", (c, r, 0, 0), None))
            if all(
                self.ref.open_row(c, r, g, b) is None
                for (cc, rr, g, b) in self.all_banks
                if (cc, rr) == (c, r)
            ):
                out.append(("REF", (c, r, 0, 0), None))
            opened = sum(
                self.ref.open_row(c, r, g, b) is not None
                for (cc, rr, g, b) in self.all_banks
                if (cc, rr) == (c, r)
            )
            if opened >= 2:
                out.append(("TRANSFER", (c, r, 0, 0), None))
        return out

    def draw_legal(self, data) -> tuple[str, dict[str, int]]:
        choices = self.legal_choices()
        names = [
            n for n in COMMANDS for _ in range(self.WEIGHTS[n]) if any(ch[0] == n for ch in choices)
        ]
        cmd = data.draw(st.sampled_from(names), label="command")
        _, b, row = data.draw(
            st.sampled_from([ch for ch in choices if ch[0] == cmd]), label="where"
        )
        column = 0
        if cmd in ("ACT", "AACT"):
            row = data.draw(
                st.sampled_from(self.act_rows) | st.integers(0, self.rows - 1), label="row"
            )
        elif cmd in CAS:
            column = self.burst * data.draw(
                st.integers(0, self.org.columns // self.burst - 1), label="burst"
            )
        return cmd, self.addr(b, row or 0, column)

    def last_cycle(self) -> int:
        return max((p.cycle for p in self.ref.history), default=0)

    def device_state(self):
        """Everything observable about the device's command state."""
        earliest = [
            _outcome(self.dev.earliest, cmd, **self.addr(b, self.dev.open_row(*b) or 0))
            for b in self.all_banks
            for cmd in BANK_CMDS
        ] + [
            _outcome(self.dev.earliest, cmd, **self.addr((c, r, 0, 0)))
            for c, r in self.ranks
            for cmd in RANK_CMDS
        ]
        return (
            [self.dev.open_row(*b) for b in self.all_banks],
            self.dev.command_counts(),
            earliest,
        )

    def expect_refusal(self, cmd: str, cycle: int, addr: dict[str, int], expected: type):
        before = self.device_state()
        ref = _outcome(self.ref.issue, cmd, cycle, **addr)
        assert ref == ("raises", expected), f"reference did {ref} for {cmd} {cycle} {addr}"
        dev = _outcome(self.dev.issue, cmd, cycle, **addr)
        where = f"issue({cmd}, {cycle}, {addr})"
        self.log.append(f"refused {where}: {expected.__name__}")
        assert dev == ref, f"{where}: device {dev}, reference {ref}\n" + self.context()
        assert self.device_state() == before, f"refused {where} changed the device\n" + (
            self.context()
        )

    def issue_both(self, cmd: str, cycle: int, addr: dict[str, int]):
        self.ref.issue(cmd, cycle, **addr)
        self.log.append(f"issue({cmd!r}, {cycle}, **{addr})")
        try:
            self.dev.issue(cmd, cycle, **addr)
        except Exception as exc:
            raise AssertionError(
                f"device refused a legal command: {exc!r}\n" + self.context()
            ) from exc

    # --- commands -------------------------------------------------------------------------

    @rule(data=st.data())
    def legal_commands(self, data):
        """One to four legal commands, each at its earliest cycle plus 0..3 cycles of slack."""
        for _ in range(data.draw(st.integers(1, 4), label="commands")):
            cmd, addr = self.draw_legal(data)
            _, earliest = self.compare_earliest(cmd, addr)
            slack = data.draw(st.integers(0, 3), label="slack")
            self.issue_both(cmd, max(earliest, self.floor) + slack, addr)
            self.compare_command_state()

    @rule(cycles=st.integers(1, 80))
    def idle(self, cycles):
        """Let time pass: the next commands issue at least ``cycles`` after the last one."""
        self.floor = self.last_cycle() + cycles
        self.log.append(f"idle until {self.floor}")

    @rule(data=st.data())
    def refused(self, data):
        """A command issued too early, or illegal in this state or at this address."""
        if data.draw(st.booleans(), label="too early"):
            cmd, addr = self.draw_legal(data)
            _, earliest = self.compare_earliest(cmd, addr)
            if earliest > 0:
                short = data.draw(st.integers(1, min(3, earliest)), label="cycles too early")
                self.expect_refusal(cmd, earliest - short, addr, TimingViolationError)
            return
        cmd, addr = data.draw(st.sampled_from(self.illegal_choices()), label="illegal command")
        self.compare_earliest(cmd, addr)
        last = self.last_cycle()
        cycle = data.draw(st.sampled_from([0, last + 1, last + 10**6]), label="cycle")
        self.expect_refusal(cmd, cycle, addr, IllegalCommandError)

    def illegal_choices(self) -> list[tuple[str, dict[str, int]]]:
        org = self.org
        options = []
        for b in self.banks:
            row = self.ref.open_row(*b)
            if row is None:
                options += [("PRE", self.addr(b))]
                options += [(cmd, self.addr(b, 0, 8)) for cmd in CAS]
            else:
                options += [("ACT", self.addr(b, row)), ("ACT", self.addr(b, (row + 1) % 7))]
                options += [(cmd, self.addr(b, (row + 1) % self.rows, 0)) for cmd in CAS]
                options += [(cmd, self.addr(b, row, 9 + CAS.index(cmd))) for cmd in CAS]
        for c, r in self.ranks:
            if any(self.ref.open_row(*b) is not None for b in self.all_banks if b[:2] == (c, r)):
                options.append(("REF", self.addr((c, r, 0, 0))))
        counts = dict(
            channel=org.channels,
            rank=org.ranks,
            bankgroup=org.bankgroups,
            bank=org.banks_per_group,
            row=self.rows,
            column=org.columns,
        )
        for cmd in COMMANDS:
            fields = ["channel", "rank"]
            if SCOPE[cmd] == SCOPE["ACT"]:
                fields += ["bankgroup", "bank", "row"] + (["column"] if cmd in CAS else [])
            for name in fields:
                for bad in (counts[name], -1):
                    options.append((cmd, self.addr(self.banks[0]) | {name: bad}))
        return options

    @rule(data=st.data())
    def batch(self, data):
        """issue_batch runs each command at max(requested cycle, earliest)."""
        cmds, addrs, requested, actual = [], [], [], []
        for _ in range(data.draw(st.integers(1, 6), label="batch size")):
            cmd, addr = self.draw_legal(data)
            earliest = self.ref.earliest(cmd, **addr)
            want = max(0, earliest + data.draw(st.integers(-3, 3), label="offset"))
            self.ref.issue(cmd, max(want, earliest), **addr)
            cmds.append(cmd)
            addrs.append(
                [addr[k] for k in ("channel", "rank", "bankgroup", "bank", "row", "column")]
            )
            requested.append(want)
            actual.append(max(want, earliest))
        self.log.append(f"issue_batch({cmds}, {addrs}, {requested}) -> {actual}")
        got = self.dev.issue_batch(cmds, np.array(addrs), np.array(requested, dtype=np.int64))
        assert list(got) == actual, f"issue_batch cycles {list(got)}, reference {actual}\n" + (
            self.context()
        )

    # --- row data -----------------------------------------------------------------------------

    @rule(data=st.data())
    def data_op(self, data):
        """A burst or row write, or one of the row kernels, on a few rows of three banks."""
        rows = st.sampled_from(self.data_rows)
        op = data.draw(
            st.sampled_from(
                ["write_burst", "write_row", "copy_row", "majority_rows", "complement_row"]
            ),
            label="data op",
        )
        if op == "write_burst":
            where = data.draw(rows, label="row")
            column = self.burst * data.draw(st.integers(0, self.org.columns // self.burst - 1))
            words = np.array(
                data.draw(
                    st.lists(st.integers(0, 2**64 - 1), min_size=self.burst, max_size=self.burst),
                    label="words",
                ),
                np.uint64,
            )
            args = (*where, column, words)
            self.touched.add(where)
        elif op == "write_row":
            where = data.draw(rows, label="row")
            kind = data.draw(st.sampled_from(["random", "zeros", "ones"]), label="pattern")
            seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
            if kind == "random":
                words = np.random.default_rng(seed).integers(
                    0, 2**64, size=self.org.columns, dtype=np.uint64
                )
            else:
                words = np.full(self.org.columns, 0 if kind == "zeros" else 2**64 - 1, np.uint64)
            args = (*where, words)
            self.touched.add(where)
        elif op == "copy_row":
            src = data.draw(rows, label="src")
            dsts = data.draw(st.lists(rows, min_size=1, max_size=3, unique=True), label="dsts")
            args = (src, dsts)
            self.touched.update([src, *dsts])
        elif op == "majority_rows":
            args = tuple(
                data.draw(st.lists(rows, min_size=3, max_size=3, unique=True), label="rows")
            )
            self.touched.update(args)
        else:
            args = (data.draw(rows, label="src"), data.draw(rows, label="dst"))
            self.touched.update(args)
        self.log.append(f"{op}{args}")
        getattr(self.ref, op)(*args)
        getattr(self.dev, op)(*args)
        if op == "write_burst":
            dev, ref = self.dev.read_burst(*args[:6]), self.ref.read_burst(*args[:6])
            assert dev.dtype == np.uint64 and (dev == ref).all(), self.context()

    # --- after every step -----------------------------------------------------------------

    def compare_command_state(self):
        for b in self.all_banks:
            dev, ref = self.dev.open_row(*b), self.ref.open_row(*b)
            assert dev == ref, f"open row of {b}: device {dev}, reference {ref}\n" + (
                self.context()
            )
        dev = {k: v for k, v in self.dev.command_counts().items() if v}
        ref = {k: v for k, v in self.ref.command_counts().items() if v}
        assert dev == ref, f"command counts: device {dev}, reference {ref}\n" + self.context()
        until = (self.last_cycle() + 7) * self.dev.clock.ticks_per_cycle
        counters = self.dev.snapshot(until)
        dev = {
            k: getattr(counters, k).tolist()
            for k in ("rows_raised", "banks_precharged", "open_ticks")
        }
        ref = self.ref.activity(until)
        assert dev == ref, f"energy counters: device {dev}, reference {ref}\n" + self.context()
        for b in self.banks:
            row = self.ref.open_row(*b)
            for cmd in BANK_CMDS:
                self.compare_earliest(cmd, self.addr(b, row or 0))
        for c, r in self.ranks:
            for cmd in RANK_CMDS:
                self.compare_earliest(cmd, self.addr((c, r, 0, 0)))

    @invariant()
    def command_state_agrees(self):
        self.compare_command_state()

    @invariant()
    def rows_agree(self):
        for where in sorted(self.touched):
            dev, ref = self.dev.read_row(*where), self.ref.read_row(*where)
            assert dev.dtype == np.uint64 and dev.shape == ref.shape, self.context()
            assert (dev == ref).all(), f"row {where} differs\n" + self.context()


# name: (preset, overrides, (examples, steps) by default, (examples, steps) when slow)
CONFIGS = {
    "ddr4-2400": ("ddr4-2400", (), (50, 40), (100, 60)),
    "ddr3-1600-2ranks": ("ddr3-1600", ("organisation.ranks=2",), (50, 40), (100, 60)),
    "ddr4-2400-2channels": ("ddr4-2400", ("organisation.channels=2",), (15, 30), (50, 60)),
}


def _machine(name: str) -> type[CoreVsReference]:
    spec, overrides, _, _ = CONFIGS[name]
    return type(
        f"CoreVsReference_{name}", (CoreVsReference,), {"SPEC": spec, "OVERRIDES": overrides}
    )


def _settings(examples: int, steps: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.mark.parametrize("name", list(CONFIGS))
def test_core_matches_reference(name):
    run_state_machine_as_test(_machine(name), settings=_settings(*CONFIGS[name][2]))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_core_matches_reference_long(name):
    run_state_machine_as_test(_machine(name), settings=_settings(*CONFIGS[name][3]))
