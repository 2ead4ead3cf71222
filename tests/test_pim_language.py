""".pim v2: params, widths, bit rows, loops, if, call/def, compute rows by name, and the
checker's rules on expanded programs (each with its exact error line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.ambit.layout import SubarrayLayout
from pimsim.ambit.lowering import lower
from pimsim.config import load_config
from pimsim.programs.builder import Builder
from pimsim.programs.check import check
from pimsim.programs.hostrun import host_run
from pimsim.programs.parse import ProgramError, builtin, load, parse
from pimsim.programs.vertical import from_rows, to_rows

LAYOUT = SubarrayLayout.from_params(load_config("ddr3-1600").pim)

#: A ripple-carry adder written plainly (12 commands a bit): the language's test vehicle.
ADDER = """\
op adder
param n in 1..64
in a:n b:n
out s:n
scratch c
check s = (a + b) % 2**n
AAP C0 -> c
for i in 0..n-1
  AAP a[i] -> T0
  AAP b[i] -> T3
  AAP c -> ~DCC1
  AP DCC1,T0,T3          # MAJ(a, b, ~c)
  AAP a[i] -> T0
  AAP b[i] -> T1
  AAP c -> T2
  AAP T0,T1,T2 -> ~DCC0  # carry out; DCC0 reads its complement
  AAP DCC1 -> T1
  AAP c -> T2
  AAP DCC0,T1,T2 -> s[i] # MAJ(~cout, MAJ(a, b, ~c), c) = a ^ b ^ c
  AAP T0 -> c
end
"""


def _error(text: str, params=None) -> str:
    with pytest.raises(ProgramError) as info:
        check(parse(text, "t.pim", params=params), LAYOUT)
    return str(info.value)


def _ints(rng, width: int, count: int) -> np.ndarray:
    return rng.integers(0, 2**width, count, dtype=np.uint64, endpoint=False) if width < 64 else (
        rng.integers(0, 2**64, count, dtype=np.uint64, endpoint=False)
    )  # fmt: skip


@pytest.mark.parametrize("width", [1, 2, 8, 13, 32, 64])
def test_a_hand_written_adder_adds_at_every_width(width):
    program = parse(ADDER, "adder.pim", params={"n": width})
    assert program.counts() == {"AAP": 11 * width + 1, "AP": width}
    assert program.inputs[:2] == ("a[0]", "a[1]")[: min(2, width)] or width == 1
    assert program.operand("s").rows == tuple(f"s[{i}]" for i in range(width))
    rng = np.random.default_rng(width)
    a, b = _ints(rng, width, 3000), _ints(rng, width, 3000)
    got = host_run(program, LAYOUT, {"a": a, "b": b})["s"]
    mask = np.uint64(2**width - 1) if width < 64 else ~np.uint64(0)
    assert np.array_equal(got, (a + b) & mask)


def test_params_defaults_ranges_and_missing_values():
    text = "param n in 2..8\nparam k = n + 1\nin a:n\nout s:k\n"
    text += "for i in 0..k-1\nAAP a[0] -> s[i]\nend\n"
    program = parse(text, "t.pim", params={"n": 3})
    assert program.params == {"n": 3, "k": 4} and len(program.outputs) == 4
    with pytest.raises(ProgramError, match=r"t.pim:0: param: param n has no value \(pimsim exec"):
        parse(text, "t.pim")
    with pytest.raises(ProgramError, match="t.pim:0: param: n = 9 is outside 2..8"):
        parse(text, "t.pim", params={"n": 9})
    with pytest.raises(ProgramError, match="t.pim:0: param: the program takes no param q"):
        parse(text, "t.pim", params={"n": 3, "q": 1})


@pytest.mark.parametrize(
    ("expr", "value"),
    [("1-2*3", -5), ("2*3-1", 5), ("10-4-3", 3), ("2**3**2", 512), ("-2**2", -4), ("(1-2)*3", -3),
     ("7//2*2", 6), ("7%4+1", 4), ("n*n-5*n-1", 5), ("2*-3", -6)],
)  # fmt: skip
def test_integer_expressions_follow_python_precedence(expr, value):
    program = parse(f"param n = 6\nparam k = {expr}\nout s\nAAP C0 -> s\n", "t.pim")
    assert program.params["k"] == value


def test_loops_count_up_down_and_may_be_empty():
    text = "param n\nin a:n\nout s:n\nfor i in n-1..0 by -1\nAAP a[i] -> s[n-1-i]\nend\n"
    text += "for j in 1..0\nAP B12\nend\n"
    program = parse(text, "t.pim", params={"n": 3})
    assert [(s.src, s.dst, s.context) for s in program.steps] == [
        ("a[2]", "s[0]", "i=2"),
        ("a[1]", "s[1]", "i=1"),
        ("a[0]", "s[2]", "i=0"),
    ]


def test_if_else_picks_commands_at_expansion():
    text = (
        "param n\nin a:n\nout s:n\nfor i in 0..n-1\nif i % 2 == 0\nAAP a[i] -> s[i]\n"
        "else\nAAP C1 -> s[i]\nend\nend\n"
    )
    program = parse(text, "t.pim", params={"n": 4})
    assert [s.src for s in program.steps] == ["a[0]", "C1", "a[2]", "C1"]


def test_compute_rows_by_name_are_the_decoder_addresses():
    named = (
        "in Di Dj\nout Dk\nAAP Di -> ~DCC0,T0\nAAP Dj -> T1,~DCC1\nAAP C0 -> T2,T3\n"
        "AP DCC0,T1,T2\nAP T3,T0,DCC1\nAAP C1 -> T2\nAAP T0,T1,T2 -> Dk\n"
    )
    mine = parse(named, "x.pim", name="xor")
    ref = builtin("xor")
    a, b = lower(mine, LAYOUT), lower(ref, LAYOUT)
    assert np.array_equal(a.fixed, b.fixed) and np.array_equal(a.code, b.code)
    assert a.steps == b.steps


def test_call_binds_rows_slices_and_library_programs():
    text = """\
