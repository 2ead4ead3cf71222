"""Random input vectors of a bulk operation: written into the device and checked, a chunk of
rows at a time.

The words of a seed are drawn block by block: ``SEED_BLOCK_BYTES`` of input k from numpy's
SFC64 (its fastest generator, about 5 GB/s here) seeded with (seed, first row of the block,
k) -- the same words whatever the chunk size. They are made in chunks of
``CHUNK_BYTES`` per vector, each written into the device's rows (or compared with the
device's rows) at once, so the host memory of a run is a few chunks, not a copy of the
vectors; the check makes the inputs again from the seed (a program may overwrite an input).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from pimsim.ambit.vectors import Vector
from pimsim.device import Device

#: Bytes of each input drawn from one seeding (fixes which words a seed gives).
SEED_BLOCK_BYTES = 32 << 20
#: Bytes of each vector made, written or checked at a time (host memory of the data path).
CHUNK_BYTES = 1 << 20

#: The reference of a check: the output's expected words from the inputs' words (uint64
#: arrays) and the number of words.
Reference = Callable[[Sequence[np.ndarray], int], np.ndarray]


def chunks(
    count: int, rows: int, row_bytes: int, seed: int
) -> Iterator[tuple[int, int, list[np.ndarray]]]:
    """(first row, rows, [uint64 words of each of ``count`` inputs]) per chunk of rows, in
    order, for vectors of ``rows`` rows of ``row_bytes``."""
    per_row = row_bytes // 8
    seed_rows = max(1, SEED_BLOCK_BYTES // row_bytes)
    step = max(1, CHUNK_BYTES // row_bytes)
    for block in range(0, rows, seed_rows):
        block_rows = min(seed_rows, rows - block)
        makers = [np.random.SFC64((seed, block, k)) for k in range(count)]
        for first in range(block, block + block_rows, step):
            n = min(step, block + block_rows - first)
            yield first, n, [maker.random_raw(n * per_row) for maker in makers]


def fill(device: Device, vectors: Sequence[Vector], seed: int) -> None:
    """Write the random words of ``seed`` into ``vectors`` (all of one length)."""
    if not vectors:
        return
    row_bytes, rows = vectors[0].row_bytes, len(vectors[0])
    ids = [device.row_ids(*v.fields.T) for v in vectors]
    for first, n, words in chunks(len(vectors), rows, row_bytes, seed):
        for vec_ids, data in zip(ids, words, strict=True):
            device.scatter_rows(vec_ids[first : first + n], data.reshape(n, -1))


def check(device: Device, out: Vector, count: int, seed: int, reference: Reference) -> bool:
    """Whether ``out`` holds ``reference`` of the ``count`` random inputs of ``seed``
    (stops at the first chunk that differs)."""
    ids = device.row_ids(*out.fields.T)
    for first, n, words in chunks(count, len(out), out.row_bytes, seed):
        got = device.gather_rows(ids[first : first + n]).reshape(-1)
        if not np.array_equal(got, reference(words, len(got))):
            return False
    return True
