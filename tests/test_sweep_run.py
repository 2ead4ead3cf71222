"""``pimsim sweep`` on real Dask clusters (two worker processes): every point stored exactly
once, a killed worker loses nothing, Ctrl-C keeps what finished and --resume runs only the
rest, a failing point is a row with its error, and each row equals the point run alone."""

import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from pimsim.cli.main import cli
from pimsim.sweep.spec import load_sweep
from pimsim.sweep.store import STORE_FILE, Store, flatten

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "traces" / "sample.trace"
PIMSIM = [sys.executable, "-m", "pimsim"]

# twelve compare points of about half a second each on this machine
SLOW_GRID = (
    "command: compare\nfixed: {ops: add32, size: 4MiB}\n"
    "grid:\n  banks: [1, 2, 4]\n  timing.nFAW: [20, 28, 36, 44]\n"
)


@pytest.fixture(scope="module")
def scheduler():
    """The address of a two-process local Dask cluster shared by this module's tests."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    yield cluster.scheduler_address, client
    client.close()
    cluster.close()


def write(tmp_path, text: str, name: str = "grid.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def table(out: Path) -> list[dict]:
    store = Store(out)
    rows = store.rows()
    store.close()
    return rows


def sweep(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PIMSIM, "sweep", *map(str, args)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, **kwargs,
    )  # fmt: skip


def wait_for_rows(out: Path, count: int, process: subprocess.Popen) -> int:
    """Wait until the table holds at least ``count`` rows (the sweep still running)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            rows = sqlite3.connect(out / STORE_FILE).execute("SELECT count(*) FROM points")
            found = rows.fetchone()[0]
        except sqlite3.Error:
            found = 0
        if found >= count:
            return found
        time.sleep(0.1)
    raise AssertionError("the sweep stored too few rows in time")


def test_a_local_cluster_runs_every_point_exactly_once(tmp_path):
    spec = write(tmp_path, "command: compare\nfixed: {ops: and, size: 64KiB}\n"
                 "grid:\n  banks: [1, 2, 4]\n  timing.nFAW: [20, 40]\n")  # fmt: skip
    out = tmp_path / "out"
    done = sweep(spec, "--out", out, "--workers", 2)
    assert done.returncode == 0, done.stderr
    assert "6 points: 6 run (6 ok, 0 failed)" in done.stdout and "on 2 workers" in done.stdout
    rows = table(out)
    assert sorted(r["point"] for r in rows) == sorted(p.key for p in load_sweep(spec).points)
    assert {r["status"] for r in rows} == {"ok"}
    assert (out / "spec.yaml").read_text() == Path(spec).read_text()
    again = sweep(spec, "--out", out)
    assert again.returncode == 2 and "--resume" in again.stderr
    assert again.stderr.count("\n") == 1
    plotted = sweep(spec, "--out", out, "--resume", "--plot", "x=banks", "y=ops.and.speedup",
                    "--plot", "hue=timing.nFAW")  # fmt: skip
    assert plotted.returncode == 0, plotted.stderr
    assert "nothing to run; 6 already stored" in plotted.stdout
    assert f"plot: {out / 'plot.png'}" in plotted.stdout
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_row_equals_the_point_run_alone_with_the_cli(tmp_path, scheduler):
    grids = {
        "compare": "command: compare\nfixed: {ops: 'xor,add8', size: 32KiB}\n"
        "grid:\n  - banks: [1, 4]\n  - config: [ddr3-1600, ddr4-2400]\n    timing.nRCD: [11, 17]\n",
        "run": f"command: run\nfixed: {{trace: {SAMPLE}, limit: 1500}}\n"
        "grid:\n  controller.scheduler: [fcfs, frfcfs]\n  controller.read_queue: [4, 32]\n",
        "workload": "command: workload sets\nfixed: {universe: 64K, elements: 2K}\n"
        "grid:\n  banks: [2, 8]\n",
        "exec": "command: exec\nfixed: {program: add, elements: 4096}\n"
        "grid:\n  width: [4, 8]\n  seed: [1, 2]\n",
        "program": "command: program\nfixed: {program: xor, size: 16KiB}\n"
        "grid:\n  config: [ddr3-1600, ddr4-2400]\n",
    }
    for name, text in grids.items():
        spec = write(tmp_path, text, f"{name}.yaml")
        out = tmp_path / name
        done = sweep(spec, "--out", out, "--scheduler", scheduler[0])
        assert done.returncode == 0, done.stderr
        rows = {r["point"]: r for r in table(out)}
        points = load_sweep(spec).points
        assert len(rows) == len(points)
        for point in points:
            alone = tmp_path / f"{point.key}.json"
            words = load_sweep(spec).command
            result = CliRunner().invoke(cli, [*words, *point.argv, "--json", str(alone)])
            assert result.exit_code == 0, result.output
            doc = json.loads(alone.read_text())
            row = rows[point.key]
            assert json.loads(row["stats_json"]) == doc
            for path, value in flatten(doc):
                stored = row[path]
                assert stored == (int(value) if isinstance(value, bool) else value), path
            for key, value in point.params.items():
                assert row[f"param.{key}"] == value


