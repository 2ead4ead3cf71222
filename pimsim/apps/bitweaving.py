"""bitweaving: ``select count(*) where c1 <= v <= c2`` over a b-bit column of n values.

The column is in vertical layout (BitWeaving/V, SIMDRAM): b bit vectors of n bits, bit i of
every value in vector i, padded with zeros to whole rows. Three ways, each on a fresh device:

- ``dram-range+cpu-count``: a range program specialised to c1 and c2 (see
  :func:`range_program`) leaves one bit per value (1: in range) in a result bitmap; the host
  reads its rows through the same controller and counts its ones among the first n bits (the
  count stays on the CPU, as in Ambit).
- ``cpu``: the host reads the b bit vectors (stored one after another) in one stream
  through the controller, evaluates the predicate in registers and counts; nothing is
  stored. One stream of b * n / 8 bytes is the best case of a scan of this layout: a CPU
  that read a line of each of the b vectors in turn would open a row per line once b
  vectors outnumber the banks (b = 32: about 55x slower than one stream on 8 banks).

The values are random (uniform in 0..2**b - 1); the count is checked against numpy's.
"""

from __future__ import annotations

import numpy as np

from pimsim.ambit.bulk import BulkEngine
from pimsim.ambit.vectors import BulkError
from pimsim.apps.bitmap import _joined, count_bits
from pimsim.apps.sides import fits_host, host_reads_arrays, host_reads_rows, side_of
from pimsim.apps.sweep import Point, Workload, WorkloadError
from pimsim.baseline import LINE_BYTES
from pimsim.config import Config
from pimsim.device import Device
from pimsim.programs.parse import Program, builtin, parse
from pimsim.programs.vertical import to_rows

#: The in-DRAM ways: the count on the CPU (Ambit's split) or reduced in DRAM first.
WAYS = ("dram-range+cpu-count", "dram-range+dram-count")


def bounds(bits: int) -> tuple[int, int]:
    """c1 and c2 of a b-bit column: the middle half of its range (about half the uniform
    values qualify)."""
    return 1 << (bits - 2) if bits > 2 else 1, 3 << (bits - 2) if bits > 2 else 2


def range_program(bits: int, c1: int, c2: int) -> Program:
    """``y = c1 <= v <= c2`` for a b-bit ``v``, specialised to the constants.

    Two carry chains from bit 0 up, side by side: p = (v >= c1) is the carry out of
    v + ~c1 + 1, p = MAJ(v[i], ~c1[i], p), in T3 (majority DCC1,T0,T3); q = (v <= c2) is
    the carry of c2 + ~v + 1, q = MAJ(~v[i], c2[i], q), in T2 (majority DCC0,T1,T2). One
    AAP v[i] -> ~DCC0,T0 gives v in T0 and ~v in DCC0. The constants are C0/C1 rows: when
    c1[i] == c2[i] one AAP into ~DCC1,T1 loads both (DCC1 reads the complement), else two.
    A chain starts at its first bit that is not a no-op (carry in 1: below c1's lowest set
    bit, and below c2's lowest clear bit, the carry stays 1), with a copy. Then
    y = MAJ(p, q, 0). At most 5b + 2 commands, against 2(3b + 1) + 4 for the library's ge
    twice and an AND over broadcast constant rows (which also take 2b rows per subarray)."""
    lines = ["op range", f"in v:{bits}", "out y"]
    p_on = q_on = False
    for i in range(bits):
        k1, k2 = c1 >> i & 1, c2 >> i & 1
        p_step, q_step = p_on or k1 == 1, q_on or k2 == 0
        if not (p_step or q_step):
            continue
        lines.append(f"AAP v[{i}] -> ~DCC0,T0")
        if p_on and q_on and k1 == k2:
            lines.append(f"AAP C{k2} -> ~DCC1,T1")
        else:
            if p_on:
                lines.append(f"AAP C{1 - k1} -> DCC1")
            if q_on:
                lines.append(f"AAP C{k2} -> T1")
        if p_on:
            lines.append("AP DCC1,T0,T3")
        elif p_step:
            lines.append("AAP T0 -> T3")
        if q_on:
            lines.append("AP DCC0,T1,T2")
        elif q_step:
            lines.append("AAP DCC0 -> T2")
        p_on, q_on = p_step, q_step
    if p_on and q_on:
        lines += ["AAP C0 -> T1", "AAP T1,T2,T3 -> y"]
    elif p_on or q_on:
        lines.append(f"AAP {'T3' if p_on else 'T2'} -> y")
    else:
        lines.append("AAP C1 -> y")
    return parse("\n".join(lines), source=f"<bitweaving range {c1}..{c2}>")


def _point(point: Point) -> tuple[int, int]:
    return point["values"], point["bits"]


