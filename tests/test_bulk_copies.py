"""Copies, staging and fallback rows of bulk operations: the templates against the slow twin.

The job table of a bulk operation (rows in place, then rows run after copies) must be the
per-command twin's (pimsim.ambit.execute: Binding, copy_commands) command for command, on
random placements; the data bit-exact against the twin's per-command data actions; and a
fallback row must go through the host model (its reads and writes in the controller's
counters, its speed set by the host's misses in flight).
"""

import numpy as np
import pytest

from pimsim.ambit.bulk import NUMPY_OPS, BulkEngine, Vector
from pimsim.ambit.execute import PimDevice, command_part, copy_commands, run_streams
from pimsim.ambit.lowering import streams_of
from pimsim.ambit.staging import choose_places
from pimsim.ambit.vectors import bank_index
from pimsim.config import load_config
from pimsim.controller import engine_of
from pimsim.device import Device
from pimsim.programs.parse import builtin

LISA = ["pim.lisa=true"]


def random_rows(layout, rng, n, operands, banks, subarrays=3):
    """``operands`` lists of ``n`` distinct rows of rank 0 (no row used twice): each row of
    an operand in a random bank and subarray, so that operands meet, miss by a subarray or
    miss by a bank."""
    rps = layout.physical_rows
    picked: set[tuple] = set()
    out = []
    for _ in range(operands):
        rows = []
        while len(rows) < n:
            bank = int(rng.integers(banks))
            row = int(rng.integers(subarrays)) * rps + int(rng.integers(8))
            key = (0, 0, 0, bank, row)
            if key not in picked:
                picked.add(key)
                rows.append(key)
        out.append(rows)
    return out