def test_killing_a_worker_mid_sweep_loses_no_point(tmp_path, scheduler):
    address, client = scheduler
    spec = write(tmp_path, SLOW_GRID)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*PIMSIM, "sweep", spec, "--out", str(out), "--scheduler", address],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    stored = wait_for_rows(out, 2, process)
    busy = {w: tasks for w, tasks in client.processing().items() if tasks}
    assert busy, "no worker was running a point"
    victim = next(iter(busy))
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    rows = table(out)
    assert stored < 12
    assert sorted(r["point"] for r in rows) == sorted(p.key for p in load_sweep(spec).points)
    assert all(r["status"] == "ok" for r in rows)
    workers = {r["worker"] for r in rows}
    assert any(w.endswith(f":{pid}") for w in workers) or len(workers) >= 2


@pytest.mark.slow
def test_an_interrupted_sweep_keeps_its_points_and_resume_runs_only_the_rest(tmp_path):
    spec = write(tmp_path, SLOW_GRID)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*PIMSIM, "sweep", spec, "--out", str(out), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,  # Ctrl-C reaches the whole process group, as from a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    wait_for_rows(out, 3, process)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stdout and "Traceback" not in stderr
    kept = {r["point"]: r for r in table(out)}
    assert 3 <= len(kept) < 12 and all(r["status"] == "ok" for r in kept.values())
    resumed = sweep(spec, "--out", out, "--resume", "--workers", 2)
    assert resumed.returncode == 0, resumed.stderr
    missing = 12 - len(kept)
    assert f"12 points: {missing} run ({missing} ok, 0 failed)" in resumed.stdout
    assert f"{len(kept)} already stored" in resumed.stdout
    rows = {r["point"]: r for r in table(out)}
    assert sorted(rows) == sorted(p.key for p in load_sweep(spec).points)
    for key, row in kept.items():  # the kept rows are untouched
        assert rows[key] == row


def test_a_failing_point_is_stored_with_its_error_and_the_sweep_goes_on(tmp_path, scheduler):
    bad = tmp_path / "bad.trace"
    bad.write_text(SAMPLE.read_text().splitlines()[0] + "\nthis is no request\n")
    spec = write(tmp_path, f"command: run\ngrid:\n  trace: [{SAMPLE}, {bad}]\n  limit: [10, 20]\n")
    out = tmp_path / "out"
    done = sweep(spec, "--out", out, "--scheduler", scheduler[0])
    assert done.returncode == 1
    assert "2 of 4 points failed" in done.stderr and done.stderr.count("\n") == 1
    rows = table(out)
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 4 and len(failed) == 2
    for row in failed:
        assert f"{bad}:2" in row["error"] and row["exit_code"] == 2
    retried = sweep(spec, "--out", out, "--resume", "--retry-failed", "--scheduler", scheduler[0])
    assert "4 points: 2 run (0 ok, 2 failed)" in retried.stdout
    assert len(table(out)) == 4


