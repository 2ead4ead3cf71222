"""The arithmetic half of the SIMDRAM library (add, sub, mul, div, sdiv, abs, relu and the
steps they share: fa, mask, cneg), run with Ambit's semantics on the host: bit-exact against
exact integer twins on random and edge operands, and within MIMDRAM's command counts."""

import numpy as np
import pytest

from pimsim.ambit.layout import SubarrayLayout
from pimsim.config import load_config
from pimsim.programs import bounds
from pimsim.programs.check import check
from pimsim.programs.hostrun import host_run
from pimsim.programs.parse import builtin

LAYOUT = SubarrayLayout.from_params(load_config("ddr3-1600").pim)
RANDOM = 300  # random operand pairs per run, besides every pair of edge values


def _edges(n: int, signed: bool) -> list[int]:
    """0, 1, the largest and smallest values, all ones (and the top bit alone)."""
    if signed:
        return [0, 1, -1, 2 ** (n - 1) - 1, -(2 ** (n - 1)), 2]
    return [0, 1, 2, 2**n - 1, 2 ** (n - 1), 2**n - 2]


def _values(n: int, signed: bool, count: int, rng: np.random.Generator) -> list[int]:
    low = -(2 ** (n - 1)) if signed else 0
    return [int(v) + low for v in rng.integers(0, 2**n, size=count, dtype=np.uint64)]


def _pairs(n: int, signed: bool, seed: int) -> tuple[list[int], list[int]]:
    """Every pair of edge values, then random pairs."""
    rng = np.random.default_rng(seed)
    edges = _edges(n, signed)
    a = [x for x in edges for _ in edges] + _values(n, signed, RANDOM, rng)
    b = [y for _ in edges for y in edges] + _values(n, signed, RANDOM, rng)
    return a, b


def _array(values: list[int], n: int, signed: bool) -> np.ndarray:
    return np.array(values, dtype=np.int64 if signed else np.uint64)


def _run(name: str, n: int, signed: bool, **inputs: list[int]) -> dict[str, list[int]]:
    """Outputs of library program ``name`` at width n, as n-bit patterns (ints mod 2^n)."""
    program = builtin(name, params={"n": n})
    check(program, LAYOUT)
    given = {k: _array(v, n, signed) for k, v in inputs.items()}
    got = host_run(program, LAYOUT, given)
    return {k: [int(x) % 2**n for x in v] for k, v in got.items()}


def _bits(values, n: int) -> list[int]:
    return [v % 2**n for v in values]


def _each(f, a: list[int], b: list[int]) -> list[int]:
    return [f(x, y) for x, y in zip(a, b, strict=True)]


def _trunc_div(a: int, b: int) -> tuple[int, int]:
    """C's division (toward zero); by zero: q = -1, r = a (as documented in sdiv.pim)."""
    if b == 0:
        return -1, a
    q = abs(a) // abs(b) * (-1 if (a < 0) != (b < 0) else 1)
    return q, a - b * q


