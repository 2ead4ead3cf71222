"""Vertical layout (SIMDRAM): bit i of every element of an operand in row i.

An n-bit operand over E elements is n rows of ceil(E / 64) uint64 words; element e is bit
e % 64 of word e // 64 of each row, so one row operation works on every element at once.
"""

from __future__ import annotations

import numpy as np


def to_rows(values, width: int) -> np.ndarray:
    """Integers (any int dtype; negative ones as two's complement) as ``width`` bit rows:
    (width, ceil(len / 64)) uint64. Bits above ``width`` are dropped."""
    v = np.asarray(values).astype(np.uint64, copy=False).reshape(-1)
    words = -(-len(v) // 64)
    padded = np.zeros(words * 64, dtype=np.uint64)
    padded[: len(v)] = v
    rows = np.empty((width, words), dtype=np.uint64)
    for i in range(width):
        bits = ((padded >> np.uint64(i)) & np.uint64(1)).astype(np.uint8)
        rows[i] = np.packbits(bits, bitorder="little").view("<u8")
    return rows


def from_rows(rows: np.ndarray, elements: int, signed: bool = False) -> np.ndarray:
    """The integers held by bit rows (width, words) uint64: ``elements`` values, int64 when
    ``signed`` (two's complement of the rows' width), else uint64."""
    rows = np.ascontiguousarray(rows, dtype=np.uint64)
    width = rows.shape[0]
    bits = np.unpackbits(rows.view(np.uint8), axis=1, bitorder="little")[:, :elements]
    value = np.zeros(elements, dtype=np.uint64)
    for i in range(width):
        value |= bits[i].astype(np.uint64) << np.uint64(i)
    if not signed:
        return value
    if width < 64:
        sign = bits[width - 1].astype(bool)
        value[sign] |= ~np.uint64(0) << np.uint64(width)
    return value.view(np.int64)
