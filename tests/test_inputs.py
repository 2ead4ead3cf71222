"""Random input vectors (pimsim.ambit.inputs): the words a seed gives, written into the rows
and checked a chunk at a time."""

import numpy as np
import pytest

from pimsim.ambit import inputs
from pimsim.ambit.bulk import BulkEngine, bulk_result
from pimsim.config import load_config
from pimsim.device import Device


def _words(count, rows, row_bytes, seed):
    """Every input's words, the chunks put end to end."""
    got = [[] for _ in range(count)]
    firsts = []
    for first, n, words in inputs.chunks(count, rows, row_bytes, seed):
        firsts.append((first, n))
        for k, w in enumerate(words):
            assert len(w) == n * row_bytes // 8
            got[k].append(w)
    return [np.concatenate(g) for g in got], firsts


def test_a_seed_gives_the_same_words_whatever_the_chunk_size(monkeypatch):
    monkeypatch.setattr(inputs, "SEED_BLOCK_BYTES", 5 * 1024)
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 1024)
    small, firsts = _words(2, 13, 512, seed=7)
    assert firsts[:3] == [(0, 2), (2, 2), (4, 2)] and firsts[-1] == (12, 1)
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 4096)
    large, _ = _words(2, 13, 512, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(small, large, strict=True))
    other, _ = _words(2, 13, 512, seed=8)
    assert not np.array_equal(small[0], small[1]) and not np.array_equal(small[0], other[0])


def test_no_inputs_still_gives_every_row_once():
    rows = [(first, n) for first, n, words in inputs.chunks(0, 300, 8192, 0) if not words]
    assert sum(n for _, n in rows) == 300 and rows[0] == (0, 128)


@pytest.fixture
def engine():
    return BulkEngine(Device(load_config("ddr3-1600")))


def test_fill_writes_the_words_and_check_finds_one_wrong_word(engine, monkeypatch):
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 3 * engine.row_bytes)
    a, b, out = (engine.alloc(10 * engine.row_bytes) for _ in range(3))
    inputs.fill(engine.device, [a, b], seed=3)
    (want_a, want_b), _ = _words(2, 10, engine.row_bytes, seed=3)
    assert np.array_equal(engine.read(a), want_a) and np.array_equal(engine.read(b), want_b)
    engine.bbop("xor", out, a, b)

    def xor(words, n):
        return bulk_result("xor", words, n)

    assert inputs.check(engine.device, out, 2, 3, xor)
    assert not inputs.check(engine.device, out, 2, 4, xor)  # other inputs
    wrong = engine.read(out)
    wrong[-1] ^= np.uint64(1 << 17)  # one bit of the last chunk
    engine.write(out, wrong)
    assert not inputs.check(engine.device, out, 2, 3, xor)
