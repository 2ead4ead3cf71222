"""Memory trace files: format detection and streaming, chunked parsing.

Formats (documented with examples in traces/README.md):

- ``pimsim``: ``<cycle> R|W <address>`` -- cycle in memory cycles (decimal), address in hex.
- ``dramsim3``: ``<address> READ|WRITE <cycle>`` -- DRAMSim3's trace format.
- ``ramulator``: ``LD <address>`` / ``ST <address>`` -- Ramulator 2's load/store trace; no
  cycle, every request may enter at cycle 0 (in order, one per cycle).

Blank lines and lines starting with ``#`` are skipped. A ``.gz`` file is read through gzip.
Traces are parsed in C (pimsim._traceparse) and read as a stream in chunks of numpy arrays,
so a trace larger than memory replays in constant memory. A malformed line raises
:class:`~pimsim.errors.TraceError` naming the file, the line number and the field.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimsim._traceparse import FORMAT_CODES, parse_block
from pimsim.errors import TraceError

FORMATS = ("pimsim", "dramsim3", "ramulator")
BLOCK_BYTES = 1 << 20  # bytes of trace text parsed per chunk (about 60k requests)


@dataclass(frozen=True)
class TraceChunk:
    """Consecutive requests of a trace: arrays of equal length."""

    cycle: np.ndarray  # int64, earliest memory cycle the request may enter
    is_write: np.ndarray  # bool
    address: np.ndarray  # uint64 byte address
    first_line: np.ndarray  # int64, line number in the file (for error messages)

    def __len__(self) -> int:
        return len(self.cycle)


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


_SHAPES = {
    "pimsim": ("'<cycle> R|W <address>'", "R or W"),
    "dramsim3": ("'<address> READ|WRITE <cycle>'", "READ or WRITE"),
    "ramulator": ("'LD|ST <address>'", "LD or ST"),
}


def _message(fmt: str, field: str, detail: str) -> str:
    """The error text for a bad field, as reported by the C parser."""
    shape, ops = _SHAPES[fmt]
    if field == "line":
        return f"expected {shape}, got {detail} fields"
    if field == "op":
        return f"{detail!r} is not {ops}"
    if field == "cycle":
        return f"{detail!r} is not a decimal integer"
    return f"{detail!r} is not a hexadecimal integer"


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
    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            parts = raw.decode("utf-8", "replace").split()
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
    path: str | Path, fmt: str = "auto", limit: int | None = None, block_bytes: int = BLOCK_BYTES
) -> Iterator[TraceChunk]:
    """Stream a trace as chunks, one per ``block_bytes`` of text (``limit``: stop after)."""
    path = Path(path)
    if not path.is_file():
        raise TraceError(str(path), 0, "file", "no such trace file")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt not in FORMAT_CODES:
        raise TraceError(
            str(path), 0, "format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})"
        )
    code, name = FORMAT_CODES[fmt], str(path)
    first_line, taken, tail = 1, 0, b""
    with _open_binary(path) as fh:
        while limit is None or taken < limit:
            data = fh.read(block_bytes)
            block = tail + data
            if data:
                cut = block.rfind(b"\n") + 1
                block, tail = block[:cut], block[cut:]
            if not block:
                if data:
                    continue
                return
            cycle, is_write, address, line, error = parse_block(block, code)
            if error is not None:
                index, field, detail = error
                raise TraceError(name, first_line + index, field, _message(fmt, field, detail))
            if limit is not None and taken + len(cycle) > limit:
                keep = limit - taken
                cycle, is_write, address, line = (
                    cycle[:keep],
                    is_write[:keep],
                    address[:keep],
                    line[:keep],
                )
            taken += len(cycle)
            if len(cycle):
                yield TraceChunk(cycle, is_write, address, line + first_line)
            first_line += block.count(b"\n")
            if not data:
                return
