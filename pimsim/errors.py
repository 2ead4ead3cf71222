"""Exceptions pimsim raises for bad input or illegal commands.

Every error renders as one line that names where the problem is (file, line, key or field),
so the CLI can print ``str(error)`` and exit without a traceback.
"""

from __future__ import annotations

#: Characters of a user's text (a token, a value, a path) an error message echoes at most.
ECHO_CHARS = 40


def cut(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` as an error message echoes it: whole, or its first ``limit - 3`` characters
    and '...', so one long token cannot make the error line long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PimsimError(Exception):
    """Base class of every error pimsim reports to a user."""


class ConfigError(PimsimError):
    """A configuration value is unknown, missing, of the wrong type or inconsistent.

    ``source`` is the file (or ``-p`` override, or preset) the value came from and ``key`` the
    dotted key at fault, e.g. ``timing.nREFI``; ``related`` the other keys of a rule that
    involves several (the loader blames the one given last).
    """

    def __init__(self, source: str, key: str, message: str, related: tuple[str, ...] = ()):
        self.source, self.key, self.message = source, key, message
        self.related = related  # other keys the value depends on (the error may blame them)
        super().__init__(source, key, message)  # re-creatable from args (SimPy does that)

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}"


class SweepSpecError(ConfigError):
    """A sweep specification is unreadable or names a point that cannot run: ``source`` is
    ``file:line`` and ``key`` the spec key at fault (``grid.banks``)."""


class ClusterError(PimsimError):
    """The Dask cluster a sweep runs on cannot be started or reached."""


class IllegalCommandError(PimsimError):
    """A DRAM command cannot be issued in the current bank state or at that address."""


class TimingViolationError(IllegalCommandError):
    """A DRAM command was issued before the earliest cycle its timing constraints allow."""


class TraceError(PimsimError):
    """A trace line cannot be parsed: names the file, line number and field."""

    def __init__(self, path: str, line: int, field: str, message: str):
        self.path, self.line, self.field, self.message = path, line, field, message
        super().__init__(path, line, field, message)  # re-creatable from args (SimPy does that)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"
