"""bitmap-index: how many of u users were active in every one of the last k weeks.

Each week is a bitmap of u bits (bit i: user i was active), padded with zeros to whole rows.
The query ANDs the k bitmaps and counts the ones of the result. Three ways, each on a fresh
device of the same configuration:

- ``dram-and+cpu-count`` (as Ambit did): k-1 bulk ANDs in DRAM (the first into the result
  bitmap, the others in place), then the host reads the result bitmap's rows through the
  same controller and counts its ones.
- ``dram-and+dram-count``: the same ANDs, then the count is reduced in DRAM: the result's
  rows are the n bit rows of the library's ``bitcount`` (vertical layout: column c of the n
  rows of a row group is one n-bit element), which leaves in 1 + log2(n) rows per group the
  number of ones of each column; the host reads only those rows and sums popcount(y[j])
  * 2**j. n is the largest power of two up to 64 that still leaves a row group per bank in
  use (so every bank counts), which reads (1 + log2 n) / n of the bitmap (7/64 at n = 64).
- ``cpu``: the host streams the k bitmaps (contiguous arrays) through the controller, a line
  of each at a time, ANDs and counts in registers; nothing is stored.

The bitmaps are random (each bit set with probability 1/2); every count is checked against
numpy's.
"""

from __future__ import annotations

import numpy as np

from pimsim.ambit.bulk import BulkEngine, Vector
from pimsim.ambit.vectors import BulkError
from pimsim.apps.sides import fits_host, host_reads_arrays, host_reads_rows, side_of
from pimsim.apps.sweep import Point, Workload, WorkloadError
from pimsim.baseline import LINE_BYTES
from pimsim.config import Config
from pimsim.device import Device
from pimsim.programs.parse import Program, builtin

#: Widest bitcount the in-DRAM count uses (the library's bitcount takes n in 2..64).
MAX_COUNT_BITS = 64


