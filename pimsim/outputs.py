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

from pimsim.errors import PimsimError, cut

#: Characters of a user-given path echoed in an error message.
_PATH_CHARS = 60


class OutputError(PimsimError):
    """An output file cannot be written: names the path and why."""

    def __init__(self, path: str | os.PathLike, message: str):
        self.path, self.message = cut(str(path), _PATH_CHARS), message
        super().__init__(self.path, message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


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


def check_output_path(path: str | os.PathLike, regular: bool = False) -> None:
    """Raise OutputError unless ``path`` names a file this process can create or replace
    (``regular``: and not a device or FIFO, for a file that must be whole to be read)."""
    text = os.fspath(path)
    if not text.strip():
        raise OutputError(repr(text), "an empty path names no file")
    target = Path(text)
    found = _stat(target)
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise OutputError(text, "is a directory, not a file")
    parent = _stat(target.parent)
    if parent is None or not stat.S_ISDIR(parent.st_mode):
        raise OutputError(text, f"no such directory {cut(str(target.parent), _PATH_CHARS)!r}")
    if found is not None and not stat.S_ISREG(found.st_mode):
        if regular:
            raise OutputError(text, "not a regular file")
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


class AtomicFile:
    """A file being written: under a temporary name in its target's directory, moved onto the
    target by :meth:`commit` (:meth:`discard` removes it instead and leaves the target as it
    was). A target that exists and is not a regular file (a device, a FIFO) is written in
    place. ``mode`` is "w" or "wb"; ``kwargs`` go to :func:`open` (e.g. ``newline=""``). Any
    OSError becomes OutputError naming the path."""

    def __init__(self, path: str | os.PathLike, mode: str = "w", **kwargs):
        self.path, self.tmp = Path(path), None
        try:
            if _in_place(self.path):
                self.fh = open(self.path, mode, **kwargs)  # noqa: SIM115 (closed by commit)
                return
            fd, self.tmp = tempfile.mkstemp(
                prefix=f".{self.path.name[:40]}.", dir=self.path.parent or "."
            )
            os.fchmod(fd, 0o666 & ~_umask())  # the mode a plain open() would give
            self.fh = open(fd, mode, **kwargs)  # noqa: SIM115 (closed by commit or discard)
        except OSError as exc:
            raise OutputError(path, f"cannot write: {_reason(exc)}") from None

    def commit(self) -> None:
        """Flush and close the file, and move it onto the target."""
        try:
            self.fh.flush()
            if self.tmp is not None:
                os.fsync(self.fh.fileno())
            self.fh.close()
            if self.tmp is not None:
                os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(self.path, f"cannot write: {_reason(exc)}") from None

    def discard(self) -> None:
        """Close the file and remove it (a write that cannot be flushed goes with it)."""
        with contextlib.suppress(OSError):
            self.fh.close()
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """``open(path, mode)`` that replaces ``path`` only when the block ends without an error
    (see :class:`AtomicFile`); the block's exception, Ctrl-C included, leaves the target as
    it was, and an OSError there is an OutputError."""
    out = AtomicFile(path, mode, **kwargs)
    try:
        yield out.fh
    except OSError as exc:  # a write into the file failed
        out.discard()
        raise OutputError(path, f"cannot write: {_reason(exc)}") from None
    except BaseException:
        out.discard()
        raise
    out.commit()


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], mode: str = "w") -> None:
    """Call ``write(fh)`` on a file that replaces ``path`` only once it is complete."""
    with atomic_open(path, mode) as fh:
        write(fh)


def _umask() -> int:
    """The process's umask (read by setting it, then restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
