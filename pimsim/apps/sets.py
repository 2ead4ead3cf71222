"""sets: union, intersection and difference of two sets of ids from a universe of u ids.

Sets A and B (each id in with probability e / u, so about e elements each) are bit vectors
of u bits, padded with zeros to whole rows. One point computes A | B, A & B and A & ~B into
three result sets. Three ways, each on fresh devices of the same configuration:

- ``dram``: three bulk operations one after another: the library's ``or`` and ``and``, and
  :data:`ANDNOT` (4 AAPs, as an AND: ~B goes into DCC0 through its n-wordline). The results
  stay in DRAM as bit vectors, as they do on the CPU.
- ``cpu-bitvector`` (the baseline): the host does the same three operations on the same bit
  vectors through the same controller (pimsim.compare.run_on_cpu: a line of each source
  read, a line of the result written; A & ~B moves what A & B does).
- ``cpu-sorted`` (in the document): the sets as sorted arrays of 4-byte ids; each operation
  is a merge that reads both arrays once and writes the result's ids. Modelled as the bytes
  it moves: the host streams A's array, then B's, then writes the result's, each through the
  controller on a fresh device, and the times and energies add (a merge's writes would
  overlap its reads; streaming, the channel is the bound either way). The comparisons the
  merge makes (a data-dependent branch per id) are not modelled: the memory traffic only.

Every result is checked against numpy's.
"""

from __future__ import annotations

import numpy as np

from pimsim.addrmap import AddressMapper
from pimsim.ambit.bulk import BulkEngine, Vector
from pimsim.ambit.vectors import BulkError
from pimsim.apps.sides import fits_host, side_of
from pimsim.apps.sweep import Point, Workload, WorkloadError
from pimsim.baseline import LINE_BYTES, op_lines, run_host_lines
from pimsim.compare import SideResult, run_on_cpu
from pimsim.config import Config
from pimsim.device import Device
from pimsim.programs.parse import builtin, parse

#: Dk = Di AND NOT Dj in 4 AAPs: ~Dj into DCC0 (n-wordline), Di into T1, 0 into T2, then the
#: majority of DCC0 (read through its d-wordline: ~Dj), T1 and T2.
ANDNOT = parse(
    "op andnot\nin Di Dj\nout Dk\nAAP Dj -> ~DCC0\nAAP Di -> T1\nAAP C0 -> T2\n"
    "AAP DCC0,T1,T2 -> Dk\n",
    source="<sets andnot>",
)

#: The three operations: (name, program, numpy twin).
OPERATIONS = (
    ("union", builtin("or"), np.bitwise_or),
    ("intersection", builtin("and"), np.bitwise_and),
    ("difference", ANDNOT, lambda a, b: a & ~b),
)

#: Bytes of one id in the sorted-array representation.
ID_BYTES = 4


def _point(point: Point) -> tuple[int, int]:
    return point["universe"], point["elements"]


