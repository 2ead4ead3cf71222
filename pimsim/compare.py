"""In-DRAM against CPU: the same bulk operation done both ways on the same DRAM model.

In DRAM, the operands are PIM vectors striped row by row over the banks (pimsim.ambit.bulk)
and the operation runs as µprograms of AAP/AP commands; the result is checked bit-exactly
against numpy. On the CPU (pimsim.baseline), a host core reads the source lines and writes
the result lines through the memory controller; its operands are contiguous arrays, one
after another. Each side runs on a fresh, idle DRAM system of the same configuration.

Times are from the first command to the end of the last one; throughput is GB/s of result;
energy is pimsim.results.energy's ``above_idle`` -- what the operation costs beyond an idle
memory -- under the chosen profile, with the full breakdown beside it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimsim import compare_lib
from pimsim.addrmap import AddressMapper
from pimsim.ambit.bulk import BulkEngine, OpReport, bulk_result
from pimsim.ambit.inputs import check, fill
from pimsim.ambit.operands import wide_op, wide_program
from pimsim.baseline import run_host_op
from pimsim.config import Config
from pimsim.device import Device
from pimsim.errors import PimsimError
from pimsim.programs.parse import ProgramError, builtin, echo
from pimsim.results.counters import Counters
from pimsim.results.energy import energy_of, get_profile
from pimsim.sim import Replay

logger = logging.getLogger("pimsim")

#: The bitwise operations ``--ops all`` runs (Ambit's seven); copy, zero and one on request.
BITWISE_OPS = ("not", "and", "or", "nand", "nor", "xor", "xnor")
OTHER_OPS = ("copy", "zero", "one")


class CompareError(PimsimError):
    """A comparison cannot be set up (an unknown operation, a size that does not fit)."""


def parse_ops(text: str) -> tuple[str, ...]:
    """Operation names from ``all`` or a comma-separated list, in the order given (each
    once): bitwise operations, and library operations with their width (``add32``,
    pimsim.compare_lib); an unknown or empty name, or a width the program does not take,
    is a CompareError."""
    if text.strip() == "all":
        return BITWISE_OPS
    names = [o.strip() for o in text.split(",")]
    known = BITWISE_OPS + OTHER_OPS
    for op in names:
        if not op:
            raise CompareError("--ops: an empty name in the list (a stray comma?)")
        if op in known:
            continue
        if wide_op(op) is None:
            raise CompareError(
                f"--ops: unknown operation {echo(op)}; known: all, {', '.join(known)}, or a "
                "library operation with its width (add32, mul8, gt16, ...)"
            )
        try:
            wide_program(op)
        except ProgramError as error:
            raise CompareError(f"--ops: {op}: {error.message}") from None
    return tuple(dict.fromkeys(names))  # a name given twice runs once


@dataclass
class SideResult:
    """One way of doing the operation: its time (ns), energy breakdown (nJ), commands."""

    time_ns: float
    energy: dict[str, float]
    commands: dict[str, int]
    rows_raised: int

    def to_dict(self, size: int, elements: int) -> dict:
        """Its entry for ``size`` bytes of result holding ``elements`` elements (a bitwise
        operation's element is one bit)."""
        energy = self.energy["above_idle"]
        return {
            "time_ns": round(self.time_ns, 3),
            "throughput_gbps": round(size / self.time_ns, 4) if self.time_ns else 0.0,
            "elements_per_second": round(elements / self.time_ns * 1e9) if self.time_ns else 0,
            "energy_nj": round(energy, 3),
            "energy_nj_per_kb": round(energy / (size / 1024), 4),
            "energy_pj_per_element": round(energy / elements * 1000, 6),
            "commands": self.commands,
            "rows_raised": self.rows_raised,
            "energy_breakdown_nj": {k: round(v, 3) for k, v in self.energy.items()},
        }


def _counts(counters: Counters) -> dict[str, int]:
    return {k: v for k, v in counters.command_counts().items() if v}


def run_in_dram(
    config: Config,
    op: str,
    size: int,
    banks: int | None,
    profile: str,
    seed: int = 0,
    with_data: bool = True,
) -> tuple[SideResult, bool | None]:
    """``op`` on random vectors of ``size`` bytes in DRAM; (result, bit-exact vs numpy).
    The vectors are filled and checked a chunk of rows at a time (pimsim.ambit.inputs);
    ``with_data=False`` simulates the same commands without data (correct is then None)."""
    device = Device(config)
    engine = BulkEngine(device, banks, with_data)
    program = builtin(op)
    vectors = len(program.inputs) + 1
    free = len(engine.banks) * engine.subarrays * engine.pim.layout.data_rows
    if vectors * (size // engine.row_bytes) > free:
        raise CompareError(
            f"--size: {op} needs {vectors} vectors of {size:,} bytes; {config.name} has "
            f"{free * engine.row_bytes:,} bytes of data rows on the banks in use"
        )
    engine.check_footprint(program, size // engine.row_bytes)
    sources = [engine.alloc(size) for _ in program.inputs]
    out = engine.alloc(size)
    if with_data:
        fill(device, sources, seed)
    report = engine.bbop(op, out, *sources)
    correct = None
    if with_data:
        correct = check(device, out, len(sources), seed, lambda words, n: bulk_result(op, words, n))
    return pim_side(device, report, config, profile), correct


def pim_side(device: Device, report: OpReport, config: Config, profile: str) -> SideResult:
    """The in-DRAM side of a finished bulk operation: its time, its device's counters to
    its end (AAP and AP counted as the program's) and their energy."""
    counters = device.snapshot(report.span.end_tick)
    commands = {**_counts(counters), "AAP": report.aap, "AP": report.ap}
    energy = energy_of(counters, config, profile)
    return SideResult(report.time_ns, energy, commands, int(counters.rows_raised.sum()))


def cpu_side(counters: Counters, config: Config, profile: str) -> SideResult:
    """The CPU side from its device's counters (time from tick 0 to the last request)."""
    energy = energy_of(counters, config, profile)
    return SideResult(counters.time_ns, energy, _counts(counters), int(counters.rows_raised.sum()))


def run_on_cpu(config: Config, op: str, size: int, profile: str) -> SideResult:
    """``op`` over ``size`` bytes done by the host through the controller (timing only)."""
    device = Device(config)
    mapper = AddressMapper.for_config(config)
    n_sources = len(builtin(op).inputs)
    row = config.organisation.row_bytes
    stride = -(-size // row) * row
    *sources, dst = _array_bases(mapper, n_sources + 1, stride + row * 16, row)
    if dst + size > mapper.capacity_bytes:
        raise CompareError(
            f"--size: {n_sources + 1} arrays of {size:,} bytes do not fit in "
            f"{mapper.capacity_bytes:,} bytes of {config.name}"
        )
    return cpu_side(
        device.snapshot(run_host_op(device, mapper, dst, sources, size)), config, profile
    )


def _array_bases(mapper: AddressMapper, count: int, stride: int, row: int) -> list[int]:
    """Base addresses of ``count`` arrays, ``stride`` bytes apart, each nudged by whole rows
    so that each starts in a bank of its own: the bank spreading that XOR-based interleaving
    gives arrays a power of two apart in real controllers (no row conflicts between the
    operands of a streaming loop)."""
    bases: list[int] = []
    banks: set[tuple[int, ...]] = set()
    for k in range(count):
        base = k * stride
        for nudge in range(0, 16 * row, row):
            bank = tuple(mapper.decode(base + nudge)[:4])
            if bank not in banks:
                base += nudge
                break
        banks.add(tuple(mapper.decode(base)[:4]))
        bases.append(base)
    return bases


def measure_host(op: str, size: int, repeats: int = 5) -> dict:
    """``op`` on ``size`` bytes with numpy on this machine: best of ``repeats`` runs."""
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 2**64, size // 8, dtype=np.uint64) for _ in builtin(op).inputs]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter_ns()
        bulk_result(op, inputs, size // 8)
        best = min(best, time.perf_counter_ns() - start)
    return {"time_ns": float(best), "throughput_gbps": round(size / best, 4)}


def hmean(values: Sequence[float]) -> float:
    """Harmonic mean of positive values (0.0 if there are none)."""
    values = [v for v in values if v > 0]
    return len(values) / sum(1 / v for v in values) if values else 0.0


def compare(
    config: Config,
    ops: Sequence[str],
    size: int,
    banks: int | None = None,
    profile: str = "datasheet",
    with_host: bool = False,
    on_op: Callable[[str], None] | None = None,
    with_data: bool = True,
    fit_size: bool = False,
) -> dict:
    """Run every op both ways; the comparison document (the schema of ``pimsim compare``).
    ``on_op`` is called with each op's name when it is done; ``with_data=False`` simulates
    the in-DRAM side without row data (``correct`` is then None: not checked). With
    ``fit_size`` (``size`` is the CLI's default) a library operation too narrow to check
    ``size`` bytes runs on the most elements it can check (its entry's ``size_bytes``)."""
    get_profile(profile)
    row = config.organisation.row_bytes
    per_rank = config.organisation.banks_per_rank
    if banks is not None and not 1 <= banks <= per_rank:
        raise CompareError(f"--banks: {config.name} has 1..{per_rank} banks per rank, not {banks}")
    if size <= 0 or size % row:
        raise CompareError(
            f"--size: in-DRAM vectors are whole rows: {size:,} bytes is not a multiple of "
            f"the {row:,}-byte row of {config.name}"
        )
    doc: dict = {
        "config": config.name,
        "overrides": dict(config.overrides),
        "energy_profile": profile,
        "energy_accounting": "above_idle",
        "size_bytes": size,
        "banks_per_rank": banks or config.organisation.banks_per_rank,
        "ranks": config.organisation.ranks,
        "data_simulated": with_data,
        "ops": {},
    }
    try:
        for op in ops:
            logger.info("comparing %s", op)
            doc["ops"][op] = _compare_op(
                config, op, size, banks, profile, with_host, with_data, fit_size
            )
            if on_op:
                on_op(op)
    except KeyboardInterrupt:
        doc["interrupted"] = True
    doc["summary"] = _summary(doc["ops"])
    return doc


def _compare_op(
    config: Config,
    op: str,
    size: int,
    banks: int | None,
    profile: str,
    with_host: bool,
    with_data: bool,
    fit_size: bool = False,
) -> dict:
    """One operation both ways: its entry in the comparison document."""
    if op not in BITWISE_OPS + OTHER_OPS:
        return _compare_wide(config, op, size, banks, profile, with_data, fit_size)
    pim, correct = run_in_dram(config, op, size, banks, profile, with_data=with_data)
    cpu = run_on_cpu(config, op, size, profile)
    entry = _entry(pim, cpu, size, correct)
    if with_host:
        entry["host_measured"] = measure_host(op, size)
    return entry


def _compare_wide(
    config: Config,
    op: str,
    size: int,
    banks: int | None,
    profile: str,
    with_data: bool,
    fit_size: bool = False,
) -> dict:
    """A library operation of a width both ways (pimsim.compare_lib): its entry, with the
    elements it ran on and, after a mismatch, the first differing element (``fit_size``:
    see :func:`compare`)."""
    program = wide_program(op)
    if fit_size and with_data:  # n * 8 MiB: whole rows
        size = min(size, compare_lib.MAX_ELEMENTS * program.params["n"] // 8)
    elements = compare_lib.elements_of(program, size)
    if elements < 1 or (with_data and elements > compare_lib.MAX_ELEMENTS):
        raise CompareError(
            f"--size: {op} over {size:,} bytes is {elements:,} elements; give 1.."
            f"{compare_lib.MAX_ELEMENTS:,} (more with --no-data)"
        )
    device, report, found = compare_lib.run_in_dram(config, program, elements, banks, 0, with_data)
    pim = pim_side(device, report, config, profile)
    mapper = AddressMapper.for_config(config)
    row = config.organisation.row_bytes
    sizes = compare_lib.operand_bytes(program, elements)
    stride = -(-max(sizes) // row) * row
    bases = _array_bases(mapper, len(sizes), stride + row * 16, row)
    if bases[-1] + sizes[-1] > mapper.capacity_bytes:
        raise CompareError(
            f"--size: {op}'s {len(sizes)} arrays of up to {max(sizes):,} bytes do not fit in "
            f"{mapper.capacity_bytes:,} bytes of {config.name}"
        )
    device, end = compare_lib.run_on_cpu(config, program, elements, bases, mapper)
    cpu = cpu_side(device.snapshot(end), config, profile)
    entry = _entry(pim, cpu, size, None if found is None else found["correct"], elements)
    entry["elements"] = elements
    entry["size_bytes"] = size
    if found is not None and "mismatch" in found:
        entry["mismatch"] = found["mismatch"]
    return entry


def _entry(
    pim: SideResult, cpu: SideResult, size: int, correct: bool | None, elements: int = 0
) -> dict:
    elements = elements or size * 8  # a bitwise operation's element is a bit
    return {
        "pim": pim.to_dict(size, elements),
        "cpu": cpu.to_dict(size, elements),
        "speedup": round(cpu.time_ns / pim.time_ns, 4),
        "energy_reduction": round(cpu.energy["above_idle"] / pim.energy["above_idle"], 4),
        "correct": correct,
    }


def _summary(entries: dict) -> dict:
    return {
        "speedup_hmean": round(hmean([e["speedup"] for e in entries.values()]), 4),
        "energy_reduction_hmean": round(
            hmean([e["energy_reduction"] for e in entries.values()]), 4
        ),
        "all_correct": None
        if any(e["correct"] is None for e in entries.values())
        else all(e["correct"] for e in entries.values()),
    }


def compare_trace(config: Config, trace: str | Path, profile: str = "datasheet") -> dict:
    """Replay a trace with its BBOP/COPY lines in DRAM, and again with all of them on the CPU
    path; the comparison document of the whole replay (one entry, named after the trace).
    ``size_bytes`` is the bytes of bulk results; ``correct`` says both replays leave the same
    bytes in every bulk destination. After Ctrl-C the document is marked ``interrupted`` and
    ``partial`` holds what each replay run so far did."""
    get_profile(profile)
    sides: dict[str, SideResult] = {}
    replays: dict[str, Replay] = {}
    interrupted = False
    try:
        for side, in_dram in (("pim", True), ("cpu", False)):
            logger.info("replaying %s with its bulk operations %s", trace, _WAYS[side])
            replay = Replay(config, trace, energy_profile=profile, bulk_in_dram=in_dram)
            stats = replay.run()
            commands = {k: v for k, v in stats["commands"].items() if v}
            sides[side] = SideResult(
                stats["time_ns"], stats["energy_nj"], commands, stats["rows_raised"]
            )
            replays[side] = replay
            if replay.interrupted:
                interrupted = True
                break
    except KeyboardInterrupt:  # between the replays
        interrupted = True
    doc = {
        "config": config.name,
        "overrides": dict(config.overrides),
        "energy_profile": profile,
        "energy_accounting": "above_idle",
        "trace": str(trace),
        "size_bytes": sum(n for _, n in replays["pim"].bulk_results) if sides else 0,
        "banks_per_rank": config.organisation.banks_per_rank,
        "ranks": config.organisation.ranks,
        "ops": {},
    }
    if interrupted:
        doc["interrupted"] = True
        doc["partial"] = {
            side: {**_partial(result), "interrupted": replays[side].interrupted}
            for side, result in sides.items()
        }
    elif not doc["size_bytes"]:
        raise CompareError(f"--trace: {trace} has no BBOP or COPY line to compare")
    else:
        same = _same_results(replays["pim"], replays["cpu"])
        doc["ops"][Path(trace).name] = _entry(sides["pim"], sides["cpu"], doc["size_bytes"], same)
    doc["summary"] = _summary(doc["ops"])
    return doc


_WAYS = {"pim": "in DRAM", "cpu": "on the CPU"}


def _partial(side: SideResult) -> dict:
    """What one replay did before Ctrl-C stopped it: time (ns), energy above idle (nJ)."""
    return {
        "time_ns": round(side.time_ns, 3),
        "energy_nj": round(side.energy["above_idle"], 3),
        "commands": side.commands,
    }


def _same_results(a: Replay, b: Replay) -> bool:
    """Both replays hold the same bytes in every bulk destination, line by line."""
    for dst, size in a.bulk_results:
        for offset in range(0, size, 64):
            where = a.mapper.decode(dst + offset)
            if not np.array_equal(a.device.read_burst(*where), b.device.read_burst(*where)):
                return False
    return True