class Bitmaps:
    """The k week bitmaps, the result bitmap and the bitcount's output rows on ``engine``:
    every bitmap is n vectors of ``groups`` rows (bitmap row j * groups + g is row g of
    vector j), so row group g of all of them lies in one subarray."""

    def __init__(self, engine: BulkEngine, users: int, weeks: int):
        self.engine, self.users = engine, users
        row_bits = engine.row_bytes * 8
        self.rows = -(-users // row_bits)  # rows that hold users
        self.n = count_bits(self.rows, len(engine.banks))
        self.groups = -(-self.rows // self.n)
        self.program: Program = builtin("bitcount", {"n": self.n})
        try:
            engine.check_footprint(builtin("and"), self.n * self.groups)
            engine.check_footprint(self.program, self.groups)
            xs, self.counts = engine.alloc_program(self.program, self.groups)
            self.weeks = [self._bitmap() for _ in range(weeks)]
        except BulkError as error:
            raise WorkloadError(
                f"--users {users:,} --weeks {weeks}: {weeks + 1} bitmaps of {self.rows:,} rows "
                f"on {len(engine.banks)} bank(s) of {engine.device.config.name}: {error}"
            ) from None
        self.xs = xs
        self.result = _joined(xs)

    def _bitmap(self) -> Vector:
        size = self.groups * self.engine.row_bytes
        return _joined([self.engine.alloc(size) for _ in range(self.n)])

    def fill(self, seed: int) -> np.ndarray:
        """Random week bitmaps (zero past ``users``), written into their rows; their AND as
        the host computes it (uint64 words of the users' rows)."""
        rng = np.random.default_rng(seed)
        per_row = self.engine.row_bytes // 8
        words = rng.integers(0, 2**64, (len(self.weeks), self.n * self.groups * per_row),
                             dtype=np.uint64)  # fmt: skip
        _clear_past(words, self.users)
        self.engine.write_rows(self.weeks, words)
        return np.bitwise_and.reduce(words, axis=0)

    def and_all(self) -> tuple[int, int]:
        """The k-1 ANDs in DRAM, one after another: (first tick, end tick)."""
        first = self.engine.bbop("and", self.result, self.weeks[0], self.weeks[1])
        end = first.span.end_tick
        for week in self.weeks[2:]:
            end = self.engine.bbop("and", self.result, self.result, week, not_before=end)
            end = end.span.end_tick
        return first.span.first_tick, end

    def count_in_dram(self, not_before: int) -> int:
        """The bitcount over the result's row groups; its end tick."""
        return self.engine.run(
            self.program, self.counts, self.xs, not_before=not_before
        ).span.end_tick


def count_bits(rows: int, banks: int) -> int:
    """n of the in-DRAM count: the largest power of two up to MAX_COUNT_BITS with at least
    ``banks`` row groups of n rows among ``rows`` (2 at least)."""
    n = MAX_COUNT_BITS
    while n > 2 and -(-rows // n) < banks:
        n //= 2
    return n


def _joined(vectors: list[Vector]) -> Vector:
    return Vector(np.concatenate([v.fields for v in vectors]), vectors[0].row_bytes)


def _clear_past(words: np.ndarray, users: int) -> None:
    """Zero every bit at or past ``users`` in each row of ``words`` (bitmaps, uint64)."""
    full, bits = divmod(users, 64)
    if bits:
        words[:, full] &= np.uint64((1 << bits) - 1)
        full += 1
    words[:, full:] = 0


def _popcount(words: np.ndarray) -> int:
    return int(np.bitwise_count(words).sum(dtype=np.int64))


def _point(point: Point) -> tuple[int, int]:
    return point["users"], point["weeks"]


def check(config: Config, banks: int | None, point: Point) -> None:
    """WorkloadError if the point's bitmaps do not fit (in DRAM, or as the CPU's arrays)."""
    users, weeks = _point(point)
    if weeks < 2:
        raise WorkloadError(f"--weeks: the query ANDs at least 2 bitmaps, not {weeks}")
    Bitmaps(BulkEngine(Device(config), banks, with_data=False), users, weeks)
    size = -(-users // (LINE_BYTES * 8)) * LINE_BYTES
    if not fits_host(config, [size] * weeks):
        raise WorkloadError(
            f"--users {users:,}: {weeks} bitmaps of {size:,} bytes do not fit {config.name}"
        )


def run(config: Config, banks: int | None, profile: str, point: Point, with_data: bool) -> dict:
    """The point three ways (see the module docstring)."""
    users, weeks = _point(point)
    ways = {}
    counts = {}
    expected = None
    for way in ("dram-and+cpu-count", "dram-and+dram-count"):
        device = Device(config)
        maps = Bitmaps(BulkEngine(device, banks, with_data), users, weeks)
        if with_data:
            expected = _popcount(maps.fill(seed=0))
        first, end = maps.and_all()
        if way == "dram-and+dram-count":
            end = maps.count_in_dram(end)
        if way == "dram-and+cpu-count":
            end = host_reads_rows(device, maps.result.fields[: maps.rows])
            if with_data:
                counts[way] = _popcount(maps.engine.read(maps.result, 0, maps.rows))
        else:
            end = host_reads_rows(device, _joined(maps.counts).fields)
            if with_data:
                rows = maps.engine.read_rows(maps.counts).reshape(len(maps.counts), -1)
                counts[way] = sum(_popcount(r) << j for j, r in enumerate(rows))
        ways[way] = side_of(device, first, end, profile)
    device = Device(config)
    size = -(-users // (LINE_BYTES * 8)) * LINE_BYTES
    ways["cpu"] = side_of(device, 0, host_reads_arrays(device, [size] * weeks), profile)
    result = {"count_bits": maps.n, "row_groups": maps.groups, "bitmap_rows": maps.rows}
    if with_data:
        result["count"] = expected
        result["counts"] = counts
    correct = None if not with_data else all(c == expected for c in counts.values())
    return {"ways": ways, "correct": correct, "result": result}


BITMAP_INDEX = Workload(
    name="bitmap-index",
    summary="users active in every one of the last k weeks: AND of k bitmaps, then a count",
    ways=("dram-and+cpu-count", "dram-and+dram-count"),
    baseline="cpu",
    on_cpu={
        "dram-and+cpu-count": "the count: the host reads the result bitmap and counts its "
        "ones (Ambit's split: DRAM has no popcount)",
        "dram-and+dram-count": "the final sum: the host reads the bitcount's 1 + log2(n) "
        "rows per n rows of the result and adds popcount(y[j]) * 2**j",
        "cpu": "everything: the host streams the k bitmaps, ANDs and counts in registers",
    },
    check=check,
    run=run,
)
