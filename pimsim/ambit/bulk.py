"""Bulk bitwise operations on vectors of rows: allocation, lowering, bank-parallel execution.

A :class:`Vector` is a list of rank-wide rows. :meth:`BulkEngine.alloc` places row i of every
vector in the same bank and subarray (pimsim.ambit.vectors) so the operands of one operation
meet in one subarray, as Ambit's in-DRAM path requires.

``bbop(op, dst, *sources)`` lowers the operation to one µprogram run per row and hands the
controller one job of two phases: first the rows whose operands meet in one subarray (one
stream per bank, banks interleaved as the timing allows), then the rows that run in DRAM
after copies (pimsim.ambit.staging: a copy's source elsewhere in the rank, or sources of a
program copied into the output row's subarray by RowClone PSM, LISA-RISC or PSM twice; one
stream per rank). Both phases are templates broadcast over rows (pimsim.ambit.lowering), and
their data effects are vectorized (pimsim.ambit.rowdata). What cannot run in DRAM (a source
in another rank, no place to stage a source in) falls back to the CPU: the host model of
pimsim.baseline (misses in flight, store buffer, compute rate) reads the source rows and
writes the destination rows through the same controller. **Ordering:** a fallback row runs
after every in-DRAM row of the operation -- its requests go out when the job has ended and
the requests sent before it are served -- and sees their results; fallback rows run in row
order (a destination that is a later row's source is read after it is written). The host
computes a built-in with its numpy twin and any other program with its vectorized semantics
(pimsim.ambit.rowdata.evaluate_host). The report says how many rows took each path and
why; nothing falls back silently.

``run(program, outputs, inputs)`` is the same for a flat program of any number of output
rows (a multi-bit program after expansion: one vector per bit row of each operand, made by
``alloc_program`` so that row g of every one lies in one subarray). A program with several
output rows runs only in place -- every row's operands in one subarray, each output row
apart from the other operands -- and anything else is a BulkError naming the first row at
fault: neither staging nor the CPU fallback is modelled for it.

A program's ``scratch`` rows are data rows kept, in each subarray it runs in, at the top of
the subarray's data rows (below RowClone's temporary row): the allocator hands them out no
more.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim.ambit.fallback import HostRows, host_rows
from pimsim.ambit.jobs import Job, Part, Span, empty_part, run_job
from pimsim.ambit.lowering import PimDevice, assemble, lower, program_template, streams_of
from pimsim.ambit.report import BulkPlan, HostWork, OpReport
from pimsim.ambit.rowdata import apply_rows, evaluate_host
from pimsim.ambit.staging import check_offsets, moved_part, stageable
from pimsim.ambit.vectors import BulkError, Placement, Vector, bank_index, vectors_at
from pimsim.device import Device
from pimsim.errors import ConfigError, PimsimError
from pimsim.programs.parse import Program, builtin, is_builtin
from pimsim.standards import COMMANDS

__all__ = [
    "NUMPY_OPS",
    "BulkEngine",
    "BulkError",
    "BulkPlan",
    "OpReport",
    "Vector",
    "bulk_result",
    "has_twin",
]

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
}

#: Host memory a bulk operation may take to simulate (bytes, estimated by
#: :meth:`BulkEngine.check_footprint`): its operand rows and its command table (and job log)
#: at ``_COMMAND_BYTES`` per DRAM command.
MAX_HOST_BYTES = 6 << 30
_COMMAND_BYTES = 64
#: Words of the random test vectors a built-in is checked on before its first use.
_TEST_WORDS = 4
#: Why a row cannot run in DRAM as it lies (index 0: it can).
_REASONS = ("", "operands in different banks", "operands in different subarrays",
            "operand in a reserved row")  # fmt: skip


def has_twin(program: Program) -> bool:
    """Whether ``program`` is a shipped bitwise built-in whose numpy twin
    (:func:`bulk_result`) computes it; other programs are computed by their semantics."""
    return program.name in (*NUMPY_OPS, "zero", "one") and is_builtin(program)


def bulk_result(op: str, sources: Sequence[np.ndarray], shape: int | tuple[int, ...]) -> np.ndarray:
    """Built-in ``op`` computed on the host with its numpy twin: the CPU path's result
    (uint64, of ``shape``: the sources' shape)."""
    if op in ("zero", "one"):
        return np.full(shape, 0 if op == "zero" else 0xFFFF_FFFF_FFFF_FFFF, dtype=np.uint64)
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
        org = device.config.organisation
        use = org.banks_per_rank if banks_per_rank is None else banks_per_rank
        if not 1 <= use <= org.banks_per_rank:
            raise BulkError(
                f"banks per rank must be 1..{org.banks_per_rank} "
                f"({device.config.name}), not {banks_per_rank}"
            )
        self.row_bytes = org.row_bytes
        self.banks = [
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
        self.host = HostRows(device)  # the host model, for fallback rows

    # -- allocation ----------------------------------------------------------------------------

    def alloc(self, nbytes: int) -> Vector:
        """A vector of ``nbytes`` (a whole number of rows), striped over every bank."""
        if nbytes <= 0 or nbytes % self.row_bytes:
            raise BulkError(
                f"a PIM vector is a whole number of {self.row_bytes}-byte rows, not {nbytes} bytes"
            )
        return Vector(self.placement.alloc(nbytes // self.row_bytes), self.row_bytes)

    def alloc_program(self, program: Program, groups: int) -> tuple[list[Vector], list[Vector]]:
        """Vectors of ``groups`` rows for each flat input and output row of ``program``
        (``program.inputs`` and ``program.outputs`` order): row g of every one of them in
        the same bank and subarray, as :meth:`run` needs. BulkError, before any row is
        taken, if its rows and scratch rows do not fit the free data rows of a subarray."""
        self.pim.check(program)
        rows = len(program.inputs) + len(program.outputs)
        per_subarray = -(-groups // (len(self.banks) * self.subarrays))
        need = rows * per_subarray + len(program.scratch)
        free = self.placement.free_rows()
        if need > free:
            raise BulkError(
                f"{program.name}: {rows} operand rows x {per_subarray} row group(s) per "
                f"subarray + {len(program.scratch)} scratch rows = {need:,} rows; a subarray "
                f"has {free:,} free data rows: use fewer elements or more banks"
            )
        vectors = [Vector(self.placement.alloc(groups), self.row_bytes) for _ in range(rows)]
        return vectors[: len(program.inputs)], vectors[len(program.inputs) :]

    def write_rows(self, vectors: Sequence[Vector], data: np.ndarray) -> None:
        """Fill whole vectors at once (host-side, untimed): ``data`` (len(vectors), rows,
        words per row) uint64, one scatter for all of them."""
        per_row = self.row_bytes // 8
        data = np.asarray(data, dtype=np.uint64)
        rows = sum(len(v) for v in vectors)
        if data.size != rows * per_row:
            raise BulkError(f"{data.size:,} words of data for {rows:,} rows of {per_row} words")
        self.device.scatter_rows(self._ids(vectors), data.reshape(rows, per_row))

    def read_rows(self, vectors: Sequence[Vector]) -> np.ndarray:
        """Whole vectors of equal length (host-side, untimed): (len(vectors), rows, words
        per row) uint64, one gather for all of them."""
        per_row = self.row_bytes // 8
        words = self.device.gather_rows(self._ids(vectors))
        return words.reshape(len(vectors), -1, per_row)

    def _ids(self, vectors: Sequence[Vector]) -> np.ndarray:
        fields = [v.fields for v in vectors]
        return self.device.row_ids(*np.concatenate(fields).T) if fields else np.zeros(0, np.int64)

    def temp_row(self, subarray: int) -> int:
        """Physical row of ``subarray``'s temporary row, the middle stop of RowClone's
        inter-subarray copies (an extra wordline: no host address or vector reaches it)."""
        return subarray * self.pim.layout.physical_rows + self.pim.layout.temp_slot

    def check_program(self, program: Program) -> None:
        """ProgramError if ``program`` breaks a hardware rule on this subarray. A built-in must
        also compute its operation (its semantics run on the host over test words): a
        configuration whose decoder or rows break one is a ConfigError on ``pim.decoder``,
        not an error in a file the user never wrote, nor a wrong result."""
        if not has_twin(program) or program.name in self._working:
            self.pim.check(program)
            return
        try:
            self.pim.check(program)
            rng = np.random.default_rng(0)
            sources = [rng.integers(0, 2**64, _TEST_WORDS, dtype=np.uint64) for _ in program.inputs]
            got = self._semantics(program, sources, (_TEST_WORDS,))
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
        self, program: Program, sources: Sequence[np.ndarray], shape: int | tuple[int, ...]
    ) -> np.ndarray:
        """``program`` computed on the host (uint64 of ``shape``): a built-in's numpy twin,
        else the program's semantics run on host arrays."""
        if has_twin(program):
            return bulk_result(program.name, sources, shape)
        self.pim.check(program)
        return self._semantics(program, sources, shape)

    def _semantics(self, program: Program, sources: Sequence[np.ndarray], shape) -> np.ndarray:
        low = lower(program, self.pim.layout)
        shape = (shape,) if isinstance(shape, int) else shape
        return evaluate_host(low, self.pim.layout, sources, len(program.inputs), shape)

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
        """Run ``op`` over whole vectors (``dst = op(*sources)``) to its end, fallback rows
        included; see the module docstring."""
        return self.run(op, [dst], sources, not_before=not_before)

    def run(
        self,
        op: str | Program,
        outputs: Sequence[Vector],
        inputs: Sequence[Vector],
        not_before: int = 0,
    ) -> OpReport:
        """Run a flat program to its end: one vector per flat row, ``inputs`` in
        ``program.inputs`` order and ``outputs`` in ``program.outputs`` order (a multi-bit
        operand is one vector per bit row, as :meth:`alloc_program` makes them); every
        output row is written. A program with several output rows runs only in place:
        see :meth:`plan_rows`."""
        plan = self.plan_rows(op, outputs, inputs, not_before=not_before)
        plan.span = run_job(self.device, plan.job)
        return self.report(plan, plan.span, self.host.run_now(plan))

    def plan(
        self, op: str | Program, dst: Vector, *sources: Vector, not_before: int = 0
    ) -> BulkPlan:
        """The controller job of ``dst = op(*sources)`` (the rows in place, then the rows
        run after copies) and the host's part (fallback rows), not run yet."""
        return self.plan_rows(op, [dst], sources, not_before=not_before)

    def plan_rows(
        self,
        op: str | Program,
        outputs: Sequence[Vector],
        inputs: Sequence[Vector],
        not_before: int = 0,
    ) -> BulkPlan:
        """:meth:`plan` of a program with any number of output rows (see :meth:`run`).
        With one output row, rows whose operands lie apart are staged or fall back to the
        CPU; with several, every row of the operation must have its operands in one
        subarray, each output row distinct from every other operand row (else a
        BulkError): neither RowClone staging nor the CPU fallback is modelled for them."""
        program = builtin(op) if isinstance(op, str) else op
        self.check_program(program)
        if len(outputs) != len(program.outputs):
            raise BulkError(
                f"{program.name} writes {len(program.outputs)} output row vector(s), "
                f"got {len(outputs)}"
            )
        if len(inputs) != len(program.inputs):
            raise BulkError(
                f"{program.name} takes {len(program.inputs)} source vector(s), got {len(inputs)}"
            )
        dst = outputs[0]
        self.check_footprint(program, len(dst))
        if any(len(v) != len(dst) for v in (*outputs, *inputs)):
            raise BulkError(f"{program.name}: vectors differ in length")
        if len(outputs) > 1:
            return self._plan_in_place(program, outputs, inputs, not_before)
        sources = list(inputs)
        is_copy = is_builtin(program) and program.name == "copy"
        reasons = self._why_not(dst, sources)
        other = np.flatnonzero(reasons)
        out = dst.fields[other]
        srcs = [v.fields[other] for v in sources]
        layout, org = self.pim.layout, self.device.config.organisation
        movable = stageable(program, layout, org, out, srcs, is_copy)
        moved, fallback = other[movable], other[~movable]
        parts = [
            self._program_part(program, outputs, sources, np.flatnonzero(reasons == 0)),
            self._moved_part(program, dst, sources, moved, is_copy),
        ]
        counted: dict[str, int] = {}
        for r in reasons[fallback].tolist():
            counted[_REASONS[r]] = counted.get(_REASONS[r], 0) + 1
        return BulkPlan(
            program=program,
            rows=len(dst),
            job=Job(self.device, parts, not_before, self.with_data),
            cpu_rows=len(fallback),
            fallback_reasons=counted,
            psm_rows=len(moved) if is_copy else 0,
            staged_rows=0 if is_copy else len(moved),
            host=self._host_rows(program, dst, sources, fallback) if len(fallback) else None,
        )

    def _plan_in_place(
        self,
        program: Program,
        outputs: Sequence[Vector],
        inputs: Sequence[Vector],
        not_before: int,
    ) -> BulkPlan:
        """The plan of a program with several output rows: every row in place (see
        :meth:`plan_rows`)."""
        dst = outputs[0]
        reasons = self._why_not(dst, [*outputs[1:], *inputs])
        if reasons.any():
            j = int(np.argmax(reasons != 0))
            raise BulkError(
                f"{program.name}: row {j} of its operands cannot run in place "
                f"({_REASONS[reasons[j]]}); a program with {len(outputs)} output rows runs "
                "only with all its operand rows in one subarray (allocate them together: "
                "BulkEngine.alloc_program)"
            )
        ids = [self.device.row_ids(*v.fields.T) for v in (*outputs, *inputs)]
        names = (*program.outputs, *program.inputs)
        for k, out in enumerate(ids[: len(outputs)]):
            for j in range(k + 1, len(ids)):
                if (out == ids[j]).any():
                    raise BulkError(
                        f"{program.name}: output {names[k]} shares a row with {names[j]} (a "
                        "program with several output rows needs each in a row of its own)"
                    )
        part = self._program_part(program, outputs, inputs, np.arange(len(dst)))
        return BulkPlan(
            program=program,
            rows=len(dst),
            job=Job(self.device, [part], not_before, self.with_data),
            cpu_rows=0,
            fallback_reasons={},
            psm_rows=0,
            staged_rows=0,
        )

    def not_in_place(self, outputs: Sequence[Vector], inputs: Sequence[Vector]) -> str:
        """Why some row of an operation cannot run with all its operand rows where they
        lie ("" if every row can): a program with several output rows runs only so."""
        reasons = self._why_not(outputs[0], [*outputs[1:], *inputs])
        return _REASONS[int(reasons.max(initial=0))]

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
        self,
        program: Program,
        outputs: Sequence[Vector],
        sources: Sequence[Vector],
        rows: np.ndarray,
    ) -> Part:
        """The in-DRAM rows ``rows`` (indices): the program's template over them, one stream
        per bank, its data applied block by block, and the rows it activates."""
        if not len(rows):
            return empty_part()
        layout, org = self.pim.layout, self.device.config.organisation
        low = lower(program, layout)
        rps = layout.physical_rows
        out = outputs[0].fields[rows]
        bank = bank_index(out, org)
        base = out[:, 4] - out[:, 4] % rps
        offsets = np.empty((len(rows), low.operands), dtype=np.int64)
        for k, v in enumerate((*sources, *outputs)):
            offsets[:, k] = v.fields[rows, 4] - base
        self._scratch(program, offsets, bank, base // rps)
        if len(outputs) == 1:
            check_offsets(program, offsets)
        ends = np.empty((len(rows), 1 + low.operands, 5), dtype=np.int64)
        ends[:, :, :4] = out[:, None, :4]
        ends[:, 0, 4] = base
        ends[:, 1:, 4] = base[:, None] + offsets
        template = program_template(low, layout)
        table, stream_end = assemble(streams_of(bank), [(np.arange(len(rows)), template, ends)])
        end_ids = self.device.row_ids(*ends.reshape(-1, 5).T).reshape(len(rows), -1)
        activated, weights = template.activated(end_ids)
        ids = end_ids[:, 1:]

        def apply(_order: np.ndarray) -> None:
            apply_rows(self.device, low, layout, ids)

        return Part(table, stream_end, apply, activated, weights)

    def _moved_part(
        self, program: Program, dst: Vector, sources: Sequence[Vector], rows, is_copy: bool
    ) -> Part:
        """The rows ``rows`` that run after copies (pimsim.ambit.staging)."""
        if not len(rows):
            return empty_part()
        out, rps = dst.fields[rows], self.pim.layout.physical_rows
        scratch = np.zeros(0, dtype=np.int64)
        if not is_copy:
            offsets = (out[:, 4] % rps)[:, None]
            bank = bank_index(out, self.device.config.organisation)
            scratch = self._scratch(program, offsets, bank, out[:, 4] // rps)
        srcs = [v.fields[rows] for v in sources]
        return moved_part(self.device, program, self.pim.layout, out, srcs, scratch, is_copy)

    def _scratch(
        self, program: Program, offsets: np.ndarray, bank: np.ndarray, sub: np.ndarray
    ) -> np.ndarray:
        """The scratch rows of the subarrays (kept from the allocator, written into the
        columns of ``offsets`` past the inputs and outputs when it has them); BulkError if
        an operand lies in them."""
        if not program.scratch:
            return np.zeros(0, dtype=np.int64)
        n_data = len(program.inputs) + len(program.outputs)
        _, first = np.unique(bank * self.subarrays + sub, return_index=True)
        scratch = self.placement.scratch_rows(bank[first], sub[first], len(program.scratch))
        if np.isin(offsets[:, :n_data], scratch).any():
            raise BulkError(f"{program.name}: an operand lies in the subarray's scratch rows")
        if offsets.shape[1] > n_data:
            offsets[:, n_data:] = scratch
        return scratch

    def _host_rows(self, program: Program, dst: Vector, sources: Sequence[Vector], rows):
        """The fallback rows ``rows`` for the host model (pimsim.ambit.fallback)."""

        def compute(values: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
            return self.host_result(program, values, shape)

        srcs = [v.fields[rows] for v in sources]
        return host_rows(self.device, dst.fields[rows], srcs, compute if self.with_data else None)

    def report(self, plan: BulkPlan, span: Span, host: HostWork | None = None) -> OpReport:
        """What a finished plan did: its job's span, counters and commands, and the host's
        commands for its fallback rows (their activations count as rows raised; the busy
        time and the most activations of a row are the job's)."""
        counts = plan.program.counts()
        in_dram = plan.rows - plan.cpu_rows - plan.psm_rows
        counters = plan.job.counters
        issued = dict(counters.issued)
        end = span.end_tick
        raised = counters.rows_raised
        if host is not None:
            for c, n in host.commands.items():
                issued[c] = issued.get(c, 0) + n
            end = max(end, host.end_tick)
            raised += host.commands.get("ACT", 0)
        return OpReport(
            op=plan.program.name,
            rows=plan.rows,
            in_dram_rows=in_dram + plan.psm_rows,
            cpu_rows=plan.cpu_rows,
            psm_rows=plan.psm_rows,
            fallback_reasons=plan.fallback_reasons,
            time_ns=self.device.clock.ticks_to_ns(end - span.first_tick),
            commands={c: issued[c] for c in COMMANDS if issued.get(c)},
            aap=counts["AAP"] * in_dram,
            ap=counts["AP"] * in_dram,
            staged_rows=plan.staged_rows,
            lisa_moves=issued.get("PREE", 0),  # one per LISA-RISC copy
            rows_raised=raised,
            max_row_activations=counters.max_row_activations,
            bank_busy_ns={
                str(b): self.device.clock.ticks_to_ns(t) for b, t in counters.busy_ticks.items()
            },
            span=Span(span.first_tick, end),
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
