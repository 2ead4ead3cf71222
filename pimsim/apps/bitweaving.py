"""bitweaving: ``select count(*) where c1 <= v <= c2`` over a b-bit column of n values.

The column is in vertical layout (BitWeaving/V, SIMDRAM): b bit vectors of n bits, bit i of
every value in vector i, padded with zeros to whole rows. Two ways, each on a fresh device:

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
from pimsim.apps.sides import fits_host, host_reads_arrays, host_reads_rows, side_of
from pimsim.apps.sweep import Point, Workload, WorkloadError
from pimsim.baseline import LINE_BYTES
from pimsim.config import Config
from pimsim.device import Device
from pimsim.programs.parse import Program, parse
from pimsim.programs.vertical import to_rows


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


def _column(engine: BulkEngine, values: int, bits: int, program: Program):
    row_bits = engine.row_bytes * 8
    rows = -(-values // row_bits)
    try:
        engine.check_footprint(program, rows)
        return engine.alloc_program(program, rows), rows
    except BulkError as error:
        raise WorkloadError(
            f"--values {values:,} --bits {bits}: {bits + 1} bit vectors of {rows:,} rows on "
            f"{len(engine.banks)} bank(s) of {engine.device.config.name}: {error}"
        ) from None


def _vector_bytes(values: int) -> int:
    return -(-values // (LINE_BYTES * 8)) * LINE_BYTES


def check(config: Config, banks: int | None, point: Point) -> None:
    """WorkloadError if the column does not fit (in DRAM, or as the CPU's arrays)."""
    values, bits = _point(point)
    if not 2 <= bits <= 64:
        raise WorkloadError(f"--bits: a column is 2..64 bits wide, not {bits}")
    _column(BulkEngine(Device(config), banks, with_data=False), values, bits,
            range_program(bits, *bounds(bits)))  # fmt: skip
    if not fits_host(config, [bits * _vector_bytes(values)]):
        raise WorkloadError(
            f"--values {values:,}: {bits} bit vectors of {_vector_bytes(values):,} bytes do "
            f"not fit {config.name}"
        )


def run(config: Config, banks: int | None, profile: str, point: Point, with_data: bool) -> dict:
    """The point both ways (see the module docstring)."""
    values, bits = _point(point)
    c1, c2 = bounds(bits)
    program = range_program(bits, c1, c2)
    device = Device(config)
    engine = BulkEngine(device, banks, with_data)
    (xs, (y,)), rows = _column(engine, values, bits, program)
    expected = count = None
    if with_data:
        column = np.random.default_rng(0).integers(0, 1 << bits, values, dtype=np.uint64)
        expected = int(np.count_nonzero((column >= c1) & (column <= c2)))
        per_vector = rows * engine.row_bytes // 8
        data = np.zeros((bits, per_vector), dtype=np.uint64)
        vertical = to_rows(column, bits)
        data[:, : vertical.shape[1]] = vertical
        engine.write_rows(xs, data)
    report = engine.run(program, [y], xs)
    end = host_reads_rows(device, y.fields)
    if with_data:
        words = engine.read(y)
        full, tail = divmod(values, 64)
        count = int(np.bitwise_count(words[:full]).sum(dtype=np.int64))
        if tail:
            count += int(np.bitwise_count(words[full] & np.uint64((1 << tail) - 1)))
    ways = {"dram-range+cpu-count": side_of(device, report.span.first_tick, end, profile)}
    cpu = Device(config)
    ways["cpu"] = side_of(cpu, 0, host_reads_arrays(cpu, [bits * _vector_bytes(values)]), profile)
    result = {"c1": c1, "c2": c2, "program_commands": len(program.steps), "column_rows": rows}
    if with_data:
        result |= {"count": expected, "dram_count": count}
    correct = None if not with_data else count == expected
    return {"ways": ways, "correct": correct, "result": result}


BITWEAVING = Workload(
    name="bitweaving",
    summary="select count(*) where c1 <= v <= c2 over a b-bit column in vertical layout",
    ways=("dram-range+cpu-count",),
    baseline="cpu",
    on_cpu={
        "dram-range+cpu-count": "the count: the host reads the one-bit-per-value result and "
        "counts its ones (Ambit's split: DRAM has no popcount)",
        "cpu": "everything: the host reads the b bit vectors in one stream, evaluates "
        "c1 <= v <= c2 and counts in registers",
    },
    check=check,
    run=run,
)
