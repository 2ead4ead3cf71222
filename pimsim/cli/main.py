"""The ``pimsim`` command group: global options, and the subcommands it registers."""

from __future__ import annotations

import logging
from typing import NoReturn

import click

from pimsim.cli.compare import compare
from pimsim.cli.compile import compile_
from pimsim.cli.configs import configs
from pimsim.cli.exec import exec_command
from pimsim.cli.options import INTERRUPTED, set_verbosity
from pimsim.cli.program import program
from pimsim.cli.run import run
from pimsim.cli.sweep import sweep
from pimsim.cli.workload import workload

#: Subcommands, in --help order; a new one is one import above and one entry here.
COMMANDS: tuple[click.Command, ...] = (
    run,
    compare,
    program,
    exec_command,
    compile_,
    workload,
    sweep,
    configs,
)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the installed package's version, then exit (importlib.metadata, slow
    to import, is loaded only here)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib import metadata

    try:
        version = metadata.version("pimsim")
    except metadata.PackageNotFoundError:
        version = "unknown (not installed)"
    click.echo(f"pimsim, version {version}")
    ctx.exit()


class _EchoHandler(logging.Handler):
    """Log records to the current stderr through click (so test runners capture them)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


class _Group(click.Group):
    """The command group: a subcommand's usage error is one ``Error:`` line (no usage
    text), and Ctrl-C in a command that has no partial work to report exits 130 with one
    line (the ones that do report it and exit 130 themselves)."""

    def make_context(self, *args, **kwargs) -> click.Context:
        try:  # reading the command line, before any command runs (click says "Aborted!", 1)
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            _interrupted()

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            error.ctx = None  # the message alone: -h shows the usage
            raise
        except KeyboardInterrupt:
            _interrupted()


def _interrupted() -> NoReturn:
    """Ctrl-C where no partial work is to be reported: one line, exit 130."""
    click.echo("Interrupted.", err=True)
    raise click.exceptions.Exit(INTERRUPTED) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.option("-v", "--verbose", count=True, help="More messages on stderr (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Errors only.")
def cli(verbose: int, quiet: bool) -> None:
    """Cycle-level simulator of DRAM that computes in memory (Ambit, RowClone).

    \b
    Examples:
      pimsim run traces/sample.trace
      pimsim compare --config ddr3-1600 --banks 8 --ops xor,not --size 8MiB
      pimsim program xor --config ddr3-1600 --size 32MiB
      pimsim configs
      pimsim configs show ddr3-1600 -p timing.nRCD=9
    """
    logger = logging.getLogger("pimsim")
    set_verbosity(verbose, quiet)
    if not any(isinstance(h, _EchoHandler) for h in logger.handlers):
        handler = _EchoHandler()
        handler.setFormatter(logging.Formatter("pimsim: %(levelname)s: %(message)s"))
        logger.addHandler(handler)


for _command in COMMANDS:
    cli.add_command(_command)
