"""The sweep's table: one SQLite file, one row per point, committed as each point finishes.

SQLite rather than Parquet: every finished point is one transaction, so Ctrl-C, a killed
client or a full disk leave every stored row whole and ``--resume`` reads back exactly what is
there; a Parquet file is written once, whole, and appending means a file per point. SQLite
needs nothing beyond Python, and pandas (``read_sql``), DuckDB and the ``sqlite3`` shell read it.

Columns of table ``points``: the point's identity and outcome (:data:`META`), its parameters as
``param.KEY``, and its stats document flattened to dotted paths (``ops.and.speedup``,
``points.0.pim.time_ns``; a path that equals a META name is stored as ``stats.PATH``). The
whole document is also kept as JSON in ``stats_json``. Values keep their SQLite type (integer,
real, text); true and false are 1 and 0.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pimsim.errors import PimsimError
from pimsim.sweep.spec import Point

#: The table's file inside the sweep's directory.
STORE_FILE = "results.sqlite"
#: Columns every row has, in order.
META = (
    "point", "status", "error", "exit_code", "command", "pimsim_version", "config_hash",
    "seconds", "worker", "warnings", "finished", "params_json", "stats_json",
)  # fmt: skip
#: Most columns the table gets (SQLite's limit is 2000); paths past it stay in stats_json.
MAX_COLUMNS = 1900
_INT64 = (-(1 << 63), (1 << 63) - 1)


class StoreError(PimsimError):
    """The sweep's table cannot be created, read or written."""


def flatten(doc: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, scalar) for every leaf of a JSON-like document; list items by index."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from flatten(value, f"{prefix}{key}.")
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from flatten(value, f"{prefix}{index}.")
    else:
        yield prefix[:-1], doc


def _cell(value: Any) -> Any:
    """A value as SQLite stores it: bools as 0/1, integers past 64 bits and lists as text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        return str(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def _column(name: str) -> str:
    """A column name that needs no escaping inside double quotes."""
    return name.replace('"', "'")


class Store:
    """The table of one sweep directory (created if missing)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.path = Path(directory) / STORE_FILE
        try:
            Path(directory).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = error.strerror or str(error)
            if Path(directory).exists() and not Path(directory).is_dir():
                reason = "not a directory"
            raise StoreError(f"{directory}: cannot hold the sweep's table: {reason}") from None
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            columns = ", ".join(f'"{name}"' for name in META[1:])
            self.db.execute(f'CREATE TABLE IF NOT EXISTS points ("point" PRIMARY KEY, {columns})')
            self.columns = [row[1] for row in self.db.execute("PRAGMA table_info(points)")]
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"{self.path}: cannot open the sweep's table: {error}") from None
        missing = [name for name in META if name not in self.columns]
        if missing:
            raise StoreError(f"{self.path}: not a pimsim sweep table (no {missing[0]} column)")

    def stored(self) -> dict[str, str]:
        """Point key -> status of every stored row."""
        return dict(self._read("SELECT point, status FROM points"))

    def add(self, point: Point, words: tuple[str, ...], result: dict[str, Any]) -> None:
        """Store (or replace) one point's row, in one transaction."""
        row = {
            "point": point.key,
            "status": result["status"],
            "error": result.get("error"),
            "exit_code": result.get("exit_code"),
            "command": " ".join(words),
            "pimsim_version": result.get("version"),
            "config_hash": point.config_hash,
            "seconds": result.get("seconds"),
            "worker": result.get("worker"),
            "warnings": result.get("warnings"),
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "params_json": json.dumps(point.params),
            "stats_json": json.dumps(result.get("stats")),
        }
        row.update((_column(f"param.{key}"), _cell(v)) for key, v in point.params.items())
        for path, value in flatten(result.get("stats") or {}):
            clash = path in META or path.startswith("param.")
            row[_column(f"stats.{path}" if clash else path)] = _cell(value)
        try:
            self._widen(row)
            names = [name for name in row if name in self.columns]
            marks = ", ".join("?" * len(names))
            quoted = ", ".join(f'"{name}"' for name in names)
            self.db.execute(
                f"INSERT OR REPLACE INTO points ({quoted}) VALUES ({marks})",
                [row[name] for name in names],
            )
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot store point {point.key}: {error}") from None

    def rows(self) -> list[dict[str, Any]]:
        """Every stored row as a column -> value mapping (None where a point has no value)."""
        cursor = self._cursor("SELECT * FROM points ORDER BY rowid")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor]

    def close(self) -> None:
        """Close the file (every row is already committed)."""
        self.db.close()

    def _widen(self, row: dict[str, Any]) -> None:
        """Add the columns ``row`` needs, up to MAX_COLUMNS."""
        known = set(self.columns)
        for name in row:
            if name not in known and len(self.columns) < MAX_COLUMNS:
                self.db.execute(f'ALTER TABLE points ADD COLUMN "{name}"')
                self.columns.append(name)
                known.add(name)

    def _read(self, query: str) -> list[tuple]:
        return list(self._cursor(query))

    def _cursor(self, query: str) -> sqlite3.Cursor:
        try:
            return self.db.execute(query)
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot read the sweep's table: {error}") from None
