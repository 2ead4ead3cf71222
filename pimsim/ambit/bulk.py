"""Bulk bitwise operations on vectors of rows: allocation, lowering, bank-parallel execution.

A :class:`Vector` is a list of rank-wide rows. :meth:`BulkEngine.alloc` places row i of every
vector in the same bank and subarray -- banks in the order that spreads consecutive rows over
channels, then ranks, then bank groups, then banks; within a bank, subarrays round-robin --
so the operands of one operation meet in one subarray, as Ambit's in-DRAM path requires.

``bbop(op, dst, *sources)`` lowers the operation to one µprogram per row and runs those on
every bank at once (each bank in order; banks interleaved as the timing allows). A row whose
operands are not in one subarray of one bank is first staged where the rank allows it: each
source outside the output row's subarray is copied in -- into the output row, or into a compute
row the program does not overwrite before reading it -- by RowClone PSM (from another bank),
by LISA-RISC (another subarray of the bank, ``pim.lisa``) or by PSM twice through a
neighbouring bank's temporary row. A copy is such a move by itself. What cannot be staged (a
source in another rank, no free row to stage in) falls back to the CPU path -- the host reads
the source rows over the channel (ACT, RD per burst, PRE), computes, and writes the
destination row (ACT, WR per burst, PRE) -- after the in-DRAM rows; the host computes a
built-in with its numpy twin and any other program by running it on host arrays
(:func:`~pimsim.ambit.execute.evaluate`). The report says how many rows took each path and
why; nothing falls back silently.

A program's ``scratch`` rows are data rows kept, in each subarray it runs in, at the top of the
subarray's data rows (below RowClone's temporary row): the allocator hands them out no more.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np

from pimsim.ambit.copies import RowMover, chain
from pimsim.ambit.execute import (
    Bank,
    Command,
    PimDevice,
    Span,
    _check_aliases,
    evaluate,
    run_job,
)
from pimsim.ambit.jobs import Job, Part, command_part, empty_part
from pimsim.ambit.lowering import Lowered, command_table, lower, stream_order
from pimsim.ambit.report import BulkPlan, OpReport
from pimsim.ambit.rowdata import apply_rows
from pimsim.ambit.vectors import BulkError, Placement, RowAddress, Vector, bank_index, vectors_at
from pimsim.device import Device
from pimsim.errors import ConfigError, PimsimError
from pimsim.programs.parse import Program, builtin, is_builtin
from pimsim.standards import COMMANDS

__all__ = ["NUMPY_OPS", "BulkEngine", "BulkError", "BulkPlan", "OpReport", "Vector", "bulk_result"]

#: Numpy twins of the built-in operations, for the CPU path and for checking results.
NUMPY_OPS = {
    "not": lambda a: ~a,
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "nand": lambda a, b: ~(a & b),
    "nor": lambda a, b: ~(a | b),
    "xor": lambda a, b: a ^ b,
    "xnor": lambda a, b: ~(a ^ b),
    "copy": lambda a: a.copy(),
    "zero": lambda: None,
    "one": lambda: None,
}


#: Host memory a bulk operation may take to simulate (bytes, estimated by
#: :meth:`BulkEngine.check_footprint`): its operand rows and its command table (and job log)
#: at ``_COMMAND_BYTES`` per DRAM command.
MAX_HOST_BYTES = 6 << 30
_COMMAND_BYTES = 64
#: Words of the random test vectors a built-in is checked on before its first use.
_TEST_WORDS = 4


def bulk_result(op: str, sources: Sequence[np.ndarray], words: int) -> np.ndarray:
    """Built-in ``op`` computed on the host with its numpy twin: the CPU path's result,
    ``words`` uint64 long."""
    if op in ("zero", "one"):
        return np.full(words, 0 if op == "zero" else 0xFFFF_FFFF_FFFF_FFFF, dtype=np.uint64)
    compute = NUMPY_OPS.get(op)
    if compute is None:
        raise BulkError(f"{op}: no CPU implementation to fall back to")
    return compute(*sources)


class BulkEngine:
    """Allocates PIM vectors on a device and runs bulk operations on them."""

    def __init__(self, device: Device, banks_per_rank: int | None = None, with_data: bool = True):
        """Vectors stripe over every bank, or over the first ``banks_per_rank`` banks of each
        rank (spread over its bank groups first). ``with_data=False`` simulates the same
        commands, times and counters without row data."""
        self.device = device
        self.with_data = with_data
        self.pim = PimDevice(device)
        self.mover = RowMover(device, self.pim)
        org = device.config.organisation
        use = org.banks_per_rank if banks_per_rank is None else banks_per_rank
        if not 1 <= use <= org.banks_per_rank:
            raise BulkError(
                f"banks per rank must be 1..{org.banks_per_rank} "
                f"({device.config.name}), not {banks_per_rank}"
            )
        self.row_bytes = org.row_bytes
        self.banks: list[Bank] = [
            (c, r, g, b)
            for b in range(org.banks_per_group)
            for g in range(org.bankgroups)
            for r in range(org.ranks)
            for c in range(org.channels)
            if b * org.bankgroups + g < use
        ]
        self.placement = Placement(org, self.pim.layout, self.banks)
        self.subarrays = self.placement.subarrays
        self._working: set[str] = set()  # built-ins found to compute their operation here

    # -- allocation ----------------------------------------------------------------------------

    def alloc(self, nbytes: int) -> Vector:
        """A vector of ``nbytes`` (a whole number of rows), striped over every bank."""
        if nbytes <= 0 or nbytes % self.row_bytes:
            raise BulkError(
                f"a PIM vector is a whole number of {self.row_bytes}-byte rows, not {nbytes} bytes"
            )
        return Vector(self.placement.alloc(nbytes // self.row_bytes), self.row_bytes)

    def scratch_rows(self, bank: Bank, subarray: int, count: int) -> list[int]:
        """Offsets of ``count`` scratch rows in a subarray: the top data rows, kept from the
        allocator from their first use on (and shared by every program there)."""
        flat = bank_index(np.array([bank], dtype=np.int64), self.device.config.organisation)
        return self.placement.scratch_rows(flat, np.array([subarray]), count).tolist()

    def temp_row(self, subarray: int) -> int:
        """Physical row of ``subarray``'s temporary row (see RowMover.temp_row)."""
        return self.mover.temp_row(subarray)

    def check_program(self, program: Program) -> None:
        """ProgramError if ``program`` breaks a hardware rule on this subarray. A built-in must
        also compute its operation (run on the host over test words): a configuration whose
        decoder or rows break one is a ConfigError on ``pim.decoder``, not an error in a file
        the user never wrote, nor a wrong result."""
        if not is_builtin(program) or program.name in self._working:
            self.pim.check(program)
            return
        try:
            self.pim.check(program)
            rng = np.random.default_rng(0)
            sources = [rng.integers(0, 2**64, _TEST_WORDS, dtype=np.uint64) for _ in program.inputs]
            got = evaluate(program, self.pim.layout, sources, _TEST_WORDS)
            works = np.array_equal(got, bulk_result(program.name, sources, _TEST_WORDS))
            problem = "" if works else f"it computes something other than {program.name}"
        except PimsimError as error:
            problem = str(error)
        if problem:
            raise ConfigError(
                self.device.config.name,
                "pim.decoder",
                f"the built-in {program.name} does not work on this subarray: {problem}",
            )
        self._working.add(program.name)

    def check_footprint(self, program: Program, rows: int) -> None:
        """BulkError if running ``program`` over ``rows`` rows would take more than
        MAX_HOST_BYTES of host memory: its operand rows and its commands."""
        commands = sum(3 if step.dst else 2 for step in program.steps)
        need = rows * (len(program.operands) * self.row_bytes + commands * _COMMAND_BYTES)
        if need > MAX_HOST_BYTES:
            raise BulkError(
                f"{program.name} over {rows:,} rows takes about {need / (1 << 30):.1f} GiB of "
                f"host memory to simulate (limit {MAX_HOST_BYTES >> 30} GiB): use fewer bytes"
            )

    def host_result(
        self, program: Program, sources: Sequence[np.ndarray], words: int
    ) -> np.ndarray:
        """``program`` computed on the host over ``words`` uint64 words: a built-in's numpy
        twin, else the program itself run on host arrays."""
        if is_builtin(program):
            return bulk_result(program.name, sources, words)
        self.pim.check(program)
        return evaluate(program, self.pim.layout, sources, words)

    def alloc_random(
        self, count: int, nbytes: int, rng: np.random.Generator
    ) -> tuple[list[Vector], list[np.ndarray]]:
        """``count`` vectors of ``nbytes`` filled with random words, and those words."""
        vectors, values = [], []
        for _ in range(count):
            vec = self.alloc(nbytes)
            words = rng.integers(0, 2**64, nbytes // 8, dtype=np.uint64)
            self.write(vec, words)
            vectors.append(vec)
            values.append(words)
        return vectors, values

    def write(self, vector: Vector, words: np.ndarray, first_row: int = 0) -> None:
        """Fill a vector's rows from ``first_row`` on from a flat uint64 array (host-side,
        untimed)."""
        per_row = self.row_bytes // 8
        data = np.asarray(words, dtype=np.uint64).reshape(-1, per_row)
        rows = vector.fields[first_row : first_row + len(data)]
        if len(rows) != len(data):
            raise BulkError(f"{len(data)} rows of data for {len(rows)} rows of the vector")
        self.device.scatter_rows(self.device.row_ids(*np.asarray(rows).T), data)

    def read(self, vector: Vector, first_row: int = 0, rows: int | None = None) -> np.ndarray:
        """A vector's contents (``rows`` rows from ``first_row``; all by default) as a flat
        uint64 array (host-side, untimed)."""
        last = len(vector) if rows is None else first_row + rows
        ids = self.device.row_ids(*vector.fields[first_row:last].T)
        return self.device.gather_rows(ids).reshape(-1)

    # -- operations ------------------------------------------------------------------------------

    def bbop(
        self, op: str | Program, dst: Vector, *sources: Vector, not_before: int = 0
    ) -> OpReport:
        """Run ``op`` over whole vectors (``dst = op(*sources)``) to its end; see the
        module docstring."""
        plan = self.plan(op, dst, *sources, not_before=not_before)
        return self.report(plan, run_job(self.device, plan.job))

    def plan(
        self, op: str | Program, dst: Vector, *sources: Vector, not_before: int = 0
    ) -> BulkPlan:
        """The controller job of ``dst = op(*sources)``, not run yet: the in-DRAM programs,
        then the copies and staged programs (RowClone PSM holds pairs of banks, which would
        collide with the programs), then the CPU path."""
        program = builtin(op) if isinstance(op, str) else op
        self.check_program(program)
        self.check_footprint(program, len(dst))
        is_copy = is_builtin(program) and program.name == "copy"
        if len(sources) != len(program.inputs):
            raise BulkError(
                f"{program.name} takes {len(program.inputs)} source vector(s), got {len(sources)}"
            )
        if any(len(v) != len(dst) for v in sources):
            raise BulkError(f"{program.name}: vectors differ in length")
        reasons = self._why_not(dst, sources)
        in_dram = np.flatnonzero(reasons == 0)
        psm: dict[tuple[int, int], list[Iterator[Command]]] = {}  # per rank: copies, staging
        fallback: list[tuple[RowAddress, list[RowAddress], str]] = []
        staged_rows = 0
        for i in np.flatnonzero(reasons).tolist():
            out_row = dst.rows[i]
            in_rows = [v.rows[i] for v in sources]
            reason = _REASONS[reasons[i]]
            if is_copy and in_rows[0][:2] == out_row[:2]:
                psm.setdefault(out_row[:2], []).append(self.mover.copy_row(in_rows[0], out_row))
                continue
            staged = self._staged(program, in_rows, out_row)
            if staged is not None:
                psm.setdefault(out_row[:2], []).append(staged)
                staged_rows += 1
                continue
            fallback.append((out_row, in_rows, reason))
        parts = [
            self._program_part(program, dst, sources, in_dram),
            command_part(self.device, [chain(s) for s in psm.values()]) if psm else empty_part(),
            command_part(self.device, [self._cpu_path(program, fallback)])
            if fallback
            else empty_part(),
        ]
        counted: dict[str, int] = {}
        for *_, reason in fallback:
            counted[reason] = counted.get(reason, 0) + 1
        return BulkPlan(
            program=program,
            rows=len(dst),
            job=Job(self.device, parts, not_before, self.with_data),
            cpu_rows=len(fallback),
            fallback_reasons=counted,
            psm_rows=sum(len(s) for s in psm.values()) - staged_rows,
            staged_rows=staged_rows,
        )

    def _why_not(self, dst: Vector, sources: Sequence[Vector]) -> np.ndarray:
        """Per row: 0 if its operands meet in one subarray (the in-DRAM path), else the
        index in _REASONS of why not."""
        org = self.device.config.organisation
        rps, data_rows = self.pim.layout.physical_rows, self.pim.layout.data_rows
        bank, row = bank_index(dst.fields, org), dst.fields[:, 4]
        other_bank = np.zeros(len(dst), dtype=bool)
        other_sub = np.zeros(len(dst), dtype=bool)
        reserved = row % rps >= data_rows
        for v in sources:
            other_bank |= bank_index(v.fields, org) != bank
            other_sub |= v.fields[:, 4] // rps != row // rps
            reserved |= v.fields[:, 4] % rps >= data_rows
        return np.select([other_bank, other_sub, reserved], [1, 2, 3], 0).astype(np.int8)

    def _program_part(
        self, program: Program, dst: Vector, sources: Sequence[Vector], rows: np.ndarray
    ) -> Part:
        """The in-DRAM rows ``rows`` (indices): the lowered program's command table, one
        stream per bank, its data applied block by block, and the rows it activates."""
        if not len(rows):
            return empty_part()
        layout, org = self.pim.layout, self.device.config.organisation
        low = lower(program, layout)
        rps = layout.physical_rows
        out = dst.fields[rows]
        bank = bank_index(out, org)
        base = out[:, 4] - out[:, 4] % rps
        offsets = np.empty((len(rows), low.operands), dtype=np.int64)
        for k, v in enumerate(sources):
            offsets[:, k] = v.fields[rows, 4] - base
        offsets[:, len(sources)] = out[:, 4] - base
        self._bind_checks(program, offsets, bank, base // rps)
        order, per_stream = stream_order(bank)
        table = command_table(low, out[order, :4], base[order], offsets[order])
        ids = (bank * self.device.rows_per_bank + base)[:, None] + offsets
        activated, weights = _activations(low, ids, bank * self.device.rows_per_bank + base)

        def apply(_order: np.ndarray) -> None:
            apply_rows(self.device, low, layout, ids)

        return Part(table, np.cumsum(per_stream) * low.commands, apply, activated, weights)

    def _bind_checks(
        self, program: Program, offsets: np.ndarray, bank: np.ndarray, sub: np.ndarray
    ) -> None:
        """The scratch rows of the subarrays (kept from the allocator, written into
        ``offsets``), and the rules a Binding checks on every row: no operand in the
        scratch rows, an output sharing an input's row written after its last read."""
        n_in = len(program.inputs)
        if program.scratch:
            _, first = np.unique(bank * self.subarrays + sub, return_index=True)
            scratch = self.placement.scratch_rows(bank[first], sub[first], len(program.scratch))
            if np.isin(offsets[:, : n_in + 1], scratch).any():
                raise BulkError(f"{program.name}: an operand lies in the subarray's scratch rows")
            offsets[:, n_in + 1 :] = scratch
        same = offsets[:, :n_in] == offsets[:, n_in : n_in + 1]
        for pattern in np.unique(same, axis=0) if same.size else ():
            bound = {name: -1 - k for k, name in enumerate(program.operands)}
            for k in np.flatnonzero(pattern):
                bound[program.outputs[0]] = bound[program.inputs[k]]
            try:
                _check_aliases(program, bound)
            except ValueError as error:
                raise BulkError(str(error)) from None

    def report(self, plan: BulkPlan, span: Span) -> OpReport:
        """What a finished plan did (its job's span, counters and commands)."""
        counts = plan.program.counts()
        in_dram = plan.rows - plan.cpu_rows - plan.psm_rows
        counters = plan.job.counters
        issued = counters.issued
        return OpReport(
            op=plan.program.name,
            rows=plan.rows,
            in_dram_rows=in_dram + plan.psm_rows,
            cpu_rows=plan.cpu_rows,
            psm_rows=plan.psm_rows,
            fallback_reasons=plan.fallback_reasons,
            time_ns=self.device.clock.ticks_to_ns(span.end_tick - span.first_tick),
            commands={c: issued[c] for c in COMMANDS if issued.get(c)},
            aap=counts["AAP"] * in_dram,
            ap=counts["AP"] * in_dram,
            staged_rows=plan.staged_rows,
            lisa_moves=issued.get("PREE", 0),  # one per LISA-RISC copy
            rows_raised=counters.rows_raised,
            max_row_activations=counters.max_row_activations,
            bank_busy_ns={
                str(b): self.device.clock.ticks_to_ns(t) for b, t in counters.busy_ticks.items()
            },
            span=span,
            row_bytes=self.row_bytes,
            with_data=self.with_data,
        )

    def vectors_at(
        self, mapper, addresses: Sequence[int], size: int, program: Program | None = None
    ) -> tuple[list, str]:
        """The row vectors of byte ranges [address, address + size), or ([], reason) when
        they are not whole rows (not row-aligned, or the mapping spreads a row's bytes).
        With ``program``, rows too many to run it over are a BulkError before any mapping
        (see :meth:`check_footprint`)."""
        if program is not None and size % self.row_bytes == 0:
            self.check_footprint(program, size // self.row_bytes)
        org = self.device.config.organisation
        return vectors_at(mapper, org, addresses, size, self.row_bytes)

    def _program(
        self, program: Program, places: Sequence[int | str], out_row: RowAddress
    ) -> Iterator[Command]:
        """The µprogram's commands on the output row's subarray, each input bound to a data
        row offset in it or to a staging address (see :meth:`_staged`)."""
        rps = self.pim.layout.physical_rows
        sub, base = out_row[4] // rps, out_row[4] // rps * rps
        binding: dict[str, int | str] = dict(zip(program.inputs, places, strict=True))
        binding[program.outputs[0]] = out_row[4] - base
        scratch = self.scratch_rows(out_row[:4], sub, len(program.scratch))
        if set(scratch) & set(binding.values()):
            raise BulkError(f"{program.name}: an operand lies in the subarray's scratch rows")
        binding.update(zip(program.scratch, scratch, strict=True))
        return self.pim.bind(program, out_row[:4], sub, binding).commands()

    def _staged(
        self, program: Program, in_rows: Sequence[RowAddress], out_row: RowAddress
    ) -> Iterator[Command] | None:
        """Sources outside the output row's subarray (same rank) copied in first, then the
        µprogram there: a source goes into the output row (when the program reads it before
        writing its output, as the built-ins do) or into a compute row the program does not
        overwrite before reading it. None if the sources cannot all be placed."""
        rps = self.pim.layout.physical_rows
        home = (out_row[:4], out_row[4] // rps)
        away = [k for k, r in enumerate(in_rows) if (r[:4], r[4] // rps) != home]
        if any(in_rows[k][:2] != out_row[:2] for k in away) or self._why_not_in_dram(
            [r for r in in_rows if (r[:4], r[4] // rps) == home] + [out_row]
        ):
            return None
        places: list[int | str] = [r[4] - home[1] * rps for r in in_rows]
        candidates: list[int | str] = [] if out_row in in_rows else [out_row[4] - home[1] * rps]
        candidates += self._staging_addresses
        for chosen in itertools.permutations(candidates, len(away)):  # first that binds
            for k, place in zip(away, chosen, strict=True):
                places[k] = place
            try:
                commands = self._program(program, places, out_row)
                break
            except ValueError:  # the Binding's rules: read before overwritten
                continue
        else:
            return None
        moves = [self.mover.copy_row(in_rows[k], *self._target(out_row, places[k])) for k in away]
        return chain([*moves, commands])

    @property
    def _staging_addresses(self) -> list[str]:
        """Reserved addresses that raise one compute row alone (B0..B4 in Ambit's table)."""
        layout = self.pim.layout
        found = (layout.plain_address(row) for row in layout.compute_rows)
        return [a for a in found if a is not None]

    def _target(self, out_row: RowAddress, place: int | str) -> tuple[RowAddress, int]:
        """Where a staged source goes in the output row's subarray: the physical row, and the
        row address to activate (a data row offset is both; a staging address raises the
        compute row stored elsewhere)."""
        layout = self.pim.layout
        base = out_row[4] - out_row[4] % layout.physical_rows
        if isinstance(place, int):
            return (*out_row[:4], base + place), base + place
        slot = layout.wordlines(place)[0].slot
        return (*out_row[:4], base + slot), base + layout.address_slot(place)

    @property
    def _staging_addresses(self) -> list[str]:
        """Reserved addresses that raise one compute row alone (B0..B4 in Ambit's table)."""
        layout = self.pim.layout
        found = (layout.plain_address(row) for row in layout.compute_rows)
        return [a for a in found if a is not None]

    def _target(self, out_row: RowAddress, place: int | str) -> tuple[RowAddress, int]:
        """Where a staged source goes in the output row's subarray: the physical row, and the
        row address to activate (a data row offset is both; a staging address raises the
        compute row stored elsewhere)."""
        layout = self.pim.layout
        base = out_row[4] - out_row[4] % layout.physical_rows
        if isinstance(place, int):
            return (*out_row[:4], base + place), base + place
        slot = layout.wordlines(place)[0].slot
        return (*out_row[:4], base + slot), base + layout.address_slot(place)

    def _compute_on_host(
        self, program: Program, out_row: RowAddress, in_rows: Sequence[RowAddress], words: int
    ) -> None:
        values = [self.device.read_row(*r) for r in in_rows]
        self.device.write_row(*out_row, self.host_result(program, values, words))

    def _why_not_in_dram(self, rows: Sequence[RowAddress]) -> str:
        """Empty if these rows can meet in one subarray, else the reason they cannot."""
        rps = self.pim.layout.physical_rows
        if len({r[:4] for r in rows}) > 1:
            return "operands in different banks"
        if len({r[4] // rps for r in rows}) > 1:
            return "operands in different subarrays"
        if any(r[4] % rps >= self.pim.layout.data_rows for r in rows):
            return "operand in a reserved row"
        return ""

    def _cpu_path(
        self, program: Program, work: list[tuple[RowAddress, list[RowAddress], str]]
    ) -> Iterator[Command]:
        """The host's way: read each source row over the channel, compute, write the result."""
        burst = self.device.config.organisation.burst_length
        columns = range(0, self.device.config.organisation.columns, burst)
        words = self.device.config.organisation.columns
        for out_row, in_rows, _ in work:
            for row in in_rows:
                yield from _row_access(row, "RD", columns)
            yield Command(
                "ACT",
                out_row[:4],
                out_row[4],
                lambda r=out_row, s=in_rows: self._compute_on_host(program, r, s, words),
                (out_row[4],),
            )
            for col in columns:
                yield Command("WR", out_row[:4], out_row[4], column=col)
            yield Command("PRE", out_row[:4], 0)


#: Why a row cannot run in DRAM as it lies (index 0: it can).
_REASONS = (
    "",
    "operands in different banks",
    "operands in different subarrays",
    "operand in a reserved row",
)


def _activations(low: Lowered, ids: np.ndarray, base_ids: np.ndarray):
    """Row ids the program's runs activate and how often: each operand row and each fixed
    row (compute, constant) of every run's subarray."""
    parts = [ids[:, k] for k in range(low.operands) if low.operand_hits[k]]
    weights = [
        np.full(len(ids), low.operand_hits[k]) for k in range(low.operands) if low.operand_hits[k]
    ]
    for slot, hits in low.slot_hits.items():
        parts.append(base_ids + slot)
        weights.append(np.full(len(ids), hits))
    return np.concatenate(parts), np.concatenate(weights)


def _row_access(row: RowAddress, cmd: str, columns: range) -> Iterator[Command]:
    yield Command("ACT", row[:4], row[4], raised=(row[4],))
    for col in columns:
        yield Command(cmd, row[:4], row[4], column=col)
    yield Command("PRE", row[:4], 0)
