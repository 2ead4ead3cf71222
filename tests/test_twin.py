"""Check expressions (pimsim.programs.twin): exact against Python's integers, safe, one
clear error for anything outside the whitelist."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.programs.twin import CheckError, Operand, compile_check


def expect(text, values, operands, width, params=None):
    params = params or {}
    check = compile_check(text, list(operands), list(params), "--check")
    arrays = {
        k: np.array(v, dtype=np.int64 if operands[k].signed else np.uint64)
        for k, v in values.items()
    }
    n = len(next(iter(values.values())))
    return check.expected(arrays, operands, params, width, n).tolist()


U64 = 2**64 - 1


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("(a + b) % 2**n", [0, 4, U64 - 1, 5]),  # 2**64 is not cut to 64 bits
        ("a + b", [0, 4, U64 - 1, 5]),  # mod 2**64 of the output anyway
        ("(a * b) >> 64", [0, 0, U64 - 1, 0]),  # the high half of a 128-bit product
        ("a > b", [0, 0, 0, 1]),
        ("a // b", [U64, 0, 1, U64]),  # x // 0 is all ones
        ("a % b", [0, 1, 0, 5]),  # x % 0 is x
        ("np.minimum(a, b)", [0, 1, U64, 0]),
        ("np.where(a > b, a - b, 0)", [0, 0, 0, 5]),
        ("~a & b", [0, 2, 0, 0]),
        ("a >> 70", [0, 0, 0, 0]),
        ("2**64 - 1 - a", [U64, U64 - 1, 0, U64 - 5]),
        ("a < b < 7", [0, 1, 0, 0]),
    ],
)
def test_64_bit_expressions_are_exact(text, want):
    values = {"a": [0, 1, U64, 5], "b": [0, 3, U64, 0]}
    operands = {"a": Operand(64), "b": Operand(64)}
    assert expect(text, values, operands, 64, {"n": 64}) == want


def test_signed_operands_are_twos_complement_and_floor_like_python():
    values = {"a": [-128, -1, 5, 127], "b": [0, 3, 255, 2]}
    operands = {"a": Operand(8, signed=True), "b": Operand(8)}
    assert expect("a // b", values, operands, 8) == [255, 255, 0, 63]  # -1 // 3 == -1
    assert expect("a % b", values, operands, 8) == [128, 2, 5, 1]  # -128 % 0 == -128
    assert expect("abs(a)", values, operands, 8) == [128, 1, 5, 127]
    assert expect("a > b", values, operands, 1) == [0, 0, 0, 1]
    assert expect("np.abs(a) >= 5", values, operands, 1) == [1, 0, 1, 1]


def test_bit_count_counts_the_ones_of_the_magnitude():
    values = {"a": [0, 7, 2**64 - 1, 2**63], "b": [0, 0, 0, 0]}
    assert expect("np.bitwise_count(a)", values, {"a": Operand(64), "b": Operand(1)}, 7) == [
        0,
        3,
        64,
        1,
    ]
    values = {"a": [-1, -128, 127, 0], "b": [0, 0, 0, 0]}
    got = expect("np.bitwise_count(a)", values, {"a": Operand(8, True), "b": Operand(1)}, 4)
    assert got == [1, 1, 7, 0]  # numpy's and Python's int.bit_count: ones of abs(x)


def test_one_bit_logic_and_constants():
    values = {"a": [0, 0, 1, 1], "b": [0, 1, 0, 1]}
    operands = {"a": Operand(1), "b": Operand(1)}
    assert expect("~a & b", values, operands, 1) == [0, 1, 0, 0]
    assert expect("7", values, operands, 2) == [3, 3, 3, 3]
    assert expect("True", values, operands, 1) == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a / b", "'/' is true division: write '//'"),
        ("a.real", "'a.real' is not allowed"),
        ("__import__('os')", "'__import__' is not a function a check may call"),
        ("a if b else 1", "use np.where"),
        ("1.5", "1.5 is not an integer"),
        ("x + 1", "unknown name 'x' (inputs and params: a, b, n)"),
        ("np.sum(a)", "'np.sum' is not a function"),
        ("np.minimum(a)", "np.minimum takes 2 argument"),
        ("np.where(a, b, c=1)", "np.where takes 3 argument"),
        ("", "an empty expression"),
        ("a +", "not an expression"),
        ("a and b", "'and'/'or' are not supported"),
        ("not a", "'not' is not supported"),
        ("'s'", "'s' is not an integer"),
        ("a[0]", "'a[0]' is not allowed"),
        ("[a for a in b]", "is not allowed"),
        ("-" * 300 + "a", "nested more than 100 deep"),
        ("a" * 1001, "longer than 1,000 characters"),
        ("a\0", "not an expression"),
    ],
)
def test_bad_expressions_are_one_clear_error(text, message):
    with pytest.raises(CheckError, match="^--check: ") as error:
        compile_check(text, ["a", "b"], ["n"], "--check")
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a << (b - 1)", "shift count may be negative (-1)"),
        ("a ** (b - 1)", "exponent may be negative"),
        ("a ** (b * 5)", "exponent may reach 1,275; at most 1024"),
        ("a >> (b - 3)", "shift count may be negative"),
        ("(9**1024)**1024", "a value may reach 3,324,928 bits; at most 16,384"),  # took minutes
        (
            "(a << 1000) << 1000 << 1000 << 1000 << 1000 << 1000 << 1000 << 1000 << 1000 << 1000"
            " << 1000 << 1000 << 1000 << 1000 << 1000 << 1000 << 1000",
            "at most 16,384",
        ),
    ],
)
def test_exponents_and_shift_counts_are_bounded_before_evaluation(text, message):
    with pytest.raises(CheckError, match="^--check: ") as error:
        expect(text, {"a": [1], "b": [0]}, {"a": Operand(8), "b": Operand(8)}, 8)
    assert message in str(error.value)


def test_large_element_counts_are_chunked_and_exact():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**64, 200_000, dtype=np.uint64)
    b = rng.integers(0, 2**64, 200_000, dtype=np.uint64)
    check = compile_check("(a * b) >> 64", ["a", "b"], [], "--check")
    got = check.expected({"a": a, "b": b}, {"a": Operand(64), "b": Operand(64)}, {}, 64, len(a))
    picks = [0, 65_535, 65_536, 199_999]
    assert [int(got[i]) for i in picks] == [(int(a[i]) * int(b[i])) >> 64 for i in picks]


# -- against Python's integers ---------------------------------------------------------------


def _div(x, y):
    return -1 if y == 0 else x // y


def _mod(x, y):
    return x if y == 0 else x % y


BINARY = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "//": _div,
    "%": _mod,
    "&": lambda x, y: x & y,
    "|": lambda x, y: x | y,
    "^": lambda x, y: x ^ y,
    "<": lambda x, y: int(x < y),
    "<=": lambda x, y: int(x <= y),
    ">": lambda x, y: int(x > y),
    ">=": lambda x, y: int(x >= y),
    "==": lambda x, y: int(x == y),
    "!=": lambda x, y: int(x != y),
}

leaves = st.one_of(
    st.sampled_from([("a", lambda e: e["a"]), ("b", lambda e: e["b"]), ("n", lambda e: e["n"])]),
    st.integers(0, 2**66).map(lambda k: (str(k), lambda e, k=k: k)),
)


def _extend(children):
    binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(
        lambda t: (
            f"({t[1][0]} {t[0]} {t[2][0]})",
            lambda e, t=t: BINARY[t[0]](t[1][1](e), t[2][1](e)),
        )
    )
    unary = st.tuples(st.sampled_from(["-", "~", "abs"]), children).map(
        lambda t: (
            f"abs({t[1][0]})" if t[0] == "abs" else f"({t[0]}{t[1][0]})",
            lambda e, t=t: {"-": lambda x: -x, "~": lambda x: ~x, "abs": abs}[t[0]](t[1][1](e)),
        )
    )
    power = st.tuples(children, st.integers(0, 4)).map(
        lambda t: (f"({t[0][0]} ** {t[1]})", lambda e, t=t: t[0][1](e) ** t[1])
    )
    shift = st.tuples(children, st.sampled_from(["<<", ">>"]), st.integers(0, 80)).map(
        lambda t: (
            f"({t[0][0]} {t[1]} {t[2]})",
            lambda e, t=t: t[0][1](e) << t[2] if t[1] == "<<" else t[0][1](e) >> t[2],
        )
    )
    calls = st.tuples(st.sampled_from(["np.minimum", "np.maximum"]), children, children).map(
        lambda t: (
            f"{t[0]}({t[1][0]}, {t[2][0]})",
            lambda e, t=t: (min if t[0] == "np.minimum" else max)(t[1][1](e), t[2][1](e)),
        )
    )
    where = st.tuples(children, children, children).map(
        lambda t: (
            f"np.where({t[0][0]}, {t[1][0]}, {t[2][0]})",
            lambda e, t=t: t[1][1](e) if t[0][1](e) != 0 else t[2][1](e),
        )
    )
    count = children.map(
        lambda t: (f"np.bitwise_count({t[0]})", lambda e, t=t: t[1](e).bit_count())
    )
    return st.one_of(binary, unary, power, shift, calls, where, count)


expressions = st.recursive(leaves, _extend, max_leaves=8)


@st.composite
def operands(draw):
    width = draw(st.integers(1, 64))
    signed = draw(st.booleans()) and width > 1
    op = Operand(width, signed)
    lo, hi = op.bounds
    edges = st.sampled_from([lo, hi, 0, 1 if hi else 0, -1 if signed else hi])
    values = draw(st.lists(st.one_of(edges, st.integers(lo, hi)), min_size=6, max_size=6))
    return op, values


@settings(max_examples=300, deadline=None)
@given(expressions, operands(), operands(), st.integers(1, 64), st.integers(1, 70))
def test_random_expressions_match_python_integers(expr, a, b, n, width):
    text, reference = expr
    (op_a, va), (op_b, vb) = a, b
    try:
        check = compile_check(text, ["a", "b"], ["n"], "--check")
        values = {
            "a": np.array(va, dtype=np.int64 if op_a.signed else np.uint64),
            "b": np.array(vb, dtype=np.int64 if op_b.signed else np.uint64),
        }
        got = check.expected(values, {"a": op_a, "b": op_b}, {"n": n}, min(width, 64), 6)
    except CheckError as error:  # only the bounds of ** and << may refuse
        assert "may reach" in str(error)
        return
    want = [
        reference({"a": x, "b": y, "n": n}) % 2 ** min(width, 64)
        for x, y in zip(va, vb, strict=True)
    ]
    assert got.tolist() == want, text


def test_params_divided_in_an_exponent_are_exact_not_refused():
    # a param's // and % stay a point: 2**(n//2) must not "may be negative" (it did: -8..8)
    values = {"a": [0x5A, 0xFF, 7]}
    got = expect("a % 2**(n//2) + (a >> (n % 5))", values, {"a": Operand(8)}, 8, {"n": 8})
    assert got == [0x5A % 16 + (0x5A >> 3), 15 + (0xFF >> 3), 7]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(-40, 40),
    st.integers(0, 30),
    st.integers(-40, 40),
    st.integers(0, 30),
    st.booleans(),
)
def test_division_bounds_hold_every_quotient_and_remainder(a, wa, c, wc, floor):
    from pimsim.programs.twin import _divide_bounds

    lo, hi = _divide_bounds(floor, (a, a + wa), (c, c + wc))
    for x in range(a, a + wa + 1):
        for y in range(c, c + wc + 1):
            value = (x // y if floor else x % y) if y else (-1 if floor else x)
            assert lo <= value <= hi


def test_a_power_of_a_power_is_not_refused_as_negative():
    # 2**2 was bounded -4..4, so 2**2**2**2 and (a+1)**4**1 were "exponent may be negative"
    got = expect("2**2**2**2 + (a + 1)**2**2 + (a << 2 << 3)", {"a": [0, 3]}, {"a": Operand(8)}, 32)
    assert got == [2**16 + 1, 2**16 + 4**4 + (3 << 5)]