def _vector_bytes(engine_row: int, universe: int) -> int:
    return -(-universe // (engine_row * 8)) * engine_row


def _alloc(engine: BulkEngine, universe: int) -> list[Vector]:
    size = _vector_bytes(engine.row_bytes, universe)
    try:
        engine.check_footprint(builtin("and"), size // engine.row_bytes)
        return [engine.alloc(size) for _ in range(2 + len(OPERATIONS))]
    except BulkError as error:
        raise WorkloadError(
            f"--universe {universe:,}: 5 bit vectors of {size:,} bytes on "
            f"{len(engine.banks)} bank(s) of {engine.device.config.name}: {error}"
        ) from None


def check(config: Config, banks: int | None, point: Point) -> None:
    """WorkloadError if the sets do not fit (as bit vectors, or as the CPU's arrays)."""
    universe, elements = _point(point)
    if elements > universe:
        raise WorkloadError(f"--elements {elements:,}: more than the universe's {universe:,} ids")
    if universe > 1 << (8 * ID_BYTES):
        raise WorkloadError(f"--universe {universe:,}: ids are {ID_BYTES} bytes (2**32 at most)")
    engine = BulkEngine(Device(config), banks, with_data=False)
    size = _vector_bytes(engine.row_bytes, universe)
    _alloc(engine, universe)
    if not fits_host(config, [size] * 3) or not fits_host(config, [2 * ID_BYTES * elements]):
        raise WorkloadError(f"--universe {universe:,}: the CPU's arrays do not fit {config.name}")


def random_sets(universe: int, elements: int, words: int) -> tuple[np.ndarray, np.ndarray]:
    """Sets A and B as bit vectors of ``words`` uint64 words: each of the ``universe`` ids
    in with probability elements / universe (made a chunk of ids at a time)."""
    rng = np.random.default_rng(0)
    packed = np.zeros((2, words * 8), dtype=np.uint8)
    chunk = 1 << 23
    for first in range(0, universe, chunk):
        bits = rng.random((2, min(chunk, universe - first))) < elements / universe
        packed[:, first // 8 : -(-(first + bits.shape[1]) // 8)] = np.packbits(
            bits, axis=1, bitorder="little")  # fmt: skip
    sa, sb = packed.view(np.uint64)
    return sa, sb


def _popcount(words: np.ndarray) -> int:
    return int(np.bitwise_count(words).sum(dtype=np.int64))


def _sum(sides: list[SideResult]) -> SideResult:
    """Sides run one after another on fresh devices: times, energies and commands add."""
    energy: dict[str, float] = {}
    commands: dict[str, int] = {}
    for side in sides:
        for k, v in side.energy.items():
            energy[k] = energy.get(k, 0.0) + v
        for k, v in side.commands.items():
            commands[k] = commands.get(k, 0) + v
    return SideResult(sum(s.time_ns for s in sides), energy, commands,
                      sum(s.rows_raised for s in sides))  # fmt: skip


def stream(config: Config, nbytes: int, profile: str, write: bool) -> SideResult:
    """The host reads (or writes) one array of ``nbytes`` bytes (whole lines) through the
    controller, on a fresh device: its time and energy above idle."""
    device = Device(config)
    lines = op_lines(AddressMapper.for_config(config), 0, ()) if write else op_lines(
        AddressMapper.for_config(config), (), (0,))  # fmt: skip
    end = run_host_lines(device, max(-(-nbytes // LINE_BYTES), 1), lines, writes=int(write))
    return side_of(device, 0, end, profile)


def run(config: Config, banks: int | None, profile: str, point: Point, with_data: bool) -> dict:
    """The point three ways (see the module docstring)."""
    universe, elements = _point(point)
    device = Device(config)
    engine = BulkEngine(device, banks, with_data)
    a, b, *outs = _alloc(engine, universe)
    if with_data:
        sa, sb = random_sets(universe, elements, len(a) * engine.row_bytes // 8)
        engine.write_rows([a, b], np.stack([sa, sb]))
    first = end = None
    for (_, program, _), out in zip(OPERATIONS, outs, strict=True):
        report = engine.bbop(program, out, a, b, not_before=end or 0)
        first = report.span.first_tick if first is None else first
        end = report.span.end_tick
    ways = {"dram": side_of(device, first, end, profile)}
    size = len(a) * engine.row_bytes
    ways["cpu-bitvector"] = _sum([run_on_cpu(config, op, size, profile)
                                  for op in ("or", "and", "and")])  # fmt: skip
    if with_data:
        in_a, in_b = (_popcount(x) for x in (sa, sb))
        sizes = [_popcount(twin(sa, sb)) for _, _, twin in OPERATIONS]
    else:  # the expected sizes of random sets
        in_a = in_b = elements
        both = elements * elements // universe
        sizes = [2 * elements - both, both, elements - both]
    reads = [stream(config, ID_BYTES * n, profile, False) for n in (in_a, in_b)]
    writes = [stream(config, ID_BYTES * n, profile, True) for n in sizes]
    sorted_sides = reads * len(OPERATIONS) + writes
    ways["cpu-sorted"] = _sum(sorted_sides)  # each merge reads A and B
    correct = None
    if with_data:
        got = engine.read_rows(outs)
        correct = all(np.array_equal(got[k].reshape(-1), twin(sa, sb))
                      for k, (_, _, twin) in enumerate(OPERATIONS))  # fmt: skip
    dram, sorted_ = ways["dram"], ways["cpu-sorted"]
    result = {
        "sizes": {"a": in_a, "b": in_b} | {name: n for (name, _, _), n in zip(OPERATIONS, sizes,
                                                                          strict=True)},
        "speedup_vs_sorted": round(sorted_.time_ns / dram.time_ns, 4),
        "energy_reduction_vs_sorted": round(
            sorted_.energy["above_idle"] / dram.energy["above_idle"], 4),
    }  # fmt: skip
    return {"ways": ways, "correct": correct, "result": result}


SETS = Workload(
    name="sets",
    summary="union, intersection and difference of two sets as bit vectors",
    ways=("dram",),
    baseline="cpu-bitvector",
    on_cpu={
        "dram": "nothing: the three results stay in DRAM as bit vectors",
        "cpu-bitvector": "everything: reads both bit vectors and writes each result, three times",
        "cpu-sorted": "(in the document: speedup_vs_sorted) sorted arrays of 4-byte ids: "
        "each operation reads both arrays and writes the result's ids",
    },
    check=check,
    run=run,
)
