"""The two sides of a workload step on the DRAM model: what the device did (time, energy,
commands) and the host's read-only streams through the controller.

A side's time runs from its first command to the end of its last request; its energy is
pimsim.results.energy's ``above_idle`` of the device's counters to that end (nJ), under the
chosen profile, with the whole breakdown kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim.addrmap import AddressMapper
from pimsim.baseline import LINE_BYTES, HostOp, op_lines, row_lines, run_host_lines
from pimsim.compare import SideResult, _array_bases
from pimsim.controller import DONE, END_OF_TIME, engine_of
from pimsim.device import Device
from pimsim.results.energy import energy_of

#: Result lines the host holds at a time when it reads rows after an in-DRAM job.
READ_BLOCK_LINES = 1 << 16


def side_of(device: Device, first_tick: int, end_tick: int, profile: str) -> SideResult:
    """What ``device`` did from ``first_tick`` to ``end_tick``: time (ns), energy above idle
    to ``end_tick`` (nJ, with its breakdown), commands and rows raised."""
    counters = device.snapshot(end_tick)
    commands = {k: v for k, v in counters.command_counts().items() if v}
    return SideResult(
        device.clock.ticks_to_ns(end_tick - first_tick),
        energy_of(counters, device.config, profile),
        commands,
        int(counters.rows_raised.sum()),
    )


def host_reads_rows(device: Device, rows: np.ndarray, per_row: int | None = None) -> int:
    """The host reads rows ``rows`` (n, 5) through the controller after everything issued
    so far (the host model: misses in flight; it only consumes what it reads, so no store
    follows): the first ``per_row`` lines of each (default: the whole row); returns the
    tick the last read was served."""
    org = device.config.organisation
    whole = org.columns // org.burst_length
    per_row = whole if per_row is None else per_row
    engine = engine_of(device)

    def lines(first: int, last: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        fields, addresses = row_lines(device, rows[first // per_row : -(-last // per_row)])
        if per_row < whole:
            fields = fields.reshape(-1, whole, 6)[:, :per_row].reshape(-1, 6)
            addresses = addresses.reshape(-1, whole)[:, :per_row].reshape(-1)
        return [fields], [addresses]

    def served() -> None:
        while engine.run(END_OF_TIME, True) != DONE:
            pass

    served()  # load_host needs an idle engine
    block = max(READ_BLOCK_LINES // per_row, 1) * per_row
    work = HostOp(device, len(rows) * per_row, lines, None, block, writes=0)
    for _ in work.blocks(engine, engine.now):
        served()
    return engine.now


def host_reads_arrays(device: Device, sizes: Sequence[int]) -> int:
    """On an idle ``device``, the host streams through arrays of ``sizes`` bytes (whole
    lines; one after another in memory, each starting in a bank of its own as
    pimsim.compare lays them out) a line of each at a time, and stores nothing; returns
    the tick the last read was served."""
    config = device.config
    mapper = AddressMapper.for_config(config)
    row = config.organisation.row_bytes
    stride = -(-max(sizes) // row) * row
    bases = _array_bases(mapper, len(sizes), stride + row * 16, row)
    lines = op_lines(mapper, (), bases)
    return run_host_lines(device, -(-max(sizes) // LINE_BYTES), lines, writes=0)


def fits_host(config, sizes: Sequence[int]) -> bool:
    """Whether arrays of ``sizes`` bytes laid out as :func:`host_reads_arrays` does fit."""
    mapper = AddressMapper.for_config(config)
    row = config.organisation.row_bytes
    stride = -(-max(sizes) // row) * row + row * 16
    return stride * len(sizes) <= mapper.capacity_bytes
