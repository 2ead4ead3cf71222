"""Options the subcommands share, and the one way they turn pimsim errors into exit codes.

Exit codes (DESIGN.md): 0 success, 2 bad usage or bad input (configuration, trace), 1 an
error during simulation. An error prints one line, ``Error: <message>``, on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import click

from pimsim.config import Config, load_config
from pimsim.errors import ConfigError, PimsimError

F = TypeVar("F", bound=Callable)

#: Errors in how pimsim was asked to run (exit 2). Any other PimsimError, a malformed trace
#: line included, is an error found while simulating (exit 1).
USAGE_ERRORS = (ConfigError,)


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
