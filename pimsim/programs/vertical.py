"""Vertical layout (SIMDRAM): bit i of every element of an operand in row i.

An n-bit operand over E elements is n rows of ceil(E / 64) uint64 words; element e is bit
e % 64 of word e // 64 of each row, so one row operation works on every element at once.
Both directions are one 64 x 64 bit-matrix transpose per block of 64 elements, done for all
blocks at once by six rounds of masked swaps (:func:`transpose64`).
"""

from __future__ import annotations

import numpy as np


def transpose64(blocks: np.ndarray) -> np.ndarray:
    """(n, 64) uint64 -> (n, 64) uint64 with ``out[b, i]`` bit ``e`` equal to
    ``blocks[b, e]`` bit ``i``: each block's bit matrix transposed (its own inverse).
    Round j swaps, in every pair of words j apart, the high j bits of each 2j-bit group of
    the first with the low j bits of the second's (j = 32, 16, ..., 1)."""
    a = np.array(blocks, dtype=np.uint64, copy=True)
    n = a.shape[0]
    j, mask = 32, np.uint64(0x0000_0000_FFFF_FFFF)
    while j:
        pairs = a.reshape(n, 64 // (2 * j), 2, j)
        first, second = pairs[:, :, 0, :], pairs[:, :, 1, :]
        t = first >> np.uint64(j)
        t ^= second
        t &= mask
        second ^= t
        t <<= np.uint64(j)
        first ^= t
        j //= 2
        if j:
            mask ^= mask << np.uint64(j)
    return a


def to_rows(values, width: int) -> np.ndarray:
    """Integers (any int dtype; negative ones as two's complement) as ``width`` bit rows:
    (width, ceil(len / 64)) uint64. Bits above ``width`` are dropped."""
    v = np.asarray(values).astype(np.uint64, copy=False).reshape(-1)
    words = -(-len(v) // 64)
    padded = np.zeros(words * 64, dtype=np.uint64)
    padded[: len(v)] = v
    return np.ascontiguousarray(transpose64(padded.reshape(words, 64))[:, :width].T)


def from_rows(rows: np.ndarray, elements: int, signed: bool = False) -> np.ndarray:
    """The integers held by bit rows (width, words) uint64: ``elements`` values, int64 when
    ``signed`` (two's complement of the rows' width), else uint64."""
    rows = np.asarray(rows, dtype=np.uint64)
    width, words = rows.shape
    blocks = np.zeros((words, 64), dtype=np.uint64)
    blocks[:, :width] = rows.T
    if signed and width < 64:
        blocks[:, width:] = rows[width - 1][:, None]  # sign extension
    value = transpose64(blocks).reshape(-1)[:elements]
    return value.view(np.int64) if signed else value
