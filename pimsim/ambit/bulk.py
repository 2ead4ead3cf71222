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
from dataclasses import dataclass, field

import numpy as np

from pimsim.ambit.execute import (
    ActivityCounters,
    Bank,
    Command,
    Job,
    PimDevice,
    Span,
    evaluate,
    run_job,
)
from pimsim.device import Device
from pimsim.errors import ConfigError, PimsimError
from pimsim.programs.parse import Program, builtin, is_builtin
from pimsim.standards import COMMANDS

RowAddress = tuple[int, int, int, int, int]  # channel, rank, bankgroup, bank, physical row

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
#: :meth:`BulkEngine.check_footprint`), and what one of its DRAM commands costs there (its
#: Command object and job table row, bytes).
MAX_HOST_BYTES = 2 << 30
#: Words of the random test vectors a built-in is checked on before its first use.
_TEST_WORDS = 4
_COMMAND_BYTES = 1024


def bulk_result(op: str, sources: Sequence[np.ndarray], words: int) -> np.ndarray:
    """Built-in ``op`` computed on the host with its numpy twin: the CPU path's result,
    ``words`` uint64 long."""
    if op in ("zero", "one"):
        return np.full(words, 0 if op == "zero" else 0xFFFF_FFFF_FFFF_FFFF, dtype=np.uint64)
    compute = NUMPY_OPS.get(op)
    if compute is None:
        raise BulkError(f"{op}: no CPU implementation to fall back to")
    return compute(*sources)


class BulkError(PimsimError):
    """A bulk operation cannot be set up (sizes, allocation)."""


@dataclass(frozen=True)
class Vector:
    """A vector of rank-wide rows (``row_bytes`` each)."""

    rows: tuple[RowAddress, ...]
    row_bytes: int

    @property
    def nbytes(self) -> int:
        return len(self.rows) * self.row_bytes


@dataclass
class OpReport:
    """What one bulk operation did; times in ns, energy left to pimsim.results.energy."""

    op: str
    rows: int
    in_dram_rows: int
    cpu_rows: int
    fallback_reasons: dict[str, int]
    time_ns: float
    commands: dict[str, int]
    aap: int
    ap: int
    rows_raised: int
    max_row_activations: int
    bank_busy_ns: dict[str, float]
    span: Span = field(repr=False)
    psm_rows: int = 0  # of in_dram_rows: copies across banks or subarrays (PSM or LISA)
    staged_rows: int = 0  # of in_dram_rows: sources first copied into the output's subarray
    lisa_moves: int = 0  # rows moved between subarrays by LISA-RISC (copies and staging)

    @property
    def throughput_gbps(self) -> float:
        """Bytes of result per ns (GB/s)."""
        return self.rows * self.row_bytes / self.time_ns if self.time_ns else 0.0

    row_bytes: int = 0

    def to_dict(self) -> dict:
        return {
            "op": self.op,
            "rows": self.rows,
            "in_dram_rows": self.in_dram_rows,
            "cpu_rows": self.cpu_rows,
            "cpu_bytes": self.cpu_rows * self.row_bytes,
            "fallback_reasons": dict(self.fallback_reasons),
            "time_ns": round(self.time_ns, 3),
            "throughput_gbps": round(self.throughput_gbps, 3),
            "commands": {**self.commands, "AAP": self.aap, "AP": self.ap},
            "rows_raised": self.rows_raised,
            "max_row_activations": self.max_row_activations,
            "bank_busy_ns": {k: round(v, 3) for k, v in self.bank_busy_ns.items()},
            "psm_rows": self.psm_rows,
            "staged_rows": self.staged_rows,
            "lisa_moves": self.lisa_moves,
        }


@dataclass
class BulkPlan:
    """A bulk operation lowered to a controller job (BulkEngine.plan), and what the
    lowering decided: rows per path and why."""

    program: Program
    rows: int
    job: Job
    cpu_rows: int
    fallback_reasons: dict[str, int]
    psm_rows: int
    staged_rows: int