param n
in a:n b:n
out s:n t
def pair
  in x:2
  out y:2
  scratch k
  AAP x[0] -> k
  AAP k -> y[1]
  AAP x[1] -> y[0]
end
for i in 0..n-2 by 2
  call pair a[i..i+1] s[i..i+1]
end
call xor a[0] b[0] t
"""
    program = parse(text, "t.pim", params={"n": 4})
    assert program.scratch == ("pair.k",)
    assert [(s.src, s.dst) for s in program.steps[:3]] == [
        ("a[0]", "pair.k"),
        ("pair.k", "s[1]"),
        ("a[1]", "s[0]"),
    ]
    assert program.steps[3].context == "pair called at line 13; i=2"
    assert program.counts() == {"AAP": 6 + 5, "AP": 2}
    rng = np.random.default_rng(0)
    a, b = _ints(rng, 4, 500), _ints(rng, 4, 500)
    out = host_run(program, LAYOUT, {"a": a, "b": b})
    swapped = ((a >> np.uint64(1)) & np.uint64(0b0101)) | ((a << np.uint64(1)) & np.uint64(0b1010))
    assert np.array_equal(out["s"], swapped)
    assert np.array_equal(out["t"], (a ^ b) & np.uint64(1))


@pytest.mark.parametrize(
    ("text", "params", "expected"),
    [
        # an index outside an operand's width
        (
            "param n\nin a:n\nout s\nfor i in 0..n\nAAP a[i] -> s\nend\n",
            {"n": 4},
            "t.pim:5: source: a[i] is row 4, outside a's 4 rows (0..3)",
        ),
        # an undefined name
        ("in a\nout s\nAAP a -> Tx\n", None, "t.pim:3: destination: 'Tx' is not an operand, C0"),
        ("in a\nout s\nAAP q[1] -> s\n", None, "t.pim:3: source: q is not an operand: it takes"),
        ("in a\nout s\nAAP a -> T0,T1\n", None, "t.pim:3: destination: 'T0,T1' is not an oper"),
        # an AP that does not raise three rows
        ("in a\nout s\nAAP a -> T0\nAP T0\nAAP T0 -> s\n", None, "t.pim:4: address: AP T0 raises"),
        # an operand row destroyed while it is still needed
        (
            "in a b\nout s\nAAP b -> a\nAAP a -> s\nAAP b -> s\n",
            None,
            "t.pim:3: destination: overwrites input a, which line 4 still reads",
        ),
        # a compute row read before it is written, with the loop that made the step
        (
            "param n\nin a:n\nout s:n\nfor i in 0..n-1\nAAP T1 -> s[i]\nend\n",
            {"n": 2},
            "t.pim:5: source: T1 is read before anything wrote it (i=0)",
        ),
        ("in a\nout s\nAAP a -> T0\nAAP T2,T3 -> s\n", None, "t.pim:4: source: T2,T3 raises two"),
        ("in a:2\nout s\nAAP a -> s\n", None, "t.pim:3: source: a has 2 rows: name one, a[i]"),
        ("in a\nout s\nAAP ~a -> s\n", None, "t.pim:3: source: ~a: only a dual-contact row"),
        ("in a\nout s\nfor i in 0..1\nAAP i -> s\nend\n", None, "t.pim:4: source: i is a number"),
        ("in a\nout s\nAAP a[1//0] -> s\n", None, "t.pim:3: source: 1//0: division by zero"),
        ("in a\nout s\ncall nope a s\n", None, "t.pim:3: call: no built-in µprogram 'nope'"),
        ("in a\nout s\ncall xor a s\n", None, "t.pim:3: call: xor takes 3 rows or operands"),
        ("in a:2\nout s\ncall not a s\n", None, "t.pim:3: call: not's Di is 1 row wide; 'a' give"),
        (
            "def f\nin x\nout y\ncall f x y\nend\nin a\nout s\ncall f a s\n",
            None,
            "t.pim:4: call: calls nest too deep or in a circle: f -> f",
        ),
        ("in a\nout s\nfor i in 0..3\nAAP a -> s\n", None, "t.pim:3: end: this block is never"),
        ("in a\nout s\nend\n", None, "t.pim:3: end: no for, if or def block is open"),
        ("in a\nout s\nfor i in 0..3\nin b\nend\n", None, "t.pim:4: in: a declaration is not"),
        ("in a\nout s\ncheck t = a\nAAP a -> s\n", None, "t.pim:3: check: t is not an output"),
        ("in a\nout s\nsigned q\nAAP a -> s\n", None, "t.pim:3: signed: q is not an input or o"),
        ("in a:0\nout s\nAAP C0 -> s\n", None, "t.pim:1: in: a: width 0 outside 1..4096"),
        (f"in a:{'x' * 5000}\nout s\nAAP a -> s\n", None, "t.pim:1: in: 'xxxxxxxxxxxxxxxxxxxxx"),
        ("in a\nout s\nfor i in 0..3 by 0\nend\nAAP a -> s\n", None, "t.pim:3: for: the step"),
        ("in a T0\nout s\nAAP a -> s\n", None, "t.pim:1: operand: T0 is a reserved row"),
    ],
)
def test_every_rule_has_its_exact_error_line(text, params, expected):
    assert _error(text, params).startswith(expected)


def test_expansion_is_bounded():
    with pytest.raises(ProgramError, match="t.pim:3: for: 1,000,000,001 iterations"):
        parse("in a\nout s\nfor i in 0..10**9\nend\n", "t.pim")
    with pytest.raises(ProgramError, match="value .* is out of range"):
        parse("in a\nout s\nAAP a[2**50] -> s\n", "t.pim")


def test_the_builder_makes_the_same_program_as_the_file():
    b = Builder("xor")
    x, y = b.input("Di"), b.input("Dj")
    z = b.output("Dk")
    for src, dst in ((x, "B8"), (y, "B9"), ("C0", "B10")):
        b.aap(src, dst)
    b.ap("B14")
    b.ap("B15")
    b.aap("C1", "B2")
    b.aap("B12", z)
    built = b.build()
    ref = builtin("xor")
    assert [(s.kind, s.src, s.dst) for s in built.steps] == [
        (s.kind, s.src, s.dst) for s in ref.steps
    ]
    assert built.operands == ref.operands


def test_the_builder_inlines_a_program_with_its_scratch_rows():
    adder = parse(ADDER, "adder.pim", params={"n": 3})
    b = Builder("twice")
    a, x = b.input("a", 3), b.input("b", 3)
    s = b.output("s", 3)
    b.call(adder, *a, *x, *s)
    program = b.build()
    assert program.scratch == ("adder.c",) and len(program.steps) == len(adder.steps)
    rng = np.random.default_rng(3)
    va, vb = _ints(rng, 3, 200), _ints(rng, 3, 200)
    got = host_run(program, LAYOUT, {"a": va, "b": vb})["s"]
    assert np.array_equal(got, (va + vb) & np.uint64(7))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_vertical_layout_round_trips(data):
    width = data.draw(st.integers(1, 64))
    signed = data.draw(st.booleans())
    low, high = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if signed else (0, 2**width - 1)
    values = data.draw(st.lists(st.integers(low, high), min_size=1, max_size=200))
    dtype = np.int64 if signed else np.uint64
    rows = to_rows(np.array(values, dtype=dtype), width)
    assert rows.shape == (width, -(-len(values) // 64))
    assert from_rows(rows, len(values), signed).tolist() == values


_TOKENS = st.sampled_from(
    ["in", "out", "param", "for", "if", "end", "else", "call", "def", "AAP", "AP", "a", "s", "n",
     "i", "a[i]", "s[0]", "->", "..", "0", "1", "n-1", "T0", "~DCC0", "T0,T1,T2", "B12", "C0",
     ":", "=", "(", ")", "by", "-1", "check", "signed", "xor", "a[0..1]", "2**70", "//0"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_TOKENS, max_size=7).map(" ".join), max_size=12))
def test_fuzzed_v2_text_is_a_program_or_one_program_error(lines):
    text = "param n = 2\nin a:n\nout s\n" + "\n".join(lines) + "\nAAP a[0] -> s\n"
    try:
        check(parse(text, "f.pim"), LAYOUT)
    except ProgramError as error:
        assert str(error).startswith("f.pim:") and "\n" not in str(error)


@pytest.mark.parametrize("width", [1, 2, 8, 31, 64])
def test_the_readme_adder_is_exact_in_8n_plus_1_commands(width):
    program = load(Path(__file__).parent.parent / "examples/programs/adder.pim", {"n": width})
    counts = program.counts()
    assert counts["AAP"] + counts["AP"] == 8 * width + 1
    rng = np.random.default_rng(width)
    a, b = _ints(rng, width, 4000), _ints(rng, width, 4000)
    edge = np.array([0, 1, 2**width - 1, 2 ** (width - 1)], dtype=np.uint64)
    a, b = np.concatenate([a, edge, edge[::-1]]), np.concatenate([b, edge, edge])
    mask = np.uint64(2**width - 1) if width < 64 else ~np.uint64(0)
    assert np.array_equal(host_run(program, LAYOUT, {"a": a, "b": b})["s"], (a + b) & mask)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=300), st.integers(1, 64))
def test_vertical_layout_puts_bit_i_of_element_e_in_row_i(values, width):
    rows = to_rows(np.array(values, dtype=np.uint64), width)
    for e, value in enumerate(values):
        for i in range(width):
            assert (int(rows[i, e // 64]) >> (e % 64)) & 1 == (value >> i) & 1