def test_dry_run_lists_the_points_and_runs_nothing(tmp_path):
    spec = write(tmp_path, "command: compare\nfixed: {ops: and}\ngrid:\n  banks: [1, 2]\n")
    result = CliRunner().invoke(cli, ["sweep", spec, "--dry-run", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2 points, 0 already stored, 2 to run:",
        "pimsim compare --ops and --banks 1",
        "pimsim compare --ops and --banks 2",
    ]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers starts a local"),
        (["--retry-failed"], "add --resume"),
        (["--plot", "x=banks"], "--plot"),
        (["--plot", "x=banks y=cycles", "--plot-file", "p.nope"], "--plot-file"),
        (["--workers", "0"], "--workers"),
        (["other.yaml"], "unexpected argument 'other.yaml'"),
        (["--plot", "x=banks", "z=cycles"], "unexpected argument 'z=cycles'"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path, args, says):
    spec = write(tmp_path, "command: compare\nfixed: {ops: and}\ngrid:\n  banks: [1, 2]\n")
    result = CliRunner().invoke(cli, ["sweep", spec, "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert says in result.output and result.output.count("\n") == 1


def test_a_bad_spec_exits_2_before_starting_any_cluster(tmp_path):
    spec = write(tmp_path, "command: compare\ngrid:\n  banks: [1, 999]\n")
    result = CliRunner().invoke(cli, ["sweep", spec, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "grid.yaml:3: grid.banks:" in result.output and "point 2" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line(tmp_path):
    spec = write(tmp_path, "command: compare\nfixed: {ops: and}\ngrid:\n  banks: [1]\n")
    done = sweep(spec, "--out", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 2 and "--scheduler tcp://127.0.0.1:9: cannot connect" in done.stderr
    assert done.stderr.count("\n") == 1


@contextmanager
def dask_processes(address: str):
    """A ``dask scheduler`` at ``address`` (tcp://127.0.0.1:PORT) and one ``dask worker``, as
    on a real cluster; yields [scheduler, worker] and kills both when the block ends."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    dask = [sys.executable, "-m", "dask"]
    port = address.rsplit(":", 1)[1]
    members = [
        subprocess.Popen([*dask, "scheduler", "--port", port, "--no-dashboard"], **quiet),
        subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--no-dashboard"], **quiet),
    ]
    try:
        yield members
    finally:
        for member in members:
            member.kill()
            member.wait()


@pytest.mark.slow
def test_a_scheduler_lost_mid_sweep_keeps_what_finished_and_resume_runs_the_rest(tmp_path):
    with socket.socket() as probe:  # a free port for the scheduler
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    spec = write(tmp_path, SLOW_GRID)
    out = tmp_path / "out"
    with dask_processes(address) as (scheduler, _):
        process = subprocess.Popen(
            [*PIMSIM, "sweep", spec, "--out", str(out), "--scheduler", address],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        wait_for_rows(out, 2, process)
        scheduler.kill()
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert stderr.startswith(f"Error: lost the scheduler at {address}: ")
    assert stderr.count("\n") == 1 and "points were not run (add --resume" in stderr
    kept = {r["point"]: r for r in table(out)}
    assert 2 <= len(kept) < 12 and all(r["status"] == "ok" for r in kept.values())
    assert f"{12 - len(kept)} lost with the cluster" in stdout
    with dask_processes(address):
        resumed = sweep(spec, "--out", out, "--resume", "--scheduler", address)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{12 - len(kept)} run" in resumed.stdout
    assert f"{len(kept)} already stored" in resumed.stdout
    assert sorted(r["point"] for r in table(out)) == sorted(p.key for p in load_sweep(spec).points)
