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

from collections.abc import Sequence

import numpy as np

from pimsim._replay import Engine
from pimsim.addrmap import AddressMapper
from pimsim.clock import Clock
from pimsim.config import Config
from pimsim.controller import DONE, make_engine
from pimsim.device import Device

#: Bytes in one cache line (one burst of a 64-bit channel).
LINE_BYTES = 64


def host_program(
    mapper: AddressMapper, dst: int, sources: Sequence[int], size: int, cycle: int
) -> tuple[np.ndarray, ...]:
    """The requests of ``dst = op(sources)`` over ``size`` bytes, in program order, for the
    engine's load_host: (cycles, is_write, address fields, addresses, deps). Per result line:
    one read per source, then the write, which depends on those reads."""
    lines = size // LINE_BYTES
    per_line = len(sources) + 1
    addresses = np.empty(lines * per_line, dtype=np.uint64)
    offsets = LINE_BYTES * np.arange(lines, dtype=np.uint64)
    for k, base in enumerate((*sources, dst)):
        addresses[k::per_line] = np.uint64(base) + offsets
    is_write = np.zeros(len(addresses), dtype=np.uint8)
    is_write[len(sources) :: per_line] = 1
    deps = np.zeros(len(addresses), dtype=np.int32)
    deps[len(sources) :: per_line] = len(sources)
    cycles = np.full(len(addresses), cycle, dtype=np.int64)
    return cycles, is_write, mapper.decode_array(addresses), addresses, deps


def compute_ticks_per_line(config: Config, clock: Clock) -> float:
    """Ticks the host takes to compute one result line at ``host.compute_gbps``."""
    return clock.ns_in_ticks(LINE_BYTES / config.host.compute_gbps)


def load_host_op(
    engine: Engine,
    device: Device,
    mapper: AddressMapper,
    dst: int,
    sources: Sequence[int],
    size: int,
    tick: int,
) -> None:
    """Queue the host's requests of ``dst = op(sources)`` on ``engine`` (idle), starting at
    ``tick``; the caller runs the engine until DONE."""
    cycle = device.clock.ticks_to_cycles(tick)
    engine.load_host(
        *host_program(mapper, dst, sources, size, cycle),
        device.config.host.misses_in_flight,
        compute_ticks_per_line(device.config, device.clock),
    )


def run_host_op(
    device: Device, mapper: AddressMapper, dst: int, sources: Sequence[int], size: int
) -> int:
    """Time ``dst = op(sources)`` over ``size`` bytes on an idle ``device`` done by the host
    (timing only: rows keep no data); returns the tick the last request was served."""
    engine = make_engine(device, with_data=False)
    load_host_op(engine, device, mapper, dst, sources, size, 0)
    step = 1 << 20
    while engine.run(engine.now + step, True) != DONE:
        pass
    return engine.now