class Column:
    """The column's b bit vectors, the range result and the bitcount's output rows on
    ``engine``, laid out as bitmap-index's bitmaps: every vector is n allocations of
    ``groups`` rows (row j * groups + g is row g of allocation j), so the result's rows are
    the n bit rows of the library's ``bitcount`` (column c of row group g: one n-bit
    element) and row group g of all of them lies in one subarray."""

    def __init__(self, engine: BulkEngine, values: int, bits: int, program: Program):
        self.engine, self.values, self.bits, self.program = engine, values, bits, program
        self.rows = -(-values // (engine.row_bytes * 8))  # rows that hold values
        self.n = count_bits(self.rows, len(engine.banks))
        while self.n > 2 and not self._fits(self.n):
            self.n //= 2  # fewer, longer allocations spread over more subarrays
        self.groups = -(-self.rows // self.n)
        self.counter: Program = builtin("bitcount", {"n": self.n})
        try:
            engine.check_footprint(program, self.n * self.groups)
            engine.check_footprint(self.counter, self.groups)
            xs, self.counts = engine.alloc_program(self.counter, self.groups)
            size = self.groups * engine.row_bytes
            self.vectors = [_joined([engine.alloc(size) for _ in range(self.n)])
                            for _ in range(bits)]  # fmt: skip
        except BulkError as error:
            raise WorkloadError(
                f"--values {values:,} --bits {bits}: {bits + 1} bit vectors of {self.rows:,} "
                f"rows on {len(engine.banks)} bank(s) of {engine.device.config.name}: {error}"
            ) from None
        self.xs, self.result = xs, _joined(xs)

    def _fits(self, n: int) -> bool:
        """Whether the b bit vectors and the bitcount's rows fit the free rows of a subarray
        with n allocations per vector (row group g of each in one subarray)."""
        counter = builtin("bitcount", {"n": n})
        groups = -(-self.rows // n)
        per_subarray = -(-groups // (len(self.engine.banks) * self.engine.subarrays))
        rows = (self.bits + 1) * n + len(counter.outputs)
        return rows * per_subarray + len(counter.scratch) <= self.engine.placement.free_rows()

    def fill(self, column: np.ndarray) -> None:
        """The values (uint64), in vertical layout, written into the bit vectors' rows."""
        data = np.zeros((self.bits, len(self.result) * self.engine.row_bytes // 8), np.uint64)
        vertical = to_rows(column, self.bits)
        data[:, : vertical.shape[1]] = vertical
        self.engine.write_rows(self.vectors, data)

    def count_on_cpu(self) -> tuple[int, int]:
        """The host reads the result's rows and counts the ones of the first n bits: (end
        tick, count; the count is 0 without data)."""
        end = host_reads_rows(self.engine.device, self.result.fields[: self.rows])
        words = self.engine.read(self.result, 0, self.rows)
        full, tail = divmod(self.values, 64)
        count = _popcount(words[:full])
        if tail:
            count += _popcount(words[full : full + 1] & np.uint64((1 << tail) - 1))
        return end, count

    def count_in_dram(self, not_before: int) -> tuple[int, int]:
        """The bitcount over the result's row groups, then the host reads its 1 + log2(n)
        rows per group and adds popcount(y[j]) * 2**j: (end tick, count). Padding values
        are 0, outside every range with c1 >= 1 (:func:`bounds`)."""
        self.engine.run(self.counter, self.counts, self.xs, not_before=not_before)
        end = host_reads_rows(self.engine.device, _joined(self.counts).fields)
        rows = self.engine.read_rows(self.counts).reshape(len(self.counts), -1)
        return end, sum(_popcount(r) << j for j, r in enumerate(rows))


def _popcount(words: np.ndarray) -> int:
    return int(np.bitwise_count(words).sum(dtype=np.int64))


def _vector_bytes(values: int) -> int:
    return -(-values // (LINE_BYTES * 8)) * LINE_BYTES


def check(config: Config, banks: int | None, point: Point) -> None:
    """WorkloadError if the column does not fit (in DRAM, or as the CPU's arrays)."""
    values, bits = _point(point)
    if not 2 <= bits <= 64:
        raise WorkloadError(f"--bits: a column is 2..64 bits wide, not {bits}")
    Column(BulkEngine(Device(config), banks, with_data=False), values, bits,
           range_program(bits, *bounds(bits)))  # fmt: skip
    if not fits_host(config, [bits * _vector_bytes(values)]):
        raise WorkloadError(
            f"--values {values:,}: {bits} bit vectors of {_vector_bytes(values):,} bytes do "
            f"not fit {config.name}"
        )


def run(config: Config, banks: int | None, profile: str, point: Point, with_data: bool) -> dict:
    """The point three ways (see the module docstring)."""
    values, bits = _point(point)
    c1, c2 = bounds(bits)
    program = range_program(bits, c1, c2)
    column = expected = None
    if with_data:
        column = np.random.default_rng(0).integers(0, 1 << bits, values, dtype=np.uint64)
        expected = int(np.count_nonzero((column >= c1) & (column <= c2)))
    ways, counts = {}, {}
    for way in WAYS:
        device = Device(config)
        col = Column(BulkEngine(device, banks, with_data), values, bits, program)
        if with_data:
            col.fill(column)
        report = col.engine.run(program, [col.result], col.vectors)
        if way == "dram-range+cpu-count":
            end, counts[way] = col.count_on_cpu()
        else:
            end, counts[way] = col.count_in_dram(report.span.end_tick)
        ways[way] = side_of(device, report.span.first_tick, end, profile)
    cpu = Device(config)
    ways["cpu"] = side_of(cpu, 0, host_reads_arrays(cpu, [bits * _vector_bytes(values)]), profile)
    result = {"c1": c1, "c2": c2, "program_commands": len(program.steps),
              "column_rows": col.rows, "count_bits": col.n, "row_groups": col.groups}  # fmt: skip
    if with_data:
        result |= {"count": expected, "counts": counts}
    correct = None if not with_data else all(c == expected for c in counts.values())
    return {"ways": ways, "correct": correct, "result": result}


BITWEAVING = Workload(
    name="bitweaving",
    summary="select count(*) where c1 <= v <= c2 over a b-bit column in vertical layout",
    ways=WAYS,
    baseline="cpu",
    on_cpu={
        "dram-range+cpu-count": "the count: the host reads the one-bit-per-value result and "
        "counts its ones (Ambit's split: DRAM has no popcount)",
        "dram-range+dram-count": "the final sum: the host reads the bitcount's 1 + log2(n) "
        "rows per n rows of the result and adds popcount(y[j]) * 2**j",
        "cpu": "everything: the host reads the b bit vectors in one stream, evaluates "
        "c1 <= v <= c2 and counts in registers",
    },
    check=check,
    run=run,
)
