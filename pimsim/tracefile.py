"""Memory trace files: format detection and streaming, chunked parsing.

Formats (documented with examples in traces/README.md):

- ``pimsim``: ``<cycle> R|W <address>`` -- cycle in memory cycles (decimal), address in hex;
  also ``<cycle> BBOP <op> <dst> <src1> [<src2>] <size>`` and ``<cycle> COPY <dst> <src>
  <size>``: bulk in-DRAM operations (addresses hex, size in bytes).
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
    if len(parts) >= 2 and parts[1].upper() in ("BBOP", "COPY"):
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
) -> Iterator[TraceChunk | PimLine]:
    """Stream a trace as chunks of requests, one per ``block_bytes`` of text at most, with
    each BBOP/COPY line as a :class:`PimLine` in its place (``limit``: stop after that many
    requests and PIM lines)."""
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
            if not block and data:
                continue
            while block and (limit is None or taken < limit):
                cycle, is_write, address, line, error = parse_block(block, code)
                if limit is not None and taken + len(cycle) > limit:
                    keep = limit - taken
                    cycle, is_write, address = cycle[:keep], is_write[:keep], address[:keep]
                    line = line[:keep]
                taken += len(cycle)
                if len(cycle):
                    yield TraceChunk(cycle, is_write, address, line + first_line)
                if error is None:
                    first_line += block.count(b"\n")
                    break
                index, field, detail = error
                if field != "pim":
                    raise TraceError(name, first_line + index, field, _message(fmt, field, detail))
                # a BBOP/COPY line: parse it here, then go on after it
                lines = block.split(b"\n")
                text = lines[index].decode("utf-8", "replace")
                if limit is None or taken < limit:
                    yield parse_pim_line(text, name, first_line + index)
                    taken += 1
                block = b"\n".join(lines[index + 1 :])
                first_line += index + 1
            if not data:
                return


@dataclass(frozen=True)
class PimLine:
    """A bulk operation in a trace: ``dst = op(sources)`` over ``size`` bytes."""

    cycle: int
    op: str
    dst: int
    sources: tuple[int, ...]
    size: int
    line: int


def parse_pim_line(text: str, path: str, lineno: int) -> PimLine:
    """Parse ``<cycle> BBOP <op> <dst> <src1> [<src2>] <size>`` or
    ``<cycle> COPY <dst> <src> <size>`` (addresses hex, size decimal or 0x-hex)."""
    from pimsim.programs.parse import ProgramError, builtin

    parts = text.split("#", 1)[0].split()
    cycle = _number(parts[0], 10, path, lineno, "cycle")
    if parts[1].upper() == "COPY":
        parts = [parts[0], "BBOP", "copy", *parts[2:]]
    if len(parts) < 4:
        raise TraceError(path, lineno, "line", "expected '<cycle> BBOP <op> <dst> <src>... <size>'")
    op = parts[2].lower()
    try:
        sources = len(builtin(op).inputs)
    except ProgramError:
        raise TraceError(path, lineno, "op", f"{parts[2]!r} is not a bulk operation") from None
    if len(parts) != 5 + sources:
        raise TraceError(
            path,
            lineno,
            "line",
            f"{op} takes a destination, {sources} "
            f"source(s) and a size: {3 + sources} fields after the cycle",
        )
    fields = ["dst"] + [f"src{i + 1}" for i in range(sources)]
    addrs = [_number(v, 16, path, lineno, f) for v, f in zip(parts[3:-1], fields, strict=True)]
    size = _number(parts[-1], 0, path, lineno, "size")
    if size <= 0 or size % 64:
        raise TraceError(path, lineno, "size", f"{size} is not a positive multiple of 64 bytes")
    for value, field in zip(addrs, fields, strict=True):
        if value % 64:
            raise TraceError(path, lineno, field, f"{value:#x} is not 64-byte aligned")
    return PimLine(cycle, op, addrs[0], tuple(addrs[1:]), size, lineno)


def _number(text: str, base: int, path: str, lineno: int, field: str) -> int:
    try:
        value = int(text, base)
    except ValueError:
        kind = {10: "decimal", 16: "hexadecimal", 0: "decimal or 0x-hex"}[base]
        raise TraceError(path, lineno, field, f"{text!r} is not a {kind} integer") from None
    if value < 0:
        raise TraceError(path, lineno, field, f"{text!r} is negative")
    return value
