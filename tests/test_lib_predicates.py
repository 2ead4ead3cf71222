"""The comparison, selection and reduction half of the SIMDRAM library (issue 12): gt, ge, sgt,
sge, eq, min, max, smin, smax, select, bitcount and the and/or/xor reductions, each bit-exact
against an independent twin on random and edge values (run with Ambit's semantics on the host),
its ``check`` line agreeing with that twin, and its AAP+AP count within MIMDRAM's."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pimsim.ambit.layout import SubarrayLayout
from pimsim.config import load_config
from pimsim.programs import bounds
from pimsim.programs.hostrun import host_run
from pimsim.programs.parse import builtin

LAYOUT = SubarrayLayout.from_params(load_config("ddr3-1600").pim)
RANDOM = 256  # random elements per run, beside the edge values


def _s(v: int, n: int) -> int:
    """Two's complement meaning of the n-bit pattern v."""
    return v - (1 << n) if v >> (n - 1) else v


def _ones(v: int) -> int:
    return bin(v).count("1")


#: op -> twin over the unsigned bit patterns of the inputs (in declaration order) and n.
TWINS = {
    "gt": lambda n, a, b: int(a > b),
    "ge": lambda n, a, b: int(a >= b),
    "sgt": lambda n, a, b: int(_s(a, n) > _s(b, n)),
    "sge": lambda n, a, b: int(_s(a, n) >= _s(b, n)),
    "eq": lambda n, a, b: int(a == b),
    "min": lambda n, a, b: min(a, b),
    "max": lambda n, a, b: max(a, b),
    "smin": lambda n, a, b: min(_s(a, n), _s(b, n)),
    "smax": lambda n, a, b: max(_s(a, n), _s(b, n)),
    "select": lambda n, sel, a, b: a if sel else b,
    "bitcount": lambda n, x: _ones(x),
    "and_reduce": lambda n, x: int(x == (1 << n) - 1),
    "or_reduce": lambda n, x: int(x != 0),
    "xor_reduce": lambda n, x: _ones(x) % 2,
}
OPS = sorted(TWINS)

#: MIMDRAM's bound that applies to each op (the signed comparisons cost what the unsigned do).
BOUND_OF = {"gt": "gt", "ge": "ge", "sgt": "gt", "sge": "ge", "eq": "eq"} | {
    op: op for op in ("and_reduce", "or_reduce", "xor_reduce")
}


def _bitcount_cost(n: int) -> int:
    """bitcount's documented AAP+AP: 3m (+2 for even m) per weight with m >= 2 bits."""
    per_weight = [n >> k for k in range(7) if n >> k >= 2]
    return sum(3 * m + 2 * (m % 2 == 0) for m in per_weight)


#: op -> AAP+AP the program documents where no public figure exists.
OWN_COST = {
    "select": lambda n: 7 * n,
    "min": lambda n: 10 * n + 1,
    "max": lambda n: 10 * n + 1,
    "smin": lambda n: 10 * n + 1,
    "smax": lambda n: 10 * n + 1,
    "bitcount": _bitcount_cost,
}


def _edges(width: int) -> list[int]:
    """0, 1, 2, the largest unsigned / all ones, the smallest and largest signed."""
    top = 1 << (width - 1)
    return sorted({0, 1, min(2, (1 << width) - 1), (1 << width) - 1, top, top - 1})


def _inputs(program, rng: np.random.Generator) -> dict[str, list[int]]:
    """Every combination of edge values, equal pairs, and random values for each input."""
    ins = [op for op in program.wide if op.role == "in"]
    columns = list(zip(*itertools.product(*[_edges(op.width) for op in ins]), strict=True))
    values = {op.name: list(col) for op, col in zip(ins, columns, strict=True)}
    for op in ins:
        values[op.name] += [int(v) for v in rng.integers(0, 1 << op.width, RANDOM, dtype=np.uint64)]
    if "a" in values and "b" in values:  # equal pairs
        for op in ins:
            extra = values["a"][-RANDOM:] if op.name == "b" else values[op.name][-RANDOM:]
            values[op.name] += extra
    return values


def _assert_exact(op: str, n: int) -> None:
    """``op`` at width ``n`` equals its twin on edge, equal and random values, elementwise."""
    program = builtin(op, params={"n": n})
    values = _inputs(program, np.random.default_rng(n))
    got = host_run(program, LAYOUT, {k: np.array(v, dtype=np.uint64) for k, v in values.items()})
    (out,) = [o for o in program.wide if o.role == "out"]
    names = [o.name for o in program.wide if o.role == "in"]
    mask = (1 << out.width) - 1
    for k, result in enumerate(got[out.name]):
        args = [values[name][k] for name in names]
        expected = TWINS[op](n, *args) & mask
        assert int(result) & mask == expected, f"{op}{n} element {k}: inputs {args}, {result}"


