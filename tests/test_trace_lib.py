"""Trace BBOP lines of library operations with their width (``add8``): bit i of each operand
at its address + i * size, in DRAM and on the CPU path, bit-exact."""

import numpy as np
import pytest

from pimsim.config import load_config
from pimsim.errors import TraceError
from pimsim.programs.parse import builtin_names
from pimsim.programs.vertical import from_rows
from pimsim.sim import Replay
from pimsim.tracefile import parse_pim_line

pytestmark = pytest.mark.skipif(
    not {"add", "div"} <= set(builtin_names()), reason="the SIMDRAM library is not here"
)
CONFIG = load_config("ddr3-1600")
SIZE = 0x10000  # 8 rows of 8 KiB: one per bank of ddr3-1600, all in subarray 0
A, B, S, Q, R = 0x0, 0x80000, 0x100000, 0x200000, 0x280000


def test_a_library_line_names_its_destinations_and_sources():
    line = parse_pim_line(b"7 BBOP div8 0x200000 0x280000 0x0 0x80000 0x10000", "t", 3)
    assert (line.op, line.width, line.outputs) == ("div8", 8, 2)
    assert line.destinations == (Q, R) and line.inputs == (A, B)
    add = parse_pim_line(b"7 BBOP add16 0x100000 0x0 0x80000 0x10000", "t", 3)
    assert add.destinations == (S,) and add.inputs == (A, B) and add.width == 16


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"0 BBOP add99 0x0 0x0 0x0 64", "t:1: op: add99: n = 99 is outside 2..64"),
        (
            b"0 BBOP div8 0x0 0x0 0x0 64",
            "t:1: line: div8 takes 2 destinations, 2 source(s) and a size: expected "
            "'<cycle> BBOP div8 <dst> <dst2> <src1> <src2> <size>', got 7 fields",
        ),
        (b"0 BBOP frob8 0x0 0x0 64", "t:1: op: 'frob8' is not a bulk operation"),
    ],
)
def test_bad_library_lines_name_the_field(text, message):
    with pytest.raises(TraceError) as error:
        parse_pim_line(text, "t", 1)
    assert str(error.value).startswith(message)


def _rows(replay, base, width):
    """An operand's bit rows (width, words) as the device holds them."""
    out = []
    for i in range(width):
        words = []
        for k in range(0, SIZE, 8192):
            where = replay.mapper.decode(base + i * SIZE + k)
            words.append(replay.device.read_row(*where[:5]))
        out.append(np.concatenate(words))
    return np.array(out)


def _fill(replay, base, rows):
    for i, row in enumerate(rows):
        for j, k in enumerate(range(0, SIZE, 8192)):
            where = replay.mapper.decode(base + i * SIZE + k)
            replay.device.write_row(*where[:5], row[j * 1024 : (j + 1) * 1024])


@pytest.mark.parametrize("in_dram", [True, False])
def test_add8_and_div8_lines_are_bit_exact_both_ways(tmp_path, in_dram):
    trace = tmp_path / "lib.trace"
    trace.write_text(
        f"10 BBOP add8 {S:#x} {A:#x} {B:#x} {SIZE:#x}\n"
        f"20 BBOP div8 {Q:#x} {R:#x} {A:#x} {B:#x} {SIZE:#x}\n"
    )
    replay = Replay(CONFIG, trace, bulk_in_dram=in_dram)
    rng = np.random.default_rng(5)
    a_rows, b_rows = (rng.integers(0, 2**64, (8, SIZE // 8), dtype=np.uint64) for _ in "ab")
    _fill(replay, A, a_rows)
    _fill(replay, B, b_rows)
    doc = replay.run()
    n = SIZE * 8
    a, b = from_rows(a_rows, n), from_rows(b_rows, n)
    got = {
        name: from_rows(_rows(replay, base, 8), n)
        for name, base in zip("sqr", (S, Q, R), strict=True)
    }
    assert np.array_equal(got["s"], (a + b) % 256)
    safe = np.maximum(b, 1)
    assert np.array_equal(got["q"], np.where(b == 0, 255, a // safe))
    assert np.array_equal(got["r"], np.where(b == 0, a, a % safe))
    if in_dram:
        assert doc["pim"]["in_dram_rows"] == 2 * 8 and doc["commands"]["AAP"] > 0
    else:
        assert doc["commands"].get("AAP", 0) == 0 and doc["commands"]["WR"] == 3 * 8 * SIZE // 64


def test_an_agent_bbop_runs_a_library_operation():
    from pimsim.agents import System

    sim = System(CONFIG)
    replay = type("R", (), {"mapper": sim.mapper, "device": sim.device})
    rng = np.random.default_rng(6)
    a_rows, b_rows = (rng.integers(0, 2**64, (8, SIZE // 8), dtype=np.uint64) for _ in "ab")
    _fill(replay, A, a_rows)
    _fill(replay, B, b_rows)
    reports = []

    def agent(sim):
        reports.append((yield sim.bbop("add8", S, A, B, size=SIZE)))

    sim.process(agent(sim))
    sim.run()
    n = SIZE * 8
    got = from_rows(_rows(replay, S, 8), n)
    assert np.array_equal(got, (from_rows(a_rows, n) + from_rows(b_rows, n)) % 256)
    assert reports[0].in_dram_rows == 8 and reports[0].aap == 57 * 8


def test_operands_in_another_subarray_take_the_cpu_path_with_the_reason(tmp_path):
    far = 0x4000000  # row 1024: subarray 1 of every bank
    trace = tmp_path / "far.trace"
    trace.write_text(f"10 BBOP add8 {S:#x} {A:#x} {far:#x} {SIZE:#x}\n")
    replay = Replay(CONFIG, trace)
    rng = np.random.default_rng(7)
    a_rows, b_rows = (rng.integers(0, 2**64, (8, SIZE // 8), dtype=np.uint64) for _ in "ab")
    _fill(replay, A, a_rows)
    _fill(replay, far, b_rows)
    doc = replay.run()
    n = SIZE * 8
    got = from_rows(_rows(replay, S, 8), n)
    assert np.array_equal(got, (from_rows(a_rows, n) + from_rows(b_rows, n)) % 256)
    reasons = doc["pim"]["fallback_reasons"]
    assert reasons == {"operands in different subarrays (several output rows run only in place)": 1}
