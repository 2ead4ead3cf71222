"""Memory trace files: format detection and streaming, chunked parsing.

Formats (documented with examples in traces/README.md):

- ``pimsim``: ``<cycle> R|W <address>`` -- cycle in memory cycles (decimal), address in hex.
- ``dramsim3``: ``<address> READ|WRITE <cycle>`` -- DRAMSim3's trace format.
- ``ramulator``: ``LD <address>`` / ``ST <address>`` -- Ramulator 2's load/store trace; no
  cycle, every request may enter at cycle 0 (in order, one per cycle).

Blank lines and lines starting with ``#`` are skipped. A ``.gz`` file is read through gzip.
Traces are read as a stream in chunks of numpy arrays, so a trace larger than memory replays
in constant memory. A malformed line raises :class:`~pimsim.errors.TraceError` naming the
file, the line number and the field.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimsim.errors import TraceError

FORMATS = ("pimsim", "dramsim3", "ramulator")
CHUNK_LINES = 65536


@dataclass(frozen=True)
class TraceChunk:
    """Consecutive requests of a trace: arrays of equal length."""

    cycle: np.ndarray  # int64, earliest memory cycle the request may enter
    is_write: np.ndarray  # bool
    address: np.ndarray  # uint64 byte address
    first_line: np.ndarray  # int64, line number in the file (for error messages)

    def __len__(self) -> int:
        return len(self.cycle)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _int(text: str, base: int, path: str, lineno: int, field: str) -> int:
    try:
        value = int(text, base)
    except ValueError:
        kind = "hexadecimal" if base == 16 else "decimal"
        raise TraceError(path, lineno, field, f"{text!r} is not a {kind} integer") from None
    if value < 0:
        raise TraceError(path, lineno, field, f"{text!r} is negative")
    return value


def _parse_pimsim(parts: list[str], path: str, lineno: int) -> tuple[int, bool, int]:
    if len(parts) != 3:
        raise TraceError(
            path, lineno, "line", f"expected '<cycle> R|W <address>', got {len(parts)} fields"
        )
    op = parts[1].upper()
    if op not in ("R", "W"):
        raise TraceError(path, lineno, "op", f"{parts[1]!r} is not R or W")
    return (
        _int(parts[0], 10, path, lineno, "cycle"),
        op == "W",
        _int(parts[2], 16, path, lineno, "address"),
    )


def _parse_dramsim3(parts: list[str], path: str, lineno: int) -> tuple[int, bool, int]:
    if len(parts) != 3:
        raise TraceError(
            path,
            lineno,
            "line",
            f"expected '<address> READ|WRITE <cycle>', got {len(parts)} fields",
        )
    op = parts[1].upper()
    if op not in ("READ", "WRITE"):
        raise TraceError(path, lineno, "op", f"{parts[1]!r} is not READ or WRITE")
    return (
        _int(parts[2], 10, path, lineno, "cycle"),
        op == "WRITE",
        _int(parts[0], 16, path, lineno, "address"),
    )


def _parse_ramulator(parts: list[str], path: str, lineno: int) -> tuple[int, bool, int]:
    if len(parts) != 2:
        raise TraceError(
            path, lineno, "line", f"expected 'LD|ST <address>', got {len(parts)} fields"
        )
    op = parts[0].upper()
    if op not in ("LD", "ST"):
        raise TraceError(path, lineno, "op", f"{parts[0]!r} is not LD or ST")
    return 0, op == "ST", _int(parts[1], 16, path, lineno, "address")


_PARSERS = {"pimsim": _parse_pimsim, "dramsim3": _parse_dramsim3, "ramulator": _parse_ramulator}


def _guess(parts: list[str]) -> str | None:
    if len(parts) == 2 and parts[0].upper() in ("LD", "ST"):
        return "ramulator"
    if len(parts) == 3 and parts[1].upper() in ("READ", "WRITE"):
        return "dramsim3"
    if len(parts) == 3 and parts[1].upper() in ("R", "W"):
        return "pimsim"
    return None


def detect_format(path: str | Path) -> str:
    """The trace format of ``path``, judged from its first request line."""
    path = Path(path)
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            guess = _guess(parts)
            if guess is None:
                raise TraceError(
                    str(path), lineno, "format", "not a pimsim, DRAMSim3 or Ramulator trace line"
                )
            return guess
    raise TraceError(str(path), 0, "format", "the trace has no requests")


def read_trace(
    path: str | Path, fmt: str = "auto", limit: int | None = None, chunk_lines: int = CHUNK_LINES
) -> Iterator[TraceChunk]:
    """Stream a trace as chunks of at most ``chunk_lines`` requests (``limit``: stop after)."""
    path = Path(path)
    if not path.is_file():
        raise TraceError(str(path), 0, "file", "no such trace file")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt not in _PARSERS:
        raise TraceError(
            str(path), 0, "format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})"
        )
    parse = _PARSERS[fmt]
    name = str(path)
    taken = 0
    rows: list[tuple[int, bool, int]] = []
    lines: list[int] = []
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            rows.append(parse(parts, name, lineno))
            lines.append(lineno)
            taken += 1
            if len(rows) == chunk_lines or (limit is not None and taken >= limit):
                yield _chunk(rows, lines)
                rows, lines = [], []
                if limit is not None and taken >= limit:
                    return
    if rows:
        yield _chunk(rows, lines)


def _chunk(rows: list[tuple[int, bool, int]], lines: list[int]) -> TraceChunk:
    cycle, is_write, address = zip(*rows, strict=True)
    return TraceChunk(
        cycle=np.array(cycle, dtype=np.int64),
        is_write=np.array(is_write, dtype=bool),
        address=np.array(address, dtype=np.uint64),
        first_line=np.array(lines, dtype=np.int64),
    )
