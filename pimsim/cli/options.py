"""Options the subcommands share, and the one way they turn pimsim errors into exit codes.

Exit codes (DESIGN.md): 0 success, 2 bad usage or bad input (configuration, trace), 1 an
error during simulation. An error prints one line, ``Error: <message>``, on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import click

from pimsim.compare import CompareError
from pimsim.config import Config, load_config
from pimsim.energy import DEFAULT_PROFILE, PROFILES, EnergyProfileError
from pimsim.errors import ConfigError, PimsimError
from pimsim.sim import TraceRangeError

F = TypeVar("F", bound=Callable)

#: Errors in how pimsim was asked to run (exit 2): a bad configuration, comparison or energy
#: profile, a trace cycle beyond the simulator's range. Any other PimsimError, a malformed
#: trace line included, is an error found while simulating (exit 1).
USAGE_ERRORS = (ConfigError, CompareError, EnergyProfileError, TraceRangeError)


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
    """Add ``--energy-profile NAME`` (pimsim.energy.PROFILES)."""
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


def load_config_or_fail(config: str | None, params: Sequence[str]) -> Config:
    """The resolved configuration; a bad one exits 2 with a one-line error."""
    with reported_errors():
        return load_config(config, params)


def write_outputs(doc: dict, summary: str, json_path: str | None) -> None:
    """Print the summary (text or a table); with ``--json -`` it goes to stderr and the JSON
    to stdout."""
    if json_path == "-":
        click.echo(summary, err=True)
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(summary)
    if json_path:
        try:
            with open(json_path, "w") as fh:
                json.dump(doc, fh, indent=2)
        except OSError as exc:
            raise click.ClickException(
                f"{json_path}: cannot write the stats: {exc.strerror}"
            ) from None
