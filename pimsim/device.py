"""The simulated DRAM device: the one module that talks to the Cython core.

``Device(config)`` compiles the config's standard into timing tables, builds the core and
offers a checked Python API: ask for the earliest cycle a command may issue, issue it, read and
write bursts and rows, and run the row kernels the PIM layer is made of. Errors from the core
come back as status codes and are raised here as one-line exceptions naming the command and the
address. Loops over many commands belong in :meth:`Device.issue_batch`, which runs in C.

Time inside the core is counted in *ticks* of the device's :class:`~pimsim.clock.Clock`
(``device.clock``): one per cycle unless a PIM timing in ns needs finer ones. Ordinary commands
issue on cycle boundaries, and the methods here speak in cycles; the PIM layer works in ticks
(``*_tick`` methods). After a run, :meth:`Device.snapshot` takes the counters that stats and
energy are computed from.

Rows here are physical rows of a bank, ``rows_per_bank`` of them: every subarray's data rows
(host addresses reach these; pimsim.addrmap) followed by its extra wordlines (C0, C1, the
B-group rows, RowClone's temporary row; pimsim.ambit.layout).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim import _core
from pimsim.ambit.layout import SubarrayLayout
from pimsim.clock import Clock, tick_timings
from pimsim.config import Config
from pimsim.errors import IllegalCommandError, TimingViolationError
from pimsim.results.counters import Counters
from pimsim.standards import (
    CMD,
    COMMANDS,
    LEVELS,
    SCOPE,
    STANDARDS,
    Standard,
    compile_tables,
)

if (_core.LEVEL_NAMES, _core.COMMAND_NAMES) != (LEVELS, COMMANDS):
    raise ImportError(
        "pimsim._core was compiled from another list of levels or commands than "
        "pimsim.standards declares: rebuild it (pip install -e .)"
    )

RowAddress = tuple[int, int, int, int, int]
"""(channel, rank, bankgroup, bank, row) of one rank-wide row."""


def _where(
    cmd: str, channel: int, rank: int, bankgroup: int, bank: int, row: int, column: int
) -> str:
    if SCOPE[cmd] <= 1:
        return f"{cmd} channel {channel} rank {rank}"
    text = f"{cmd} channel {channel} rank {rank} bankgroup {bankgroup} bank {bank} row {row}"
    return f"{text} column {column}" if cmd in ("RD", "WR", "RDA", "WRA") else text


def core_of(tables, shape: tuple[int, ...]) -> _core.Core:
    """A Cython core of ``shape`` (channels, ranks, bank groups, banks per group, rows per
    bank, columns, burst length) under compiled timing ``tables``
    (pimsim.standards.compile_tables)."""
    return _core.Core(
        shape,
        tables.latency,
        tables.sibling,
        tables.scope,
        tables.window_level,
        tables.window_prev,
        tables.window_next,
        tables.window_latency,
        tables.window_size,
    )


class Device:
    """All channels of one DRAM system under one resolved :class:`~pimsim.config.Config`."""

    def __init__(self, config: Config):
        self.config = config
        self.controller = None  # its memory controller (pimsim.controller.engine_of)
        self.standard: Standard = STANDARDS[config.standard]
        self.clock = Clock.of(config)
        self.timing_ticks = tick_timings(config, self.clock)
        self.tables = compile_tables(self.standard, self.timing_ticks)
        org = config.organisation
        self.layout = SubarrayLayout.from_params(config.pim)
        self.rows_per_bank = self.layout.physical_rows_per_bank(org.rows)
        self._core = core_of(
            self.tables,
            (
                org.channels,
                org.ranks,
                org.bankgroups,
                org.banks_per_group,
                self.rows_per_bank,
                org.columns,
                org.burst_length,
            ),
        )

    @property
    def core(self) -> _core.Core:
        """The Cython core, for the simulator's own C-level loops (pimsim.sim, pimsim.ambit)."""
        return self._core

    # -- timing ---------------------------------------------------------------------------

    def earliest(
        self,
        cmd: str,
        channel: int = 0,
        rank: int = 0,
        bankgroup: int = 0,
        bank: int = 0,
        row: int = 0,
        column: int = 0,
    ) -> int:
        """Earliest cycle ``cmd`` may issue at that address under every timing constraint.

        Raises IllegalCommandError if the command is illegal in the present bank state or
        the address is out of range, whatever the cycle.
        """
        when = self.earliest_tick(cmd, channel, rank, bankgroup, bank, row, column)
        return self.clock.ticks_to_cycles(when)

    def earliest_tick(
        self,
        cmd: str,
        channel: int = 0,
        rank: int = 0,
        bankgroup: int = 0,
        bank: int = 0,
        row: int = 0,
        column: int = 0,
    ) -> int:
        """As :meth:`earliest`, in ticks."""
        code = self._code(cmd)
        try:
            when = self._core.earliest(code, channel, rank, bankgroup, bank, row, column)
        except OverflowError:  # a field beyond a C int: out of range like any other
            when = -_core.STATUS_OUT_OF_RANGE
        if when < 0:
            raise self._error(-when, cmd, channel, rank, bankgroup, bank, row, column)
        return when

    def issue(
        self,
        cmd: str,
        cycle: int,
        channel: int = 0,
        rank: int = 0,
        bankgroup: int = 0,
        bank: int = 0,
        row: int = 0,
        column: int = 0,
    ) -> None:
        """Issue ``cmd`` at ``cycle`` (memory cycles); refused commands change nothing."""
        tick = self.clock.cycles_to_ticks(cycle)
        self.issue_tick(cmd, tick, channel, rank, bankgroup, bank, row, column)

    def issue_tick(
        self,
        cmd: str,
        tick: int,
        channel: int = 0,
        rank: int = 0,
        bankgroup: int = 0,
        bank: int = 0,
        row: int = 0,
        column: int = 0,
    ) -> None:
        """As :meth:`issue`, at a tick."""
        code = self._code(cmd)
        try:
            status = self._core.issue(code, channel, rank, bankgroup, bank, row, column, tick)
        except OverflowError:  # a field beyond a C int: out of range like any other
            status = _core.STATUS_OUT_OF_RANGE
        if status:
            raise self._error(status, cmd, channel, rank, bankgroup, bank, row, column, tick)

    def issue_batch(
        self, cmds: Sequence[str], addrs: np.ndarray, cycles: np.ndarray | None = None
    ) -> np.ndarray:
        """Issue commands in order, each as soon as allowed and not before ``cycles[i]``.

        ``addrs`` is an (n, 6) array of (channel, rank, bankgroup, bank, row, column).
        Returns the issue cycle of every command. Runs in one C loop.
        """
        codes = np.array([self._code(c) for c in cmds], dtype=np.int32)
        addrs = np.ascontiguousarray(addrs, dtype=np.int32).reshape(len(codes), 6)
        when = np.zeros(len(codes), dtype=np.int64)
        if cycles is not None:
            when[:] = self.clock.cycles_to_ticks(np.asarray(cycles, dtype=np.int64))
        done, status = self._core.issue_batch(codes, addrs, when, self.clock.ticks_per_cycle)
        if status:
            raise self._error(status, cmds[done], *(int(v) for v in addrs[done]))
        return self.clock.cycle_at(when)

    def open_row(self, channel: int, rank: int, bankgroup: int, bank: int) -> int | None:
        """The row open in that bank, or None when the bank is closed."""
        row = self._core.open_row(channel, rank, bankgroup, bank)
        return None if row < 0 else row

    def open_banks(self) -> list[tuple[int, int, int, int]]:
        """(channel, rank, bankgroup, bank) of every bank that has a row open."""
        org = self.config.organisation
        return [
            (c, r, g, b)
            for c in range(org.channels)
            for r in range(org.ranks)
            for g in range(org.bankgroups)
            for b in range(org.banks_per_group)
            if self._core.open_row(c, r, g, b) >= 0
        ]

    def command_counts(self) -> dict[str, int]:
        """Commands issued so far, summed over channels (a run's final counts are in its
        :meth:`snapshot`)."""
        totals = self._core.command_counts().sum(axis=0)
        return {name: int(totals[code]) for code, name in enumerate(COMMANDS)}

    def snapshot(self, end_tick: int) -> Counters:
        """The counters of everything issued from tick 0 to ``end_tick`` (the end of the run),
        taken once (see pimsim.results.counters). ``max_row_activations`` leaves out the extra
        wordlines of a subarray (constant, compute, temporary rows): they are raised through
        reserved addresses, which the PIM layer counts itself."""
        activity = self._core.activity(end_tick)
        return Counters(
            clock=self.clock,
            end_tick=end_tick,
            commands=self._core.command_counts(),
            rows_raised=activity["rows_raised"],
            banks_precharged=activity["banks_precharged"],
            open_ticks=activity["open_ticks"],
            max_row_activations=self._core.max_activations(
                self.layout.physical_rows, self.layout.data_rows
            ),
        )

    def start_command_log(self) -> None:
        """Log every command issued from now on (cycle, command, address); see command_log."""
        self._core.start_recording()

    def command_log(self) -> np.ndarray:
        """Commands logged since the last call: (n, 8) int64 rows of tick, command code (an
        index into COMMANDS), channel, rank, bankgroup, bank, row (-1: rank command), column
        (-1: not a column command)."""
        return self._core.take_log()

    # -- row data ---------------------------------------------------------------------------

    def row_id(self, channel: int, rank: int, bankgroup: int, bank: int, row: int) -> int:
        """Flat id of a row in the core's data store; IllegalCommandError if out of range."""
        try:
            rid = self._core.row_id(channel, rank, bankgroup, bank, row)
        except OverflowError:
            rid = -1
        if rid < 0:
            raise IllegalCommandError(
                f"row channel {channel} rank {rank} bankgroup {bankgroup} bank {bank} "
                f"row {row}: address out of range"
            )
        return rid

    def read_burst(
        self, channel: int, rank: int, bankgroup: int, bank: int, row: int, column: int
    ) -> np.ndarray:
        """The 64-byte burst at ``column`` (burst_length uint64 words, one per column)."""
        out = np.empty(self.config.organisation.burst_length, dtype=np.uint64)
        self._core.read_burst(self.row_id(channel, rank, bankgroup, bank, row), column, out)
        return out

    def write_burst(
        self,
        channel: int,
        rank: int,
        bankgroup: int,
        bank: int,
        row: int,
        column: int,
        words: np.ndarray,
    ) -> None:
        """Write one burst of uint64 words at ``column``."""
        data = np.ascontiguousarray(words, dtype=np.uint64)
        self._core.write_burst(self.row_id(channel, rank, bankgroup, bank, row), column, data)

    def read_row(self, channel: int, rank: int, bankgroup: int, bank: int, row: int) -> np.ndarray:
        """A copy of a rank-wide row (columns uint64 words; zeros if never written)."""
        return self._core.read_row(self.row_id(channel, rank, bankgroup, bank, row))

    def write_row(
        self, channel: int, rank: int, bankgroup: int, bank: int, row: int, words: np.ndarray
    ) -> None:
        """Overwrite a whole rank-wide row."""
        data = np.ascontiguousarray(words, dtype=np.uint64)
        self._core.write_row(self.row_id(channel, rank, bankgroup, bank, row), data)

    def copy_row(self, src: RowAddress, dsts: Sequence[RowAddress]) -> None:
        """Copy row ``src`` into every row of ``dsts``."""
        ids = np.array([self.row_id(*d) for d in dsts], dtype=np.int64)
        self._core.copy_rows(self.row_id(*src), ids)

    def majority_rows(self, a: RowAddress, b: RowAddress, c: RowAddress) -> None:
        """Leave the bitwise majority of three rows in all three (triple-row activation)."""
        self._core.majority3(self.row_id(*a), self.row_id(*b), self.row_id(*c))

    def complement_row(self, src: RowAddress, dst: RowAddress) -> None:
        """Write NOT ``src`` into ``dst``."""
        self._core.complement(self.row_id(*src), self.row_id(*dst))

    def row_ids(
        self,
        channel: np.ndarray | int,
        rank: np.ndarray | int,
        bankgroup: np.ndarray | int,
        bank: np.ndarray | int,
        row: np.ndarray | int,
    ) -> np.ndarray:
        """Flat ids (int64 array, the fields broadcast together) of many rows, as row_id
        gives one; IllegalCommandError naming the first row out of range."""
        core = self._core
        fields = np.broadcast_arrays(
            *(np.asarray(x, dtype=np.int64) for x in (channel, rank, bankgroup, bank, row))
        )
        limits = (core.n_channels, core.n_ranks, core.n_bankgroups, core.n_banks, core.n_rows)
        bad = np.zeros(fields[0].shape, dtype=bool)
        ids = np.zeros(fields[0].shape, dtype=np.int64)
        for field, limit in zip(fields, limits, strict=True):
            bad |= (field < 0) | (field >= limit)
            ids = ids * limit + field
        if bad.any():
            first = np.argwhere(bad)[0]
            self.row_id(*(int(field[tuple(first)]) for field in fields))  # raises
        return ids

    def gather_rows(self, row_ids: np.ndarray) -> np.ndarray:
        """The contents of many rows, an (n, columns) uint64 array (zeros where never
        written); ValueError for an id out of range. The rows stay as they are stored."""
        ids = np.ascontiguousarray(row_ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"row ids must be one-dimensional, got shape {ids.shape}")
        out = np.empty((len(ids), self.config.organisation.columns), dtype=np.uint64)
        self._core.gather_rows(ids, out)
        return out

    def scatter_rows(self, row_ids: np.ndarray, data: np.ndarray) -> None:
        """Overwrite many whole rows: row ``row_ids[i]`` := ``data[i]`` (columns uint64
        words each; with a repeated id the last wins); ValueError for bad shapes or ids."""
        ids = np.ascontiguousarray(row_ids, dtype=np.int64)
        words = np.ascontiguousarray(data, dtype=np.uint64)
        if ids.ndim != 1 or words.ndim != 2:
            raise ValueError(
                f"scatter_rows needs 1-D row ids and 2-D data, got shapes {ids.shape} "
                f"and {words.shape}"
            )
        self._core.scatter_rows(ids, words)

    def drop_rows(self, row_ids: np.ndarray) -> None:
        """Forget the data of these rows and free its memory (they read as zeros again);
        ValueError for an id out of range."""
        ids = np.ascontiguousarray(row_ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"row ids must be one-dimensional, got shape {ids.shape}")
        self._core.drop_rows(ids)

    def run_row_program(self, row_ids: np.ndarray, ops: np.ndarray, registers: int) -> None:
        """Run a row program (pimsim.ambit.rowdata.row_program: (n, 5) int32 ops over
        ``registers`` rows) once per row of ``row_ids`` (n, operands: each operand's row id),
        in order; ValueError for an op, register, operand or id out of range."""
        ids = np.ascontiguousarray(row_ids, dtype=np.int64)
        if ids.ndim != 2:
            raise ValueError(f"row ids must be (rows, operands), got shape {ids.shape}")
        _core.run_rows(self._core, ids, np.ascontiguousarray(ops, dtype=np.int32), registers)

    def write_random_rows(self, row_ids: np.ndarray, key: int) -> None:
        """Row ``row_ids[i]`` := words i * columns .. of the random stream of ``key`` (see
        random_words), written in place; ValueError for an id out of range."""
        ids = np.ascontiguousarray(row_ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"row ids must be one-dimensional, got shape {ids.shape}")
        _core.write_random_rows(self._core, ids, key)

    @staticmethod
    def random_words(key: int, first: int, out: np.ndarray) -> np.ndarray:
        """``out`` (uint64, contiguous) := words ``first ..`` of the random stream of ``key``
        (SplitMix64 over a counter: word k is a fixed function of key and k); returns it."""
        _core.random_words(key, first, out)
        return out

    @property
    def rows_allocated(self) -> int:
        """Rows that hold data: some bursts written by the host, or the whole row."""
        return self._core.rows_allocated

    @property
    def data_bytes(self) -> int:
        """Bytes allocated for row data (a row holding only bursts costs about those)."""
        return self._core.data_bytes

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _code(cmd: str) -> int:
        try:
            return CMD[cmd]
        except KeyError:
            raise IllegalCommandError(
                f"unknown command {cmd!r} (known: {', '.join(COMMANDS)})"
            ) from None

    def _error(
        self,
        status: int,
        cmd: str,
        channel: int,
        rank: int,
        bankgroup: int,
        bank: int,
        row: int,
        column: int,
        tick: int = 0,
    ) -> IllegalCommandError:
        where = _where(cmd, channel, rank, bankgroup, bank, row, column)
        if status == _core.STATUS_TOO_EARLY:
            when = self._core.earliest(CMD[cmd], channel, rank, bankgroup, bank, row, column)
            issued, legal = self.clock.ticks_in_cycles(tick), self.clock.ticks_in_cycles(when)
            return TimingViolationError(
                f"{where}: issued at cycle {issued:g}, earliest legal cycle is {legal:g}"
            )
        return IllegalCommandError(f"{where}: {_core.STATUS_TEXT[status]}")