@pytest.mark.parametrize("n", [8, 16, 32])
@pytest.mark.parametrize("op", OPS)
def test_bit_exact_on_edges_and_random_values(op, n):
    _assert_exact(op, n)


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("op", OPS)
def test_every_input_at_small_widths(op, n):
    program = builtin(op, params={"n": n})
    ins = [o for o in program.wide if o.role == "in"]
    (out,) = [o for o in program.wide if o.role == "out"]
    combos = list(itertools.product(*[range(1 << o.width) for o in ins]))
    arrays = {o.name: np.array([c[k] for c in combos], dtype=np.uint64) for k, o in enumerate(ins)}
    got = host_run(program, LAYOUT, arrays)[out.name]
    mask = (1 << out.width) - 1
    assert [int(v) & mask for v in got] == [TWINS[op](n, *c) & mask for c in combos]


def _evaluate_check(program, values: dict[str, list[int]]) -> list[int]:
    """The program's check expression over Python integers (signed operands as such)."""
    (out,) = [o for o in program.wide if o.role == "out"]
    env: dict[str, object] = {"n": program.params["n"]}
    for o in program.wide:
        if o.role == "in":
            col = [_s(v, o.width) if o.signed else v for v in values[o.name]]
            env[o.name] = np.array(col, dtype=object)
    result = eval(program.checks[out.name], {"np": np, "abs": abs, "__builtins__": {}}, env)  # noqa: S307
    return [int(v) % (1 << out.width) for v in np.broadcast_to(result, (len(col),))]


@pytest.mark.parametrize("op", OPS)
def test_check_line_is_the_twin(op):
    n = 16
    program = builtin(op, params={"n": n})
    values = _inputs(program, np.random.default_rng(7))
    names = [o.name for o in program.wide if o.role == "in"]
    (out,) = [o for o in program.wide if o.role == "out"]
    mask = (1 << out.width) - 1
    twin = [TWINS[op](n, *args) & mask for args in zip(*(values[k] for k in names), strict=True)]
    assert _evaluate_check(program, values) == twin


def test_bitcount_output_is_as_wide_as_n_in_binary():
    for n in range(2, 65):
        (out,) = [o for o in builtin("bitcount", params={"n": n}).wide if o.role == "out"]
        assert out.width == n.bit_length() == math.ceil(math.log2(n + 1))


@pytest.mark.parametrize("op", sorted(BOUND_OF))
def test_within_mimdram_count(op):
    for n in (8, 16, 32, 64):
        counts = builtin(op, params={"n": n}).counts()
        assert counts["AAP"] + counts["AP"] <= bounds.bound(BOUND_OF[op], n), (op, n, counts)


@pytest.mark.parametrize("op", sorted(OWN_COST))
def test_count_without_public_figure_is_as_documented(op):
    for n in (8, 16, 32, 64):
        counts = builtin(op, params={"n": n}).counts()
        assert counts["AAP"] + counts["AP"] == OWN_COST[op](n), (op, n, counts)


@pytest.mark.slow
@pytest.mark.parametrize("op", OPS)
def test_bit_exact_at_every_width(op):
    for n in range(2, 65):
        _assert_exact(op, n)


SEARCH = Path(__file__).resolve().parent.parent / "scripts" / "search_steps.py"


def _search(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(SEARCH), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.splitlines()


@pytest.mark.slow
def test_select_step_is_a_shortest_one():
    """With each operand read once and one constant, no 6 commands make select's bit; the 7
    found are select.pim's loop body."""
    args = ["--vars", "s,a,b", "--load", "s,a,b", "--sense", "(s & a) | (~s & b)"]
    assert _search(*args, "--depth", "6") == ["none within 6 commands"]
    body = builtin("select", params={"n": 2}).steps[:7]
    found = _search(*args)
    assert len(found) == len(body) == 7
    assert [line.split()[0] for line in found] == [step.kind for step in body]


@pytest.mark.slow
def test_full_adder_step_is_a_shortest_one():
    """xor_reduce's and bitcount's step (r as ~r in T1 and r in DCC1, the carry sensed out on
    the way) takes 6 commands and no fewer."""
    args = ["--vars", "r,a,b", "--load", "a,b:2", "--constants", "0"]
    args += ["--start", "T1=~r,DCC1=r", "--end", "T1=~(a^b^r),DCC1=a^b^r"]
    args += ["--store", "(a&b)|(a&r)|(b&r)"]
    assert _search(*args, "--depth", "5") == ["none within 5 commands"]
    assert len(_search(*args, "--depth", "6")) == 6
