"""A checked µprogram lowered once to arrays, and command templates broadcast over rows.

``AAP src -> dst`` is ACT src, AACT dst, PRE; ``AP addr`` is ACT addr, PRE
(pimsim.ambit.execute.Binding, the slow twin, gives the same commands one Python object at
a time). :class:`Lowered` holds one row's run of a program: per command its code, where its
row address comes from (an operand's data row offset, or a fixed slot of the subarray: C0,
C1, a reserved address; PRE sends row 0) and the wordlines it raises, and per step the
wordlines read and written, for the data evaluation (pimsim.ambit.rowdata).
:class:`Template` is the general form every in-DRAM run is built from -- a program, a
RowClone or LISA copy (pimsim.ambit.copies), a staged program -- with its fields taken from
each row's endpoints; :func:`assemble` broadcasts templates over the rows of a bulk
operation (rows grouped by pattern, one template per pattern) into a job table, one stream
per bank or rank, with numpy: no Python object per command or per row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from pimsim.ambit.layout import C0, C1, SubarrayLayout
from pimsim.programs.check import check
from pimsim.programs.parse import Program
from pimsim.standards import CMD, COMMANDS

#: Fields of one row of a job's command table (pimsim._replay Engine.load_job).
JOB_FIELDS = 8

#: A row reference of a lowered step: ("op", operand index) or ("slot", offset in the
#: subarray), with whether the wordline is a negated one.
Ref = tuple[tuple[str, int], bool]


@dataclass(frozen=True)
class Lowered:
    """One row's run of a program as arrays (``c`` commands)."""

    code: np.ndarray  # [c] int32: command code (ACT, AACT, PRE)
    operand: np.ndarray  # [c] int32: operand whose data row is the address, else -1
    fixed: np.ndarray  # [c] int64: slot of the address in the subarray (when operand is -1)
    relative: np.ndarray  # [c] int64: 1 if the address is relative to the subarray base
    raised: np.ndarray  # [c] int32: wordlines raised (1 for PRE, as the engine counts it)
    operand_hits: np.ndarray  # [operands] int64: activations of each operand's row per run
    slot_hits: dict[int, int]  # fixed slot -> activations of that row per run
    steps: tuple[tuple[tuple[Ref, ...], tuple[Ref, ...]], ...]  # (read, written) per step
    operands: int  # inputs, output and scratch rows

    @property
    def commands(self) -> int:
        return len(self.code)


_CACHE: dict[tuple[int, int], tuple[Program, SubarrayLayout, Lowered]] = {}


def lower(program: Program, layout: SubarrayLayout) -> Lowered:
    """``program`` (already checked against ``layout``) as arrays; lowered once per
    (program, layout) object pair."""
    key = (id(program), id(layout))
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not program or hit[1] is not layout:
        hit = (program, layout, _lower(program, layout))
        _CACHE[key] = hit
    return hit[2]


def _lower(program: Program, layout: SubarrayLayout) -> Lowered:
    index = {name: k for k, name in enumerate(program.operands)}

    @functools.cache
    def refs(name: str) -> tuple[Ref, ...]:
        if name in index:
            return ((("op", index[name]), False),)
        return tuple((("slot", wl.slot), wl.negated) for wl in layout.wordlines(name))

    @functools.cache
    def address(name: str) -> tuple[int, int]:
        if name in index:
            return index[name], 0
        if name in (C0, C1):
            return -1, layout.constant_slot(name)
        return -1, layout.address_slot(name)

    code, operand, fixed, relative, raised, steps = [], [], [], [], [], []
    operand_hits = np.zeros(len(index), dtype=np.int64)
    slot_hits: dict[int, int] = {}
    for step in program.steps:
        read = refs(step.src)
        written = refs(step.dst) if step.dst is not None else ()
        steps.append((read, written))
        for cmd, name, wordlines in (("ACT", step.src, read), ("AACT", step.dst, written)):
            if name is None:
                continue
            op, slot = address(name)
            code.append(CMD[cmd])
            operand.append(op)
            fixed.append(slot)
            relative.append(1)
            raised.append(len(wordlines))
            for (kind, where), _ in wordlines:
                if kind == "op":
                    operand_hits[where] += 1
                else:
                    slot_hits[where] = slot_hits.get(where, 0) + 1
        code.append(CMD["PRE"])
        operand.append(-1)
        fixed.append(0)
        relative.append(0)
        raised.append(1)
    return Lowered(
        code=np.array(code, dtype=np.int32),
        operand=np.array(operand, dtype=np.int32),
        fixed=np.array(fixed, dtype=np.int64),
        relative=np.array(relative, dtype=np.int64),
        raised=np.array(raised, dtype=np.int32),
        operand_hits=operand_hits,
        slot_hits=slot_hits,
        steps=tuple(steps),
        operands=len(index),
    )


