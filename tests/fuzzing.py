"""Malformed-input fuzzing of the whole command line: case generators and a guarded runner.

A *case* is the argument list of one ``pimsim`` command (with the files it names, written
under a scratch folder) and whether the input is known to be invalid. Cases are generated
from a seed by mutating valid inputs of each kind: traces in the three formats (plain and
gzip), configuration files and ``-p`` overrides, ``.pim`` programs, and command-line options.
Two kinds of mutation:

- random ones (bytes flipped, inserted, deleted; lines duplicated, swapped, cut; tokens
  replaced): the input may or may not still be valid;
- *poison* ones, which put a token into a field that no field of that kind accepts (``+0x0``,
  ``8_192``, full-width digits, a path as an operation, a huge number, a negative size): the
  input is invalid, so exit 0 is a silent wrong answer.

:func:`run_cases` runs the cases in a worker process under an address-space cap, one
in-process ``CliRunner`` call each, watching every case with a wall-clock bound from the
parent (a hang inside compiled code cannot catch a signal), and restarts the worker after a
hang or a crash. Every outcome is checked by :func:`problems`.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import resource
import selectors
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMORY_CAP_BYTES = 4 << 30  # address space of the worker process
LONGEST_ERROR_LINE = 400  # characters

#: Tokens that no numeric, operation or name field accepts, whatever the format.
POISON = [
    "+0x0",
    "0o20000",
    "8_192",
    "\uff18\uff11\uff19\uff12",  # full-width digits
    "-1",
    "1.5",
    "0x" + "f" * 17,
    "9" * 40,
    "nan",
    "../../../../tmp/evil",
    "\x00",
    "x" * 5000,
]


@dataclass
class Case:
    """One command line to run, and whether its input is known to be invalid."""

    kind: str
    args: list[str]
    invalid: bool = False
    note: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # name -> content, under the folder


# ---------------------------------------------------------------- mutations of text


def _mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """One random byte-level or line-level change."""
    lines = data.split(b"\n")
    choice = rng.randrange(9)
    if choice == 0 and data:  # flip a byte
        i = rng.randrange(len(data))
        return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
    if choice == 1:  # insert random bytes
        i = rng.randrange(len(data) + 1)
        return data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[i:]
    if choice == 2 and data:  # delete a range
        i = rng.randrange(len(data))
        return data[:i] + data[i + rng.randint(1, 16) :]
    if choice == 3:  # duplicate a line
        i = rng.randrange(len(lines))
        return b"\n".join(lines[: i + 1] + lines[i:])
    if choice == 4 and len(lines) > 1:  # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if choice == 5:  # cut the file
        return data[: rng.randrange(len(data) + 1)]
    if choice == 6:  # CR LF, tabs, a BOM
        return rng.choice(
            [data.replace(b"\n", b"\r\n"), data.replace(b" ", b"\t"), b"\xef\xbb\xbf" + data]
        )
    if choice == 7:  # a field doubled or dropped
        i = rng.randrange(len(lines))
        words = lines[i].split()
        if words:
            j = rng.randrange(len(words))
            words = words[:j] + words[j:][1:] if rng.random() < 0.5 else words + [words[j]]
        lines[i] = b" ".join(words)
        return b"\n".join(lines)
    return _replace_token(rng, data, rng.choice(POISON + ["0", "1", "0x40", "R", "zz"]))


def _replace_token(rng: random.Random, data: bytes, token: str, *, skip_comments=True) -> bytes:
    """``data`` with one whitespace-separated token of a non-comment line replaced."""
    lines = data.split(b"\n")
    candidates = [
        i
        for i, line in enumerate(lines)
        if line.split() and not (skip_comments and line.split()[0].startswith(b"#"))
    ]
    if not candidates:
        return data
    i = rng.choice(candidates)
    words = lines[i].split()
    # never the text after a '#' (a comment may hold anything)
    limit = next((k for k, w in enumerate(words) if w.startswith(b"#")), len(words))
    words[rng.randrange(max(1, limit))] = token.encode()
    lines[i] = b" ".join(words)
    return b"\n".join(lines)


# ---------------------------------------------------------------- traces

TRACES = {
    "pimsim": b"# cycle op address\n0 R 0x0\n5 W 0x40\n9 R 0x1000\n12 W 0x2000c0\n20 R 0x40\n",
    "pim-bulk": (
        b"0 W 0x80000\n4 BBOP and 0x100000 0x80000 0xc0000 8192\n8 COPY 0x200000 0x100000 8192\n"
        b"9 BBOP not 0x300000 0x100000 8192\n30 R 0x100000\n"
    ),
    "dramsim3": b"0x0 READ 0\n0x40 WRITE 3\n0x1000 READ 7\n0x2000c0 WRITE 9\n",
    "ramulator": b"LD 0x0\nST 0x40\nLD 0x1000\nST 0x2000c0\nLD 0x40\n",
}


def trace_cases(rng: random.Random, n: int) -> list[Case]:
    """``pimsim run`` (and now and then ``compare --trace``) on mutated traces."""
    cases = []
    for k in range(n):
        fmt = rng.choice(list(TRACES))
        data, invalid = TRACES[fmt], False
        if rng.random() < 0.35:
            token = rng.choice(POISON)
            data, invalid = _replace_token(rng, data, token), True
            note = f"poison {token[:12]!r}"
        else:
            for _ in range(rng.randint(1, 3)):
                data = _mutate_bytes(rng, data)
            note = "mutated"
        name = f"t{k}.trace"
        if rng.random() < 0.2:  # gzip, sometimes damaged
            data, name = gzip.compress(data), name + ".gz"
            if rng.random() < 0.5:
                data, invalid = _mutate_bytes(rng, data), invalid
                note += ", damaged gzip"
        command = ["run", "{dir}/" + name]
        if fmt == "pim-bulk" and rng.random() < 0.3:
            command = ["compare", "--trace", "{dir}/" + name]
        elif rng.random() < 0.5:
            command.append("--no-data")
        cases.append(Case(f"trace:{fmt}", command, invalid, note, {name: data}))
    return cases


# ---------------------------------------------------------------- configurations

CONFIG_KEYS = [
    "timing.nRCD",
    "timing.nFAW",
    "timing.nREFI",
    "timing.nRFC",
    "timing.nWTR_L",
    "timing.tRAS",
    "timing.tCK",
    "organisation.channels",
    "organisation.ranks",
    "organisation.rows",
    "organisation.columns",
    "organisation.device_width",
    "organisation.devices_per_rank",
    "controller.read_queue",
    "controller.refresh",
    "pim.rows_per_subarray",
    "description",
]
VALUES = [
    "0",
    "1",
    "-1",
    "3",
    "7",
    "1024",
    "4294967296",
    "18446744073709551616",
    "1e400",
    "5.0e-324",
    "nan",
    "true",
    "abc",
    "[1, 2]",
    "{a: 1}",
    "null",
    "[" * 300 + "]" * 300,
    "&a [*a]",
]
PLAUSIBLE = ["1", "2", "4", "8", "14", "16", "20", "64", "512", "1024", "2048", "true", "false"]
TINY_TRACE = b"0 R 0x0\n3 W 0x40\n"


def config_cases(rng: random.Random, n: int) -> list[Case]:
    """``configs show`` and ``run`` under mutated ``-p`` overrides and YAML files; a key that
    does not exist or a value that is no number for a number key is a poison."""
    cases = []
    for k in range(n):
        preset = rng.choice(["ddr4-2400", "ddr3-1600", "ddr3-1066"])
        params, invalid, files = [], False, {"tiny.trace": TINY_TRACE}
        settings = {}
        for key in rng.sample(CONFIG_KEYS, rng.randint(1, 3)):
            value = rng.choice(VALUES if rng.random() < 0.5 else PLAUSIBLE)
            if rng.random() < 0.15 and "." in key:
                key, invalid = key + "_typo", True
            if key.startswith("timing.n") and value in ("abc", "-1", "[1, 2]", "{a: 1}"):
                invalid = True
            settings[key] = value
            params += ["-p", f"{key}={value}"]
        source = ["--config", preset]
        if rng.random() < 0.3:  # the same as a YAML file, maybe damaged
            sections: dict[str, list[str]] = {}
            for key, value in settings.items():
                section, _, name = key.partition(".")
                sections.setdefault(section, []).append(f"  {name}: {value}\n" if name else value)
            text = f"preset: {preset}\n" + "".join(
                f"{section}:\n{''.join(lines)}" if lines[0].startswith("  ") else ""
                for section, lines in sections.items()
            )
            data = text.encode()
            if rng.random() < 0.5:
                data, invalid = _mutate_bytes(rng, data), False
            files[f"c{k}.yaml"] = data
            source, params = ["--config", f"{{dir}}/c{k}.yaml"], []
        show = ["configs", "show", source[1], *params]
        run = ["run", "{dir}/tiny.trace", *source, *params]
        cases.append(Case("config:show", show, invalid, " ".join(params)[:80], files))
        cases.append(Case("config:run", run, invalid, " ".join(params)[:80], files))
    return cases


# ---------------------------------------------------------------- µprograms

PROGRAM_TOKENS = ["B0", "B5", "B12", "B16", "C0", "C1", "C2", "T0", "DCC0", "Di", "Dj", "Dk", "->"]


def program_cases(rng: random.Random, n: int) -> list[Case]:
    """``pimsim program FILE.pim`` on mutated shipped programs; writing C1 or naming an
    undefined row is a poison."""
    lib = sorted((ROOT / "pimsim" / "programs" / "lib").glob("*.pim"))
    cases = []
    for k in range(n):
        data, invalid = rng.choice(lib).read_bytes(), False
        roll = rng.random()
        if roll < 0.2:
            data, invalid, note = data + b"\nAAP C0 -> C1\n", True, "writes C1"
        elif roll < 0.35:
            data, invalid, note = data + b"\nAAP Nowhere -> B0\n", True, "undefined row"
        else:
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.5:
                    data = _replace_token(rng, data, rng.choice(PROGRAM_TOKENS + POISON))
                else:
                    data = _mutate_bytes(rng, data)
            note = "mutated"
        name = f"p{k}.pim"
        cases.append(
            Case(
                "program",
                ["program", "{dir}/" + name, "--size", "8KiB"],
                invalid,
                note,
                {name: data},
            )
        )
    return cases


# ---------------------------------------------------------------- options

OPTION_VALUES = {
    "--size": (
        ["8KiB", "16KiB", "8192"],
        ["\uff18KiB", "0", "-8KiB", "1.5KiB", "8XB", "", "10" * 20],
    ),
    "--banks": (["1", "2", "8"], ["0", "-1", "1048576", "x", ""]),
    "--ranks": (["1", "2"], ["0", "1048576", "1024x", ""]),
    "--seed": (["0", "7"], ["-1", "18446744073709551616", "z"]),
    "--ops": (["not", "and,xor", "copy"], ["", "nope", "not,,and", "../x"]),
    "--json": (["{dir}/out.json", "-"], ["", "/dev/full", "{dir}/missing/x.json", "{dir}"]),
    "--plot": (["{dir}/p.png"], ["", "{dir}/p.xyz", "{dir}"]),
    "--csv": (["{dir}/o.csv"], ["", "{dir}/nope/o.csv"]),
}
COMMAND_OPTIONS = {
    "compare": ["--size", "--banks", "--ranks", "--ops", "--json", "--plot", "--csv"],
    "program": ["--size", "--seed", "--json"],
}


def option_cases(rng: random.Random, n: int) -> list[Case]:
    """``compare`` and ``program`` with random option values; one bad value is a poison."""
    cases = []
    for _ in range(n):
        command = rng.choice(list(COMMAND_OPTIONS))
        args = [command] if command == "compare" else [command, rng.choice(["not", "and"])]
        invalid, notes = False, []
        options = rng.sample(COMMAND_OPTIONS[command], rng.randint(1, 3))
        if command == "compare" and "--size" not in options:
            options.append("--size")
        for option in options:
            good, bad = OPTION_VALUES[option]
            if rng.random() < 0.4:
                value, invalid = rng.choice(bad), True
                notes.append(f"{option}={value[:12]!r}")
            else:
                value = rng.choice(good)
                if command == "compare" and option == "--size":
                    value = "8KiB"
            args += [option, value]
        cases.append(Case(f"option:{command}", args, invalid, " ".join(notes)))
    return cases


def all_cases(seed: int, per_kind: int) -> list[Case]:
    """Cases of every kind from one seed."""
    rng = random.Random(seed)
    return (
        trace_cases(rng, per_kind)
        + config_cases(rng, per_kind // 2)
        + program_cases(rng, per_kind)
        + option_cases(rng, per_kind)
    )


# ---------------------------------------------------------------- running


@dataclass
class Outcome:
    """What one case did: exit code (None: hung or crashed the worker), output, seconds."""

    case: Case
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    failure: str = ""  # "hang", "crash", or a Python exception's type


def _worker(requests: str) -> None:
    """Run the cases given as JSON lines in the file ``requests``; report each as JSON lines
    on stdout."""
    import time

    from click.testing import CliRunner

    from pimsim.cli.main import cli

    out = sys.stdout
    for line in Path(requests).read_text().splitlines():
        request = json.loads(line)
        print(json.dumps({"start": request["index"]}), file=out, flush=True)
        started = time.monotonic()
        result = CliRunner().invoke(cli, request["args"], catch_exceptions=True)
        failure = ""
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            failure = type(result.exception).__name__
        print(
            json.dumps(
                {
                    "index": request["index"],
                    "exit_code": result.exit_code,
                    "stdout": result.stdout[-2000:],
                    "stderr": result.stderr[-4000:],
                    "failure": failure,
                    "seconds": time.monotonic() - started,
                }
            ),
            file=out,
            flush=True,
        )


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))


def _args(case: Case, folder: Path) -> list[str]:
    return [a.replace("{dir}", str(folder)) for a in case.args]


def run_cases(cases: list[Case], folder: Path, seconds_per_case: float) -> list[Outcome]:
    """Run every case in a capped worker process; a case that takes longer than
    ``seconds_per_case`` is a hang (the worker is killed and a new one takes the rest)."""
    for case in cases:
        for name, content in case.files.items():
            (folder / name).write_bytes(content)
    outcomes: dict[int, Outcome] = {}
    pending = list(range(len(cases)))
    while pending:
        requests = folder / "requests.jsonl"  # a file, not a pipe: no deadlock on big batches
        requests.write_text(
            "".join(
                json.dumps({"index": i, "args": _args(cases[i], folder)}) + "\n" for i in pending
            )
        )
        worker = subprocess.Popen(
            [sys.executable, "-c", f"import fuzzing; fuzzing._worker({str(requests)!r})"],
            cwd=ROOT / "tests",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=_cap_memory,
            env={**os.environ, "PYTHONPATH": str(ROOT / "tests"), "COLUMNS": "120"},
        )
        selector = selectors.DefaultSelector()
        selector.register(worker.stdout, selectors.EVENT_READ)
        current, stalled = None, False
        # the first case also pays for the imports
        bound = seconds_per_case + 20
        while True:
            if not selector.select(timeout=bound):
                stalled = True
                break
            line = worker.stdout.readline()
            if not line:
                break
            message = json.loads(line)
            if "start" in message:
                current = message["start"]
                continue
            bound = seconds_per_case
            index = message["index"]
            outcomes[index] = Outcome(
                cases[index],
                message["exit_code"],
                message["stdout"],
                message["stderr"],
                message["seconds"],
                message["failure"],
            )
            current = None
        worker.kill()
        worker.wait()
        worker.stdout.close()
        selector.close()
        if current is not None:
            outcomes[current] = Outcome(
                cases[current], None, failure="hang" if stalled else "crash"
            )
        pending = [i for i in pending if i not in outcomes]
    return [outcomes[i] for i in range(len(cases))]


def problems(outcome: Outcome) -> list[str]:
    """Every way the outcome breaks the input contract (empty: it kept it)."""
    found = []
    if outcome.failure:
        found.append(f"{outcome.failure}: {outcome.stderr[-300:]!r}")
        return found
    text = outcome.stdout + outcome.stderr
    if "Traceback" in text:
        found.append("traceback")
    if outcome.exit_code not in (0, 1, 2):
        found.append(f"exit {outcome.exit_code}")
    if outcome.exit_code == 0 and outcome.case.invalid:
        found.append("exit 0 on an invalid input")
    if outcome.exit_code:
        lines = [line for line in outcome.stderr.splitlines() if line.strip()]
        if not lines or not lines[-1].startswith("Error:"):
            found.append(f"no 'Error:' line: {outcome.stderr[-200:]!r}")
        elif len(lines[-1]) > LONGEST_ERROR_LINE:
            found.append(f"error line of {len(lines[-1])} characters")
    return found