class BulkEngine:
    """Allocates PIM vectors on a device and runs bulk operations on them."""

    def __init__(self, device: Device, banks_per_rank: int | None = None):
        """Vectors stripe over every bank, or over the first ``banks_per_rank`` banks of each
        rank (spread over its bank groups first)."""
        self.device = device
        self.pim = PimDevice(device)
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
        self.subarrays = org.rows // self.pim.layout.data_rows
        self._next_free: dict[tuple[Bank, int], int] = {}
        self._scratch: dict[tuple[Bank, int], int] = {}  # rows kept at the top for scratch
        self._placed = 0  # rows placed per bank so far, to continue the subarray rotation
        self._working: set[str] = set()  # built-ins found to compute their operation here

    # -- allocation ----------------------------------------------------------------------------

    def alloc(self, nbytes: int) -> Vector:
        """A vector of ``nbytes`` (a whole number of rows), striped over every bank."""
        if nbytes <= 0 or nbytes % self.row_bytes:
            raise BulkError(
                f"a PIM vector is a whole number of {self.row_bytes}-byte rows, not {nbytes} bytes"
            )
        rows = []
        layout = self.pim.layout
        for i in range(nbytes // self.row_bytes):
            bank = self.banks[i % len(self.banks)]
            subarray = (i // len(self.banks)) % self.subarrays
            offset = self._next_free.get((bank, subarray), 0)
            if offset >= layout.data_rows - self._scratch.get((bank, subarray), 0):
                raise BulkError(f"no free data row left in subarray {subarray} of bank {bank}")
            self._next_free[(bank, subarray)] = offset + 1
            rows.append((*bank, subarray * layout.physical_rows + offset))
        return Vector(tuple(rows), self.row_bytes)

    def scratch_rows(self, bank: Bank, subarray: int, count: int) -> list[int]:
        """Offsets of ``count`` scratch rows in a subarray: the top data rows, kept from the
        allocator from their first use on (and shared by every program there)."""
        key = (bank, subarray)
        top = self.pim.layout.data_rows
        if count > self._scratch.get(key, 0):
            if top - count < self._next_free.get(key, 0):
                raise BulkError(
                    f"no room for {count} scratch row(s) in subarray {subarray} of bank {bank}"
                )
            self._scratch[key] = count
        return list(range(top - count, top))

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
        MAX_HOST_BYTES of host memory: the rows it touches in each subarray (operands,
        compute and constant rows) and its commands."""
        touched = len(program.operands) + len(self.pim.layout.compute_rows) + 2
        commands = sum(3 if step.dst else 2 for step in program.steps)
        need = rows * (touched * self.row_bytes + commands * _COMMAND_BYTES)
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

    def write(self, vector: Vector, words: np.ndarray) -> None:
        """Fill a vector's rows from a flat uint64 array (host-side, untimed)."""
        per_row = self.row_bytes // 8
        data = np.asarray(words, dtype=np.uint64).reshape(len(vector.rows), per_row)
        for row, chunk in zip(vector.rows, data, strict=True):
            self.device.write_row(*row, chunk)

    def read(self, vector: Vector) -> np.ndarray:
        """A vector's contents as a flat uint64 array (host-side, untimed)."""
        return np.concatenate([self.device.read_row(*row) for row in vector.rows])

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
        self.check_footprint(program, len(dst.rows))
        is_copy = is_builtin(program) and program.name == "copy"
        if len(sources) != len(program.inputs):
            raise BulkError(
                f"{program.name} takes {len(program.inputs)} source vector(s), got {len(sources)}"
            )
        if any(len(v.rows) != len(dst.rows) for v in sources):
            raise BulkError(f"{program.name}: vectors differ in length")
        streams: dict[Bank, list[Iterator[Command]]] = {}
        fallback: list[tuple[RowAddress, list[RowAddress], str]] = []
        psm: dict[tuple[int, int], list[Iterator[Command]]] = {}  # per rank: copies, staging
        staged_rows = 0
        for i, out_row in enumerate(dst.rows):
            in_rows = [v.rows[i] for v in sources]
            reason = self._why_not_in_dram([*in_rows, out_row])
            if reason and is_copy and in_rows[0][:2] == out_row[:2]:
                psm.setdefault(out_row[:2], []).append(self._copy_row(in_rows[0], out_row))
                continue
            staged = self._staged(program, in_rows, out_row) if reason else None
            if staged is not None:
                psm.setdefault(out_row[:2], []).append(staged)
                staged_rows += 1
                continue
            if reason:
                fallback.append((out_row, in_rows, reason))
                continue
            base = out_row[4] - out_row[4] % self.pim.layout.physical_rows
            places = [r[4] - base for r in in_rows]
            streams.setdefault(out_row[:4], []).append(self._program(program, places, out_row))
        phases = [
            [_chain(s) for s in streams.values()],
            [_chain(s) for s in psm.values()],
            [self._cpu_path(program, fallback)] if fallback else [],
        ]
        reasons: dict[str, int] = {}
        for *_, reason in fallback:
            reasons[reason] = reasons.get(reason, 0) + 1
        return BulkPlan(
            program=program,
            rows=len(dst.rows),
            job=Job(self.device, phases, not_before, ActivityCounters()),
            cpu_rows=len(fallback),
            fallback_reasons=reasons,
            psm_rows=sum(len(s) for s in psm.values()) - staged_rows,
            staged_rows=staged_rows,
        )

    def report(self, plan: BulkPlan, span: Span) -> OpReport:
        """What a finished plan did (its job's span, counters and commands)."""
        counts = plan.program.counts()
        in_dram = plan.rows - plan.cpu_rows - plan.psm_rows
        counters = plan.job.counters
        return OpReport(
            op=plan.program.name,
            rows=plan.rows,
            in_dram_rows=in_dram + plan.psm_rows,
            cpu_rows=plan.cpu_rows,
            psm_rows=plan.psm_rows,
            fallback_reasons=plan.fallback_reasons,
            time_ns=self.device.clock.ticks_to_ns(span.end_tick - span.first_tick),
            commands={c: plan.job.issued[c] for c in COMMANDS if plan.job.issued.get(c)},
            aap=counts["AAP"] * in_dram,
            ap=counts["AP"] * in_dram,
            staged_rows=plan.staged_rows,
            lisa_moves=plan.job.issued.get("PREE", 0),  # one per LISA-RISC copy
            rows_raised=counters.rows_raised,
            max_row_activations=counters.max_row_activations,
            bank_busy_ns={
                str(b): self.device.clock.ticks_to_ns(t) for b, t in counters.busy_ticks.items()
            },
            span=span,
            row_bytes=self.row_bytes,
        )

    def vectors_at(
        self, mapper, addresses: Sequence[int], size: int, program: Program | None = None
    ) -> tuple[list, str]:
        """The row vectors of byte ranges [address, address + size), or ([], reason) when
        they are not whole rows (not row-aligned, or the mapping spreads a row's bytes).
        With ``program``, rows too many to run it over are a BulkError before any mapping
        (see :meth:`check_footprint`)."""
        if size % self.row_bytes:
            return [], "size is not a multiple of the row size"
        if any(a % self.row_bytes for a in addresses):
            return [], "address not row-aligned"
        if program is not None:
            self.check_footprint(program, size // self.row_bytes)
        last_col = (
            self.device.config.organisation.columns - self.device.config.organisation.burst_length
        )
        vectors = []
        for base in addresses:
            rows = []
            for offset in range(0, size, self.row_bytes):
                first = mapper.decode(base + offset)
                last = mapper.decode(base + offset + self.row_bytes - 64)
                if first[:5] != last[:5] or first[5] != 0 or last[5] != last_col:
                    return [], "the address mapping spreads a row's bytes over banks"
                rows.append(first[:5])
            vectors.append(Vector(tuple(rows), self.row_bytes))
        return vectors, ""

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
        moves = [self._copy_row(in_rows[k], *self._target(out_row, places[k])) for k in away]
        return _chain([*moves, commands])

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

    def _copy_row(
        self, src: RowAddress, dst: RowAddress, dst_address: int | None = None
    ) -> Iterator[Command]:
        """Copy row ``src`` to physical row ``dst`` of the same rank without the channel
        (``dst_address``: the row address to activate when it is not ``dst``'s own).

        Another bank: RowClone PSM. The same bank, another subarray: LISA-RISC when
        ``pim.lisa`` is on, else PSM twice through the temporary row of a neighbouring bank
        (in the source's subarray)."""
        if dst_address is None:
            dst_address = dst[4]
        if src[:4] != dst[:4]:
            return self._transfer(src, dst, dst_address)
        if self.device.config.pim.lisa:
            return self._lisa_copy(src, dst, dst_address)
        org = self.device.config.organisation
        ch, rk, bg, ba = src[:4]
        ba_tmp, bg_tmp = (ba + 1) % org.banks_per_group, bg
        if org.banks_per_group == 1:
            bg_tmp = (bg + 1) % org.bankgroups
        tmp = (ch, rk, bg_tmp, ba_tmp, self.temp_row(src[4] // self.pim.layout.physical_rows))
        return _chain([self._transfer(src, tmp, tmp[4]), self._transfer(tmp, dst, dst_address)])

    def _lisa_copy(self, src: RowAddress, dst: RowAddress, dst_address: int) -> Iterator[Command]:
        """LISA-RISC: ACT the source; per half of the row buffer (open bitlines: a row's
        halves sit in the row buffers above and below its subarray; here, alternate words)
        RBM it hop by hop to the destination subarray, AACT the destination row to store it;
        PREE between the halves keeps the source's second half; PRE."""
        pim = self.device.config.pim
        rps = self.pim.layout.physical_rows
        hops = abs(dst[4] // rps - src[4] // rps)
        bank = src[:4]
        yield Command("ACT", bank, src[4], raised=(src[4],))
        for half in (0, 1):
            if half:
                yield Command("PREE", bank, src[4])
            for _ in range(-(-hops // pim.rbm_subarrays)):
                yield Command("RBM", bank, dst_address)
            yield Command(
                "AACT",
                bank,
                dst_address,
                lambda h=half: self._store_half(src, dst, h),
                (dst[4],),
            )
        yield Command("PRE", bank, 0)

    def _store_half(self, src: RowAddress, dst: RowAddress, half: int) -> None:
        row = self.device.read_row(*dst)
        row[half::2] = self.device.read_row(*src)[half::2]
        self.device.write_row(*dst, row)

    def temp_row(self, subarray: int) -> int:
        """Physical row of ``subarray``'s temporary row, the middle stop of RowClone's
        inter-subarray copies (an extra wordline: no host address or vector reaches it)."""
        layout = self.pim.layout
        return subarray * layout.physical_rows + layout.temp_slot

    def _transfer(self, src: RowAddress, dst: RowAddress, dst_address: int) -> Iterator[Command]:
        org = self.device.config.organisation
        rank = (*src[:2], 0, 0)
        yield Command("ACT", src[:4], src[4], raised=(src[4],))
        yield Command("ACT", dst[:4], dst_address, raised=(dst[4],))
        bursts = org.columns // org.burst_length
        for k in range(bursts):
            last = k == bursts - 1
            yield Command(
                "TRANSFER",
                rank,
                0,
                (lambda: self.device.write_row(*dst, self.device.read_row(*src))) if last else None,
            )
        yield Command("PRE", src[:4], 0)
        yield Command("PRE", dst[:4], 0)

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


def _row_access(row: RowAddress, cmd: str, columns: range) -> Iterator[Command]:
    yield Command("ACT", row[:4], row[4], raised=(row[4],))
    for col in columns:
        yield Command(cmd, row[:4], row[4], column=col)
    yield Command("PRE", row[:4], 0)


def _chain(iterators: list[Iterator[Command]]) -> Iterator[Command]:
    for it in iterators:
        yield from it
