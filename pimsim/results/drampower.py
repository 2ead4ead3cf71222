"""The issued command stream as a DRAMPower 5.x command trace (the CSV its command-line tool
reads with ``-t``).

DRAMPower's reader takes no header and no comments; every line is
``timestamp,command,rank,bankgroup,bank,row,column[,data]``, all numbers unsigned:

- ``timestamp``: the memory clock cycle the command issued at (rounded down: Ambit's overlapped
  second ACT lands tWLOV after the first, within the cycle);
- ``command``: DRAMPower's name (pimsim's REF is its REFA; ACT, PRE, PREA, RD, WR, RDA, WRA
  as they are);
- ``bank``: the bank within the rank, ``bankgroup * banks_per_group + bank`` (DRAMPower indexes
  a rank's banks by it; ``bankgroup`` is written too, for its command-bus patterns);
- ``row``, ``column``: 0 where a command has none;
- ``data`` (RD, WR, RDA, WRA only, which DRAMPower refuses without it): the burst in hex. The
  command log holds no data, so it is a burst of zeros of the rank's burst size (64 bytes on
  the presets): DRAMPower sees bursts of the right length; use its toggle-rate configuration
  (``useToggleRate``) for the DQ interface energy, which then counts only the length.

The last line is ``END`` at the run's last cycle: DRAMPower computes energy up to its last
command, so its window is the run's. pimsim's own commands keep their names (AACT, Ambit's
second ACT in an open bank; TRANSFER, RowClone PSM's move between banks; RBM and PREE, LISA's
row-buffer movement and partial precharge): DRAMPower reads a name it does not know as NOP, which
changes no bank state and costs nothing, so what they cost is left out of its totals. A run
stopped by Ctrl-C keeps what ran, and its file has an ``INTERRUPTED`` line (also a NOP to
DRAMPower) just before END. With several channels (DRAMPower models one per trace) channel N
goes to PATH with ``.chN`` before its suffix.

Each file is written to a temporary file in its directory and renamed over PATH only when the
run has finished (or was interrupted): a run that fails leaves no CSV behind.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np

from pimsim.clock import Clock
from pimsim.config import Config
from pimsim.errors import PimsimError
from pimsim.outputs import AtomicFile, OutputError, check_output_path
from pimsim.standards import COMMANDS

#: pimsim command -> DRAMPower's name, where they differ.
DRAMPOWER_NAMES = {"REF": "REFA"}
#: Commands DRAMPower refuses without a data field.
WITH_DATA = frozenset(("RD", "WR", "RDA", "WRA"))
#: The line that closes every trace, and the one that marks an interrupted run.
END, INTERRUPTED = "END", "INTERRUPTED"
#: Commands formatted and written at once (bounds the text held in memory, about 100 bytes
#: a command).
LINES_PER_WRITE = 1 << 13


def channel_paths(path: str | Path, channels: int) -> list[Path]:
    """The file of each channel: ``path`` itself with one channel, else ``stem.chN.suffix``."""
    if not str(path).strip():
        raise OutputError(repr(str(path)), "an empty path names no file")
    path = Path(path)
    if channels == 1:
        return [path]
    return [path.with_name(f"{path.stem}.ch{ch}{path.suffix}") for ch in range(channels)]


class CommandCsv:
    """DRAMPower command traces being written, one per channel: :meth:`write` each batch of
    the device's command log, then :meth:`finish` (or :meth:`abort`)."""

    def __init__(self, path: str | Path, config: Config, clock: Clock):
        self.clock = clock
        self.banks_per_group = config.organisation.banks_per_group
        self.data = "0x" + "00" * config.organisation.burst_bytes
        self.files: list[AtomicFile] = []
        try:
            for target in channel_paths(path, config.organisation.channels):
                check_output_path(target, regular=True)
                self.files.append(AtomicFile(target, "w", newline=""))
        except OutputError:
            self.abort()
            raise
        self._formats = [_line_format(name, self.data) for name in COMMANDS]
        self.written = 0

    def write(self, log: np.ndarray) -> None:
        """Append commands from Device.command_log() (rows of tick, code, ch, rk, bg, ba, row,
        column), ``LINES_PER_WRITE`` at a time."""
        for first in range(0, len(log), LINES_PER_WRITE):
            self._write(log[first : first + LINES_PER_WRITE])
        self.written += len(log)

    def _write(self, log: np.ndarray) -> None:
        """Append commands: the fields are computed with numpy and each line is formatted
        once (a command log holds millions of commands)."""
        code, ch, rk, bg, ba = log[:, 1], log[:, 2], log[:, 3], log[:, 4], log[:, 5]
        fields = np.stack(
            (
                self.clock.cycle_at(log[:, 0]),
                rk,
                bg,
                bg * self.banks_per_group + ba,
                np.maximum(log[:, 6], 0),
                np.maximum(log[:, 7], 0),
            ),
            axis=1,
        )
        formats = self._formats
        try:
            for channel, f in enumerate(self.files):
                mine = slice(None) if len(self.files) == 1 else ch == channel
                lines = zip(code[mine].tolist(), fields[mine].tolist(), strict=True)
                f.fh.write("".join([formats[c] % tuple(values) for c, values in lines]))
        except OSError as exc:
            self.abort()
            raise OutputError(self.files[0].path, f"cannot write: {exc.strerror}") from None

    def finish(self, end_cycle: int, interrupted: bool) -> None:
        """Close every trace with END at ``end_cycle`` (an INTERRUPTED line before it if the
        run was stopped) and move it onto its path."""
        closing = [INTERRUPTED, END] if interrupted else [END]
        lines = "".join(f"{end_cycle},{name},0,0,0,0,0\n" for name in closing)
        try:
            for f in self.files:
                f.fh.write(lines)
        except OSError as exc:
            self.abort()
            raise OutputError(self.files[0].path, f"cannot write: {exc.strerror}") from None
        for done, f in enumerate(self.files):
            try:
                f.commit()
            except OutputError:
                for rest in self.files[done + 1 :]:
                    rest.discard()
                raise

    def abort(self) -> None:
        """Drop every trace: nothing is left at their paths."""
        for f in self.files:
            f.discard()


def _line_format(name: str, data: str) -> str:
    """The %-format of a line of command ``name``, taking timestamp, rank, bankgroup, bank,
    row and column (with ``data`` after them for the commands DRAMPower reads it with)."""
    fields = ["%d", DRAMPOWER_NAMES.get(name, name), "%d", "%d", "%d", "%d", "%d"]
    return ",".join(fields + ([data] if name in WITH_DATA else [])) + "\n"


def read_command_counts(path: str | Path) -> Counter:
    """Commands by DRAMPower's name in a command trace, END and INTERRUPTED left out (for
    checking an export against a run); a line not in DRAMPower's format is a PimsimError."""
    counts: Counter = Counter()
    with open(path, newline="") as fh:
        for number, row in enumerate(csv.reader(fh), 1):
            name = row[1] if len(row) > 1 else ""
            fields = row[:1] + row[2:7] + (row[7:8] if name in WITH_DATA else [])
            size = 8 if name in WITH_DATA else 7
            if len(row) != size or not all(_unsigned(f) for f in fields):
                raise PimsimError(f"{path}:{number}: not a DRAMPower command line: {row!r:.40}")
            counts[name] += 1
    return counts - Counter({END: counts[END], INTERRUPTED: counts[INTERRUPTED]})


def _unsigned(field: str) -> bool:
    """A field DRAMPower's reader takes: an unsigned decimal number, or hex data."""
    return re.fullmatch(r"[0-9]+|0x(?:[0-9a-fA-F]{2})*", field) is not None
