"""``pimsim configs``: list the preset configurations, or print one resolved."""

from __future__ import annotations

import json

import click
import yaml

from pimsim.addrmap import capacity_lines
from pimsim.cli.options import load_config_or_fail, param_option, verbosity_options
from pimsim.config import DEFAULT_PRESET, list_presets
from pimsim.config.checks import BURST_BYTES, CHANNEL_BITS
from pimsim.config.schema import range_table


@click.group(invoke_without_command=True)
@verbosity_options
@click.pass_context
def configs(ctx: click.Context) -> None:
    """List the preset configurations (name and description).

    \b
    Examples:
      pimsim configs
      pimsim configs show ddr3-1600 -p timing.nRCD=9
    """
    if ctx.invoked_subcommand is not None:
        return
    for name in list_presets():
        config = load_config_or_fail(name, ())
        mark = " (default)" if name == DEFAULT_PRESET else ""
        click.echo(f"{name:<12} {config.description}{mark}")


@configs.command()
@click.argument("name", metavar="[NAME|PATH]", required=False)
@param_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@verbosity_options
def show(name: str | None, params: tuple[str, ...], as_json: bool) -> None:
    """Print a configuration, resolved and checked, in the layout of a config file.

    NAME|PATH is a preset or a YAML file (default ddr4-2400); -p overrides apply on top.
    Timings are shown in cycles of tCK (ns). The output loads back with --config.

    \b
    Examples:
      pimsim configs show ddr3-1600 -p timing.nRCD=9
      pimsim configs show my.yaml --json
    """
    config = load_config_or_fail(name, params)
    if as_json:
        click.echo(json.dumps(config.to_dict(), indent=2))
        return
    click.echo(f"# resolved from {config.source}")
    for line in capacity_lines(config):
        click.echo(f"# {line}")
    if config.overrides:
        changes = ", ".join(f"{key}={value}" for key, value in config.overrides)
        click.echo(f"# differs from {config.preset or 'the file'}: {changes}")
    click.echo(yaml.safe_dump(config.to_dict(), sort_keys=False, width=1000), nl=False)


@configs.command()
def limits() -> None:
    """Print the range of every numeric configuration key, and the rules between keys that
    bound a configuration (see pimsim/config/schema.py for the reasons).

    Timings are in cycles (tCK, tWLOV and tRBM in ns; a timing given in ns, tRCD, must round
    to cycles within its range), currents in mA, voltages in V.
    """
    rows = range_table()
    width = max(len(key) for key, _ in rows)
    for key, text in rows:
        click.echo(f"{key:<{width}}  {text}")
    click.echo(
        f"devices_per_rank * device_width = {CHANNEL_BITS} bits; a burst moves {BURST_BYTES} bytes"
    )
