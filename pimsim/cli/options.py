"""Options the subcommands share, and the one way they turn pimsim errors into exit codes.

Exit codes (DESIGN.md): 0 success, 2 bad usage or bad input (configuration, trace, program,
option, output path), 1 an error during simulation (or an output that fails when written),
130 Ctrl-C (after the work done so far is reported). An error prints one line,
``Error: <message>``, on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

import click

from pimsim.ambit.bulk import BulkError
from pimsim.compare import CompareError
from pimsim.config import Config, Override, list_presets, load_config
from pimsim.config.schema import value_range
from pimsim.errors import ClusterError, ConfigError, PimsimError
from pimsim.outputs import OutputError, atomic_open, check_output_path
from pimsim.programs.parse import ProgramError, echo
from pimsim.results.energy import DEFAULT_PROFILE, PROFILES, EnergyProfileError
from pimsim.sim import TraceRangeError
from pimsim.tracefile import TraceFileError

F = TypeVar("F", bound=Callable)

#: Errors in how pimsim was asked to run (exit 2): a bad configuration, program, comparison,
#: bulk operation set-up, energy profile, a trace file that cannot be read as a trace, or a
#: trace cycle beyond the simulator's range, a Dask cluster that cannot be reached (output
#: paths are checked as options, exit 2).
#: Any other PimsimError, a malformed line inside a readable trace included, is an error
#: found while simulating (exit 1), as is an output file that fails when written.
USAGE_ERRORS = (
    ConfigError,
    ProgramError,
    CompareError,
    BulkError,
    EnergyProfileError,
    TraceFileError,
    TraceRangeError,
    ClusterError,
)

#: Exit status after Ctrl-C (the shell's 128 + SIGINT), once the work done is reported.
INTERRUPTED = 130


class PimsimFailure(click.ClickException):
    """A PimsimError reported as one ``Error: <message>`` line with its exit code."""

    def __init__(self, error: PimsimError) -> None:
        super().__init__(" ".join(str(error).splitlines()))
        self.exit_code = 2 if isinstance(error, USAGE_ERRORS) else 1


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a PimsimError raised inside the block into a one-line click error."""
    try:
        yield
    except PimsimError as error:
        raise PimsimFailure(error) from None


def set_verbosity(verbose: int, quiet: bool) -> None:
    """Log level of the ``pimsim`` logger: -q errors only, -v info, -vv debug."""
    levels = {0: logging.WARNING, 1: logging.INFO}
    logger = logging.getLogger("pimsim")
    logger.setLevel(logging.ERROR if quiet else levels.get(verbose, logging.DEBUG))


def verbosity_options(func: F) -> F:
    """Add ``-v/--verbose`` and ``-q/--quiet`` to a subcommand: they work after it as well
    as before it (given after, they win)."""

    def verbose(_ctx: click.Context, _param: click.Parameter, count: int) -> None:
        if count:
            set_verbosity(count, False)

    def quiet(_ctx: click.Context, _param: click.Parameter, flag: bool) -> None:
        if flag:
            set_verbosity(0, True)

    func = click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=quiet, help="Errors only."
    )(func)
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=verbose,
        help="More messages on stderr (-vv: debug).",
    )(func)


class IntRange(click.IntRange):
    """click.IntRange for integers written in ASCII decimal digits only (``int()`` would
    also take full-width digits, ``1_000`` and surrounding spaces)."""

    _DIGITS = re.compile(r"[+-]?[0-9]{1,30}", re.ASCII)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not self._DIGITS.fullmatch(value):
            self.fail(f"{echo(value)} is not an integer in decimal digits", param, ctx)
        return super().convert(value, param, ctx)


#: Units of ``--size`` (case-insensitive), in bytes.
SIZE_UNITS = {
    "": 1,
    "B": 1,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
    "TIB": 1 << 40,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
}

#: Largest ``--size`` accepted (bytes); what fits is then checked against the memory.
MAX_SIZE = 1 << 40

_SIZE = re.compile(r"[ \t]*([0-9]{1,16})[ \t]*([A-Za-z]{0,3})[ \t]*", re.ASCII)


def given_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for an input path: an empty one is a usage error (exit 2), not the
    current directory."""
    if value is not None and not value.strip():
        raise click.BadParameter("an empty path names no file", ctx=ctx, param=param)
    return value


def parse_size(text: str) -> int:
    """Bytes in a size such as ``32MiB``, ``4KiB`` or ``8192`` (ASCII digits, 1 B..1 TiB)."""
    match = _SIZE.fullmatch(text)
    if not match or match.group(2).upper() not in SIZE_UNITS:
        raise click.BadParameter(f"{echo(text)} is not a size like 8192, 4KiB or 32MiB")
    size = int(match.group(1)) * SIZE_UNITS[match.group(2).upper()]
    if not 0 < size <= MAX_SIZE:
        raise click.BadParameter(f"{echo(text)} is not between 1 byte and 1 TiB")
    return size


#: Bounds of ``--banks`` (per rank) and ``--ranks`` (per channel), the configuration's own;
#: the configuration then says how many it has.
MAX_RANKS = int(value_range("organisation.ranks")[1])
MAX_BANKS = int(
    value_range("organisation.bankgroups")[1] * value_range("organisation.banks_per_group")[1]
)


def banks_option(what: str) -> Callable[[F], F]:
    """Add ``--banks N``: banks per rank used by ``what`` (default: all)."""
    return click.option(
        "--banks",
        type=IntRange(1, MAX_BANKS),
        metavar="N",
        help=f"Banks per rank {what} (default: all).",
    )


def ranks_option(what: str) -> Callable[[F], F]:
    """Add ``--ranks N`` (sets organisation.ranks)."""
    return click.option(
        "--ranks",
        type=IntRange(1, MAX_RANKS),
        metavar="N",
        help=f"Ranks per channel (sets organisation.ranks{what}).",
    )


def size_option(default: str, help: str) -> Callable[[F], F]:
    """Add ``--size SIZE`` (bytes, parsed by :func:`parse_size`)."""
    return click.option(
        "--size",
        default=default,
        show_default=True,
        metavar="SIZE",
        callback=lambda _ctx, _param, value: parse_size(value),
        help=help,
    )


def output_option(
    *decls: str,
    metavar: str = "PATH",
    help: str,
    check: Callable[[str], object] | None = None,
) -> Callable[[F], F]:
    """Add an output file option (``PATH|-`` in ``metavar`` also accepts stdout), refused
    before any work if it cannot be written (:func:`pimsim.outputs.check_output_path`) or if
    ``check(path)`` raises ValueError."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None or (value == "-" and "-" in metavar):
            return value
        try:
            check_output_path(value)
            if check is not None:
                check(value)
        except (OutputError, ValueError) as error:
            raise click.BadParameter(str(error), ctx, param) from None
        return value

    return click.option(*decls, metavar=metavar, callback=callback, help=help)


