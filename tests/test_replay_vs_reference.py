"""The compiled replay engine (pimsim.sim.Replay) against the plain-Python reference controller.

tests/reference_controller.py steps every channel controller in *every* cycle and asks a
pimsim.device.Device for all timing; the engine skips idle cycles and talks to the core in C.
For the same trace and configuration both must agree exactly on: ``cycles``, every per-channel
counter (reads, writes, forwarded reads, row hits/misses/conflicts, refreshes, last event), the
read-latency histogram of every channel and the command counts of every channel (the engine
counts in the core's ticks, ``Device.clock.ticks_per_cycle`` per cycle: its
events must fall on cycle edges and are compared in cycles), and the stats document's
``cycles`` and latency summary.

Traces are drawn from a handful of rows, columns, banks and ranks so that row hits, conflicts,
same-line write->read forwarding, full queues, write drains, closed-row caps and refreshes (a
short nREFI) all happen in a short run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pimsim import sim
from pimsim.addrmap import AddressMapper
from pimsim.clock import Clock
from pimsim.config import load_config
from pimsim.results.stats import latency_summary
from pimsim.sim import Replay

try:
    from reference_controller import ReferenceReplay, Stalled
except ModuleNotFoundError:  # tests/ is not on sys.path (e.g. --import-mode=importlib)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reference_controller import ReferenceReplay, Stalled

COUNTERS = (
    "reads",
    "writes",
    "forwarded_reads",
    "row_hits",
    "row_misses",
    "row_conflicts",
    "refreshes",
    "last_event",
)


def ticks_per_cycle(replay: Replay) -> int:
    """Engine time units per clock cycle (the core may split a cycle into ticks)."""
    return replay.device.clock.ticks_per_cycle


class BoundedReplay(Replay):
    """Replay that gives up (instead of spinning forever) past ``max_cycles``."""

    max_cycles = 1 << 50

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        advance = self.sim.advance

        def bounded_advance():
            result = advance()
            if self.engine.now > self.max_cycles * ticks_per_cycle(self):
                raise RuntimeError(f"the engine is still running at tick {self.engine.now}")
            return result

        self.sim.advance = bounded_advance


def engine_channel(replay: Replay, ch: int) -> dict:
    """The engine's stats of channel ``ch`` in cycles; every event must be on a cycle edge."""
    stats, tick = replay.engine.channel_stats(ch), ticks_per_cycle(replay)
    hist = stats["latency_histogram"]
    assert stats["last_event"] % tick == 0 and not np.any(np.nonzero(hist)[0] % tick)
    return {**stats, "last_event": stats["last_event"] // tick, "latency_histogram": hist[::tick]}


def write_trace(path: Path, trace: list[tuple[int, bool, int]]) -> Path:
    path.write_text("".join(f"{c} {'W' if w else 'R'} {a:#x}\n" for c, w, a in trace))
    return path


def compare(tmp_path: Path, preset: str, overrides: list[str], trace, with_data=False) -> dict:
    """Run both on ``trace``; assert they agree; return the engine's stats document."""
    config = load_config(preset, overrides)
    try:
        ref = ReferenceReplay(config, trace).run()
    except Stalled as exc:
        pytest.fail(f"the reference deadlocks ({exc}); trace {trace}, overrides {overrides}")
    replay = BoundedReplay(config, write_trace(tmp_path / "t.trace", trace), with_data=with_data)
    replay.max_cycles = 2 * ref.cycles + (1 << 16)
    doc = replay.run()
    assert doc["cycles"] == ref.cycles
    commands = replay.device.snapshot(replay.engine.now).commands
    np.testing.assert_array_equal(commands, ref.command_counts)
    for ch, want in enumerate(ref.channels):
        got = engine_channel(replay, ch)
        assert {k: got[k] for k in COUNTERS} == {k: want[k] for k in COUNTERS}, f"channel {ch}"
        np.testing.assert_array_equal(
            got["latency_histogram"], want["latency_histogram"], err_msg=f"channel {ch}"
        )
    merged = np.zeros(max(len(c["latency_histogram"]) for c in ref.channels), dtype=np.int64)
    for c in ref.channels:
        merged[: len(c["latency_histogram"])] += c["latency_histogram"]
    assert doc["latency_ns"] == latency_summary(merged, Clock(config.tCK_ns))
    # every request was served exactly once
    reads = sum(1 for _, w, _ in trace if not w)
    assert doc["requests"]["reads"] == reads
    assert doc["requests"]["writes"] == len(trace) - reads
    return doc


# -- hypothesis --------------------------------------------------------------------------------

#: how many ranks, bank groups and banks (per group) the traces touch
PRESETS = {
    "ddr4-2400": dict(ranks=2, bankgroups=2, banks=2),
    "ddr3-1600": dict(ranks=1, bankgroups=1, banks=4),
}


@st.composite
def scenarios(draw, max_requests=150):
    """(preset, overrides, trace): a small configuration and a trace that stresses it."""
    preset = draw(st.sampled_from(sorted(PRESETS)))
    high = draw(st.sampled_from([0.25, 0.5, 0.75, 0.8, 1.0]))
    low = draw(st.sampled_from([w for w in (0.01, 0.1, 0.2, 0.25, 0.5, 0.75) if w < high]))
    overrides = [
        f"controller.read_queue={draw(st.integers(2, 8))}",
        f"controller.write_queue={draw(st.integers(2, 8))}",
        f"controller.scheduler={draw(st.sampled_from(['frfcfs', 'fcfs']))}",
        f"controller.row_policy={draw(st.sampled_from(['open', 'closed']))}",
        f"controller.row_cap={draw(st.integers(1, 4))}",
        f"controller.high_watermark={high}",
        f"controller.low_watermark={low}",
    ]
    if draw(st.booleans()):
        nrefi = draw(st.integers(300, 2000))
        nrfc = draw(st.integers(10, 120))
        overrides += ["controller.refresh=true", f"timing.nREFI={nrefi}", f"timing.nRFC={nrfc}"]
    else:
        overrides.append("controller.refresh=false")
    if draw(st.booleans()):
        # a row that may close (nRAS) before it can be read (nRCD): more PREs held back
        overrides += [f"timing.nRAS={draw(st.integers(4, 24))}"]
        overrides += [f"timing.nRCD={draw(st.integers(8, 48))}"]
    channels = draw(st.sampled_from([1, 1, 2]))
    overrides.append(f"organisation.channels={channels}")
    org = load_config(preset, overrides).organisation
    mapper = AddressMapper(org)
    shape = PRESETS[preset]
    # lines from few rows per bank (hits and conflicts), few columns (same-line forwarding),
    # a few banks in one or two bank groups and ranks; each trace uses a pool of 1..40 of them
    line = st.builds(
        mapper.encode,
        st.integers(0, channels - 1),
        st.integers(0, shape["ranks"] - 1),
        st.integers(0, shape["bankgroups"] - 1),
        st.integers(0, shape["banks"] - 1),
        st.integers(0, 2),
        st.sampled_from([0, org.burst_length, 5 * org.burst_length]),
    )
    pool = draw(st.lists(line, min_size=1, max_size=draw(st.sampled_from([4, 12, 40]))))
    address = st.tuples(st.sampled_from(pool), st.sampled_from([0, 8, 63])).map(sum)
    requests = draw(
        st.lists(
            st.tuples(st.sampled_from([0, 0, 0, 1, 2, 5, 20, 60, 200]), st.booleans(), address),
            min_size=10,
            max_size=max_requests,
        )
    )
    trace, cycle = [], draw(st.integers(0, 20))
    for gap, is_write, addr in requests:
        cycle += gap
        trace.append((cycle, is_write, addr))
    return preset, overrides, trace


COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(max_examples=60, **COMMON)
@given(scenarios(), st.booleans())
def test_engine_matches_reference(tmp_path, scenario, with_data):
    preset, overrides, trace = scenario
    compare(tmp_path, preset, overrides, trace, with_data=with_data)


@pytest.mark.slow
@settings(max_examples=1000, **COMMON)
@given(scenarios(), st.booleans())
def test_engine_matches_reference_many(tmp_path, scenario, with_data):
    preset, overrides, trace = scenario
    compare(tmp_path, preset, overrides, trace, with_data=with_data)


# -- examples ------------------------------------------------------------------------------------

ROW = 1 << 18  # ddr4-2400, RoBaRaCoCh: row bits start at 18 (8 KiB rows x 16 banks x 2 ranks)


def test_row_hits_conflicts_and_forwarding(tmp_path):
    trace = [
        (0, False, 0x0),  # miss
        (0, False, 0x40),  # hit on the same row
        (1, False, ROW),  # conflict (same bank, other row)
        (1, True, 0x80),  # write ...
        (2, False, 0x80 + 8),  # ... and a read of the same line: forwarded
        (3, False, 0x80),
    ]
    doc = compare(tmp_path, "ddr4-2400", ["controller.refresh=false"], trace)
    assert doc["requests"]["forwarded_reads"] >= 1
    assert doc["row_buffer"]["conflicts"] >= 1 and doc["row_buffer"]["hits"] >= 1


def test_full_queues_and_write_drain(tmp_path):
    trace = [(0, i % 3 == 0, (i % 5) * ROW + (i % 4) * 0x40) for i in range(60)]
    overrides = [
        "controller.read_queue=2",
        "controller.write_queue=2",
        "controller.high_watermark=0.5",
        "controller.low_watermark=0.25",
        "controller.refresh=false",
    ]
    compare(tmp_path, "ddr4-2400", overrides, trace)


def test_refresh_closed_rows_and_two_channels(tmp_path):
    # a short nREFI: several refreshes (PREA + REF per rank) land among the requests
    trace = [
        (7 * i, i % 4 == 1, (i % 3) * ROW + (i % 7) * 0x40 + 0x2000 * (i % 2)) for i in range(80)
    ]
    overrides = [
        "controller.row_policy=closed",
        "controller.row_cap=2",
        "controller.refresh=true",
        "timing.nREFI=300",
        "timing.nRFC=40",
        "organisation.channels=2",
    ]
    doc = compare(tmp_path, "ddr4-2400", overrides, trace)
    assert doc["commands"]["REF"] > 0 and doc["commands"]["RDA"] + doc["commands"]["WRA"] > 0


def test_idle_stretches_longer_than_the_quantum(tmp_path):
    # the engine skips idle cycles and runs in quanta of pimsim.sim.QUANTUM cycles; the
    # reference walks every one of them (refreshes keep coming while nothing else happens)
    quantum = sim.QUANTUM
    trace = [(0, True, 0x40), (1, False, 0x40), (5, False, ROW), (quantum + 3, False, 0x80)]
    trace += [(quantum + 3, True, ROW + 0x40), (2 * quantum + 100, False, 2 * ROW)]
    doc = compare(tmp_path, "ddr4-2400", ["timing.nREFI=5000"], trace)
    assert doc["cycles"] > 2 * quantum and doc["commands"]["REF"] > 2 * quantum // 5000 - 2


# -- once engine bugs, found by the reference: each now runs to the end and agrees ------------


def bounded(tmp_path, overrides, trace, max_cycles=1 << 17):
    config = load_config("ddr4-2400", overrides)
    replay = BoundedReplay(config, write_trace(tmp_path / "t.trace", trace), with_data=False)
    replay.max_cycles = max_cycles
    return replay.run()


def test_fcfs_closed_row_never_deadlocks(tmp_path):
    # P opens bank 1 (row 1); E (row 0 of bank 1) waits, its PRE held back until P's RDA.
    # Two writes force write mode and A opens row 5 of bank 0 (cycle 30). E opens its row at
    # 74 and, older than A, heads the active buffer until its RD is ready (nRCD = 48), so FCFS
    # serves nothing from the active buffer meanwhile. C, heading the read queue, reads A's row
    # at 78 and closes it with an RDA (row_cap 1), although A, active, still needs it. D (row 6
    # of bank 0, younger than A) then opens bank 0 at 103 and joins the active buffer. After
    # E's RD (122) A is the oldest active request; it needs a PRE, held back because D needs
    # the bank, and FCFS never looks past A: nothing issues again and Replay.run() never ends.
    mapper = AddressMapper(load_config("ddr4-2400").organisation)

    def at(bankgroup, bank, row, column=0):
        return mapper.encode(0, 0, bankgroup, bank, row, column)

    trace = [
        (0, False, at(0, 1, 1)),  # P
        (1, False, at(0, 1, 0)),  # E
        (2, False, at(0, 0, 5, 8)),  # C
        (28, True, at(0, 0, 5)),  # A
        (29, True, at(1, 0, 0)),  # the second write: above the high watermark
        (31, False, at(0, 0, 6)),  # D
    ]
    overrides = [
        "controller.scheduler=fcfs",
        "controller.row_policy=closed",
        "controller.row_cap=1",
        "controller.write_queue=2",
        "controller.high_watermark=0.5",
        "controller.low_watermark=0.25",
        "controller.refresh=false",
        "timing.nRCD=48",
    ]
    # fixed: a column command never auto-precharges a row an active request still needs
    doc = compare(tmp_path, "ddr4-2400", overrides, trace)
    assert doc["requests"]["reads"] + doc["requests"]["writes"] == len(trace)


def test_low_watermark_zero_serves_reads(tmp_path):
    # write mode, entered at once (no read waits at cycle 0), is also left when the write
    # queue is empty: with low_watermark = 0 the read is still served
    doc = compare(tmp_path, "ddr4-2400", ["controller.low_watermark=0"], [(0, False, 0x0)])
    assert doc["requests"]["reads"] == 1