#: Rows of a template broadcast at a time by :func:`assemble` (bounds its temporaries).
_CHUNK_ROWS = 1 << 14


@dataclass(frozen=True)
class Template:
    """The commands of one row's run, each field taken from the row's *endpoints*.

    A row of a bulk operation has ``m`` endpoints, an (m, 5) array of (channel, rank,
    bankgroup, bank, physical row): for a program its subarray's first row and its operand
    rows; for a copy also the source and RowClone's temporary row. Per command: the endpoint
    whose bank it goes to (a rank command sends bankgroup and bank 0), the endpoint whose row
    its address adds to a constant (-1: none, as for PRE and TRANSFER) and the wordlines it
    raises. Per run, the rows it activates (endpoint row plus constant) and how often.
    """

    code: np.ndarray  # [c] int32: command code
    bank: np.ndarray  # [c] int64: endpoint giving channel, rank, bankgroup, bank
    rank_only: np.ndarray  # [c] bool: a rank command (bankgroup, bank sent as 0)
    row_end: np.ndarray  # [c] int64: endpoint whose row the address adds, -1 for none
    row_add: np.ndarray  # [c] int64: added to that row (or the address itself)
    raised: np.ndarray  # [c] int32: wordlines raised (1 for other commands, as counted)
    hit_end: np.ndarray  # [h] int64: endpoint of a row the run activates
    hit_add: np.ndarray  # [h] int64: offset of that row from the endpoint's row
    hit_count: np.ndarray  # [h] int64: activations of that row per run

    @property
    def commands(self) -> int:
        return len(self.code)

    @classmethod
    def of(
        cls,
        commands: list[tuple[str, int, bool, int, int, int]],
        hits: list[tuple[int, int, int]],
    ) -> Template:
        """From (command, bank endpoint, rank command, row endpoint, row constant, raised)
        per command and (endpoint, offset, count) per activated row."""
        c = list(zip(*commands, strict=True)) if commands else [()] * 6
        h = list(zip(*hits, strict=True)) if hits else [()] * 3
        return cls(
            code=np.array([CMD[n] for n in c[0]], dtype=np.int32),
            bank=np.array(c[1], dtype=np.int64),
            rank_only=np.array(c[2], dtype=bool),
            row_end=np.array(c[3], dtype=np.int64),
            row_add=np.array(c[4], dtype=np.int64),
            raised=np.array(c[5], dtype=np.int32),
            hit_end=np.array(h[0], dtype=np.int64),
            hit_add=np.array(h[1], dtype=np.int64),
            hit_count=np.array(h[2], dtype=np.int64),
        )

    def __add__(self, other: Template) -> Template:
        """This run, then ``other``'s (same endpoints)."""
        return Template(
            *(np.concatenate([getattr(self, f), getattr(other, f)]) for f in _TEMPLATE_FIELDS)
        )

    def table(self, ends: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The (n, c, 8) int32 job table of the runs of rows with endpoints ``ends``
        (n, m, 5): one broadcast per endpoint and field, into ``out`` when given (a view of
        the job's table: no temporary)."""
        n = len(ends)
        t = np.empty((n, self.commands, JOB_FIELDS), dtype=np.int32) if out is None else out
        t[:, :, 0] = self.code
        for e in np.unique(self.bank).tolist():
            cols = np.flatnonzero(self.bank == e)
            t[:, cols, 1:5] = ends[:, e, None, :4]
        t[:, self.rank_only, 3:5] = 0
        t[:, :, 5] = self.row_add
        for e in np.unique(self.row_end[self.row_end >= 0]).tolist():
            cols = np.flatnonzero(self.row_end == e)
            t[:, cols, 5] += ends[:, e, None, 4].astype(np.int32)
        t[:, :, 6] = 0
        t[:, :, 7] = self.raised
        return t

    def activated(self, end_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row ids (n * h,) of the rows the runs activate and how often each, from the row
        ids (n, m) of the runs' endpoints (a row's id plus an offset is the id of the row
        that far from it in its bank: the id's last field is the row)."""
        ids = end_ids[:, self.hit_end] + self.hit_add
        counts = np.broadcast_to(self.hit_count, ids.shape)
        return ids.reshape(-1), counts.reshape(-1)


_TEMPLATE_FIELDS = tuple(Template.__dataclass_fields__)

#: Places an input of a program run may be bound to instead of its own operand row:
#: ("op", j) the row of operand j (staged into the output row), ("address", name) the
#: compute row a reserved address raises alone.
Place = tuple[str, int | str]


def program_template(
    low: Lowered, layout: SubarrayLayout, places: dict[int, Place] | None = None
) -> Template:
    """``low`` over endpoints [subarray start, operand 0, operand 1, ...] (all in one bank);
    ``places`` rebinds inputs (see :data:`Place`)."""
    places = places or {}

    def where(k: int) -> tuple[int, int, int]:
        """(endpoint, address offset, physical offset) of operand k's row."""
        kind, value = places.get(k, ("op", k))
        if kind == "op":
            return 1 + int(value), 0, 0
        return 0, layout.address_slot(str(value)), layout.wordlines(str(value))[0].slot

    commands = []
    for code, op, fixed, relative, raised in zip(
        low.code.tolist(),
        low.operand.tolist(),
        low.fixed.tolist(),
        low.relative.tolist(),
        low.raised.tolist(),
        strict=True,
    ):
        end, add = (where(op)[:2]) if op >= 0 else ((0 if relative else -1), fixed)
        commands.append((COMMANDS[code], 0, False, end, add, raised))
    hits = [(where(k)[0], where(k)[2], n) for k, n in enumerate(low.operand_hits.tolist()) if n]
    hits += [(0, slot, n) for slot, n in low.slot_hits.items()]
    return Template.of(commands, hits)


def streams_of(keys: np.ndarray) -> np.ndarray:
    """Stream index of each row: one stream per distinct key (a bank or a rank), numbered
    in the order of their first row."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def assemble(
    streams: np.ndarray, groups: list[tuple[np.ndarray, Template, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """A part's job table: each stream the runs of its rows in row order, streams in order.
    ``streams`` (n,) is each row's stream; each group (row indices, template, endpoints of
    those rows) covers rows run alike. Returns the (commands, 8) int32 table and the end
    of each stream in it (cumulative)."""
    n = len(streams)
    length = np.zeros(n, dtype=np.int64)
    for rows, template, _ in groups:
        length[rows] = template.commands
    order = np.argsort(streams, kind="stable")
    start = np.empty(n, dtype=np.int64)
    start[order] = np.cumsum(length[order]) - length[order]
    table = np.empty((int(length.sum()), JOB_FIELDS), dtype=np.int32)
    for rows, template, ends in groups:
        c = template.commands
        by_start = np.argsort(start[rows], kind="stable")  # runs of one stream in a slice
        for first in range(0, len(rows), _CHUNK_ROWS):
            chunk = by_start[first : first + _CHUNK_ROWS]
            at = start[rows[chunk]]
            if (np.diff(at) == c).all():  # consecutive runs: written in place
                view = table[at[0] : at[0] + len(chunk) * c].reshape(len(chunk), c, JOB_FIELDS)
                template.table(ends[chunk], out=view)
            else:
                block = template.table(ends[chunk])
                table[(at[:, None] + np.arange(c)).reshape(-1)] = block.reshape(-1, JOB_FIELDS)
    per_stream = np.bincount(streams, weights=length, minlength=int(streams.max(initial=-1)) + 1)
    return table, np.cumsum(per_stream).astype(np.int64)


class PimDevice:
    """The subarray layout of a device, and the programs checked against it (once each)."""

    def __init__(self, device):
        self.device = device
        self.layout = SubarrayLayout.from_params(device.config.pim)
        self._checked: dict[int, Program] = {}  # kept alive so that ids stay unique

    def check(self, program: Program) -> None:
        """Check ``program`` against this device's layout (once per program object)."""
        if id(program) not in self._checked:
            check(program, self.layout)
            self._checked[id(program)] = program
