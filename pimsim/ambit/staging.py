"""Rows whose operands are not in one subarray, made to run in DRAM by copying first.

A copy whose source lies elsewhere in the output's rank is one move (pimsim.ambit.copies).
A program row whose sources lie outside the output row's subarray (same rank) has each such
source copied in first -- into the output row (when the program reads it before writing its
output, as the built-ins do) or into a compute row the program does not overwrite before
reading it (bound to the reserved address that raises it alone) -- and then runs there. The
place of each source depends only on which sources are away and which equal the output row,
so it is chosen once per such pattern (:func:`choose_places`, the binding rules of
:func:`check_aliases` and :func:`check_staged`); the rows are grouped by pattern (places,
move kinds, LISA hops) and each group is one template broadcast over its rows
(:func:`moved_part`). Rows run one stream per rank, in row order; their data effect is the
program (or copy) applied over the sources where they lie, with pimsim.ambit.rowdata.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from pimsim.ambit.copies import move, move_kind, temp_rows
from pimsim.ambit.jobs import Part
from pimsim.ambit.layout import SubarrayLayout
from pimsim.ambit.lowering import Place, Template, assemble, lower, program_template, streams_of
from pimsim.ambit.rowdata import apply_rows
from pimsim.ambit.vectors import BulkError, bank_index
from pimsim.device import Device
from pimsim.programs.parse import Program, builtin


def check_aliases(program: Program, rows: Mapping[str, int | str]) -> None:
    """ValueError if an output bound to an input's row is written before that input's last
    read."""
    for out in program.outputs:
        for inp in program.inputs:
            if rows[out] != rows[inp]:
                continue
            reads = [s.line for s in program.steps if s.src == inp]
            writes = [s.line for s in program.steps if s.dst == out]
            if reads and writes and min(writes) < max(reads):
                raise ValueError(
                    f"{program.name}: output {out} shares a row with input {inp}, "
                    f"and line {min(writes)} overwrites it before line "
                    f"{max(reads)} reads it"
                )


def check_offsets(program: Program, offsets: np.ndarray) -> None:
    """BulkError if, in some row, an output sharing an input's row (``offsets`` (n,
    operands): each row's operand offsets) is written before that input's last read."""
    n_in = len(program.inputs)
    if not offsets.size or not n_in:
        return
    same = offsets[:, :n_in] == offsets[:, n_in : n_in + 1]
    # each row's pattern as a number, input 0 the highest bit: the patterns found, in
    # ascending order, are the distinct rows of ``same`` in lexicographic order
    bits = 1 << np.arange(n_in - 1, -1, -1, dtype=np.int64)
    found = np.flatnonzero(np.bincount(same.astype(np.int64) @ bits, minlength=1 << n_in))
    for code in found.tolist():
        bound: dict[str, int | str] = {name: -1 - k for k, name in enumerate(program.operands)}
        for k in range(n_in):
            if code >> (n_in - 1 - k) & 1:
                bound[program.outputs[0]] = bound[program.inputs[k]]
        try:
            check_aliases(program, bound)
        except ValueError as error:
            raise BulkError(str(error)) from None


def check_staged(program: Program, layout: SubarrayLayout, name: str, address: str) -> None:
    """ValueError unless input ``name`` staged in the compute row ``address`` raises alone
    stays there until the program's last read of it."""
    raised = layout.wordlines(address) if layout.address(address) else ()
    if len(raised) != 1 or raised[0].negated:
        raise ValueError(f"{program.name}: {address} does not raise one compute row alone")
    slot = raised[0].slot
    reads = [s.line for s in program.steps if s.src == name]
    writes = [s.line for s in program.steps if slot in layout.writes(s.src, s.dst)]
    if reads and writes and min(writes) < max(reads):
        raise ValueError(
            f"{program.name}: input {name} staged in {address}, which line {min(writes)} "
            f"overwrites before line {max(reads)} reads it"
        )


def staging_addresses(layout: SubarrayLayout) -> list[str]:
    """Reserved addresses that raise one compute row alone (B0..B4 in Ambit's table)."""
    found = (layout.plain_address(row) for row in layout.compute_rows)
    return [a for a in found if a is not None]


_PLACES: dict[tuple, tuple[Program, SubarrayLayout, dict[int, Place] | None]] = {}


def choose_places(
    program: Program, layout: SubarrayLayout, away: tuple[bool, ...], same: tuple[bool, ...]
) -> dict[int, Place] | None:
    """Where the away inputs go (input index -> place) when the inputs flagged ``same`` are
    the output row itself: the first assignment the binding rules accept (the output row
    first, unless an input holds it, then the staging addresses), or None. Chosen once per
    (program, layout, pattern)."""
    key = (id(program), id(layout), away, same)
    hit = _PLACES.get(key)
    if hit is None or hit[0] is not program or hit[1] is not layout:
        hit = (program, layout, _choose(program, layout, away, same))
        _PLACES[key] = hit
    return hit[2]


def _choose(program, layout, away, same) -> dict[int, Place] | None:
    out = len(program.inputs)
    candidates: list[Place] = [] if any(same) else [("op", out)]
    candidates += [("address", a) for a in staging_addresses(layout)]
    moved = [k for k, a in enumerate(away) if a]
    for chosen in itertools.permutations(candidates, len(moved)):
        places = dict(zip(moved, chosen, strict=True))
        bound: dict[str, int | str] = {program.outputs[0]: -1}
        for k, name in enumerate(program.inputs):
            place = places.get(k)
            if place is None:
                bound[name] = -1 if same[k] else k
            else:
                bound[name] = -1 if place[0] == "op" else str(place[1])
        try:
            check_aliases(program, bound)
            for k, place in places.items():
                if place[0] == "address":
                    check_staged(program, layout, program.inputs[k], str(place[1]))
        except ValueError:
            continue
        return places
    return None


