"""The CPU baseline: a bulk operation done the conventional way, through the controller.

For every 64-byte line of the result the host reads the line of each source, computes, and
writes the result line -- the requests go through the same controller, timing and energy
tables as any trace. The host is one core (``host`` section of the config):

- it keeps at most ``misses_in_flight`` source reads in flight (the default 10 is the line
  fill buffers of one Intel Skylake core, which bound the misses a core can overlap);
- a write waits in a store buffer (as many entries) until the reads of its line are back and
  the core has computed it; the core computes one result line at a time at ``compute_gbps``;
- stores are non-temporal: no read-for-ownership of the destination (the published baselines
  move 2 bytes per result byte for not, 3 for two-input operations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from pimsim._replay import Engine
from pimsim.addrmap import AddressMapper
from pimsim.clock import Clock
from pimsim.config import Config
from pimsim.controller import DONE, make_engine
from pimsim.device import Device

#: Bytes in one cache line (one burst of a 64-bit channel).
LINE_BYTES = 64
#: Result lines :func:`run_host_op` loads at a time (bounds its request arrays).
RUN_BLOCK_LINES = 1 << 20


#: Lines of each source and of the destination, from ``first`` to ``last``: their fields
#: (n, 6) and addresses (n,), sources first.
Lines = Callable[[int, int], tuple[list[np.ndarray], list[np.ndarray]]]


def host_program(
    mapper: AddressMapper, dst: int, sources: Sequence[int], size: int, cycle: int
) -> tuple[np.ndarray, ...]:
    """The requests of ``dst = op(sources)`` over ``size`` bytes, in program order, for the
    engine's load_host: (cycles, is_write, address fields, addresses, deps)."""
    return line_requests(*op_lines(mapper, dst, sources)(0, size // LINE_BYTES), cycle)


def op_lines(mapper: AddressMapper, dst: int | Sequence[int], sources: Sequence[int]) -> Lines:
    """The :data:`Lines` of ``dst = op(sources)`` at byte addresses (``dst`` may be several
    destinations, written in order): line k of each operand is ``LINE_BYTES * k`` past its
    base, its fields by ``mapper``."""
    dsts = (dst,) if isinstance(dst, int) else tuple(dst)

    def lines(first: int, last: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        offsets = LINE_BYTES * np.arange(first, last, dtype=np.uint64)
        addresses = [np.uint64(base) + offsets for base in (*sources, *dsts)]
        return [mapper.decode_array(a) for a in addresses], addresses

    return lines


def line_requests(
    fields: Sequence[np.ndarray],
    addresses: Sequence[np.ndarray],
    cycle: int,
    writes: int = 1,
) -> tuple[np.ndarray, ...]:
    """The host's requests over result lines: ``fields`` (n, 6) and ``addresses`` (n,) of
    each source's lines, then of the destination's (the last ``writes`` of them: an
    operation over wide elements may read and write several lines per step). Per result
    line one read per source, then the writes: the first depends on those reads, the
    others follow it through the store buffer (in order, one compute step each; a write
    that waited on another write's completion could wait forever for the write queue to
    drain)."""
    per_line = len(fields)
    n = len(fields[0])
    out_fields = np.empty((n * per_line, 6), dtype=np.int32)
    out_addresses = np.empty(n * per_line, dtype=np.uint64)
    for k in range(per_line):
        out_fields[k::per_line] = fields[k]
        out_addresses[k::per_line] = addresses[k]
    is_write = np.zeros(n * per_line, dtype=np.uint8)
    deps = np.zeros(n * per_line, dtype=np.int32)
    for k in range(per_line - writes, per_line):
        is_write[k::per_line] = 1
    if writes:  # a read-only stream (the host only consumes what it reads) has no deps
        deps[per_line - writes :: per_line] = per_line - writes
    cycles = np.full(n * per_line, cycle, dtype=np.int64)
    return cycles, is_write, out_fields, out_addresses, deps


def row_lines(device: Device, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lines of whole rows ``rows`` (n, 5), row by row: their fields (n * bursts, 6) and
    addresses that name each line uniquely (its place in the device's row store; the
    controller compares addresses only to forward a read from a queued write)."""
    org = device.config.organisation
    cols = np.arange(0, org.columns, org.burst_length, dtype=np.int64)
    fields = np.empty((len(rows), len(cols), 6), dtype=np.int32)
    fields[:, :, :5] = rows[:, None, :]
    fields[:, :, 5] = cols
    ids = device.row_ids(*rows.T)
    addresses = ((ids[:, None] * org.columns + cols) * 8).astype(np.uint64)
    return fields.reshape(-1, 6), addresses.reshape(-1)


def read_lines(device: Device, fields: np.ndarray) -> np.ndarray:
    """The bursts at lines ``fields`` (n, 6), an (n, burst_length) uint64 array."""
    ids, inverse, cols = _line_places(device, fields)
    rows = device.gather_rows(ids)
    return rows[inverse[:, None], cols]


def write_lines(device: Device, fields: np.ndarray, data: np.ndarray) -> None:
    """Write bursts ``data`` (n, burst_length) at lines ``fields`` (n, 6)."""
    ids, inverse, cols = _line_places(device, fields)
    rows = device.gather_rows(ids)
    rows[inverse[:, None], cols] = data
    device.scatter_rows(ids, rows)


def _line_places(device: Device, fields: np.ndarray):
    """The distinct rows of lines, each line's row among them, and its columns."""
    ids = device.row_ids(*np.asarray(fields[:, :5], dtype=np.int64).T)
    distinct, inverse = np.unique(ids, return_inverse=True)
    burst = device.config.organisation.burst_length
    cols = fields[:, 5].astype(np.int64)[:, None] + np.arange(burst)
    return distinct, inverse.reshape(-1), cols


class HostOp:
    """``dst = op(sources)`` over ``n_lines`` result lines done by the host model (see the
    module docstring). The requests go to the controller ``block`` result lines at a time
    (the caller runs the engine until they are served after each step of :meth:`blocks`);
    the result data, computed on the host by ``compute`` (source bursts, shape -> result
    bursts; None: timing only), is stored when a block's requests are done. Each block's
    sources are read before its requests go out; ``buffered``: every block's before the
    first (as through a temporary buffer, for operands that overlap); ``sequential``:
    ``sequential`` lines at a time, each group seeing the results before it (program order,
    for destinations that are later sources)."""

    def __init__(
        self,
        device: Device,
        n_lines: int,
        lines: Lines,
        compute: Callable[[list[np.ndarray], tuple[int, int]], np.ndarray] | None,
        block: int,
        buffered: bool = False,
        sequential: int = 0,
        writes: int = 1,
    ):
        self.device, self.n_lines, self.lines = device, n_lines, lines
        self.compute, self.block = compute, block
        self.buffered, self.sequential = buffered, sequential
        self.writes = writes  # destination lines written per result line

    def blocks(self, engine: Engine, tick: int) -> Iterator[None]:
        """Load each block's requests on ``engine`` (idle), from ``tick`` on, and yield; the
        caller runs the engine until they are served."""
        held = self._results(0, self.n_lines) if self.buffered else None
        for first in range(0, self.n_lines, self.block):
            last = min(first + self.block, self.n_lines)
            fields, addresses = self.lines(first, last)
            results = None if self.buffered else self._results(first, last)
            cycle = self.device.clock.ticks_to_cycles(max(tick, engine.now))
            engine.load_host(
                *line_requests(fields, addresses, cycle, self.writes),
                self.device.config.host.misses_in_flight,
                compute_ticks_per_line(self.device.config, self.device.clock),
            )
            yield
            if results is not None:
                self._store(fields, results)
        if held is not None:
            self._store(self.lines(0, self.n_lines)[0], held)

    def _store(self, fields: list[np.ndarray], results: np.ndarray) -> None:
        """Write results (writes, n, burst) into the destinations' lines."""
        for out, values in zip(fields[len(fields) - self.writes :], results, strict=True):
            write_lines(self.device, out, values)

    def _results(self, first: int, last: int) -> np.ndarray | None:
        """The result bursts (writes, lines, burst) of lines [first, last), from the rows as
        they are now (``compute`` gives one destination's (lines, burst), or a list of
        ``writes`` of them)."""
        if self.compute is None:
            return None
        step = self.sequential or max(last - first, 1)
        burst = self.device.config.organisation.burst_length
        parts = []
        for a in range(first, last, step):
            b = min(a + step, last)
            fields = self.lines(a, b)[0]
            sources = [read_lines(self.device, f) for f in fields[: len(fields) - self.writes]]
            values = np.asarray(self.compute(sources, (b - a, burst))).reshape(
                self.writes, b - a, burst
            )
            if self.sequential:  # later lines see it (stored again after the requests)
                self._store(fields, values)
            parts.append(values)
        return np.concatenate(parts, axis=1) if parts else None


def compute_ticks_per_line(config: Config, clock: Clock) -> float:
    """Ticks the host takes to compute one result line at ``host.compute_gbps``."""
    return clock.ns_in_ticks(LINE_BYTES / config.host.compute_gbps)


def run_host_op(
    device: Device, mapper: AddressMapper, dst: int, sources: Sequence[int], size: int
) -> int:
    """Time ``dst = op(sources)`` over ``size`` bytes on an idle ``device`` done by the host
    (timing only: rows keep no data), ``RUN_BLOCK_LINES`` result lines at a time (the host
    drains between blocks: a pause of about one miss per 64 MiB); returns the tick the last
    request was served."""
    return run_host_lines(device, size // LINE_BYTES, op_lines(mapper, dst, sources))


def run_host_lines(device: Device, n_lines: int, lines: Lines, writes: int = 1) -> int:
    """:func:`run_host_op` over any :data:`Lines` (``writes`` of them written per step);
    returns the tick the last request was served."""
    engine = make_engine(device, with_data=False)
    work = HostOp(device, n_lines, lines, None, RUN_BLOCK_LINES, writes=writes)
    step = 1 << 20
    for _ in work.blocks(engine, 0):
        while engine.run(engine.now + step, True) != DONE:
            pass
    return engine.now
