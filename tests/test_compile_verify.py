"""The MIG algebra, and verification past 16 inputs: random vectors plus aigverse's SAT
equivalence of the mapped graph."""

from __future__ import annotations

import numpy as np
from compile_helpers import LAYOUT
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.compile.compiler import compile_network
from pimsim.compile.expr import read_expression
from pimsim.compile.mig import Mig, to_mig
from pimsim.compile.verify import RANDOM_VECTORS, equivalent


def test_majority_axioms_fold_and_share():
    mig = Mig(3)
    a, b, c = 2, 4, 6
    assert mig.maj(a, a, b) == a  # MAJ(x, x, y) = x
    assert mig.maj(a, a ^ 1, b) == b  # MAJ(x, ~x, y) = y
    assert mig.maj(0, 1, c) == c  # constants fold
    g = mig.maj(a, b, c)
    assert mig.maj(c, a, b) == g and len(mig.fanins) == 1  # shared
    assert mig.maj(a ^ 1, b ^ 1, c ^ 1) == g ^ 1  # self-duality, still one gate
    assert len(mig.fanins) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=10), st.integers(0, 2))
def test_mapping_keeps_the_function(ops, rotate):
    """Expressions built from a few operators map to MIGs computing the same outputs."""
    terms = ["a", "b", "c", "d"]
    for k in ops:
        x, y, z = terms[k % 4], terms[(k + 1) % len(terms)], terms[-1]
        terms.append(
            [f"({x} & {y})", f"({x} | ~{y})", f"({x} ^ {y} ^ {z})", f"maj({x}, ~{y}, {z})",
             f"~({x} ^ {y})"][k % 5]
        )  # fmt: skip
    net = read_expression(f"y = {terms[-1]}; w = {terms[-2]}")
    mig, roots = to_mig(net, rotate=rotate)
    count = len(net.inputs)
    rows = np.arange(1 << count, dtype=np.uint64)
    bits = [(rows >> np.uint64(i)) & np.uint64(1) for i in range(count)]
    one = np.uint64(1)
    values = mig.evaluate([np.zeros_like(rows), *bits], one)
    want = net.evaluate(dict(zip(net.inputs, bits, strict=True)))
    for (name, _), root in zip(net.outputs, roots, strict=True):
        got = values[root >> 1] ^ (one if root & 1 else np.uint64(0))
        assert np.array_equal(got & one, want[name] & one)


def test_more_than_sixteen_inputs_random_vectors_and_sat_proof():
    names = [f"x{i}" for i in range(18)]
    text = "p = " + " ^ ".join(names[:9]) + "; q = " + " & ".join(names[9:])
    report = compile_network(read_expression(text), LAYOUT, "wide").report
    assert report["verification"] == {
        "vectors": RANDOM_VECTORS, "exhaustive": False, "mismatches": [],
        "equivalence": "proven", "passed": True,
    }  # fmt: skip


def test_equivalence_finds_a_wrong_graph():
    net = read_expression("y = a ^ b")
    mig, roots = to_mig(net)
    assert equivalent(net, mig, roots) is True
    assert equivalent(net, mig, [roots[0] ^ 1]) is False
