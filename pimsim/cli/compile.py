"""``pimsim compile``: a Boolean expression or a netlist to a verified ``.pim`` program."""

from __future__ import annotations

import json
import os
import re

import click

from pimsim.ambit.layout import SubarrayLayout
from pimsim.cli.options import (
    config_options,
    distinct_files,
    json_option,
    load_config_or_fail,
    output_option,
    reported_errors,
    verbosity_options,
    write_file,
    write_outputs,
)
from pimsim.compile.compiler import compile_network
from pimsim.compile.expr import read_expression
from pimsim.compile.netlist import read_netlist
from pimsim.programs.errors import ProgramError
from pimsim.programs.syntax import NAME

#: File name endings read as netlists; any other file holds an expression.
NETLISTS = (".aag", ".aig", ".blif", ".bench")


@click.command("compile")
@click.argument("source", metavar="SOURCE")
@click.option("--name", default=None, help="The program's op name (default: from SOURCE).")
@output_option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE.pim",
    help="Write the program to FILE.pim (default: stdout, the summary to stderr).",
)
@config_options
@json_option
@verbosity_options
def compile_(
    source: str,
    name: str | None,
    output_path: str | None,
    config: str | None,
    params: tuple[str, ...],
    json_path: str | None,
) -> None:
    """Compile SOURCE to a .pim µprogram of AAP/AP commands, verified before it is written.

    SOURCE is an expression over named inputs with & | ^ ~ maj(x, y, z), 0, 1 and
    parentheses, several outputs separated by ';' (NAME = EXPR is an output, NAME := EXPR
    an intermediate), or a file: a netlist (.bench, .blif, .aag, .aig) or an expression.
    The program is run on the host with Ambit's semantics on every input vector (up to 16
    inputs; else 65,536 random ones and a SAT equivalence check of the mapped graph) and
    written only if it computes SOURCE.

    \b
    Examples:
      pimsim compile 's = a ^ b ^ c; co = maj(a, b, c)' -o fa.pim
      pimsim compile c17.bench -o c17.pim --json -
      pimsim exec fa.pim
    """
    is_file = os.path.exists(source) or source.lower().endswith(NETLISTS)
    distinct_files(
        {"SOURCE": source if is_file else None, "--config": config},
        {"-o": output_path, "--json": json_path},
    )
    if json_path == "-" and output_path is None:
        raise click.UsageError("--json - takes stdout: give the program a file with -o")
    name = name or _default_name(source if is_file else None)
    if not NAME.fullmatch(name):
        raise click.BadParameter(
            f"{name!r} is not an identifier of at most 40 letters, digits and _",
            param_hint="'--name'",
        )
    cfg = load_config_or_fail(config, params)
    with reported_errors():
        if not is_file:
            net = read_expression(source)
        elif source.lower().endswith(NETLISTS):
            net = read_netlist(source)
        else:
            net = read_expression(_read_text(source), source)
        compiled = compile_network(net, SubarrayLayout.from_params(cfg.pim), name)
    doc = {"config": cfg.name, **compiled.report}
    if output_path is None:
        click.echo(compiled.text, nl=False)
        click.echo(_summary(doc), err=True)
        if json_path:
            write_file(json_path, lambda fh: json.dump(doc, fh, indent=2))
        return
    write_file(output_path, lambda fh: fh.write(compiled.text))
    doc["program"] = output_path
    write_outputs(doc, _summary(doc), json_path)


def _read_text(path: str) -> str:
    """The text of an expression file (ProgramError, exit 2, if it cannot be read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError as error:
        raise ProgramError(path, 0, "file", error.strerror or str(error)) from None


def _default_name(path: str | None) -> str:
    """The file's stem made an identifier, or ``expr``."""
    if path is None:
        return "expr"
    stem = re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(os.path.basename(path))[0])[:40]
    return stem if stem and not stem[0].isdigit() else f"p{stem}"[:40]


def _summary(doc: dict) -> str:
    """One line: counts, rows, and how the program was verified."""
    check = doc["verification"]
    how = (
        f"exhaustively on {check['vectors']:,} vectors"
        if check["exhaustive"]
        else f"on {check['vectors']:,} random vectors, mapped graph {check['equivalence']}"
    )
    return (
        f"{doc['name']}: {doc['AAP']} AAP + {doc['AP']} AP = {doc['commands']} commands "
        f"(gate by gate: {doc['naive_commands']}); {doc['mig_gates']} MAJ gates, depth "
        f"{doc['depth']}; compute rows {','.join(doc['compute_rows']) or 'none'}, "
        f"{doc['scratch_rows']} scratch rows; verified {how} ({doc['config']})"
    )
