"""The engine's scheduling of in-DRAM jobs: job_pick (streams' ticks read through kept
pointers, what they wait for worked out again only when it may have changed, the answer kept
while nothing moves) gives the same command ticks as working every stream out afresh at
every step (``exhaustive_jobs``), with host requests, refreshes and several jobs in flight."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.ambit.bulk import BulkEngine
from pimsim.config import load_config
from pimsim.controller import (
    DONE,
    END_OF_TIME,
    JOB_DONE,
    MAX_TICK,
    NEED_INPUT,
    engine_of,
    make_engine,
)
from pimsim.device import Device
from pimsim.standards import CMD


def random_job(rng, org, channels, ranks, rows):
    """Phases of streams, one per bank, of ACT (1 or 3 rows raised), AACT?, PRE rounds."""
    table, stream_end, phase_end = [], [], []
    for _ in range(int(rng.integers(1, 4))):
        banks = {
            (
                int(rng.integers(channels)),
                int(rng.integers(ranks)),
                int(rng.integers(org.bankgroups)),
                int(rng.integers(org.banks_per_group)),
            )
            for _ in range(int(rng.integers(0, 7)))
        }
        for bank in sorted(banks, key=lambda _: rng.random()):
            for _ in range(int(rng.integers(1, rows))):
                raised = int(rng.choice([1, 1, 3]))
                table.append((CMD["ACT"], *bank, int(rng.integers(256)), 0, raised))
                if rng.random() < 0.6:
                    table.append((CMD["AACT"], *bank, int(rng.integers(256)), 0, 1))
                table.append((CMD["PRE"], *bank, 0, 0, 1))
            stream_end.append(len(table))
        phase_end.append(len(stream_end))
    return (
        np.array(table, dtype=np.int32).reshape(-1, 8),
        np.array(stream_end, dtype=np.int32),
        np.array(phase_end, dtype=np.int32),
    )


def run_case(seed: int, exhaustive: bool):
    """Host requests and 1-4 jobs loaded at random ticks: every command issued (core log),
    each job's log, the channels' counters and the end tick."""
    rng = np.random.default_rng(seed)
    channels, ranks = int(rng.choice([1, 2])), int(rng.choice([1, 2]))
    overrides = [f"organisation.channels={channels}", f"organisation.ranks={ranks}"]
    if rng.random() < 0.3:
        overrides.append("controller.refresh=false")
    config = load_config("ddr4-2400", overrides)
    org = config.organisation
    device = Device(config)
    device.core.start_recording()
    engine = make_engine(device, with_data=False)
    engine.exhaustive_jobs = exhaustive
    tick = device.clock.ticks_per_cycle
    span = int(rng.choice([3000, 30000]))  # the long one spans refreshes
    n = int(rng.integers(0, 300))
    fields = np.stack(
        [
            rng.integers(channels, size=n),
            rng.integers(ranks, size=n),
            rng.integers(org.bankgroups, size=n),
            rng.integers(org.banks_per_group, size=n),
            rng.integers(8, size=n),
            rng.integers(org.columns // org.burst_length, size=n) * org.burst_length,
        ],
        axis=1,
    ).astype(np.int32)
    engine.load(
        np.sort(rng.integers(0, span, n)).astype(np.int64),
        (rng.random(n) < 0.3).astype(np.uint8),
        np.ascontiguousarray(fields.reshape(n, 6)),
        np.zeros(n, dtype=np.uint64),
    )
    by_rows = bool(rng.random() < 0.5)
    loads = sorted(rng.integers(0, span * tick, int(rng.integers(1, 5))).tolist())
    jobs, final = [], False
    for when in [*loads, END_OF_TIME]:
        while engine.now < when:
            result = engine.run(when, final)
            if result == NEED_INPUT:
                final = True
            elif result == JOB_DONE:
                order, ticks, first, last_pre, closes = engine.job_log()
                jobs.append((engine.finished_job, order.tolist(), ticks.tolist(), last_pre, closes))
            elif result == DONE:
                break
        if when < END_OF_TIME:
            job = random_job(rng, org, channels, ranks, 5 if span < 9000 else 40)
            not_before = when + int(rng.integers(0, 50)) * tick
            engine.load_job(*job, not_before, device.timing_ticks["nRP"], by_rows)
    stats = [
        sorted((k, str(v)) for k, v in engine.channel_stats(ch).items()) for ch in range(channels)
    ]
    return device.core.take_log().tolist(), jobs, stats, engine.now


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_kept_bounds_issue_at_the_ticks_of_computing_every_stream(seed):
    fast = run_case(seed, exhaustive=False)
    assert fast == run_case(seed, exhaustive=True)
    assert fast[1], "every case runs at least one job"


@pytest.mark.parametrize("faw_rows", [False, True])
def test_bulk_and_issues_every_command_at_the_ticks_of_computing_every_stream(faw_rows):
    ticks = []
    for exhaustive in (False, True):
        config = load_config("ddr4-2400", [f"pim.faw_counts_raised_rows={str(faw_rows).lower()}"])
        device = Device(config)
        device.core.start_recording()
        engine_of(device, with_data=False).exhaustive_jobs = exhaustive
        bulk = BulkEngine(device, with_data=False)
        vectors = [bulk.alloc(1 << 20) for _ in range(3)]
        report = bulk.bbop("and", *vectors)
        ticks.append((report.time_ns, device.core.take_log().tolist()))
    assert ticks[0] == ticks[1]
    assert len(ticks[0][1]) == 128 * 4 * 3  # rows of 1 MiB x 4 AAPs x (ACT, AACT, PRE)


def test_a_job_naming_no_bank_of_the_system_is_refused():
    device = Device(load_config("ddr4-2400"))
    engine = make_engine(device, with_data=False)
    table = np.array([[CMD["ACT"], 0, 0, 9, 0, 0, 0, 1]], dtype=np.int32)
    with pytest.raises(ValueError, match="job command 0 names no command or bank"):
        engine.load_job(table, np.array([1], np.int32), np.array([1], np.int32), 0, 1, False)


def test_a_job_starting_past_the_last_tick_is_refused():
    device = Device(load_config("ddr4-2400"))
    engine = make_engine(device, with_data=False)
    table = np.array([[CMD["ACT"], 0, 0, 0, 0, 0, 0, 1]], dtype=np.int32)
    with pytest.raises(ValueError, match="a job starts at tick .* at the latest"):
        engine.load_job(
            table, np.array([1], np.int32), np.array([1], np.int32), MAX_TICK + 1, 1, False
        )


def test_a_refused_job_leaves_no_bank_taken():
    """A job whose first command names bank 0 and whose second names no bank is refused; a
    job on bank 1 then runs, and a read of bank 0 is served while it does (jobs and requests
    on disjoint banks overlap: nothing waits for the refused job)."""
    device = Device(load_config("ddr4-2400"))
    engine = make_engine(device, with_data=False)
    bad = np.array(
        [[CMD["ACT"], 0, 0, 0, 0, 5, 0, 1], [CMD["PRE"], 0, 0, 9, 0, 0, 0, 1]], dtype=np.int32
    )
    with pytest.raises(ValueError, match="job command 1 names no command or bank"):
        engine.load_job(bad, np.array([2], np.int32), np.array([1], np.int32), 0, 1, False)
    pairs = [[CMD["ACT"], 0, 0, 0, 1, 5, 0, 1], [CMD["PRE"], 0, 0, 0, 1, 0, 0, 1]] * 20
    nrp = device.timing_ticks["nRP"]
    engine.load_job(
        np.array(pairs, np.int32), np.array([40], np.int32), np.array([1], np.int32), 0, nrp, False
    )
    engine.load(
        np.zeros(1, np.int64),
        np.zeros(1, np.uint8),
        np.zeros((1, 6), np.int32),
        np.zeros(1, np.uint64),
    )
    while engine.run(END_OF_TIME, True) != JOB_DONE:
        pass
    assert engine.channel_stats(0)["reads"] == 1


def test_an_illegal_job_command_stops_the_run_with_the_cores_status():
    device = Device(load_config("ddr4-2400"))
    engine = make_engine(device, with_data=False)
    table = np.array([[CMD["AACT"], 0, 0, 0, 0, 5, 0, 1]], dtype=np.int32)  # bank closed
    engine.load_job(table, np.array([1], np.int32), np.array([1], np.int32), 0, 1, False)
    with pytest.raises(RuntimeError, match="illegal command"):
        engine.run(END_OF_TIME, True)
