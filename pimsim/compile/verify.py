"""Check a compiled program before it is written: run it with Ambit's semantics on the host
(pimsim.programs.hostrun) on every input vector up to :data:`EXHAUSTIVE` inputs, else on
:data:`RANDOM_VECTORS` random ones, against the source network evaluated bitwise; past
:data:`EXHAUSTIVE` inputs also prove the mapped MIG equal to the source network with
aigverse's SAT-based equivalence check (mockturtle)."""

from __future__ import annotations

import numpy as np

from pimsim.ambit.layout import SubarrayLayout
from pimsim.compile.mig import Mig
from pimsim.compile.network import Network
from pimsim.programs.hostrun import host_run
from pimsim.programs.parse import Program
from pimsim.programs.vertical import to_rows

EXHAUSTIVE = 16
RANDOM_VECTORS = 65_536


def vectors(count: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """Input vectors as (inputs, elements) 0/1 values: every combination when ``count`` <=
    EXHAUSTIVE (vector e sets input i to bit i of e), else RANDOM_VECTORS random ones."""
    if count <= EXHAUSTIVE:
        elements = 1 << count
        e = np.arange(elements, dtype=np.uint64)
        bits = [(e >> np.uint64(i)) & np.uint64(1) for i in range(count)]
    else:
        elements = RANDOM_VECTORS
        rng = np.random.default_rng(seed)
        bits = [rng.integers(0, 2, elements, dtype=np.uint64) for _ in range(count)]
    return np.array(bits, dtype=np.uint64).reshape(count, elements), elements


def run_program(
    program: Program,
    layout: SubarrayLayout,
    net: Network,
    names: dict[str, str],
    seed: int = 0,
) -> dict:
    """Run ``program`` against ``net`` (``names``: network name -> operand name); the
    report: ``vectors``, ``exhaustive`` and the outputs that differ (``mismatches``)."""
    bits, elements = vectors(len(net.inputs), seed)
    feed = {names[name]: bits[i] for i, name in enumerate(net.inputs)}
    got = host_run(program, layout, feed, elements=elements)
    want = net.evaluate({name: to_rows(bits[i], 1)[0] for i, name in enumerate(net.inputs)})
    bad = []
    for name, words in want.items():
        have = to_rows(got[names[name]], 1)[0]
        mask = _mask(elements, len(words))
        if np.any((have ^ words) & mask):
            bad.append(name)
    return {
        "vectors": elements,
        "exhaustive": len(net.inputs) <= EXHAUSTIVE,
        "mismatches": bad,
    }


def _mask(elements: int, words: int) -> np.ndarray:
    """The valid bits of each word when only ``elements`` bits are meaningful."""
    mask = np.full(words, np.uint64(2**64 - 1), dtype=np.uint64)
    if elements % 64:
        mask[-1] = np.uint64((1 << (elements % 64)) - 1)
    return mask


def equivalent(net: Network, mig: Mig, roots: list[int]) -> bool | None:
    """Whether the MIG's ``roots`` compute ``net``'s outputs, proven by SAT (aigverse); None
    when the solver gave up."""
    from aigverse.algorithms import equivalence_checking

    return equivalence_checking(_network_aig(net), _mig_aig(mig, roots))


def _aig(inputs: int, gates, outputs: list[int]):
    """An aigverse AIG: ``gates`` yields (kind, fanin literals) in order (node inputs + 1
    on), each appended as a node; ``outputs`` are literals."""
    from aigverse.networks import Aig

    aig = Aig()
    sig = [aig.get_constant(False)] + [aig.create_pi() for _ in range(inputs)]

    def lit(literal: int):
        value = sig[literal >> 1]
        return ~value if literal & 1 else value

    make = {"and": aig.create_and, "or": aig.create_or, "xor": aig.create_xor}
    for kind, fanins in gates:
        ins = [lit(f) for f in fanins]
        if kind == "maj":
            sig.append(aig.create_maj(*ins))
            continue
        acc = ins[0]
        for value in ins[1:]:
            acc = make[kind](acc, value)
        sig.append(acc)
    for literal in outputs:
        aig.create_po(lit(literal))
    return aig


def _network_aig(net: Network):
    gates = net.nodes[len(net.inputs) + 1 :]
    return _aig(len(net.inputs), gates, [literal for _, literal in net.outputs])


def _mig_aig(mig: Mig, roots: list[int]):
    return _aig(mig.inputs, (("maj", fanins) for fanins in mig.fanins), roots)
