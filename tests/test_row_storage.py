"""Row data storage of the core: host bursts are kept as written, rows materialize on demand.

The core is driven by a hypothesis state machine against a pure-Python twin (a dict of whole
rows, zeros when absent) through every data entry point: bursts, rows, the row kernels, and
gather/scatter of many rows. Memory is checked through Core.data_bytes: bursts cost about
what they hold, a whole row costs a row.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pimsim import _core
from pimsim.config import load_config
from pimsim.device import Device, core_of
from pimsim.errors import IllegalCommandError

BURST = 8  # words per burst (DDR3/DDR4 burst length)
WORDS = st.integers(0, 2**64 - 1)


def make_core(banks: int, rows: int, columns: int) -> _core.Core:
    """A core of one channel, one rank, ``banks`` banks of ``rows`` rows of ``columns`` words."""
    return core_of(Device(load_config("ddr4-2400")).tables, (1, 1, 1, banks, rows, columns, BURST))


class Twin:
    """The obvious model: a dict of whole rows; absent rows read as zeros."""

    def __init__(self, columns: int):
        self.columns = columns
        self.rows: dict[int, np.ndarray] = {}

    def row(self, rid: int) -> np.ndarray:
        return self.rows.setdefault(rid, np.zeros(self.columns, dtype=np.uint64))

    def read(self, rid: int) -> np.ndarray:
        return self.rows.get(rid, np.zeros(self.columns, dtype=np.uint64)).copy()


class RowStorage(RuleBasedStateMachine):
    """Every data operation of the core, checked against the twin after every step."""

    @initialize(columns=st.sampled_from([3 * BURST, 64 * BURST, 128 * BURST]))
    def setup(self, columns):
        # 24 columns: 3 bursts, one bitmap word; 512 and 1024: the bitmap's word edges
        self.n_rows = 6  # few rows, so that operations meet on the same rows
        self.core = make_core(banks=2, rows=3, columns=columns)
        self.twin = Twin(columns)
        self.bursts = columns // BURST

    def words(self, data, n):
        """``n`` words from a drawn seed (whole rows are too many to draw one by one)."""
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
        return rng.integers(0, 2**64, n, dtype=np.uint64)

    rid = st.integers(0, 5)

    @rule(rid=rid, data=st.data())
    def write_burst(self, rid, data):
        col = data.draw(st.integers(0, self.bursts - 1)) * BURST
        words = np.array(data.draw(st.lists(WORDS, min_size=BURST, max_size=BURST)), np.uint64)
        self.core.write_burst(rid, col, words)
        self.twin.row(rid)[col : col + BURST] = words

    @rule(rid=rid, data=st.data())
    def read_burst(self, rid, data):
        col = data.draw(st.integers(0, self.bursts - 1)) * BURST
        out = np.empty(BURST, dtype=np.uint64)
        self.core.read_burst(rid, col, out)
        assert np.array_equal(out, self.twin.read(rid)[col : col + BURST])

    @rule(rid=rid, data=st.data())
    def write_row(self, rid, data):
        words = self.words(data, self.twin.columns)
        self.core.write_row(rid, words)
        self.twin.rows[rid] = words.copy()

    @rule(src=rid, dsts=st.lists(rid, max_size=4))
    def copy_rows(self, src, dsts):
        self.core.copy_rows(src, np.array(dsts, dtype=np.int64))
        value = self.twin.read(src)
        for d in dsts:
            if d != src:  # a row copied onto itself is left alone
                self.twin.rows[d] = value.copy()

    @rule(a=rid, b=rid, c=rid)
    def majority3(self, a, b, c):
        self.core.majority3(a, b, c)
        x, y, z = self.twin.read(a), self.twin.read(b), self.twin.read(c)
        m = (x & y) | (y & z) | (x & z)
        for r in (a, b, c):
            self.twin.rows[r] = m.copy()

    @rule(src=rid, dst=rid)
    def complement(self, src, dst):
        self.core.complement(src, dst)
        self.twin.rows[dst] = ~self.twin.read(src)

    @rule(ids=st.lists(rid, max_size=6))
    def gather_rows(self, ids):
        out = np.empty((len(ids), self.twin.columns), dtype=np.uint64)
        held = self.core.data_bytes
        self.core.gather_rows(np.array(ids, dtype=np.int64), out)
        assert self.core.data_bytes == held  # reading materializes nothing
        for i, r in enumerate(ids):
            assert np.array_equal(out[i], self.twin.read(r))

    @rule(ids=st.lists(rid, max_size=6), data=st.data())
    def scatter_rows(self, ids, data):
        rows = self.words(data, len(ids) * self.twin.columns).reshape(len(ids), self.twin.columns)
        self.core.scatter_rows(np.array(ids, dtype=np.int64), rows)
        for i, r in enumerate(ids):
            self.twin.rows[r] = rows[i].copy()

    @rule(ids=st.lists(rid, max_size=3))
    def drop_rows(self, ids):
        self.core.drop_rows(np.array(ids, dtype=np.int64))
        for r in ids:
            self.twin.rows.pop(r, None)

    @invariant()
    def rows_match(self):
        for r in range(self.n_rows):
            assert np.array_equal(self.core.read_row(r), self.twin.read(r)), f"row {r}"
        assert self.core.rows_allocated == len(self.twin.rows)
        if not self.twin.rows:
            assert self.core.data_bytes == 0 and self.core.rows_whole == 0


TestRowStorage = RowStorage.TestCase
TestRowStorage.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)


@pytest.fixture
def dev():
    return Device(load_config("ddr4-2400"))


def test_scattered_bursts_cost_about_the_bursts(dev):
    """10,000 bursts over 2,000 rows cost about their 64 bytes each (~0.6 MB), not 2,000 rows
    of 8 KiB (16 MB): per row a 24-byte header and bitmap and at most 2 bursts of slack."""
    core, rng = dev.core, np.random.default_rng(7)
    row_bytes = core.n_columns * 8
    rids = rng.choice(core.n_rows * 32, 2000, replace=False)
    cols = rng.integers(0, core.n_columns // BURST, 10_000) * BURST
    for k in range(10_000):
        core.write_burst(int(rids[k % 2000]), int(cols[k]), np.full(BURST, k, dtype=np.uint64))
    held = len({(rids[k % 2000], cols[k]) for k in range(10_000)})
    assert core.rows_allocated == 2000 and core.rows_whole == 0
    assert held * 64 + 2000 * 24 <= core.data_bytes <= held * 64 + 2000 * (24 + 2 * 64)
    assert core.data_bytes < 2000 * row_bytes / 20


def test_whole_row_operations_materialize_only_their_rows(dev):
    core = dev.core
    row_bytes = core.n_columns * 8
    for r in range(4):
        core.write_burst(r, 8 * r, np.full(BURST, r + 1, dtype=np.uint64))
    core.majority3(0, 1, 2)  # three rows whole, row 3 still a burst
    assert core.rows_whole == 3 and core.rows_allocated == 4
    assert 3 * row_bytes < core.data_bytes < 3 * row_bytes + 4 * 200
    assert not core.read_row(0).any()  # each burst was in one row only: majority is 0
    assert core.read_row(3)[24:32].tolist() == [4] * 8


def test_every_burst_written_is_a_whole_row(dev):
    core = dev.core
    for col in range(0, core.n_columns, BURST)[::-1]:
        core.write_burst(9, col, np.arange(col, col + BURST, dtype=np.uint64))
    assert core.rows_whole == 1
    assert np.array_equal(core.read_row(9), np.arange(core.n_columns, dtype=np.uint64))


def test_gather_scatter_empty(dev):
    core = dev.core
    core.scatter_rows(np.zeros(0, dtype=np.int64), np.zeros((0, core.n_columns), np.uint64))
    assert dev.gather_rows(np.zeros(0, dtype=np.int64)).shape == (0, core.n_columns)
    assert core.rows_allocated == 0


def test_scatter_repeated_ids_last_wins(dev):
    rows = np.arange(3 * dev.core.n_columns, dtype=np.uint64).reshape(3, -1)
    dev.scatter_rows(np.array([5, 6, 5]), rows)
    got = dev.gather_rows([5, 6, 5, 7])
    assert np.array_equal(got[0], rows[2]) and np.array_equal(got[2], rows[2])
    assert np.array_equal(got[1], rows[1]) and not got[3].any()
    assert dev.core.rows_allocated == 2


@pytest.mark.parametrize("bad", [-1, "limit"])
def test_gather_scatter_out_of_range_id(dev, bad):
    core = dev.core
    limit = dev.row_id(*[n - 1 for n in _system(core)]) + 1
    bad = limit if bad == "limit" else bad
    ids = np.array([0, bad], dtype=np.int64)
    with pytest.raises(ValueError, match=rf"row id {bad} \(index 1\) out of range \[0, {limit}\)"):
        dev.gather_rows(ids)
    with pytest.raises(ValueError, match=rf"row id {bad} \(index 1\) out of range"):
        dev.scatter_rows(ids, np.ones((2, core.n_columns), dtype=np.uint64))
    assert core.rows_allocated == 0  # checked before any row is written


def test_gather_scatter_bad_shapes(dev):
    core = dev.core
    with pytest.raises(ValueError, match="2 row ids for 3 rows of data"):
        core.scatter_rows(np.arange(2, dtype=np.int64), np.zeros((3, core.n_columns), np.uint64))
    with pytest.raises(ValueError, match=f"out has 8 columns, a row holds {core.n_columns}"):
        core.gather_rows(np.arange(2, dtype=np.int64), np.zeros((2, 8), np.uint64))
    with pytest.raises(ValueError, match="1-D row ids and 2-D data"):
        dev.scatter_rows(np.arange(2), np.zeros(core.n_columns, np.uint64))


def test_core_refuses_rows_not_whole_bursts():
    with pytest.raises(ValueError, match="20 columns is not a whole number of bursts of 8"):
        make_core(banks=1, rows=4, columns=20)


def _system(core):
    return core.n_channels, core.n_ranks, core.n_bankgroups, core.n_banks, core.n_rows


def test_row_ids_match_row_id(dev):
    core, rng = dev.core, np.random.default_rng(3)
    fields = [rng.integers(0, n, 500) for n in _system(core)]
    ids = dev.row_ids(*fields)
    assert ids.dtype == np.int64
    assert ids.tolist() == [dev.row_id(*map(int, f)) for f in zip(*fields, strict=True)]
    assert dev.row_ids(0, 1, 2, 3, np.arange(4)).tolist() == [
        dev.row_id(0, 1, 2, 3, r) for r in range(4)
    ]
    with pytest.raises(IllegalCommandError, match=f"bank 2 row {core.n_rows}: address out"):
        dev.row_ids(0, 0, 1, 2, [0, core.n_rows, -1])


def test_gather_of_bursts_assembles_the_row(dev):
    core = dev.core
    core.write_burst(3, 0, np.full(BURST, 1, dtype=np.uint64))
    core.write_burst(3, core.n_columns - BURST, np.full(BURST, 2, dtype=np.uint64))
    row = dev.gather_rows([3])[0]
    assert row[:BURST].tolist() == [1] * 8 and row[-BURST:].tolist() == [2] * 8
    assert not row[BURST:-BURST].any() and core.rows_whole == 0


def test_materializing_spreads_bursts_to_their_columns(dev):
    """A row holding bursts 1, 2, 64 and 127 (stored packed) materializes with each burst at
    its column and zeros in every gap, including where packed bursts used to sit."""
    core = dev.core
    for b in (1, 2, 64, 127):
        core.write_burst(4, b * BURST, np.full(BURST, b, dtype=np.uint64))
    before = core.read_row(4)
    core.majority3(4, 4, 4)  # the majority of a row with itself: the row, now whole
    assert core.rows_whole == 1
    assert np.array_equal(core.read_row(4), before)
    assert np.flatnonzero(before).tolist() == [
        b * BURST + k for b in (1, 2, 64, 127) for k in range(BURST)
    ]


def test_dropped_rows_read_zero_and_free_their_bytes(dev):
    core = dev.core
    dev.scatter_rows([1, 2], np.ones((2, core.n_columns), dtype=np.uint64))
    core.write_burst(3, 0, np.ones(BURST, dtype=np.uint64))
    burst_only = core.data_bytes - 2 * (core.n_columns * 8 + 24)
    dev.drop_rows([2, 1, 7])  # row 7 holds nothing: dropping it is a no-op
    assert core.rows_allocated == 1 and core.rows_whole == 0
    assert core.data_bytes == burst_only
    assert not dev.gather_rows([1, 2]).any()
    with pytest.raises(ValueError, match="row id -3 \\(index 0\\) out of range"):
        dev.drop_rows([-3])
