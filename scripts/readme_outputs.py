#!/usr/bin/env python3
"""Regenerate the printed outputs in README.md from the code, or check that they match.

    python scripts/readme_outputs.py            # rewrite the generated blocks in README.md
    python scripts/readme_outputs.py --check    # exit 1 and show a diff if any block drifted

A generated block sits between two HTML comments (invisible when the README is rendered)::

    <!-- output: pimsim compare --ops not --size 8KiB -->
    ```
    ...whatever the commands print...
    ```
    <!-- end output -->

The commands after ``output:`` are separated by `` && `` and run in order from the
repository root; their standard output, concatenated, replaces the block. ``pimsim`` runs
as ``python -m pimsim`` and ``python`` as this interpreter, so the block shows what the
installed code prints. When the block starts with a code fence the output goes inside it;
otherwise it is pasted as it is (markdown tables).
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- output: (?P<cmd>.+?) -->\n)(?P<body>.*?)(<!-- end output -->)", re.S)
FENCE = "```"


def _argv(command: str) -> list[str]:
    """The argument vector of one README command, with this interpreter for pimsim/python."""
    words = shlex.split(command)
    if words[0] == "pimsim":
        return [sys.executable, "-m", "pimsim", *words[1:]]
    if words[0] in ("python", "python3"):
        return [sys.executable, *words[1:]]
    raise ValueError(f"README block command must start with pimsim or python: {command!r}")


def run_commands(commands: str) -> str:
    """Standard output of the ``&&``-separated commands, run from the repository root."""
    out = []
    for command in commands.split(" && "):
        done = subprocess.run(_argv(command), cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command!r} exited {done.returncode}: {done.stderr.strip()}")
        out.append(done.stdout)
    return "".join(out)


def _body(old_body: str, output: str) -> str:
    output = output if output.endswith("\n") else output + "\n"
    if old_body.startswith(FENCE):
        return f"{FENCE}\n{output}{FENCE}\n"
    return output


def regenerate(text: str) -> str:
    """README text with every generated block replaced by what its commands print now."""

    def replace(match: re.Match) -> str:
        body = _body(match["body"], run_commands(match["cmd"]))
        return f"{match.group(1)}{body}{match.group(4)}"

    return BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    args = parser.parse_args(argv)
    old = README.read_text()
    new = regenerate(old)
    if args.check:
        if new == old:
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), "README.md", "regenerated"
            )
        )
        return 1
    if new != old:
        tmp = README.with_suffix(".md.tmp")
        tmp.write_text(new)
        tmp.replace(README)
    return 0


if __name__ == "__main__":
    sys.exit(main())
