"""The sweep's SQLite table: flattened stats, parameter columns, one row per point, replace
on retry, and a clear error for a file that is not a sweep table."""

import json
import sqlite3

import pytest

from pimsim.sweep.spec import Point
from pimsim.sweep.store import MAX_COLUMNS, STORE_FILE, Store, StoreError, flatten


def point(key: str, **params) -> Point:
    return Point(key, params, (), "cfg" + key)


def result(stats, status="ok", error=None) -> dict:
    code = 0 if status == "ok" else 1
    return {"status": status, "error": error, "exit_code": code, "stats": stats,
            "warnings": None, "seconds": 0.5, "worker": "w:1", "version": "9"}  # fmt: skip


def test_flatten_names_every_leaf_by_its_dotted_path():
    doc = {"a": 1, "b": {"c": [10, {"d": True}], "e": None}, "f": "x"}
    assert dict(flatten(doc)) == {"a": 1, "b.c.0": 10, "b.c.1.d": True, "b.e": None, "f": "x"}


def test_a_row_holds_params_meta_and_flattened_stats(tmp_path):
    store = Store(tmp_path / "out")
    stats = {"cycles": 123, "ops": {"and": {"speedup": 2.5, "correct": True}}, "status": "x",
             "big": 1 << 70}  # fmt: skip
    store.add(point("k1", banks=4, **{"timing.nFAW": 20}), ("compare",), result(stats))
    (row,) = store.rows()
    assert row["point"] == "k1" and row["status"] == "ok" and row["command"] == "compare"
    assert row["param.banks"] == 4 and row["param.timing.nFAW"] == 20
    assert row["cycles"] == 123 and row["ops.and.speedup"] == 2.5 and row["ops.and.correct"] == 1
    assert row["stats.status"] == "x"  # a stats path that is a meta column's name
    assert row["big"] == str(1 << 70)  # past SQLite's 64-bit integers: kept exactly, as text
    assert json.loads(row["stats_json"]) == stats
    assert row["config_hash"] == "cfgk1" and row["pimsim_version"] == "9"
    assert store.stored() == {"k1": "ok"}
    store.close()


def test_columns_grow_with_new_paths_and_rows_lack_what_they_do_not_have(tmp_path):
    store = Store(tmp_path)
    store.add(point("a", banks=1), ("run",), result({"x": 1}))
    store.add(point("b", banks=2), ("run",), result({"y": 2}))
    store.add(point("c", banks=3), ("run",), result(None, "failed", "Error: boom"))
    rows = {r["point"]: r for r in store.rows()}
    assert rows["a"]["x"] == 1 and rows["a"]["y"] is None
    assert rows["b"]["y"] == 2 and rows["c"]["error"] == "Error: boom"
    assert rows["c"]["stats_json"] == "null"


def test_a_point_stored_again_replaces_its_row(tmp_path):
    store = Store(tmp_path)
    store.add(point("a"), ("run",), result(None, "failed", "lost"))
    store.add(point("a"), ("run",), result({"x": 1}))
    assert [(r["point"], r["status"], r["x"]) for r in store.rows()] == [("a", "ok", 1)]


def test_rows_survive_reopening_and_every_insert_is_committed(tmp_path):
    store = Store(tmp_path)
    store.add(point("a"), ("run",), result({"x": 1}))
    # another connection sees the row without any close or commit by the writer
    other = sqlite3.connect(tmp_path / STORE_FILE)
    assert other.execute("SELECT point FROM points").fetchall() == [("a",)]
    store.close()
    assert Store(tmp_path).stored() == {"a": "ok"}


def test_paths_past_the_column_limit_stay_in_the_json(tmp_path):
    store = Store(tmp_path)
    stats = {f"v{i}": i for i in range(MAX_COLUMNS + 50)}
    store.add(point("a"), ("run",), result(stats))
    (row,) = store.rows()
    assert len(row) == MAX_COLUMNS
    assert json.loads(row["stats_json"])[f"v{MAX_COLUMNS + 49}"] == MAX_COLUMNS + 49


def test_a_file_that_is_not_a_sweep_table_is_refused(tmp_path):
    (tmp_path / STORE_FILE).write_text("not a database at all " * 100)
    with pytest.raises(StoreError, match="results.sqlite"):
        Store(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    db = sqlite3.connect(other / STORE_FILE)
    db.execute("CREATE TABLE points (point PRIMARY KEY, x)")
    db.commit()
    with pytest.raises(StoreError, match="not a pimsim sweep table"):
        Store(other)


def test_an_uncreatable_directory_is_one_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="file/sub: cannot hold the sweep's table: Not a dir"):
        Store(blocker / "sub")
    with pytest.raises(StoreError, match="file: cannot hold the sweep's table: not a directory"):
        Store(blocker)