def json_option(func: F) -> F:
    """Add ``--json PATH|-`` (the stats document; ``-``: stdout, the summary to stderr)."""
    return output_option(
        "--json",
        "json_path",
        metavar="PATH|-",
        help="Write the results as JSON to PATH; '-' writes them to stdout and the summary "
        "to stderr.",
    )(func)


def param_option(func: F) -> F:
    """Add the repeatable ``-p/--param KEY=VALUE`` configuration override."""
    return click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override one configuration value, e.g. -p timing.nRCD=20 or -p timing.tRAS=32 "
        "(ns, rounded up to cycles). Repeatable; applied after --config.",
    )(func)


def energy_profile_option(func: F) -> F:
    """Add ``--energy-profile NAME`` (pimsim.results.energy.PROFILES)."""
    return click.option(
        "--energy-profile",
        "energy_profile",
        type=click.Choice(tuple(PROFILES)),
        default=DEFAULT_PROFILE,
        show_default=True,
        help="Energy calibration: datasheet currents, or the constants of Ambit's table.",
    )(func)


def config_options(func: F) -> F:
    """Add ``--config NAME|PATH`` (a preset or a YAML file) and ``-p/--param KEY=VALUE``."""
    func = param_option(func)
    return click.option(
        "--config",
        "config",
        metavar="NAME|PATH",
        default=None,
        help="Preset name (see 'pimsim configs') or YAML file; default ddr4-2400.",
    )(func)


def distinct_files(inputs: dict[str, str | None], outputs: dict[str, str | None]) -> None:
    """Usage error (exit 2, before any work) if an output option names the file of an input
    (it would be overwritten) or of another output (one would silently replace the other).
    Both map what the user wrote (``TRACE``, ``--json``) to a path or None; ``-``, devices and
    a ``--config`` that names a preset are no files."""
    if inputs.get("--config") in list_presets():
        inputs = {**inputs, "--config": None}
    seen: dict[tuple, str] = {}
    for is_output, paths in ((False, inputs), (True, outputs)):
        for name, path in paths.items():
            key = None if path in (None, "-") else _file_identity(path)
            if key is None:
                continue
            if is_output and key in seen:
                fix = "it would overwrite the input" if seen[key] in inputs else "give each its own"
                raise click.UsageError(
                    f"{name} and {seen[key]} name the same file {echo(path)}: {fix}"
                )
            seen.setdefault(key, name)


def _file_identity(path: str) -> tuple | None:
    """What identifies the file ``path`` names: device and inode of an existing regular file,
    the resolved path of one still to be made; None for anything else (a device such as
    /dev/null may take several outputs) or a path that cannot be looked at (its own check
    reports that)."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return ("new", os.path.realpath(path))
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None


def load_config_or_fail(config: str | None, params: Sequence[Override]) -> Config:
    """The resolved configuration; a bad one exits 2 with a one-line error."""
    with reported_errors():
        return load_config(config, params)


#: Set by :func:`captured_outputs` while a sweep runs a command in-process (per thread).
_CAPTURE: ContextVar[list[dict] | None] = ContextVar("pimsim_captured_docs", default=None)


@contextmanager
def captured_outputs() -> Iterator[list[dict]]:
    """Within the block, :func:`write_outputs` prints nothing and appends its stats document
    to the yielded list instead (how ``pimsim sweep`` runs one point of a command)."""
    docs: list[dict] = []
    token = _CAPTURE.set(docs)
    try:
        yield docs
    finally:
        _CAPTURE.reset(token)


def write_outputs(doc: dict, summary: str, json_path: str | None) -> None:
    """Print the summary (text or a table); with ``--json -`` it goes to stderr and the JSON
    to stdout. The JSON file is written whole or not at all (exit 1 if that fails). Inside
    :func:`captured_outputs`, the document is only kept."""
    captured = _CAPTURE.get()
    if captured is not None:
        captured.append(doc)
        return
    if json_path == "-":
        click.echo(summary, err=True)
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(summary)
    if json_path:
        write_file(json_path, lambda fh: json.dump(doc, fh, indent=2))


def write_file(path: str | Path, write: Callable, mode: str = "w") -> None:
    """``write(fh)`` into ``path`` atomically; a failure is one error line (exit 1)."""
    with reported_errors(), atomic_open(path, mode) as fh:
        write(fh)
