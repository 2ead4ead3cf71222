"""µprograms: the .pim parser, the checker, and the built-in library."""

import pytest

from pimsim.ambit.layout import SubarrayLayout
from pimsim.config import load_config
from pimsim.programs import library
from pimsim.programs.check import check
from pimsim.programs.parse import ProgramError, builtin, builtin_names, load, parse

LAYOUT = SubarrayLayout.from_params(load_config("ddr3-1600").pim)

#: AAP/AP counts of Ambit's command sequences (REFERENCE.md) and RowClone's copy/zero/one.
COUNTS = {
    "not": (2, 0),
    "and": (4, 0),
    "or": (4, 0),
    "nand": (5, 0),
    "nor": (5, 0),
    "xor": (5, 2),
    "xnor": (5, 2),
    "copy": (1, 0),
    "zero": (1, 0),
    "one": (1, 0),
}


def test_library_has_the_ten_operations_with_their_command_counts():
    assert set(COUNTS) <= set(library.plain()) and set(COUNTS) < set(builtin_names())
    for name, (aap, ap) in COUNTS.items():
        program = builtin(name)
        check(program, LAYOUT)
        assert program.counts() == {"AAP": aap, "AP": ap}, name


def test_layout_matches_ambit_for_1024_row_subarrays():
    assert LAYOUT.data_rows == 1024 and LAYOUT.physical_rows == 1024 + 2 + 16 + 1
    assert LAYOUT.constant_slot("C0") == 1024 and LAYOUT.constant_slot("C1") == 1025
    assert [(w.slot - 1026, w.negated) for w in LAYOUT.wordlines("B8")] == [(4, True), (0, False)]
    assert LAYOUT.temp_slot == 1042  # RowClone's temporary row: the last wordline
    assert len(LAYOUT.wordlines("B12")) == 3


def _error(text):
    with pytest.raises(ProgramError) as info:
        check(parse(text, "t.pim"), LAYOUT)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in A\nout B\nAAP A -> C0\n", "t.pim:3: destination: writes the constant row C0"),
        ("in A\nout B\nAAP B0 -> B\n", "t.pim:3: source: T0 is read before anything wrote it"),
        (
            "in A\nout B\nAAP A -> B0\nAAP B10 -> B\n",
            "t.pim:4: source: B10 raises two rows at once: the sensed value is undefined",
        ),
        (
            "in A X\nout B\nAAP X -> A\nAAP A -> B\n",
            "t.pim:3: destination: overwrites input A, which line 4 still reads",
        ),
        (
            "in A\nout B\nAAP A -> Q\n",
            "t.pim:3: destination: 'Q' is not an operand, C0, C1 or a reserved address",
        ),
        ("in A\nout B\nAAP A -> B0\n", "t.pim:0: out: output B is never written"),
    ],
)
def test_checker_names_the_line_that_breaks_a_rule(text, expected):
    assert _error(text).startswith(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in A\nout B\nAAP A B\n", "t.pim:3: AAP: expected 'AAP SRC -> DST'"),
        ("in A\nout B\nAP\n", "t.pim:3: AP: expected 'AP ADDR'"),
        ("in A\nout B\nMOV A B\n", "t.pim:3: command: 'MOV' is not op, param, in, out, scratch"),
        ("in A A\nout B\nAAP A -> B\n", "t.pim:1: in: A already declared on line 1"),
        ("in A\nAAP A -> B0\n", "t.pim:0: out: the program declares no output row"),
    ],
)
def test_parser_errors_name_file_line_and_field(text, expected):
    with pytest.raises(ProgramError) as info:
        parse(text, "t.pim")
    assert str(info.value).startswith(expected)


def test_program_file_and_unknown_builtin(tmp_path):
    path = tmp_path / "mine.pim"
    path.write_text("# my copy\nin X\nout Y\nAAP X -> Y\n")
    program = load(path)
    assert program.name == "mine" and program.counts() == {"AAP": 1, "AP": 0}
    with pytest.raises(ProgramError, match="no built-in µprogram 'nope'"):
        builtin("nope")
