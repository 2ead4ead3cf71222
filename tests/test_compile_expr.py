"""The expression reader: precedence, outputs and intermediates, and one-line errors with
the column."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.compile.expr import read_expression
from pimsim.programs.errors import ProgramError


def truth(text: str) -> dict[str, list[int]]:
    """Each output's truth table over the inputs (input i = bit i of the row index)."""
    net = read_expression(text)
    n = len(net.inputs)
    rows = np.arange(1 << n, dtype=np.uint64)
    values = {name: (rows >> np.uint64(i)) & np.uint64(1) for i, name in enumerate(net.inputs)}
    return {k: [int(x) & 1 for x in v] for k, v in net.evaluate(values).items()}


def test_precedence_follows_python():
    assert truth("a | b & c") == truth("a | (b & c)")
    assert truth("a ^ b & c") == truth("a ^ (b & c)")
    assert truth("a | b ^ c") == truth("a | (b ^ c)")
    assert truth("~a & b") == truth("(~a) & b")


def test_maj_constants_and_several_outputs():
    tables = truth("s = a ^ b ^ c; co = maj(a, b, c)\nz = a & 0 | 1")
    assert tables["s"] == [0, 1, 1, 0, 1, 0, 0, 1]
    assert tables["co"] == [0, 0, 0, 1, 0, 1, 1, 1]
    assert tables["z"] == [1] * 8


def test_intermediates_are_no_outputs_and_names_refer_back():
    net = read_expression("t := a & b; y = t | c; w = ~y")
    assert [name for name, _ in net.outputs] == ["y", "w"]
    assert net.inputs == ["a", "b", "c"]


def test_unnamed_outputs_and_input_order():
    net = read_expression("b & a; c")
    assert [name for name, _ in net.outputs] == ["out", "out1"]
    assert net.inputs == ["b", "a", "c"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("a & (b | ", "expression:1: column 9: expected a name, 0, 1, '~', '(' or maj(...), "
         "found the end of the statement"),
        ("a & b)", "expression:1: column 6: expected an operator or the end, found ')'"),
        ("maj(a, b)", "expression:1: column 9: expected ',' (maj takes three arguments), "
         "found ')'"),
        ("x = a\ny = b $ c", "expression:2: column 7: expected an operator or the end, "
         "found '$'"),
        ("a = b; a = c", "expression:1: column 8: a is already an input, a name or maj"),
        ("", "expression:1: column 1: no expression"),
    ],
)  # fmt: skip
def test_errors_name_line_and_column(text, message):
    with pytest.raises(ProgramError) as caught:
        read_expression(text)
    assert str(caught.value) == message


def test_deep_nesting_is_one_error_not_a_recursion_error():
    with pytest.raises(ProgramError, match="nested more than 100 deep"):
        read_expression("(" * 500 + "a" + ")" * 500)


def test_check_expressions_nest_balanced():
    import ast

    from pimsim.compile.compiler import _depth

    names = [f"x{i}" for i in range(64)]
    net = read_expression("p = " + " ^ ".join(names))
    text = net.expression(net.outputs[0][1], {n: n for n in names}, 10_000)
    assert _depth(ast.parse(text, mode="eval").body) == 7  # six XOR levels and the names
    assert net.expression(net.outputs[0][1], {n: n for n in names}, 100) is None  # too long
