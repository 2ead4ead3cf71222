"""The memory controller of one DRAM system: the compiled replay engine set up from a config.

One place builds the engine (queues, scheduler, row policy, refresh, ticks) so SimPy agents
(pimsim.agents, trace replay in pimsim.sim) and the CPU baseline (pimsim.baseline) drive the
same controller.
"""

from __future__ import annotations

from pimsim import _replay
from pimsim.device import Device

#: run() results of the engine.
NEED_INPUT = _replay.RUN_RESULTS["need_input"]
DONE = _replay.RUN_RESULTS["done"]
JOB_DONE = _replay.RUN_RESULTS["job_done"]
REACHED = _replay.RUN_RESULTS["reached"]
COMPLETED = _replay.RUN_RESULTS["completed"]

#: In-DRAM jobs the engine runs at once (on disjoint banks they overlap).
JOBS_AT_ONCE = _replay.JOBS_AT_ONCE

#: The latest tick a request may enter the controller at, and a tick beyond every event.
MAX_TICK = _replay.MAX_TICK
END_OF_TIME = _replay.END_OF_TIME

#: Inclusive upper edges (ticks) of the read-latency histogram's log-spaced buckets, which
#: count latencies of at least _replay.LATENCY_EXACT_TICKS (shorter ones are counted exactly).
LATENCY_TAIL_HIGH = _replay.latency_buckets()[1]


def engine_of(device: Device, with_data: bool = True) -> _replay.Engine:
    """The controller of ``device``: made on first use, then shared by everything that
    drives the device (trace replay, bulk operations), so they share its queues and time.
    ``with_data`` counts when it is made (see make_engine)."""
    if device.controller is None:
        device.controller = make_engine(device, with_data)
    return device.controller


def make_engine(device: Device, with_data: bool = True) -> _replay.Engine:
    """A controller per channel of ``device`` under its config's ``controller`` section;
    ``with_data`` makes writes store their bursts in the rows."""
    ctl, ticks = device.config.controller, device.timing_ticks
    return _replay.Engine(
        device.core,
        ctl.read_queue,
        ctl.write_queue,
        ctl.high_watermark,
        ctl.low_watermark,
        ticks["nREFI"] if ctl.refresh else 0,
        ticks["nCL"] + ticks["nBL"],
        ctl.scheduler,
        ctl.row_policy,
        ctl.row_cap,
        with_data,
        device.clock.ticks_per_cycle,
    )
