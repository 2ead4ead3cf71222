"""One point of a sweep, run in-process on a worker: the command's own code, as its command
line would run it, with the stats document kept instead of printed.

:func:`run_point` never raises for a point that fails: a pimsim error, a usage error or an
internal one becomes the result's ``error`` line, so one bad point never stops a sweep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import click

#: Longest error or warnings text kept for a point, in characters.
MAX_MESSAGE = 2000


def run_point(words: tuple[str, ...], argv: tuple[str, ...]) -> dict[str, Any]:
    """Run ``pimsim WORDS ARGV`` in this process and return its result: ``status`` (ok or
    failed), ``error`` (one line or None), ``exit_code``, ``stats`` (the document the command
    reported, or None), ``warnings``, ``seconds`` (wall time), ``worker`` and ``version``."""
    from pimsim.cli.main import cli
    from pimsim.cli.options import captured_outputs

    command: click.Command = cli
    for word in words:
        command = command.commands[word]  # type: ignore[attr-defined]
    start = time.perf_counter()
    code, error = 0, None
    with _kept_warnings() as warnings, captured_outputs() as docs:
        try:
            command.main(list(argv), prog_name=f"pimsim {' '.join(words)}", standalone_mode=False)
        except click.ClickException as failure:
            code, error = failure.exit_code, failure.format_message()
        except click.exceptions.Exit as stop:
            code = stop.exit_code
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except click.Abort:
            code, error = 130, "interrupted"
        except Exception as failure:  # a bug: kept as the point's error, the sweep goes on
            code, error = 1, f"internal error: {type(failure).__name__}: {failure}"
    if code and error is None:
        error = f"exit status {code}"
    return {
        "status": "ok" if code == 0 else "failed",
        "error": _line(error),
        "exit_code": code,
        "stats": docs[-1] if docs else None,
        "warnings": _line("; ".join(warnings)) or None,
        "seconds": round(time.perf_counter() - start, 6),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "version": version(),
    }


def version() -> str:
    """The installed pimsim's version."""
    from importlib import metadata

    try:
        return metadata.version("pimsim")
    except metadata.PackageNotFoundError:
        return "unknown"


def _line(text: str | None) -> str | None:
    """``text`` as one line of at most MAX_MESSAGE characters."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


class _kept_warnings:
    """Collect the pimsim logger's warnings issued by this thread while the block runs."""

    def __enter__(self) -> list[str]:
        self.messages: list[str] = []
        thread = threading.get_ident()
        self.handler = logging.Handler(logging.WARNING)
        self.handler.addFilter(lambda record: record.thread == thread)
        self.handler.emit = lambda record: self.messages.append(record.getMessage())
        logging.getLogger("pimsim").addHandler(self.handler)
        return self.messages

    def __exit__(self, *exc) -> None:
        logging.getLogger("pimsim").removeHandler(self.handler)
