"""The issued command stream as DRAMPower's CSV command trace.

One line per command: ``timestamp,command,rank,bankgroup,bank,row,column`` -- the memory cycle
it issued at (rounded down: Ambit's overlapped second ACT lands tWLOV after the first, within
the cycle), the command name, and its address (-1 where a command has no row or column). With
several channels a ``channel`` column follows, since DRAMPower models one channel per trace.
Besides DRAMPower's commands the stream holds pimsim's AACT (a further activation in an open
bank: Ambit's second ACT of an AAP), TRANSFER (RowClone PSM's 64-byte move between banks) and
LISA's RBM (row-buffer movement between subarrays) and PREE (precharge but one row buffer).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np

from pimsim.errors import PimsimError
from pimsim.standards import COMMANDS

HEADER = ("timestamp", "command", "rank", "bankgroup", "bank", "row", "column")


class CommandCsv:
    """A DRAMPower CSV being written: :meth:`write` each batch of the device's command log."""

    def __init__(self, path: str | Path, ticks_per_cycle: int, channels: int):
        self.path = Path(path)
        self.ticks = ticks_per_cycle
        self.channels = channels
        try:
            self._fh = open(self.path, "w", newline="")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise PimsimError(f"{path}: cannot write the command trace: {exc.strerror}") from None
        self._out = csv.writer(self._fh)
        self._out.writerow(HEADER + (("channel",) if channels > 1 else ()))
        self.written = 0

    def write(self, log: np.ndarray) -> None:
        """Append commands from Device.command_log() (rows of tick, code, ch, rk, bg, ba, row,
        column)."""
        for tick, code, ch, rk, bg, ba, row, col in log.tolist():
            line = [tick // self.ticks, COMMANDS[code], rk, bg, ba, row, col]
            self._out.writerow(line + [ch] if self.channels > 1 else line)
        self.written += len(log)

    def close(self) -> None:
        self._fh.close()


def read_command_counts(path: str | Path) -> Counter:
    """Commands by name in a CSV command trace (for checking an export against a run)."""
    with open(path, newline="") as fh:
        rows = csv.DictReader(fh)
        if tuple(rows.fieldnames or ())[: len(HEADER)] != HEADER:
            raise PimsimError(f"{path}: not a command trace (header {rows.fieldnames})")
        return Counter(row["command"] for row in rows)
