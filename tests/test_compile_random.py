"""200 seeded random expressions of 2-8 inputs compile, pass the checker on both DDR
layouts and compute their expression on every input vector (the host run is the verifier;
here it is repeated independently of the compiler's own report)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from compile_helpers import LAYOUT, LAYOUTS, random_expression

from pimsim.compile.compiler import compile_network
from pimsim.compile.expr import read_expression
from pimsim.programs.check import check
from pimsim.programs.hostrun import host_run


def compile_and_run(text: str) -> dict:
    net = read_expression(text)
    result = compile_network(net, LAYOUT, "r", naive_counts=False)
    for layout in LAYOUTS.values():
        check(result.program, layout)
    n = len(net.inputs)
    rows = np.arange(1 << n, dtype=np.uint64)
    bits = {name: (rows >> np.uint64(i)) & np.uint64(1) for i, name in enumerate(net.inputs)}
    got = host_run(result.program, LAYOUT, bits, elements=1 << n)
    for name, _ in net.outputs:  # the network evaluated bitwise, one element a vector
        want = net.evaluate(bits)[name] & np.uint64(1)
        assert np.array_equal(got[name], want), (text, name)
    return result.report


def expressions(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [random_expression(rng, rng.randint(2, 8), rng.randint(1, 12)) for _ in range(count)]


def test_a_few_random_expressions():
    for text in expressions(8, 1):
        assert compile_and_run(text)["verification"]["passed"]


#: The 200 expressions in this many parts, so that pytest-xdist spreads them over the cores.
PARTS = 4


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_two_hundred_random_expressions(part):
    total = 0
    for text in expressions(200, 13)[part::PARTS]:
        report = compile_and_run(text)
        assert report["verification"]["exhaustive"]
        total += report["commands"]
    assert total > 0
