"""Bad trace files get one clear line and the right exit code: unreadable files, gzip damage,
the strict grammar shared by the C parser and the BBOP/COPY parser, and a seeded fuzz of all
three formats (no traceback, no hang, bounded memory, never exit 0 on an unreadable file)."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pimsim.cli.main import cli
from pimsim.errors import TraceError
from pimsim.tracefile import MAX_LINE_BYTES, TraceFileError, read_trace

TRACES = Path(__file__).resolve().parent.parent / "traces"
PIM_LINE = "0 BBOP not 0x80000 0x0 8192"


def run_trace(path: Path, *args: str):
    return CliRunner().invoke(cli, ["run", str(path), *args])


def one_error_line(result, exit_code: int, *words: str) -> str:
    """Assert a one-line ``Error:`` with ``exit_code`` holding ``words``; the line."""
    assert result.exit_code == exit_code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def write(tmp_path: Path, data: bytes | str, name: str = "t.trace") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# -- the file itself -----------------------------------------------------------------------------


def test_missing_trace_exits_2_from_run_and_compare(tmp_path):
    missing = tmp_path / "nope.trace"
    one_error_line(run_trace(missing), 2, f"{missing}: file: no such trace file")
    result = CliRunner().invoke(cli, ["compare", "--trace", str(missing)])
    one_error_line(result, 2, f"{missing}: file: no such trace file")


@pytest.mark.parametrize("command", [["run"], ["compare", "--trace"]])
def test_an_empty_trace_path_is_a_usage_error(command):
    result = CliRunner().invoke(cli, [*command, ""])
    one_error_line(result, 2, "an empty path names no file")


def test_overlong_file_name_is_refused_and_shortened(tmp_path):
    line = one_error_line(run_trace(tmp_path / ("a" * 300)), 2, "file: cannot open:", "too long")
    assert len(line) < 250 and "..." in line


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: tmp, "a directory"),
        (lambda tmp: (os.mkfifo(tmp / "fifo"), tmp / "fifo")[1], "not a regular file"),
        (lambda tmp: Path("/dev/zero"), "not a regular file"),
    ],
    ids=["directory", "fifo", "device"],
)
def test_directories_pipes_and_devices_are_refused_without_blocking(tmp_path, make, words):
    path = make(tmp_path)
    one_error_line(run_trace(path), 2, f"{path}: file: {words}")
    result = CliRunner().invoke(cli, ["compare", "--trace", str(path)])
    assert result.exit_code == 2


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_a_file_that_fails_to_read_names_the_os_error():
    one_error_line(run_trace(Path("/proc/self/mem")), 2, "file: cannot read: Input/output error")


def test_permission_denied_is_one_line(tmp_path, monkeypatch):
    path = write(tmp_path, "0 R 0x40\n")
    real_open = os.open

    def refuse(name, *args, **kw):
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(name, *args, **kw)

    monkeypatch.setattr(os, "open", refuse)
    one_error_line(run_trace(path), 2, "file: cannot open: Permission denied")


def test_a_bad_trace_file_writes_no_output_file(tmp_path):
    out = tmp_path / "cmds.csv"
    result = run_trace(tmp_path / "nope.trace", "--drampower", str(out))
    one_error_line(result, 2, "no such trace file")
    assert not out.exists()


# -- gzip ----------------------------------------------------------------------------------------


def _gzip_of_requests(n: int = 20_000) -> bytes:
    return gzip.compress(b"".join(b"%d R 0x%x\n" % (i, 64 * i) for i in range(n)))


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    plain = write(tmp_path, "0 R 0x40\n", "plain.trace.gz")
    packed = write(tmp_path, gzip.compress(b"0 R 0x40\n"), "packed.trace")
    for path in (plain, packed):
        chunks = list(read_trace(path))
        assert [int(a) for c in chunks for a in c.address] == [0x40]
    assert run_trace(packed).exit_code == 0


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda d: d[: len(d) // 2], "gzip: the gzip data ends early"),
        (lambda d: d[:40] + bytes(b ^ 0xFF for b in d[40:60]) + d[60:], "gzip: corrupt gzip data"),
        (lambda d: d + b"trailing garbage", "gzip: corrupt gzip data"),
        (lambda d: d[:-4] + b"\0\0\0\0", "gzip: corrupt gzip data"),  # the length field
    ],
    ids=["truncated", "flipped", "trailing-garbage", "bad-length"],
)
def test_damaged_gzip_is_one_line_exit_2(tmp_path, damage, words):
    path = write(tmp_path, damage(_gzip_of_requests()), "t.trace.gz")
    line = one_error_line(run_trace(path), 2, f"Error: {path}:", words)
    assert "Aborted" not in line


# -- the grammar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # item 2: '#' inside a token is not a comment, and the BBOP parser never indexes blindly
        ("0#1 BBOP not 0x80000 0x0 8192", "1: cycle: '0#1' is not a decimal integer"),
        ("0 BBOP", "1: line: expected '<cycle> BBOP <op> <dst> <src>... <size>', got 2"),
        ("0 BBOP # not 0x0 0x0 64", "1: line: expected '<cycle> BBOP <op>"),
        ("0 COPY 0x0", "1: line: copy takes a destination, 1 source(s) and a size"),
        # numbers are ASCII: decimal cycles, hex addresses, decimal or 0x-hex sizes
        ("0 BBOP not 0x80000 +0x0 8192", "1: src1: '+0x0' is not a hexadecimal integer"),
        ("0 BBOP not 0x80000 0x0 0o20000", "1: size: '0o20000' is not a decimal or 0x-hex"),
        ("0 BBOP not 0x80000 0x0 0b10000", "1: size: '0b10000' is not a decimal or 0x-hex"),
        ("0 BBOP not 0x80000 0x0 8_192", "1: size: '8_192' is not a decimal or 0x-hex"),
        ("0 BBOP not 0x80000 0x0 \uff18192", "1: size: '\uff18192' is not a decimal or"),
        ("\uff10 BBOP not 0x80000 0x0 8192", "1: cycle: '\uff10' is not a decimal integer"),
        ("-1 BBOP not 0x80000 0x0 8192", "1: cycle: '-1' is not a decimal integer"),
        ("0 BBOP not 0x80000 0x0 0x" + "f" * 17, "1: size: '0xfffff"),
        # the op is a built-in's plain name, never a path
        ("0 BBOP ../../../../tmp/x/evil 0x80000 0x0 8192", "1: op: '../../../../tmp/x/evil' is"),
        ("0 BBOP lib/not 0x80000 0x0 8192", "1: op: 'lib/not' is not a bulk operation"),
        ("0 BBOP not.pim 0x80000 0x0 8192", "1: op: 'not.pim' is not a bulk operation"),
        # request lines: the C parser
        ("1 R 0x40\n2 R +0x80", "2: address: '+0x80' is not a hexadecimal integer"),
        ("1" * 19 + " R 0x40", "1: cycle: '1111111111111111111' has more than 18 digits"),
        ("1 R 0x" + "f" * 17, "1: address: '0xfffffffffffffffff' is wider than 64 bits"),
        ("1 R 0x\x0040", "1: address: '0x\\x0040' is not a hexadecimal integer"),
        ("1 R 0x\xff40", "1: address: '0x\ufffd40' is not a hexadecimal integer"),
    ],
)
def test_strict_grammar_names_the_field(tmp_path, text, where):
    data = text.encode("latin-1" if "\xff" in text else "utf-8")  # latin-1: a raw 0xff byte
    path = write(tmp_path, data + b"\n")
    line = one_error_line(run_trace(path, "--format", "pimsim"), 1, f"Error: {path}:{where}")
    assert len(line) < 300


def test_a_path_as_op_never_reaches_the_file_system(tmp_path, monkeypatch):
    evil = tmp_path / "x" / "evil.pim"
    evil.parent.mkdir()
    evil.write_text("op not\nin A\nout B\nAAP A -> B\n")
    seen = []
    real_open = open

    def spy(name, *args, **kw):
        seen.append(str(name))
        return real_open(name, *args, **kw)

    monkeypatch.setattr("builtins.open", spy)
    relative = os.path.relpath(evil.with_suffix(""), TRACES.parent / "pimsim" / "programs" / "lib")
    path = write(tmp_path, f"0 BBOP {relative} 0x80000 0x0 8192\n")
    one_error_line(run_trace(path), 1, "op:", "is not a bulk operation")
    assert not [name for name in seen if "evil" in name]


def test_an_echoed_token_is_cut_short(tmp_path):
    path = write(tmp_path, "0 R 0x" + "g" * 5000 + "\n")
    line = one_error_line(run_trace(path), 1, "address: '0xgggg", "'... is not a hexadecimal")
    assert len(line) < len(str(path)) + 120


@pytest.mark.parametrize(
    "text",
    [
        "0 R 0x40 # a comment\n1 W 0x80 #tight\n2 R 0x40#not-a-comment\n",
        "0x40 READ 0 # c\n0x80 WRITE 1 #c\n0x40 READ 2#not-a-comment\n",
        "LD 0x40 # c\nST 0x80 #c\nLD 0x40#not-a-comment\n",
    ],
    ids=["pimsim", "dramsim3", "ramulator"],
)
def test_trailing_comments_work_on_every_line_of_every_format(tmp_path, text):
    """A '#' starts a comment at the start of a token only; inside a token it is an error."""
    path = write(tmp_path, text)
    one_error_line(run_trace(path), 1, f"{path}:3:", "-a-comment' is not")
    good = write(tmp_path, "".join(text.splitlines(keepends=True)[:2]), "good.trace")
    assert run_trace(good).exit_code == 0


def test_trailing_comment_on_a_bbop_line(tmp_path):
    path = write(tmp_path, f"{PIM_LINE} # invert\n1 R 0x80000 # read it\n")
    result = run_trace(path, "--json", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pim"]["ops"] == {"not": 1}


@pytest.mark.parametrize(
    "text", ["0 R 0x40\r\n1 W 0x80\r\n", "0x40 READ 0\n", "LD 0x40\n", f"{PIM_LINE}\n"]
)
def test_a_byte_order_mark_is_skipped_in_every_format(tmp_path, text):
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode())
    result = run_trace(path)
    assert result.exit_code == 0, result.output


def test_a_byte_order_mark_elsewhere_is_an_error(tmp_path):
    path = write(tmp_path, b"0 R 0x40\n\xef\xbb\xbf1 R 0x80\n")
    one_error_line(run_trace(path), 1, f"{path}:2: cycle:")


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"0 R 0x40\n" + b"1" * (MAX_LINE_BYTES + 10), 2),  # at the end, no newline
        (b"0 R 0x40\n" + b"# " * MAX_LINE_BYTES + b"\n1 R 0x80\n", 2),  # a comment too
        (b"0 R 0x40\n1 R 0x80\n" + b"\0" * 3_000_000, 3),  # across blocks
    ],
)
def test_an_overlong_line_is_an_error_naming_it(tmp_path, data, line):
    path = write(tmp_path, data)
    one_error_line(run_trace(path), 1, f"{path}:{line}: line: longer than {MAX_LINE_BYTES}")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "file: the trace has no requests"),
        (b"# only\n\n   \n# comments\n", "file: the trace has no requests"),
        (b"\xef\xbb\xbf", "file: the trace has no requests"),
        (b"# header\nhello world\n0 R 0x40\n", ":2: format: not a pimsim, DRAMSim3 or Ramulator"),
        (bytes(range(256)) * 4, ":1: format: not a pimsim"),
        (b"x" * (MAX_LINE_BYTES + 1), ":1: line: longer than"),
    ],
    ids=["empty", "comments", "bom-only", "garbage", "binary", "one-long-line"],
)
def test_a_file_that_is_not_a_trace_exits_2(tmp_path, data, words):
    path = write(tmp_path, data)
    one_error_line(run_trace(path), 2, f"Error: {path}", words)
    result = CliRunner().invoke(cli, ["compare", "--trace", str(path)])
    one_error_line(result, 2, words)


@pytest.mark.parametrize("fmt", ["pimsim", "dramsim3", "ramulator"])
def test_an_empty_trace_is_refused_with_a_forced_format_too(tmp_path, fmt):
    path = write(tmp_path, "# nothing\n")
    one_error_line(run_trace(path, "--format", fmt), 2, "the trace has no requests")


def test_cycles_may_go_backwards_requests_enter_in_file_order(tmp_path):
    path = write(tmp_path, "100 R 0x40\n5 R 0x80000\n")
    result = run_trace(path, "--json", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["requests"]["reads"] == 2


def test_gzip_damage_mid_stream_names_the_line_reached_and_exits_2(tmp_path):
    data = _gzip_of_requests(200_000)
    path = write(tmp_path, data[: len(data) * 3 // 4], "t.trace.gz")
    with pytest.raises(TraceFileError) as info:
        for _ in read_trace(path, fmt="pimsim", block_bytes=1 << 16):
            pass
    assert info.value.line > 1000 and isinstance(info.value, TraceError)
    line = one_error_line(run_trace(path, "--no-data"), 2, f"{path}:", "gzip: the gzip data ends")
    assert int(line.split(":")[2]) > 1000


# -- fuzz ----------------------------------------------------------------------------------------

SOURCES = {
    "pimsim": (
        "# pimsim trace\n0 W 0x0\n1 W 0x40\n2 R 0x40000\n10 BBOP and 0x80000 0x0 0x40000 8192\n"
        "20 R 0x80000\n30 BBOP not 0xc0000 0x80000 0x2000\n40 COPY 0x100000 0xc0000 8192\n"
        "60 BBOP xor 0x200000 0x0 0x40000 4096\n70 W 0x300000\n"
    ),
    "dramsim3": "0x40 READ 0\n0x80 WRITE 3\n0x2000 READ 7\n0x1000040 WRITE 9\n0x40 READ 20\n",
    "ramulator": "LD 0x40\nST 0x80\nLD 0x2000\nST 0x1000040\nLD 0x40\n",
    "zero-one": "0 W 0x80000\n5 BBOP zero 0x80000 8192\n9 BBOP one 0xc0000 0x2000\n12 R 0xc0000\n",
}
ALPHABET = b"0123456789abcdefxX RWBOPCYLDST#\t\r\n\x0b\x0c\x00\xff\xef\xbb\xbf-+_."
HUGE = [
    *(b"9" * 19, b"18446744073709551616", b"0x" + b"f" * 17, b"9" * 40, b"0x" + b"1" * 40),
    *(b"0xffffffffffffffc0", b"0x400000000", b"99999999", b"0"),  # fit, but beyond the memory
]
CASE_SECONDS = 20  # per case, generous for a loaded machine
RUN = ["run", "TRACE", "--no-data"]  # the command line of a case
COMPARE = ["compare", "--trace", "TRACE"]  # that of every COMPARE_EVERY-th case
COMPARE_EVERY = 5


def _sample_head() -> str:
    return "".join((TRACES / "sample.trace").read_text().splitlines(keepends=True)[:60])


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """One to three random edits: bytes flipped, inserted or deleted, a field duplicated or
    made huge, odd blanks, CR LF endings, lines dropped or repeated, a cut."""
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(data) + 1)
        edit = rng.randrange(9)
        if edit == 0 and data:
            pos = min(pos, len(data) - 1)
            data = data[:pos] + bytes([data[pos] ^ (1 << rng.randrange(8))]) + data[pos + 1 :]
        elif edit == 1:
            data = data[:pos] + bytes([rng.choice(ALPHABET)]) + data[pos:]
        elif edit == 2:
            data = data[:pos] + data[pos + rng.randint(1, 4) :]
        elif edit in (3, 4):
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            tokens = lines[i].split(b" ")
            j = rng.randrange(len(tokens))
            tokens.insert(j, tokens[j] if edit == 3 else rng.choice(HUGE))
            if edit == 4:
                del tokens[j + 1]
            lines[i] = b" ".join(tokens)
            data = b"\n".join(lines)
        elif edit == 5:
            data = data.replace(b" ", rng.choice([b"\t", b"  ", b" \x0b", b"\x0c", b"\xc2\xa0"]))
        elif edit == 6:
            data = data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n"]))
        elif edit == 7:
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            lines[i : i + 1] = rng.choice([[], [lines[i]] * 2, [lines[i] * 50]])
            data = b"\n".join(lines)
        else:
            data = data[:pos]
    return data


def fuzz_cases(seed: int, count: int) -> list[tuple[str, bytes]]:
    """``count`` mutated traces of every format (some gzip, some gzip then damaged)."""
    rng = random.Random(seed)
    sources = [*SOURCES.values(), _sample_head()]
    cases = []
    for i in range(count):
        data = _mutate(rng, rng.choice(sources).encode())
        name = f"case{i:04d}.trace"
        if rng.random() < 0.15:
            data, name = gzip.compress(data, mtime=0), name + ".gz"
            if rng.random() < 0.5:
                data = _mutate(rng, data)
        cases.append((name, data))
    return cases


def drive(case_dir: str, seconds: int) -> None:
    """Run ``pimsim run`` (or ``compare --trace``) on every file of ``case_dir`` in this
    process, each under an alarm of ``seconds``, and print one JSON line per case (called
    in a child process with an address-space cap)."""
    import signal

    class Hang(Exception):
        pass

    def alarm(*_):
        raise Hang

    signal.signal(signal.SIGALRM, alarm)
    for i, path in enumerate(sorted(Path(case_dir).iterdir())):
        command = COMPARE if i % COMPARE_EVERY == COMPARE_EVERY - 1 else RUN
        signal.alarm(seconds)
        result = CliRunner().invoke(cli, [str(path) if a == "TRACE" else a for a in command])
        signal.alarm(0)
        exc = result.exception
        crash = type(exc).__name__ if exc and not isinstance(exc, SystemExit) else None
        print(json.dumps([path.name, result.exit_code, crash, result.output[-2000:]]), flush=True)


def run_fuzz(tmp_path: Path, seed: int, count: int) -> list[str]:
    """Problems found over ``count`` fuzzed traces (empty: none)."""
    cases = dict(fuzz_cases(seed, count))
    for name, data in cases.items():
        write(tmp_path, data, name)
    code = (
        "import resource, sys; "
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)); "
        f"sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import test_bad_trace; test_bad_trace.drive({str(tmp_path)!r}, {CASE_SECONDS})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=count * 30
    )
    assert out.returncode == 0, out.stderr[-3000:]
    problems = []
    for row in out.stdout.splitlines():
        name, status, crash, output = json.loads(row)
        lines = output.strip().splitlines()
        if crash or status not in (0, 1, 2) or "Traceback" in output or "Aborted" in output:
            problems.append(f"{name}: exit {status}, {crash}: {output[-300:]!r}")
        elif status and not (len(lines) == 1 and lines[0].startswith("Error: ")):
            problems.append(f"{name}: exit {status} without one error line: {output[-300:]!r}")
    assert len(out.stdout.splitlines()) == count
    return problems


def test_fuzzed_traces_give_one_line_or_a_result(tmp_path):
    assert run_fuzz(tmp_path, seed=10, count=200) == []


@pytest.mark.slow
def test_fuzzed_traces_give_one_line_or_a_result_many(tmp_path):
    assert run_fuzz(tmp_path, seed=1010, count=2000) == []


@pytest.mark.parametrize(
    ("line", "fmt"), [(b"LD 0", "ramulator"), (b"0 R 0", "pimsim"), (b"0 READ 0", "dramsim3")]
)
@pytest.mark.parametrize("newline", [True, False])
def test_blocks_of_the_shortest_lines_fill_the_arrays_exactly(tmp_path, line, fmt, newline):
    """The C parser sizes its arrays from the block's bytes (a request line takes at least 5
    with its newline); the shortest lines of each format, the last without a newline, fit."""
    text = b"\n".join([line] * 1001) + (b"\n" if newline else b"")
    path = write(tmp_path, text)
    for block_bytes in (5, 64, 1 << 20):
        chunks = list(read_trace(path, fmt=fmt, block_bytes=block_bytes))
        assert sum(len(c) for c in chunks) == 1001