def stageable(
    program: Program,
    layout: SubarrayLayout,
    org,
    out: np.ndarray,
    sources: Sequence[np.ndarray],
    is_copy: bool,
) -> np.ndarray:
    """Per row (``out`` (n, 5), sources (n, 5) each): it can run in DRAM after copies (the
    sources away from the output's subarray are in its rank, its rows in that subarray are
    data rows, and the sources find places)."""
    if is_copy:
        return (sources[0][:, :2] == out[:, :2]).all(axis=1)
    away, same = _flags(layout, org, out, sources)
    ok = out[:, 4] % layout.physical_rows < layout.data_rows
    for k, src in enumerate(sources):
        ok &= ~away[:, k] | (src[:, :2] == out[:, :2]).all(axis=1)
        ok &= away[:, k] | (src[:, 4] % layout.physical_rows < layout.data_rows)
    keys, inverse = np.unique(np.concatenate([away, same], axis=1), axis=0, return_inverse=True)
    n_in = len(sources)
    flags = [(tuple(map(bool, k[:n_in])), tuple(map(bool, k[n_in:]))) for k in keys.tolist()]
    placed = np.array([choose_places(program, layout, *f) is not None for f in flags], bool)
    return ok & placed[inverse.reshape(-1)]


def _flags(layout, org, out, sources) -> tuple[np.ndarray, np.ndarray]:
    """(n, inputs) bool: each source away from the output's subarray; each source the
    output row itself."""
    rps = layout.physical_rows
    bank, sub = bank_index(out, org), out[:, 4] // rps
    away = np.zeros((len(out), len(sources)), dtype=bool)
    same = np.zeros_like(away)
    for k, s in enumerate(sources):
        away[:, k] = (bank_index(s, org) != bank) | (s[:, 4] // rps != sub)
        same[:, k] = (s == out).all(axis=1)
    return away, same


def moved_part(
    device: Device,
    program: Program,
    layout: SubarrayLayout,
    out: np.ndarray,
    sources: Sequence[np.ndarray],
    scratch: np.ndarray,
    is_copy: bool,
) -> Part:
    """The part of rows that run after copies (all :func:`stageable`): ``out`` (n, 5),
    ``sources`` (n, 5) each, ``scratch`` the scratch row offsets of their subarrays. One
    stream per rank, rows in order."""
    org, pim = device.config.organisation, device.config.pim
    n, n_in = len(out), len(sources)
    program = builtin("copy") if is_copy else program
    low = lower(program, layout)
    m = low.operands
    rps = layout.physical_rows
    base = out[:, 4] - out[:, 4] % rps
    ends = np.empty((n, 1 + m + 2 * n_in, 5), dtype=np.int64)
    ends[:, :, :4] = out[:, None, :4]
    ends[:, 0, 4] = base
    ends[:, 1 : 1 + m, 4] = out[:, 4, None]
    ends[:, 2 + n_in : 1 + m, 4] = base[:, None] + scratch[None, :]
    away, same = _flags(layout, org, out, sources)
    if is_copy:  # a copy always moves its source, even within its subarray
        away[:] = True
    pattern = [away, same]
    for k, src in enumerate(sources):
        ends[:, 1 + k, 4] = np.where(away[:, k], out[:, 4], src[:, 4])
        ends[:, 1 + m + 2 * k] = src
        ends[:, 2 + m + 2 * k] = temp_rows(src, org, layout)
        kind, rbms = move_kind(src, out, org, layout, pim)
        pattern += [np.where(away[:, k], kind, -1)[:, None], np.where(away[:, k], rbms, 0)[:, None]]
    keys, inverse = np.unique(np.concatenate(pattern, axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    groups = []
    for g, key in enumerate(keys.tolist()):
        rows = np.flatnonzero(inverse == g)
        template = _template(program, low, layout, org, key, n_in, m, is_copy)
        groups.append((rows, template, ends[rows]))
    table, stream_end = assemble(streams_of(out[:, 0] * org.ranks + out[:, 1]), groups)
    end_ids = device.row_ids(*ends.reshape(-1, 5).T).reshape(n, -1)
    hit_ids, weights = zip(*(t.activated(end_ids[rows]) for rows, t, _ in groups), strict=True)
    activated = np.concatenate(hit_ids)
    ids = np.empty((n, m), dtype=np.int64)
    ids[:, :n_in] = end_ids[:, 1 + m :: 2]  # the sources (1 + m + 2k)
    ids[:, n_in:] = end_ids[:, 1 + n_in : 1 + m]

    def apply(_order: np.ndarray) -> None:
        apply_rows(device, low, layout, ids)

    return Part(table, stream_end, apply, activated, np.concatenate(weights))


def _template(program, low, layout, org, key, n_in, m, is_copy) -> Template:
    """The run of one pattern of :func:`moved_part`: the moves of the away sources in input
    order, then the program (none for a copy)."""
    away, same = key[:n_in], key[n_in : 2 * n_in]
    places = (
        {0: ("op", 1)}
        if is_copy
        else choose_places(program, layout, tuple(map(bool, away)), tuple(map(bool, same)))
    )
    bursts = org.columns // org.burst_length
    run = Template.of([], [])
    for k, place in sorted(places.items()):
        kind, rbms = key[2 * n_in + 2 * k], key[2 * n_in + 2 * k + 1]
        if place[0] == "op":
            dst = (1 + int(place[1]), 0, 0)
        else:
            name = str(place[1])
            dst = (0, layout.address_slot(name), layout.wordlines(name)[0].slot)
        run = run + move(kind, rbms, bursts, 1 + m + 2 * k, dst, 2 + m + 2 * k)
    return run if is_copy else run + program_template(low, layout, places)
