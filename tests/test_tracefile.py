"""Trace formats: detection, parsing, streaming, and one-line errors with file:line:field."""

import gzip

import numpy as np
import pytest

from pimsim.errors import TraceError
from pimsim.tracefile import detect_format, read_trace


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _all(path, **kw):
    chunks = list(read_trace(path, **kw))
    return (
        np.concatenate([c.cycle for c in chunks]),
        np.concatenate([c.is_write for c in chunks]),
        np.concatenate([c.address for c in chunks]),
    )


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("# comment\n\n10 R 0x40\n12 W 80\n", "pimsim"),
        ("0x40 READ 10\n0x80 WRITE 12\n", "dramsim3"),
        ("LD 0x40\nST 0x80\n", "ramulator"),
    ],
)
def test_formats_are_detected_and_parsed(tmp_path, text, fmt):
    path = _write(tmp_path, "t.trace", text)
    assert detect_format(path) == fmt
    cycle, is_write, address = _all(path)
    assert list(address) == [0x40, 0x80]
    assert list(is_write) == [False, True]
    assert list(cycle) == ([0, 0] if fmt == "ramulator" else [10, 12])


def test_gzip_trace_reads_like_plain(tmp_path):
    path = tmp_path / "t.trace.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("5 W 0x1000\n6 R 0x2000\n")
    cycle, is_write, address = _all(path)
    assert list(cycle) == [5, 6] and list(address) == [0x1000, 0x2000]


def test_stream_comes_in_chunks_and_limit_stops_early(tmp_path):
    path = _write(tmp_path, "t.trace", "".join(f"{i} R {64 * i:#x}\n" for i in range(1000)))
    chunks = list(read_trace(path, block_bytes=3000))
    assert len(chunks) > 3 and sum(len(c) for c in chunks) == 1000
    cycle = np.concatenate([c.cycle for c in chunks])
    lines = np.concatenate([c.first_line for c in chunks])
    assert (cycle == np.arange(1000)).all() and (lines == np.arange(1, 1001)).all()
    cycle, _, _ = _all(path, limit=450, block_bytes=3000)
    assert len(cycle) == 450 and cycle[-1] == 449


def test_last_line_without_newline_and_long_lines_across_blocks(tmp_path):
    text = "# " + "x" * 5000 + "\n1 R 0x40\n2 W 0x80"
    path = _write(tmp_path, "t.trace", text)
    chunks = list(read_trace(path, block_bytes=64))
    assert np.concatenate([c.address for c in chunks]).tolist() == [0x40, 0x80]
    assert np.concatenate([c.first_line for c in chunks]).tolist() == [2, 3]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("1 R 0x40\n2 X 0x80\n", ":2: op: 'X' is not R or W"),
        ("1 R 0x40\n2 R 0xZZ\n", ":2: address: '0xZZ' is not a hexadecimal integer"),
        ("1 R 0x40\nabc R 0x80\n", ":2: cycle: 'abc' is not a decimal integer"),
        ("1 R 0x40\n3 R\n", ":2: line: expected '<cycle> R|W <address>', got 2 fields"),
        ("LD 0x40\nLD 0x80 7\n", ":2: line: expected 'LD|ST <address>', got 3 fields"),
        ("hello world\n", ":1: format: not a pimsim, DRAMSim3 or Ramulator trace line"),
    ],
)
def test_malformed_line_names_file_line_and_field(tmp_path, text, where):
    path = _write(tmp_path, "bad.trace", text)
    with pytest.raises(TraceError) as info:
        _all(path)
    assert str(info.value) == f"{path}{where}"


def test_missing_file_is_a_trace_error(tmp_path):
    with pytest.raises(TraceError, match="no such trace file"):
        _all(tmp_path / "nope.trace")
