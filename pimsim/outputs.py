"""Output files written whole or not at all.

Every file a command writes (``--json``, ``--csv``, ``--plot``, ``--drampower``) goes through
:func:`atomic_open`: the data is written to a temporary file in the target's directory and
renamed over the target only when it is complete, so an error or Ctrl-C part-way leaves the
previous file (or none), never a truncated one. A target that exists and is not a regular
file (``/dev/null``, ``/dev/stdout``, a FIFO) is written in place: renaming over a device
would replace it.

:func:`check_output_path` refuses a path that cannot be written (empty, a directory, a missing
directory, no permission, a name too long) before any work starts, as an :class:`OutputError`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from pimsim.errors import PimsimError

#: Characters of a user-given path echoed in an error message.
_ECHO = 60


class OutputError(PimsimError):
    """An output file cannot be written: names the path and why."""

    def __init__(self, path: str | os.PathLike, message: str):
        self.path, self.message = _short(str(path)), message
        super().__init__(self.path, message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _short(text: str) -> str:
    return text if len(text) <= _ECHO else text[: _ECHO - 3] + "..."


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _stat(path: Path) -> os.stat_result | None:
    """``os.stat(path)``, None if nothing is there; another OSError (a name too long, a file
    where a directory should be) is an OutputError."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        reason = _reason(exc) if isinstance(exc, OSError) else "not a valid path"
        raise OutputError(path, reason) from None


def _in_place(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file (a device or FIFO, written as is)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def check_output_path(path: str | os.PathLike) -> None:
    """Raise OutputError unless ``path`` names a file this process can create or replace."""
    text = os.fspath(path)
    if not text.strip():
        raise OutputError(repr(text), "an empty path names no file")
    target = Path(text)
    found = _stat(target)
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise OutputError(text, "is a directory, not a file")
    parent = _stat(target.parent)
    if parent is None or not stat.S_ISDIR(parent.st_mode):
        raise OutputError(text, f"no such directory {_short(str(target.parent))!r}")
    if found is not None and not stat.S_ISREG(found.st_mode):
        if not os.access(target, os.W_OK):
            raise OutputError(text, "permission denied")
        return
    if not os.access(target.parent, os.W_OK | os.X_OK) or (
        found is not None and not os.access(target, os.W_OK)
    ):
        raise OutputError(text, "permission denied")
    limit = 255  # NAME_MAX of Linux file systems, when the system does not say
    with contextlib.suppress(OSError, ValueError):
        limit = os.pathconf(target.parent, "PC_NAME_MAX")
    if len(os.fsencode(target.name)) > limit:
        raise OutputError(text, "file name too long")


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """``open(path, mode)`` that replaces ``path`` only when the block ends without an error
    (``mode`` "w" or "wb"; ``kwargs`` go to :func:`open`, e.g. ``newline=""``). OSError, at
    open, write or rename, becomes OutputError naming the path."""
    target = Path(path)
    if _in_place(target):
        try:
            with open(target, mode, **kwargs) as fh:
                yield fh
        except OSError as exc:
            raise OutputError(path, f"cannot write: {_reason(exc)}") from None
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.", dir=target.parent or ".")
    except OSError as exc:
        raise OutputError(path, f"cannot write: {_reason(exc)}") from None
    try:
        with open(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(path, f"cannot write: {_reason(exc)}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # gone already after a successful rename


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], mode: str = "w") -> None:
    """Call ``write(fh)`` on a file that replaces ``path`` only once it is complete."""
    with atomic_open(path, mode) as fh:
        write(fh)


def _umask() -> int:
    """The process's umask (read by setting it, then restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
