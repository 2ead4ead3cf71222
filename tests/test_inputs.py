"""Random input vectors (pimsim.ambit.inputs): the core's counter-based stream against its
numpy twin, written straight into rows and checked a chunk at a time."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.ambit import inputs
from pimsim.ambit.bulk import BulkEngine, bulk_result
from pimsim.config import load_config
from pimsim.device import Device

GAMMA = np.uint64(0x9E3779B97F4A7C15)


def splitmix_twin(key: int, first: int, n: int) -> np.ndarray:
    """Words first.. of the stream of ``key``: SplitMix64 over a counter, in numpy."""
    z = np.uint64(key) + (np.arange(first, first + n, dtype=np.uint64) + np.uint64(1)) * GAMMA
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def test_the_stream_is_splitmix64():
    """Key 0 gives the reference SplitMix64 outputs of seed 0."""
    words = Device.random_words(0, 0, np.empty(2, dtype=np.uint64))
    assert words.tolist() == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**40), st.integers(0, 300))
def test_the_core_makes_the_words_of_its_twin(key, first, n):
    got = Device.random_words(key, first, np.empty(n, dtype=np.uint64))
    assert np.array_equal(got, splitmix_twin(key, first, n))


def test_inputs_have_their_own_streams():
    assert len(set(inputs.keys(3, 7) + inputs.keys(3, 8))) == 6
    assert inputs.keys(2, 7) == inputs.keys(3, 7)[:2]


@pytest.fixture
def engine():
    return BulkEngine(Device(load_config("ddr3-1600")))


def test_fill_writes_word_w_of_the_stream_at_word_w_of_the_vector(engine):
    a, b = (engine.alloc(5 * engine.row_bytes) for _ in range(2))
    inputs.fill(engine.device, [a, b], seed=3)
    for vec, key in zip((a, b), inputs.keys(2, 3), strict=True):
        assert np.array_equal(engine.read(vec), splitmix_twin(key, 0, 5 * engine.row_bytes // 8))


def test_writing_to_a_row_out_of_range_writes_nothing(engine):
    device = engine.device
    with pytest.raises(ValueError, match="out of range"):
        device.write_random_rows(np.array([0, 1 << 40]), 5)
    assert device.rows_allocated == 0


def test_check_finds_one_wrong_bit_in_the_last_chunk(engine, monkeypatch):
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 3 * engine.row_bytes)  # chunks of 3, 3, 3, 1
    a, b, out = (engine.alloc(10 * engine.row_bytes) for _ in range(3))
    inputs.fill(engine.device, [a, b], seed=3)
    engine.bbop("xor", out, a, b)

    def xor(words, n):
        return bulk_result("xor", words, n)

    assert inputs.check(engine.device, out, 2, 3, xor)
    assert not inputs.check(engine.device, out, 2, 4, xor)  # other inputs
    wrong = engine.read(out)
    wrong[-1] ^= np.uint64(1 << 17)
    engine.write(out, wrong)
    assert not inputs.check(engine.device, out, 2, 3, xor)


def test_an_op_without_inputs_is_checked_too(engine):
    out = engine.alloc(4 * engine.row_bytes)
    engine.bbop("one", out)

    def ones(words, n):
        return bulk_result("one", words, n)

    assert inputs.check(engine.device, out, 0, 0, ones)
    assert not inputs.check(engine.device, engine.alloc(4 * engine.row_bytes), 0, 0, ones)
