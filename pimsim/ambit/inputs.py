"""Random input vectors of a bulk operation: written into the device's rows and checked a
chunk of rows at a time.

Input k of a seed is the random stream of one 64-bit key (numpy's SeedSequence of (seed, k)):
word w of the vector -- row w // columns, column w % columns -- is word w of the stream
(SplitMix64 over a counter, made in the core at about 10 GB/s: Device.random_words). Any
word is made without the ones before it, so the inputs are written straight into the rows
and, for the check, made again a chunk at a time into reused buffers (a program may
overwrite an input): the host memory of a run is a few chunks, not a copy of the vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pimsim.ambit.vectors import Vector
from pimsim.device import Device

#: Bytes of each vector checked at a time (host memory of the check).
CHUNK_BYTES = 1 << 20

#: The reference of a check: the output's expected words from the inputs' words (uint64
#: arrays) and the number of words.
Reference = Callable[[Sequence[np.ndarray], int], np.ndarray]


def keys(count: int, seed: int) -> list[int]:
    """The stream keys of ``count`` inputs drawn from ``seed``."""
    return [
        int(np.random.SeedSequence((seed, k)).generate_state(1, np.uint64)[0]) for k in range(count)
    ]


def fill(device: Device, vectors: Sequence[Vector], seed: int) -> None:
    """Write the random words of ``seed`` into ``vectors``, row by row in place."""
    for key, vec in zip(keys(len(vectors), seed), vectors, strict=True):
        device.write_random_rows(device.row_ids(*vec.fields.T), key)


def check(device: Device, out: Vector, count: int, seed: int, reference: Reference) -> bool:
    """Whether ``out`` holds ``reference`` of the ``count`` random inputs of ``seed`` (made
    again a chunk at a time; stops at the first chunk that differs)."""
    per_row = out.row_bytes // 8
    step = max(1, CHUNK_BYTES // out.row_bytes)
    ids = device.row_ids(*out.fields.T)
    streams = keys(count, seed)
    buffers = [np.empty(step * per_row, dtype=np.uint64) for _ in range(count)]
    for first in range(0, len(out), step):
        n = min(step, len(out) - first) * per_row
        words = [
            device.random_words(key, first * per_row, buf[:n])
            for key, buf in zip(streams, buffers, strict=True)
        ]
        got = device.gather_rows(ids[first : first + n // per_row]).reshape(-1)
        if not np.array_equal(got, reference(words, n)):
            return False
    return True
