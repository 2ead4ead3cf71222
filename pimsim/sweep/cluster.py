"""Running a sweep's points on Dask: a local cluster of worker processes, or an existing one.

Each point is one task (:func:`pimsim.sweep.point.run_point`) keyed by the point's hash. The
client stores each result in the table as it arrives, so nothing finished is ever lost. Lost
workers are Dask's job: the scheduler gives a dead worker's tasks to the others, and a task
that has killed ``distributed.scheduler.allowed-failures`` + 1 workers (3 + 1 by default) is
stored as a failed point. A scheduler that goes away cancels the tasks not yet finished:
they are counted as lost, not stored, so ``--resume`` runs them. Ctrl-C stops the sweep; the
stored rows stay.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pimsim.errors import ClusterError
from pimsim.sweep.point import run_point, version
from pimsim.sweep.spec import Point
from pimsim.sweep.store import Store

#: Dask settings of the local cluster's workers. Dask's nannies set MALLOC_TRIM_THRESHOLD_,
#: which makes glibc map and unmap every large numpy array afresh: the points then run about
#: 1.5x slower (fresh pages faulted in at every allocation). Unset, glibc keeps its own tuning.
LOCAL_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
#: Seconds to wait for a ``--scheduler`` to answer.
CONNECT_TIMEOUT_S = 10


@dataclass
class Tally:
    """What a sweep did: points run, of them ok and failed, points lost with the cluster
    (not run, not stored), wall time (s), workers used."""

    ran: int = 0
    ok: int = 0
    failed: int = 0
    lost: int = 0
    seconds: float = 0.0
    workers: int = 0
    interrupted: bool = False


@contextmanager
def dask_client(scheduler: str | None, workers: int):
    """A connected ``distributed.Client``: to ``scheduler`` (``tcp://HOST:PORT``), or to a
    new local cluster of ``workers`` single-threaded processes, closed when the block ends.
    The local workers ignore Ctrl-C (the client handles it and shuts them down)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as error:
            reason = " ".join(str(error).split())[:200]
            raise ClusterError(f"--scheduler {scheduler}: cannot connect: {reason}") from None
        # a scheduler that goes away is reported as lost points, not reconnect tracebacks
        with _quiet_logs("distributed.client"), client:
            yield client
        return
    try:  # the workers inherit the ignored Ctrl-C
        with _sigint_ignored(), dask.config.set(LOCAL_WORKER_CONFIG):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
    except (OSError, RuntimeError) as error:
        raise ClusterError(f"cannot start a local cluster: {error}") from None
    try:
        with Client(cluster) as client:
            yield client
    finally:
        _quietly_close(cluster)


@contextmanager
def _quiet_logs(name: str):
    """Keep logger ``name``'s records below CRITICAL off stderr while the block runs."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _sigint_ignored():
    """Ctrl-C ignored while the block runs (and by processes it starts)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _quietly_close(cluster) -> None:
    """Close a local cluster without its shutdown chatter (or a second Ctrl-C) reaching
    the user."""
    with _sigint_ignored(), _quiet_logs("distributed"):
        cluster.close(timeout=30)


def run_sweep(
    client,
    words: tuple[str, ...],
    points: Sequence[Point],
    store: Store,
    advance: Callable[[dict[str, Any]], None] = lambda result: None,
) -> Tally:
    """Run ``points`` on ``client``'s cluster, storing each result as it finishes;
    ``advance`` is called after each. Ctrl-C ends it with ``interrupted`` set."""
    from distributed import as_completed

    tally = Tally(workers=len(client.scheduler_info().get("workers", {})))
    start = time.perf_counter()
    by_key = {f"pimsim-point-{point.key}": point for point in points}
    futures = client.map(
        run_point,
        [words] * len(points),
        [point.argv for point in points],
        key=list(by_key),
        pure=False,
    )
    try:
        for future in as_completed(futures):
            if future.cancelled():  # the scheduler went away before running it
                tally.lost += 1
                continue
            result = _result(future)
            store.add(by_key[future.key], words, result)
            future.release()
            tally.ran += 1
            tally.ok += result["status"] == "ok"
            tally.failed += result["status"] != "ok"
            advance(result)
    except KeyboardInterrupt:
        tally.interrupted = True
        client.cancel([f for f in futures if not f.done()], force=True)
    tally.seconds = time.perf_counter() - start
    return tally


def _result(future) -> dict[str, Any]:
    """A finished task's result, or the failed point of a task Dask could not run (a worker
    that died with it too often, a result that could not travel back)."""
    if future.status == "finished":
        return future.result()
    error = future.exception()
    first = " ".join(str(error).split())[:500]
    return {
        "status": "failed",
        "error": f"{type(error).__name__}: {first}",
        "exit_code": None,
        "stats": None,
        "warnings": None,
        "seconds": None,
        "worker": None,
        "version": version(),
    }


def default_workers() -> int:
    """Worker processes of a local cluster when --workers is not given: the usable cores."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