def test_full_adder_step_on_its_truth_table():
    a, b, c = (np.array([(k >> s) & 1 for k in range(8)], dtype=np.uint64) for s in (0, 1, 2))
    for negb in (0, 1):
        program = builtin("fa", params={"negb": negb})
        check(program, LAYOUT)
        got = host_run(program, LAYOUT, {"a": a, "b": b, "c": c})
        total = a + (b ^ negb) + c
        assert list(got["s"]) == list(total % 2) and list(got["cout"]) == list(total // 2)
        assert program.counts() == {"AAP": 9, "AP": 1}  # 7 + 1 per step, plus carry in and out


def test_mask_is_and_that_spares_the_carry_rows():
    program = builtin("mask")
    x, m = np.array([0, 1, 0, 1], dtype=np.uint64), np.array([0, 0, 1, 1], dtype=np.uint64)
    assert list(host_run(program, LAYOUT, {"x": x, "m": m})["z"]) == [0, 0, 0, 1]
    carry = {LAYOUT.compute_slot("T0"), LAYOUT.compute_slot("T3")}
    named = [r for s in program.steps for r in (s.src, s.dst) if r and LAYOUT.address(r)]
    raised = {w.slot for r in named for w in LAYOUT.wordlines(r)}
    assert len(raised) == 3 and not raised & carry


@pytest.mark.parametrize("n", [8, 16, 32])
def test_add_and_sub_are_bit_exact(n):
    a, b = _pairs(n, False, n)
    assert _run("add", n, False, a=a, b=b)["s"] == _bits(_each(int.__add__, a, b), n)
    assert _run("sub", n, False, a=a, b=b)["s"] == _bits(_each(int.__sub__, a, b), n)


def test_add_and_sub_wrap_at_64_bits():
    a, b = _pairs(64, False, 64)
    assert _run("add", 64, False, a=a, b=b)["s"] == _bits(_each(int.__add__, a, b), 64)
    assert _run("sub", 64, False, a=a, b=b)["s"] == _bits(_each(int.__sub__, a, b), 64)


@pytest.mark.parametrize("n", [8, 16, *(pytest.param(n, marks=pytest.mark.slow) for n in (32, 64))])
def test_mul_is_bit_exact(n):
    a, b = _pairs(n, False, n + 1)
    assert _run("mul", n, False, a=a, b=b)["p"] == _bits(_each(int.__mul__, a, b), n)


@pytest.mark.parametrize("n", [8, 16, *(pytest.param(n, marks=pytest.mark.slow) for n in (32, 64))])
def test_div_is_bit_exact_and_dividing_by_zero_gives_all_ones_and_a(n):
    a, b = _pairs(n, False, n + 2)
    got = _run("div", n, False, a=a, b=b)
    assert got["q"] == [x // y if y else 2**n - 1 for x, y in zip(a, b, strict=True)]
    assert got["r"] == [x % y if y else x for x, y in zip(a, b, strict=True)]


@pytest.mark.parametrize("n", [8, 16, *(pytest.param(n, marks=pytest.mark.slow) for n in (32, 64))])
def test_sdiv_truncates_toward_zero_like_c(n):
    a, b = _pairs(n, True, n + 3)
    got = _run("sdiv", n, True, a=a, b=b)
    want = [_trunc_div(x, y) for x, y in zip(a, b, strict=True)]
    assert got["q"] == _bits([q for q, _ in want], n)
    assert got["r"] == _bits([r for _, r in want], n)
    smallest = -(2 ** (n - 1))  # smallest // -1 wraps to smallest
    assert _run("sdiv", n, True, a=[smallest], b=[-1]) == {"q": _bits([smallest], n), "r": [0]}


@pytest.mark.parametrize("n", [8, 16, 32])
def test_abs_relu_and_cneg_are_bit_exact(n):
    a, b = _pairs(n, True, n + 4)
    assert _run("abs", n, True, a=a)["y"] == _bits([abs(x) for x in a], n)
    assert _run("relu", n, True, a=a)["y"] == _bits([max(x, 0) for x in a], n)
    t = [y & 1 for y in b]
    x = _bits(a, n)
    program = builtin("cneg", params={"n": n})
    got = host_run(program, LAYOUT, {"x": _array(x, n, False), "t": np.array(t, dtype=np.uint64)})
    assert [int(v) for v in got["y"]] == _bits(_each(lambda v, s: -v if s else v, x, t), n)


#: This library's counts (AAP, AP) per n-bit operation, as each .pim file's comment derives
#: them; abs and sdiv have no trustworthy public figure to compare with.
OURS = {
    "add": lambda n: (7 * n + 1, n),
    "sub": lambda n: (7 * n + 1, n),
    "mul": lambda n: ((9 * n * n + n - 2) // 2, n * (n - 1) // 2),
    "div": lambda n: ((11 * n * n + 29 * n - 16) // 2, n * n + n),
    "relu": lambda n: (3 * n + 1 - n % 2, 0),
    "abs": lambda n: (7 * n - 5, 2 * n - 2),
    "cneg": lambda n: (7 * n - 5, 2 * n - 2),
    "sdiv": lambda n: ((11 * n * n + 85 * n - 32) // 2, n * n + 9 * n - 6),
}

WIDTHS = {"mul": (2, 3, 5, 8, 16, 31, 64), "div": (2, 3, 5, 8, 16, 31, 64), "sdiv": (2, 3, 8, 64)}


@pytest.mark.parametrize("name", sorted(OURS))
def test_command_counts_per_width(name):
    for n in WIDTHS.get(name, range(2, 65)):
        counts = builtin(name, params={"n": n}).counts()
        total = counts["AAP"] + counts["AP"]
        if bounds.bound(name, n) is not None:
            assert total <= bounds.bound(name, n), (name, n, total)
        assert (counts["AAP"], counts["AP"]) == OURS[name](n), (name, n)
