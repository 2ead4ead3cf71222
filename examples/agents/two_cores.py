#!/usr/bin/env python3
"""Two cores sharing one DRAM channel, written as pimsim agents (SimPy processes).

- The pointer chaser walks a linked list: each load's address comes from the data of the one
  before, so it has one miss in flight at a time (a trace cannot express this dependence).
- The streamer reads an array in order and keeps a window of misses in flight, as a core's
  line fill buffers allow.

Both run on ddr4-2400 at the same time; the script prints what each saw.

    python examples/agents/two_cores.py [--no-data]
"""

from __future__ import annotations

import sys
from collections import deque

import numpy as np

from pimsim.agents import System
from pimsim.config import load_config

LINE = 64  # bytes per read (one burst)


def pointer_chaser(sim: System, nodes: np.ndarray, hops: int, log: list):
    """Follow ``hops`` links of a list whose nodes lie at ``nodes`` (byte addresses)."""
    here = 0
    for _ in range(hops):
        start = sim.now
        yield sim.read(int(nodes[here]))  # resumes when the data is back
        log.append(sim.now - start)
        here = (here * 7 + 3) % len(nodes)  # the "next" pointer read from the node


def streamer(sim: System, base: int, lines: int, window: int, log: list):
    """Read ``lines`` consecutive lines from ``base`` with at most ``window`` in flight."""
    in_flight: deque = deque()
    for i in range(lines):
        if len(in_flight) == window:
            yield in_flight.popleft()
            log.append(sim.now)
        in_flight.append(sim.read(base + i * LINE))
    while in_flight:
        yield in_flight.popleft()
        log.append(sim.now)


def main(with_data: bool = True) -> dict:
    """Run both cores; print and return what each saw and the stats document."""
    sim = System(load_config("ddr4-2400"), with_data=with_data)
    rng = np.random.default_rng(1)
    row = sim.config.organisation.row_bytes
    # list nodes scattered over rows of the first 256 MiB, the array above them
    nodes = rng.integers(0, (256 << 20) // row, 4096) * row
    chase_log: list = []
    stream_log: list = []
    sim.process(pointer_chaser(sim, nodes, 2_000, chase_log))
    sim.process(streamer(sim, 512 << 20, 20_000, 10, stream_log))
    doc = sim.run()
    summary = {
        "chaser": {
            "reads": len(chase_log),
            "mean_latency_cycles": float(np.mean(chase_log)),
            "reads_per_kcycle": 1000 * len(chase_log) / sim.now,
        },
        "streamer": {
            "reads": len(stream_log),
            "reads_per_kcycle": 1000 * len(stream_log) / stream_log[-1],
        },
        "doc": doc,
    }
    c, s = summary["chaser"], summary["streamer"]
    print(
        f"pointer chaser: {c['reads']:,} dependent reads, {c['mean_latency_cycles']:.1f} "
        f"cycles each, {c['reads_per_kcycle']:.1f} reads per 1000 cycles"
    )
    print(f"streamer: {s['reads']:,} reads, {s['reads_per_kcycle']:.1f} reads per 1000 cycles")
    print(
        f"memory: {doc['cycles']:,} cycles, {doc['bandwidth_gbps']:.2f} GB/s, "
        f"row hits {doc['row_buffer']['hits']:,}, energy {doc['energy_nj']['total']:,.0f} nJ"
    )
    return summary


if __name__ == "__main__":
    main(with_data="--no-data" not in sys.argv[1:])
