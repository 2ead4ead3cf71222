"""The error every µprogram problem is: ``file:line: field: message``."""

from __future__ import annotations

from pimsim.errors import PimsimError, cut


def echo(token: str) -> str:
    """``repr(token)``, cut to about 40 characters: how errors quote what the user wrote."""
    return repr(cut(token))


class ProgramError(PimsimError):
    """A µprogram that cannot be parsed or would not work on real hardware."""

    def __init__(self, source: str, line: int, field: str, message: str):
        self.source, self.line, self.field, self.message = source, line, field, message
        super().__init__(source, line, field, message)

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"