def twin_streams(eng, program, dst, sources):
    """The twin's streams of ``dst = program(*sources)``: per bank the rows in place, per
    rank the rows run after copies (each away source copied in, then the program)."""
    pim, layout = PimDevice(eng.device), eng.pim.layout
    rps, org = layout.physical_rows, eng.device.config.organisation
    is_copy = program.name == "copy"
    in_place, moved = [], []
    for i, out in enumerate(dst.rows):
        ins = [v.rows[i] for v in sources]
        home = [r[:4] == out[:4] and r[4] // rps == out[4] // rps for r in ins]
        (in_place if all(home) else moved).append(i)
    phases = []
    for rows, key in ((in_place, bank_index), (moved, None)):
        keyed = (
            bank_index(dst.fields[rows], org)
            if key
            else dst.fields[rows, 0] * org.ranks + dst.fields[rows, 1]
        )
        streams = streams_of(np.asarray(keyed)) if rows else np.zeros(0, int)
        per_stream = [[] for _ in range(int(streams.max(initial=-1)) + 1)]
        for i, s in zip(rows, streams.tolist(), strict=True):
            per_stream[s].append(_row_commands(pim, eng, program, dst, sources, i, is_copy))
        phases.append([[c for run in stream for c in run] for stream in per_stream])
    return phases


def _row_commands(pim, eng, program, dst, sources, i, is_copy):
    layout, rps = eng.pim.layout, eng.pim.layout.physical_rows
    out = dst.rows[i]
    base = out[4] - out[4] % rps
    ins = [v.rows[i] for v in sources]
    away = tuple(r[:4] != out[:4] or r[4] // rps != out[4] // rps for r in ins)
    same = tuple(r == out for r in ins)
    if is_copy and any(away):  # a copy moves its source; FPM (the program) in place
        return list(copy_commands(eng.device, ins[0], out))
    places = choose_places(program, layout, away, same) if any(away) else {}
    commands, binding = [], {}
    for k, name in enumerate(program.inputs):
        place = places.get(k)
        if place is None:
            binding[name] = ins[k][4] - base
        elif place[0] == "op":
            binding[name] = out[4] - base
            commands += copy_commands(eng.device, ins[k], out)
        else:
            slot = layout.wordlines(place[1])[0].slot
            target = (*out[:4], base + slot)
            commands += copy_commands(
                eng.device, ins[k], target, base + layout.address_slot(place[1])
            )
            binding[name] = place[1]
    binding[program.outputs[0]] = out[4] - base
    commands += pim.bind(program, out[:4], out[4] // rps, binding).commands()
    return commands


def _table(device, streams):
    part = command_part(device, streams)
    return part.table, part.stream_end


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("op", ["copy", "not", "and", "xor"])
@pytest.mark.parametrize("lisa", [False, True])
def test_job_tables_are_the_twins_streams_on_random_placements(seed, op, lisa):
    eng = BulkEngine(Device(load_config("ddr3-1600", LISA if lisa else [])))
    program = builtin(op)
    rng = np.random.default_rng(seed)
    rows = random_rows(eng.pim.layout, rng, 10, len(program.inputs) + 1, banks=3)
    dst, *sources = (Vector(r, eng.row_bytes) for r in rows)
    plan = eng.plan(op, dst, *sources)
    assert plan.cpu_rows == 0
    for part, streams in zip(plan.job.parts, twin_streams(eng, program, dst, sources), strict=True):
        table, stream_end = _table(eng.device, streams)
        assert part.table.tolist() == table.tolist()
        assert part.stream_end.tolist() == stream_end.tolist()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("op", ["copy", "nand", "xnor"])
@pytest.mark.parametrize("lisa", [False, True])
def test_data_is_the_twins_bit_for_bit(seed, op, lisa):
    config = load_config("ddr3-1600", LISA if lisa else [])
    fast, slow = BulkEngine(Device(config)), BulkEngine(Device(config))
    program = builtin(op)
    rng = np.random.default_rng(100 + seed)
    rows = random_rows(fast.pim.layout, rng, 8, len(program.inputs) + 1, banks=4)
    words = fast.row_bytes // 8
    for eng in (fast, slow):
        data = np.random.default_rng(seed).integers(0, 2**64, (len(rows) * 8, words), np.uint64)
        eng.device.scatter_rows(eng.device.row_ids(*np.array(sum(rows, [])).T), data)
    dst, *sources = (Vector(r, fast.row_bytes) for r in rows)
    fast.bbop(op, dst, *sources)
    for phase in twin_streams(slow, program, dst, sources):
        if phase:
            run_streams(slow.device, phase)
    for vec in (dst, *sources):
        assert np.array_equal(fast.read(vec), slow.read(vec))
    want = NUMPY_OPS[op](*(slow.read(v) for v in sources)) if op != "copy" else None
    if want is not None:  # no operand is another's (distinct rows): the op itself
        assert np.array_equal(fast.read(dst), want)


@pytest.mark.parametrize("lisa", [False, True])
def test_copies_take_the_twins_ticks(lisa):
    config = load_config("ddr3-1600", LISA if lisa else [])
    fast, slow = BulkEngine(Device(config)), BulkEngine(Device(config))
    rps = fast.pim.layout.physical_rows
    src = [(0, 0, 0, b % 3, 5 + b) for b in range(6)]
    dst = [(0, 0, 0, b % 2, (1 + b % 3) * rps + 2 + b) for b in range(6)]  # PSM, PSM twice/LISA
    dst_v, src_v = Vector(dst, fast.row_bytes), Vector(src, fast.row_bytes)
    report = fast.bbop("copy", dst_v, src_v)
    assert report.psm_rows == 6
    span = run_streams(slow.device, twin_streams(slow, builtin("copy"), dst_v, [src_v])[1])
    assert report.span == span


def fallback_engine(*overrides):
    return BulkEngine(Device(load_config("ddr4-2400", list(overrides))))


def test_a_fallback_row_goes_through_the_host_model():
    eng = fallback_engine()
    rng = np.random.default_rng(1)
    a, b = (0, 0, 0, 0, 3), (0, 1, 0, 0, 3)  # rank 1: no internal bus to rank 0
    da, db = (rng.integers(0, 2**64, eng.row_bytes // 8, dtype=np.uint64) for _ in "ab")
    eng.device.write_row(*a, da)
    eng.device.write_row(*b, db)
    out = Vector(((0, 0, 0, 0, 9),), eng.row_bytes)
    report = eng.bbop("xor", out, Vector((a,), eng.row_bytes), Vector((b,), eng.row_bytes))
    assert report.cpu_rows == 1 and report.fallback_reasons == {"operands in different banks": 1}
    assert np.array_equal(eng.device.read_row(0, 0, 0, 0, 9), da ^ db)
    bursts = 8192 // 64
    stats = engine_of(eng.device).channel_stats(0)
    assert stats["reads"] == 2 * bursts and stats["writes"] == bursts  # the host's requests
    assert report.commands["RD"] == 2 * bursts and report.commands["WR"] == bursts
    assert "AACT" not in report.commands and "TRANSFER" not in report.commands


def test_the_host_models_misses_in_flight_set_a_fallbacks_time():
    times = {}
    for mlp in (1, 10):
        eng = fallback_engine(f"host.misses_in_flight={mlp}")
        rows = [(0, 0, b % 4, b // 4, 5) for b in range(8)]
        out = Vector([(0, 1, r[2], r[3], 9) for r in rows], eng.row_bytes)  # rank 1
        times[mlp] = eng.bbop("not", out, Vector(rows, eng.row_bytes)).time_ns
    assert times[1] > 1.5 * times[10]  # one miss at a time serializes the reads


def test_fallback_rows_run_in_row_order():
    """Row 0 writes A (rank 1) from C; row 1 reads A into B (rank 0): B gets ~~C."""
    eng = fallback_engine()
    c, a, b = (0, 0, 0, 1, 3), (0, 1, 0, 1, 4), (0, 0, 0, 2, 5)
    dc = np.random.default_rng(2).integers(0, 2**64, eng.row_bytes // 8, dtype=np.uint64)
    eng.device.write_row(*c, dc)
    report = eng.bbop("not", Vector((a, b), eng.row_bytes), Vector((c, a), eng.row_bytes))
    assert report.cpu_rows == 2
    assert np.array_equal(eng.device.read_row(*a), ~dc)
    assert np.array_equal(eng.device.read_row(*b), dc)


def test_fallback_rows_follow_the_in_dram_rows_and_see_their_results():
    """Row 0 runs in DRAM (A := ~C in one subarray); row 1 falls back reading A."""
    eng = fallback_engine()
    c, a, b = (0, 0, 0, 1, 3), (0, 0, 0, 1, 4), (0, 1, 0, 2, 5)
    dc = np.random.default_rng(3).integers(0, 2**64, eng.row_bytes // 8, dtype=np.uint64)
    eng.device.write_row(*c, dc)
    report = eng.bbop("not", Vector((a, b), eng.row_bytes), Vector((c, a), eng.row_bytes))
    assert report.cpu_rows == 1 and report.in_dram_rows == 1
    assert np.array_equal(eng.device.read_row(*b), dc)
    assert report.span.end_tick > report.span.first_tick
