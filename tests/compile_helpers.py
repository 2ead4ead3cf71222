"""Shared by the compile tests: the layouts programs are checked against, and seeded random
expressions."""

from __future__ import annotations

import random
import re

from pimsim.ambit.layout import SubarrayLayout
from pimsim.config import load_config

LAYOUTS = {
    name: SubarrayLayout.from_params(load_config(name).pim) for name in ("ddr4-2400", "ddr3-1600")
}
LAYOUT = LAYOUTS["ddr4-2400"]


def random_expression(rng: random.Random, inputs: int, gates: int) -> str:
    """An expression over ``inputs`` names using about ``gates`` operators of every kind."""
    names = [f"x{i}" for i in range(inputs)]
    terms = list(names)
    rng.shuffle(terms)
    pool = list(terms)
    for _ in range(gates):
        kind = rng.choice("&|^m~")
        if kind == "~":
            pool.append(f"~{rng.choice(pool)}")
        elif kind == "m":
            a, b, c = (rng.choice(pool) for _ in range(3))
            pool.append(f"maj({a}, {b}, {c})")
        else:
            a, b = rng.choice(pool), rng.choice(pool)
            pool.append(f"({a} {kind} {b})")
    body = pool[-1]
    used = set(re.findall(r"x[0-9]+", body))
    unused = [n for n in names if n not in used]
    for name in unused:  # every input is used
        body = f"({body} {rng.choice('&|^')} {name})"
    return body
