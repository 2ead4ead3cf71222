"""The counters of a run: one frozen snapshot taken from the core when the run ends.

:meth:`pimsim.device.Device.snapshot` takes it once; after that nothing reads the device
again: the stats document (pimsim.results.stats) and the energy (pimsim.results.energy) are
pure functions of the snapshot, the config and the energy profile. The arrays are copies,
read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.clock import Clock
from pimsim.standards import COMMANDS


@dataclass(frozen=True, eq=False)
class Counters:
    """What the core counted from tick 0 to ``end_tick``."""

    clock: Clock  # the run's clock: converts the ticks here to cycles and ns
    end_tick: int  # the end of the run (ticks); the open time of a still-open rank ends here
    commands: np.ndarray  # (channels x commands) int64: commands issued, COMMANDS order
    rows_raised: np.ndarray  # [channel] int64: wordlines raised by ACT/AACT (3 for a TRA)
    banks_precharged: np.ndarray  # [channel] int64: banks closed (PRE, PREA per open bank,
    #                               RDA/WRA, PREE)
    open_ticks: np.ndarray  # (channels x ranks) int64: ticks with at least one bank open
    max_row_activations: int  # the most ACT/AACT any single data row received (RowHammer)

    def __post_init__(self) -> None:
        for name in ("commands", "rows_raised", "banks_precharged", "open_ticks"):
            array = np.array(getattr(self, name), dtype=np.int64)  # a copy, then frozen
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        if self.commands.shape[-1] != len(COMMANDS):
            raise ValueError(f"commands has {self.commands.shape[-1]} kinds, not {len(COMMANDS)}")

    @property
    def channels(self) -> int:
        """Channels counted."""
        return len(self.rows_raised)

    @property
    def time_ns(self) -> float:
        """The run's length, ns (tick 0 to ``end_tick``)."""
        return self.clock.ticks_to_ns(self.end_tick)

    def command_counts(self, channel: int | None = None) -> dict[str, int]:
        """Commands by name, of one channel or (None) summed over all."""
        counts = self.commands.sum(axis=0) if channel is None else self.commands[channel]
        return {name: int(counts[code]) for code, name in enumerate(COMMANDS)}

    def open_ns(self) -> list[float]:
        """Per rank (channel-major), the time it had at least one bank open, ns."""
        return [self.clock.ticks_to_ns(t) for t in self.open_ticks.ravel().tolist()]
