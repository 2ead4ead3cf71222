"""Row programs: a lowered µprogram's data effect as register operations (row_program), run
by the core over many rows (Device.run_row_program) against a plain-Python twin."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.ambit.lowering import lower
from pimsim.ambit.rowdata import AND, LOAD, MAJ, NOT, OR, STORE, row_program
from pimsim.config import load_config
from pimsim.device import Device
from pimsim.programs.parse import builtin

CONFIG = load_config("ddr3-1600")
ALL = 0xFFFF_FFFF_FFFF_FFFF


def run_rows_twin(rows: dict, ids, ops, registers, columns):
    """The slow twin of the core's run_rows: one row, one op, one Python word list at a
    time; ``rows`` maps row id -> list of words (absent: zeros)."""
    for operands in ids:
        reg = [[0] * columns, [ALL] * columns] + [None] * (registers - 2)
        for code, r, a, b, c in ops:
            if code == LOAD:
                reg[r] = list(rows.get(operands[a], [0] * columns))
            elif code == STORE:
                rows[operands[a]] = list(reg[r])
            elif code == NOT:
                reg[r] = [ALL ^ x for x in reg[a]]
            elif code == AND:
                reg[r] = [x & y for x, y in zip(reg[a], reg[b], strict=True)]
            elif code == OR:
                reg[r] = [x | y for x, y in zip(reg[a], reg[b], strict=True)]
            else:
                reg[r] = [
                    (x & y) | (z & (x | y)) for x, y, z in zip(reg[a], reg[b], reg[c], strict=True)
                ]


@st.composite
def row_programs(draw, operands=3):
    """Random valid ops: every register read is a constant or defined before."""
    ops, registers = [], 2
    for _ in range(draw(st.integers(1, 10))):
        code = draw(st.sampled_from([LOAD, STORE, NOT, AND, OR, MAJ]))
        pick = st.integers(0, registers - 1)
        if code == LOAD:
            ops.append((LOAD, registers, draw(st.integers(0, operands - 1)), 0, 0))
        elif code == STORE:
            ops.append((STORE, draw(pick), draw(st.integers(0, operands - 1)), 0, 0))
            continue
        else:
            ops.append((code, registers, draw(pick), draw(pick), draw(pick)))
        registers += 1
    return ops, registers


@settings(max_examples=60, deadline=None)
@given(row_programs(), st.lists(st.lists(st.integers(0, 5), min_size=3, max_size=3), max_size=6))
def test_the_core_runs_a_row_program_as_its_twin(program, ids):
    """Rows repeat among the operands and across rows: a row's loads see earlier stores."""
    ops, registers = program
    device = Device(CONFIG)
    columns = CONFIG.organisation.columns
    rng = np.random.default_rng(len(ops))
    start = rng.integers(0, 2**64, (4, columns), dtype=np.uint64)  # rows 0..3; 4, 5 empty
    device.scatter_rows(np.arange(4), start)
    twin = {k: [int(x) for x in start[k]] for k in range(4)}
    device.run_row_program(np.array(ids, dtype=np.int64).reshape(-1, 3), ops, registers)
    run_rows_twin(twin, ids, ops, registers, columns)
    got = device.gather_rows(np.arange(6))
    for k in range(6):
        assert got[k].tolist() == twin.get(k, [0] * columns)


def test_constants_fold_away():
    layout = Device(CONFIG).layout

    def ops(op):
        return row_program(lower(builtin(op), layout), layout)[0][:, 0].tolist()

    assert ops("and") == [LOAD, LOAD, AND, STORE]  # majority with C0
    assert ops("or") == [LOAD, LOAD, OR, STORE]
    assert ops("not") == [LOAD, NOT, STORE]  # through DCC0, no copy into T rows
    assert ops("copy") == [LOAD, STORE]
    assert row_program(lower(builtin("one"), layout), layout)[0].tolist() == [[STORE, 1, 0, 0, 0]]


@pytest.mark.parametrize(
    "ops, registers, ids, message",
    [
        ([(9, 2, 0, 0, 0)], 3, [[0]], "unknown code 9"),
        ([(AND, 2, 0, 5, 0)], 3, [[0]], "register 5 out of range"),
        ([(NOT, 1, 0, 0, 0)], 3, [[0]], "writes the constant register 1"),
        ([(LOAD, 2, 1, 0, 0)], 3, [[0]], "operand 1 of 1"),
        ([(STORE, 0, 0, 0, 0)], 3, [[0], [1 << 40]], "out of range"),
    ],
)
def test_bad_row_programs_are_refused_before_any_row_is_touched(ops, registers, ids, message):
    device = Device(CONFIG)
    with pytest.raises(ValueError, match=message):
        device.run_row_program(np.array(ids, dtype=np.int64), ops, registers)
    assert device.rows_allocated == 0
