"""A slow, obviously-correct twin of the DRAM core, for tests only.

It follows the core's contract in the plainest way that works. Bank commands (ACT, PRE, RD,
WR, RDA, WRA) act on a bank, PREA and REF on a rank. ACT needs the bank closed, PRE needs it
open, column commands need it open at their row and a burst-aligned column (RDA/WRA close it),
PREA closes the rank, REF needs the rank closed. Rows are rank-wide arrays of ``columns`` uint64
words, zero until written; the row kernels (copy, majority of three, complement) are numpy
one-liners.

For timing it keeps the whole command history and, to find the earliest cycle of a command,
walks every constraint of the standard against every command issued before. It reads the
standard's flat constraint list directly (one :func:`~pimsim.standards.evaluate_latency` per
constraint) and never uses :func:`~pimsim.standards.compile_tables`, so it checks the table
compilation as well as the Cython core.

Speed is not a goal: a query costs (history length) x (constraints). Keep test sequences short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pimsim.ambit.layout import SubarrayLayout
from pimsim.clock import Clock, tick_timings
from pimsim.errors import IllegalCommandError, TimingViolationError
from pimsim.standards import COMMANDS, LEVELS, SCOPE, STANDARDS, Standard, evaluate_latency

BANK_LEVEL = LEVELS.index("bank")
CAS_COMMANDS = ("RD", "WR", "RDA", "WRA")

RowAddr = tuple[int, int, int, int, int]  # (channel, rank, bankgroup, bank, row)


@dataclass(frozen=True)
class Issued:
    """One command in the history: when, what, and the path of the node it acted on."""

    cycle: int
    cmd: str
    path: tuple[int, ...]  # (channel, rank[, bankgroup, bank]), as long as the command's scope


class ReferenceDevice:
    """Plain-Python model of one DRAM device (all channels), with the same methods as Device."""

    def __init__(
        self,
        standard: Standard | str,
        *,
        channels: int,
        ranks: int,
        bankgroups: int,
        banks_per_group: int,
        rows: int,
        columns: int,
        burst_length: int = 8,
        timing: Mapping[str, int],
        ticks_per_cycle: int = 1,
    ):
        self.standard = STANDARDS[standard] if isinstance(standard, str) else standard
        self.counts_of = {
            "channel": channels,
            "rank": ranks,
            "bankgroup": bankgroups,
            "bank": banks_per_group,
        }
        self.rows, self.columns, self.burst_length = rows, columns, burst_length
        # Timings in ticks, like the device's core; the API below speaks cycles like Device.
        self.k = ticks_per_cycle
        self.timing = {
            "nCK": self.k,
            "nAAP": timing["nRAS"],
            "nTRANSFER": 4 * self.k,
            "nRBM": 7 * self.k,
            **timing,
        }
        # Every constraint with its latency for this timing set, straight from the list.
        rules = [
            (con, LEVELS.index(con.level), evaluate_latency(con.latency, self.timing))
            for con in self.standard.constraints
        ]
        # ... and, per following command, the ones that can apply to it (level within scope).
        self.rules_for = {
            cmd: [
                (con, level, latency)
                for con, level, latency in rules
                if cmd in con.following and level <= SCOPE[cmd]
            ]
            for cmd in COMMANDS
        }
        self.history: list[Issued] = []
        self.open_rows: dict[tuple[int, int, int, int], int] = {}  # bank path -> open row
        self.counts = {cmd: 0 for cmd in COMMANDS}
        self.data: dict[RowAddr, np.ndarray] = {}

    @classmethod
    def from_config(cls, config) -> ReferenceDevice:
        """Build from a pimsim Config (duck-typed: standard, organisation, timing)."""
        org = config.organisation
        return cls(
            config.standard,
            channels=org.channels,
            ranks=org.ranks,
            bankgroups=org.bankgroups,
            banks_per_group=org.banks_per_group,
            rows=SubarrayLayout.from_params(config.pim).physical_rows_per_bank(org.rows),
            columns=org.columns,
            burst_length=org.burst_length,
            timing=tick_timings(config, Clock.of(config)),
            ticks_per_cycle=Clock.of(config).ticks_per_cycle,
        )

    # --- legality ------------------------------------------------------------------------

    def _check_range(self, what: str, value: int, count: int) -> None:
        if not isinstance(value, (int, np.integer)) or not 0 <= value < count:
            raise IllegalCommandError(f"{what} {value!r} out of range 0..{count - 1}")

    def _check_bank(self, channel, rank, bankgroup, bank) -> None:
        self._check_range("channel", channel, self.counts_of["channel"])
        self._check_range("rank", rank, self.counts_of["rank"])
        self._check_range("bankgroup", bankgroup, self.counts_of["bankgroup"])
        self._check_range("bank", bank, self.counts_of["bank"])

    def _banks_of_rank(self, channel: int, rank: int):
        for g in range(self.counts_of["bankgroup"]):
            for b in range(self.counts_of["bank"]):
                yield (channel, rank, g, b)

    def _check_legal(self, cmd, channel, rank, bankgroup, bank, row, column) -> None:
        """Raise IllegalCommandError if ``cmd`` cannot issue at this address in this state."""
        if cmd not in SCOPE:
            raise IllegalCommandError(f"unknown command {cmd!r}")
        # An address names the fields its command uses: channel and rank always; bank group,
        # bank and row for bank commands; the column for column commands. Others are ignored.
        self._check_range("channel", channel, self.counts_of["channel"])
        self._check_range("rank", rank, self.counts_of["rank"])
        if SCOPE[cmd] != BANK_LEVEL:
            if cmd == "REF" and any(
                k in self.open_rows for k in self._banks_of_rank(channel, rank)
            ):
                raise IllegalCommandError(f"REF with a bank of rank {(channel, rank)} open")
            opened = sum(k in self.open_rows for k in self._banks_of_rank(channel, rank))
            if cmd == "TRANSFER" and opened < 2:
                raise IllegalCommandError(f"TRANSFER with {opened} open bank(s) in the rank")
            return  # PREA: legal in any state.
        self._check_range("bankgroup", bankgroup, self.counts_of["bankgroup"])
        self._check_range("bank", bank, self.counts_of["bank"])
        self._check_range("row", row, self.rows)
        if cmd in CAS_COMMANDS:
            self._check_range("column", column, self.columns)
        key = (channel, rank, bankgroup, bank)
        is_open = key in self.open_rows
        if cmd == "ACT":
            if is_open:
                raise IllegalCommandError(f"ACT to open bank {key}")
        elif cmd in ("PRE", "AACT", "RBM", "PREE"):
            if not is_open:
                raise IllegalCommandError(f"{cmd} to closed bank {key}")
        elif cmd in CAS_COMMANDS:
            if column % self.burst_length:
                raise IllegalCommandError(f"{cmd} column {column} not burst aligned")
            if not is_open:
                raise IllegalCommandError(f"{cmd} to closed bank {key}")
            if self.open_rows[key] != row:
                raise IllegalCommandError(f"{cmd} row {row} but row {self.open_rows[key]} open")

    # --- timing ----------------------------------------------------------------------------

    @staticmethod
    def _related(con, level: int, prev: tuple[int, ...], new: tuple[int, ...]) -> bool:
        """Does constraint ``con`` at ``level`` connect node paths ``prev`` and ``new``?"""
        if con.sibling:
            return prev[:level] == new[:level] and prev[level] != new[level]
        return prev[: level + 1] == new[: level + 1]

    def _timing_earliest(self, cmd: str, path: tuple[int, ...]) -> int:
        earliest = 0
        for con, level, latency in self.rules_for[cmd]:
            matches = [
                p
                for p in self.history
                if p.cmd in con.preceding
                and SCOPE[p.cmd] >= level
                and self._related(con, level, p.path, path)
            ]
            if con.window:
                if len(matches) >= con.window:
                    nth = sorted(p.cycle for p in matches)[-con.window]
                    earliest = max(earliest, nth + latency)
            else:
                for p in matches:
                    earliest = max(earliest, p.cycle + latency)
        return earliest

    # --- the Device API --------------------------------------------------------------------

    def earliest(self, cmd: str, channel=0, rank=0, bankgroup=0, bank=0, row=0, column=0) -> int:
        self._check_legal(cmd, channel, rank, bankgroup, bank, row, column)
        path = (channel, rank, bankgroup, bank)[: SCOPE[cmd] + 1]
        return -(-self._timing_earliest(cmd, path) // self.k)  # ticks -> cycles, rounded up

    def issue(
        self, cmd: str, cycle: int, channel=0, rank=0, bankgroup=0, bank=0, row=0, column=0
    ) -> None:
        self._check_legal(cmd, channel, rank, bankgroup, bank, row, column)
        path = (channel, rank, bankgroup, bank)[: SCOPE[cmd] + 1]
        earliest, tick = self._timing_earliest(cmd, path), cycle * self.k
        if tick < earliest:
            raise TimingViolationError(f"{cmd} at tick {tick} before earliest {earliest}")
        key = (channel, rank, bankgroup, bank)[: SCOPE[cmd] + 1]
        if cmd == "ACT":
            self.open_rows[key] = row
        elif cmd in ("PRE", "RDA", "WRA"):
            del self.open_rows[key]
        elif cmd == "PREA":
            for k in self._banks_of_rank(channel, rank):
                self.open_rows.pop(k, None)
        self.history.append(Issued(int(tick), cmd, key))
        self.counts[cmd] += 1

    def open_row(self, channel, rank, bankgroup, bank) -> int | None:
        self._check_bank(channel, rank, bankgroup, bank)
        return self.open_rows.get((channel, rank, bankgroup, bank))

    def command_counts(self) -> dict[str, int]:
        return dict(self.counts)

    def activity(self, until: int) -> dict[str, list]:
        """The energy counters, replayed from the history: ACT/AACT per channel (every
        activation raises one row here), banks precharged per channel, and per (channel,
        rank) the ticks with at least one bank open, a still-open rank up to ``until``."""
        channels, ranks = self.counts_of["channel"], self.counts_of["rank"]
        raised, closed = [0] * channels, [0] * channels
        open_ticks = [[0] * ranks for _ in range(channels)]
        open_banks: dict[tuple[int, int], set] = {}
        since: dict[tuple[int, int], int] = {}
        for event in self.history:
            ch, rk = event.path[:2]
            banks = open_banks.setdefault((ch, rk), set())
            was_open = bool(banks)
            if event.cmd in ("ACT", "AACT"):
                raised[ch] += 1
            if event.cmd == "ACT":
                banks.add(event.path)
            elif event.cmd in ("PRE", "RDA", "WRA"):
                banks.discard(event.path)
                closed[ch] += 1
            elif event.cmd == "PREE":  # LISA: precharges all but one row buffer; stays open
                closed[ch] += 1
            elif event.cmd == "PREA":
                closed[ch] += len(banks)
                banks.clear()
            if banks and not was_open:
                since[(ch, rk)] = event.cycle
            elif was_open and not banks:
                open_ticks[ch][rk] += event.cycle - since[(ch, rk)]
        for (ch, rk), banks in open_banks.items():
            if banks and until > since[(ch, rk)]:
                open_ticks[ch][rk] += until - since[(ch, rk)]
        return {"rows_raised": raised, "banks_precharged": closed, "open_ticks": open_ticks}

    # --- row data (backdoor: no timing, no bank state) -------------------------------------

    def _row_key(self, addr: Sequence[int]) -> RowAddr:
        channel, rank, bankgroup, bank, row = (int(x) for x in addr)
        self._check_bank(channel, rank, bankgroup, bank)
        self._check_range("row", row, self.rows)
        return (channel, rank, bankgroup, bank, row)

    def _burst_slice(self, column: int) -> slice:
        self._check_range("column", column, self.columns)
        if column % self.burst_length:
            raise IllegalCommandError(f"column {column} not burst aligned")
        return slice(column, column + self.burst_length)

    def read_row(self, channel, rank, bankgroup, bank, row) -> np.ndarray:
        key = self._row_key((channel, rank, bankgroup, bank, row))
        if key in self.data:
            return self.data[key].copy()
        return np.zeros(self.columns, dtype=np.uint64)

    def write_row(self, channel, rank, bankgroup, bank, row, words) -> None:
        key = self._row_key((channel, rank, bankgroup, bank, row))
        words = np.asarray(words, dtype=np.uint64)
        if words.shape != (self.columns,):
            raise ValueError(f"a row is {self.columns} words, got shape {words.shape}")
        self.data[key] = words.copy()

    def read_burst(self, channel, rank, bankgroup, bank, row, column) -> np.ndarray:
        where = self._burst_slice(column)
        return self.read_row(channel, rank, bankgroup, bank, row)[where].copy()

    def write_burst(self, channel, rank, bankgroup, bank, row, column, words) -> None:
        where = self._burst_slice(column)
        words = np.asarray(words, dtype=np.uint64)
        if words.shape != (self.burst_length,):
            raise ValueError(f"a burst is {self.burst_length} words, got shape {words.shape}")
        current = self.read_row(channel, rank, bankgroup, bank, row)
        current[where] = words
        self.write_row(channel, rank, bankgroup, bank, row, current)

    def copy_row(self, src: RowAddr, dsts: Sequence[RowAddr]) -> None:
        value = self.read_row(*self._row_key(src))
        keys = [self._row_key(d) for d in dsts]
        for key in keys:
            self.write_row(*key, value)

    def majority_rows(self, a: RowAddr, b: RowAddr, c: RowAddr) -> None:
        ka, kb, kc = self._row_key(a), self._row_key(b), self._row_key(c)
        va, vb, vc = self.read_row(*ka), self.read_row(*kb), self.read_row(*kc)
        result = (va & vb) | (vb & vc) | (va & vc)
        for key in (ka, kb, kc):
            self.write_row(*key, result)

    def complement_row(self, src: RowAddr, dst: RowAddr) -> None:
        value = self.read_row(*self._row_key(src))
        self.write_row(*self._row_key(dst), ~value)
