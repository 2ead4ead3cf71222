"""Memory trace files: format detection and streaming, chunked parsing.

Formats (documented with the exact grammar in traces/README.md):

- ``pimsim``: ``<cycle> R|W <address>`` -- cycle in memory cycles (decimal), address in hex;
  also ``<cycle> BBOP <op> <dst> <src1> [<src2>] <size>`` and ``<cycle> COPY <dst> <src>
  <size>``: bulk in-DRAM operations (addresses hex, size in bytes).
- ``dramsim3``: ``<address> READ|WRITE <cycle>`` -- DRAMSim3's trace format.
- ``ramulator``: ``LD <address>`` / ``ST <address>`` -- Ramulator 2's load/store trace; no
  cycle, every request may enter at cycle 0 (in order, one per cycle).

Tokens are separated by ASCII blanks; a token starting with ``#`` starts a comment to the end
of the line; a UTF-8 byte-order mark at the start of the file is skipped; a line is at most
:data:`MAX_LINE_BYTES` long. A file starting with gzip's magic bytes is read through gzip.
Traces are parsed in C (pimsim._traceparse) and read as a stream in chunks of numpy arrays,
so a trace larger than memory replays in constant memory. A malformed line raises
:class:`~pimsim.errors.TraceError` naming the file, the line number and the field; a file
that cannot be read as a trace at all raises :class:`TraceFileError`.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import re
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimsim._traceparse import FORMAT_CODES, parse_block
from pimsim.errors import ECHO_CHARS, TraceError

FORMATS = ("pimsim", "dramsim3", "ramulator")
BLOCK_BYTES = 1 << 20  # bytes of trace text parsed per chunk (about 60k requests)
MAX_LINE_BYTES = 1 << 16  # longest line accepted, bytes (request lines are ~20 bytes)
MAX_CYCLE_DIGITS = 18  # a cycle fits an int64 (the C parser's limit)
MAX_HEX_DIGITS = 16  # an address or size fits 64 bits
SHOWN_PATH_CHARS = 120  # a longer file name is shown as its two ends
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
NO_REQUESTS = "the trace has no requests (only blank lines and comments)"


class TraceFileError(TraceError):
    """The file cannot be read as a trace at all: missing, unreadable, not a regular file,
    corrupt gzip data, empty, or not in any known format. Bad input: exit 2.
    ``line`` is the line reached, or 0 for the file as a whole."""

    def __str__(self) -> str:
        path = self.path
        if len(path) > SHOWN_PATH_CHARS:  # a file name may be what is wrong with it
            path = f"{path[: SHOWN_PATH_CHARS // 2]}...{path[-SHOWN_PATH_CHARS // 2 :]}"
        where = f"{path}:{self.line}" if self.line else path
        return f"{where}: {self.field}: {self.message}"


@dataclass(frozen=True)
class TraceChunk:
    """Consecutive requests of a trace: arrays of equal length."""

    cycle: np.ndarray  # int64, earliest memory cycle the request may enter
    is_write: np.ndarray  # bool
    address: np.ndarray  # uint64 byte address
    first_line: np.ndarray  # int64, line number in the file (for error messages)

    def __len__(self) -> int:
        return len(self.cycle)


@dataclass(frozen=True)
class PimLine:
    """A bulk operation in a trace: ``dst = op(sources)`` over ``size`` bytes."""

    cycle: int
    op: str
    dst: int
    sources: tuple[int, ...]
    size: int
    line: int


# -- reading the file ----------------------------------------------------------------------------


class _Reader:
    """A trace file opened for reading (a context manager that closes it), plain or gzip
    (judged by its first bytes); every read error becomes a TraceFileError naming the file
    and the line reached."""

    def __init__(self, path: Path):
        self.name = str(path)
        self.raw = _open_regular(path)
        self.gzip = False
        self.fh: io.BufferedIOBase = self.raw
        try:
            with self._reading(1):
                magic = self.raw.read(len(GZIP_MAGIC))
                self.raw.seek(0)
        except TraceFileError:
            self.raw.close()
            raise
        if magic == GZIP_MAGIC:
            self.gzip = True
            self.fh = gzip.GzipFile(fileobj=self.raw, mode="rb")

    def read(self, size: int, line: int) -> bytes:
        """Up to ``size`` bytes (b"" at the end); ``line`` is the line being read."""
        with self._reading(line):
            return self.fh.read(size)

    @contextmanager
    def _reading(self, line: int) -> Iterator[None]:
        """Turn a read error (OS, gzip, zlib, early end of gzip data) into a TraceFileError."""
        try:
            yield
        except EOFError:
            raise self._error(line, "the gzip data ends early (a truncated file?)") from None
        except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            if self.gzip:
                raise self._error(line, f"corrupt gzip data ({_shown_error(exc)})") from None
            raise self._error(line, f"cannot read: {_shown_error(exc)}") from None

    def _error(self, line: int, message: str) -> TraceFileError:
        return TraceFileError(self.name, line, "gzip" if self.gzip else "file", message)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.fh.close()
        self.raw.close()


def _open_regular(path: Path) -> io.BufferedReader:
    """``path`` opened for binary reading; anything but a regular file is refused (a pipe
    or a device could block forever, and a trace is read twice: to detect its format, to
    replay it). Opening never blocks (O_NONBLOCK) and the check is on the opened file."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise TraceFileError(name, 0, "file", "no such trace file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise TraceFileError(name, 0, "file", f"cannot open: {_shown_error(exc)}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a pipe or device)"
        raise TraceFileError(name, 0, "file", f"{what}; give a trace file")
    return os.fdopen(fd, "rb")


def _shown_error(exc: BaseException) -> str:
    """An OS or zlib error as a short phrase (zlib's "Error -3 while decompressing data: "
    prefix dropped)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return _shorten(text.rsplit(": ", 1)[-1])


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """The file's text as blocks of complete lines (the last one may lack its newline), each
    with the number of its first line; the byte-order mark is dropped, and a line longer
    than MAX_LINE_BYTES raises a TraceError."""
    with _Reader(path) as reader:
        line, tail, first = 1, b"", True
        while True:
            data = reader.read(block_bytes, line)
            block = tail + (data.removeprefix(BOM) if first else data)
            first = False
            cut = block.rfind(b"\n") + 1 if data else len(block)
            block, tail = block[:cut], block[cut:]
            if block:
                yield block, line
                line += block.count(b"\n")
            if len(tail) > MAX_LINE_BYTES:
                raise _too_long(reader.name, line)
            if not data:
                return


def _too_long(name: str, line: int) -> TraceError:
    return TraceError(
        name, line, "line", f"longer than {MAX_LINE_BYTES} bytes (is this a text trace?)"
    )


# -- tokens and numbers --------------------------------------------------------------------------


def _tokens(line: bytes) -> list[bytes]:
    """The blank-separated tokens of ``line`` before its comment (a token starting with '#')."""
    tokens = line.split()
    for i, token in enumerate(tokens):
        if token.startswith(b"#"):
            return tokens[:i]
    return tokens


def _shorten(text: str, show=str) -> str:
    """``text`` cut to ECHO_CHARS characters, then passed through ``show``."""
    more = "..." if len(text) > ECHO_CHARS else ""
    return show(text[:ECHO_CHARS]) + more


def _shown(token: bytes) -> str:
    """A token as echoed in a message: quoted, escaped, cut to about ECHO_CHARS."""
    return _shorten(token.decode("utf-8", "replace"), repr)


_DEC = re.compile(rb"[0-9]+")
_HEX = re.compile(rb"(?:0[xX])?([0-9A-Fa-f]+)")
_PREFIXED_HEX = re.compile(rb"0[xX]([0-9A-Fa-f]+)")
_OP = re.compile(rb"[A-Za-z][A-Za-z0-9_]*")

#: kind of number -> its name in messages
_KINDS = {
    "decimal": "a decimal integer",
    "hex": "a hexadecimal integer",
    "size": "a decimal or 0x-hex integer",
}


def _value(token: bytes, kind: str) -> int | None:
    """The number ``token`` spells in ``kind`` ('decimal': 1-18 ASCII digits; 'hex': 1-16 hex
    digits, optional 0x; 'size': either), or None."""
    if kind != "hex" and _DEC.fullmatch(token) and len(token) <= MAX_CYCLE_DIGITS:
        return int(token)
    match = (_HEX if kind == "hex" else _PREFIXED_HEX).fullmatch(token)
    if kind != "decimal" and match and len(match[1]) <= MAX_HEX_DIGITS:
        return int(match[1], 16)
    return None


def _number_problem(token: bytes, kind: str) -> str:
    """Why ``token`` is not a number of ``kind`` (see :func:`_value`)."""
    if _DEC.fullmatch(token) and kind != "hex":
        return f"{_shown(token)} has more than {MAX_CYCLE_DIGITS} digits"
    match = (_HEX if kind == "hex" else _PREFIXED_HEX).fullmatch(token)
    if match and kind != "decimal":
        return f"{_shown(token)} is wider than 64 bits (more than {MAX_HEX_DIGITS} hex digits)"
    return f"{_shown(token)} is not {_KINDS[kind]}"


def _number(token: bytes, kind: str, path: str, lineno: int, field: str) -> int:
    value = _value(token, kind)
    if value is None:
        raise TraceError(path, lineno, field, _number_problem(token, kind))
    return value


# -- format detection ----------------------------------------------------------------------------


_SHAPES = {
    "pimsim": ("'<cycle> R|W <address>'", "R or W"),
    "dramsim3": ("'<address> READ|WRITE <cycle>'", "READ or WRITE"),
    "ramulator": ("'LD|ST <address>'", "LD or ST"),
}


def _guess(parts: list[bytes]) -> str | None:
    second = parts[1].upper() if len(parts) > 1 else b""
    if len(parts) == 2 and parts[0].upper() in (b"LD", b"ST"):
        return "ramulator"
    if len(parts) == 3 and second in (b"READ", b"WRITE"):
        return "dramsim3"
    if (len(parts) == 3 and second in (b"R", b"W")) or second in (b"BBOP", b"COPY"):
        return "pimsim"
    return None


def detect_format(path: str | Path) -> str:
    """The trace format of ``path``, judged from its first request line; any problem found
    on the way means the file is not a trace (TraceFileError)."""
    try:
        return _detect(Path(path))
    except TraceFileError:
        raise
    except TraceError as error:  # e.g. a first line too long
        raise TraceFileError(*error.args) from None


#: The start of a line holding a token that is not a comment (blank and comment lines before
#: the first request are skipped by one search, not line by line).
_FIRST_TOKEN = re.compile(rb"^[ \t\r\v\f]*[^ \t\r\v\f\n#]", re.MULTILINE)


def _detect(path: Path) -> str:
    name = str(path)
    for block, first_line in _blocks(path, BLOCK_BYTES):
        found = _FIRST_TOKEN.search(block)
        if found is None:
            continue
        start = found.start()
        end = block.find(b"\n", start)
        line = block[start:] if end < 0 else block[start:end]
        lineno = first_line + block.count(b"\n", 0, start)
        if len(line) > MAX_LINE_BYTES:
            raise _too_long(name, lineno)
        guess = _guess(_tokens(line))
        if guess is None:
            raise TraceFileError(
                name, lineno, "format", "not a pimsim, DRAMSim3 or Ramulator trace line"
            )
        return guess
    raise TraceFileError(name, 0, "file", NO_REQUESTS)


def resolve_format(path: str | Path, fmt: str = "auto") -> str:
    """The format to read ``path`` in: ``fmt``, or the detected one for "auto"; raises
    TraceFileError if the file cannot be opened as a trace (checked before any work)."""
    if fmt == "auto":
        return detect_format(path)
    if fmt not in FORMAT_CODES:
        raise TraceError(
            str(path), 0, "format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})"
        )
    with _Reader(Path(path)):
        return fmt


# -- the stream ----------------------------------------------------------------------------------


def _message(fmt: str, field: str, detail: bytes | str) -> str:
    """The error text for a bad field, as reported by the C parser."""
    shape, ops = _SHAPES[fmt]
    if field == "line":
        return f"expected {shape}, got {detail} fields"
    if field == "op":
        return f"{_shown(detail)} is not {ops}"
    return _number_problem(detail, "decimal" if field == "cycle" else "hex")


def read_trace(
    path: str | Path, fmt: str = "auto", limit: int | None = None, block_bytes: int = BLOCK_BYTES
) -> Iterator[TraceChunk | PimLine]:
    """Stream a trace as chunks of requests, one per ``block_bytes`` of text at most, with
    each BBOP/COPY line as a :class:`PimLine` in its place (``limit``: stop after that many
    requests and PIM lines). A trace without any request raises TraceFileError."""
    path = Path(path)
    fmt = resolve_format(path, fmt)
    code, name, taken = FORMAT_CODES[fmt], str(path), 0
    for block, first_line in _blocks(path, block_bytes):
        begin = 0
        while limit is None or taken < limit:
            cycle, is_write, address, line, error = parse_block(block, code, begin, MAX_LINE_BYTES)
            if limit is not None and taken + len(cycle) > limit:
                keep = limit - taken
                cycle, is_write, address = cycle[:keep], is_write[:keep], address[:keep]
                line = line[:keep]
            taken += len(cycle)
            if len(cycle):
                yield TraceChunk(cycle, is_write, address, line + first_line)
            if error is None:
                break
            index, field, detail, start, end = error
            if field == "length":
                raise _too_long(name, first_line + index)
            if field != "pim":
                raise TraceError(name, first_line + index, field, _message(fmt, field, detail))
            # a BBOP/COPY line: parse it here, then go on after it
            if limit is None or taken < limit:
                yield parse_pim_line(block[start:end], name, first_line + index)
                taken += 1
            begin, first_line = end + 1, first_line + index + 1
        if limit is not None and taken >= limit:
            return
    if not taken:
        raise TraceFileError(name, 0, "file", NO_REQUESTS)


def parse_pim_line(text: bytes, path: str, lineno: int) -> PimLine:
    """Parse ``<cycle> BBOP <op> <dst> <src1> [<src2>] <size>`` or
    ``<cycle> COPY <dst> <src> <size>`` (cycle decimal, addresses hex with an optional 0x,
    size in bytes: decimal or 0x-hex; the op a built-in operation's name)."""
    parts = _tokens(text)
    cycle = _number(parts[0], "decimal", path, lineno, "cycle")
    if parts[1].upper() == b"COPY":
        op, operands = "copy", parts[2:]
        sources = 1
    else:
        if len(parts) < 3:
            raise TraceError(
                path,
                lineno,
                "line",
                f"expected '<cycle> BBOP <op> <dst> <src>... <size>', got {len(parts)} fields",
            )
        op, operands = _op(parts[2], path, lineno), parts[3:]
        sources = _arities()[op]
    if len(operands) != 2 + sources:
        srcs = " ".join(f"<src{i + 1}>" for i in range(sources))
        keyword = "COPY" if parts[1].upper() == b"COPY" else f"BBOP {op}"
        raise TraceError(
            path,
            lineno,
            "line",
            f"{op} takes a destination, {sources} source(s) and a size: expected "
            f"'<cycle> {keyword} <dst> {srcs} <size>', got {len(parts)} fields",
        )
    fields = ["dst"] + [f"src{i + 1}" for i in range(sources)]
    addrs = [_number(v, "hex", path, lineno, f) for v, f in zip(operands[:-1], fields, strict=True)]
    size = _number(operands[-1], "size", path, lineno, "size")
    if size <= 0 or size % 64:
        raise TraceError(path, lineno, "size", f"{size} is not a positive multiple of 64 bytes")
    for value, field in zip(addrs, fields, strict=True):
        if value % 64:
            raise TraceError(path, lineno, field, f"{value:#x} is not 64-byte aligned")
    return PimLine(cycle, op, addrs[0], tuple(addrs[1:]), size, lineno)


def _op(token: bytes, path: str, lineno: int) -> str:
    """The built-in operation ``token`` names (a plain name, case-insensitive; never a path)."""
    arities = _arities()
    name = token.decode("ascii").lower() if _OP.fullmatch(token) else None
    if name not in arities:
        known = ", ".join(sorted(arities))
        raise TraceError(
            path, lineno, "op", f"{_shown(token)} is not a bulk operation (known: {known})"
        )
    return name


@functools.cache
def _arities() -> dict[str, int]:
    """How many sources each built-in operation reads, by name (read once)."""
    from pimsim.programs.library import unit
    from pimsim.programs.parse import builtin, builtin_names

    plain = [n for n in builtin_names() if all(p.default is not None for p in unit(n).params)]
    return {n: len(builtin(n).inputs) for n in plain if len(builtin(n).outputs) == 1}
