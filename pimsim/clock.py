"""The memory clock: every conversion between nanoseconds, cycles and ticks, in one place.

Time is an integer count of memory-clock cycles of ``tck_ns`` nanoseconds. Inside the core a
cycle is split into ``ticks_per_cycle`` ticks: 1 unless a PIM timing given in ns needs finer
steps -- Ambit's split row decoder, whose second activation follows the first after
``pim.tWLOV`` ns (4 ns is 3.2 cycles of DDR3-1600, so a cycle becomes 5 ticks), or LISA's
row-buffer movement ``pim.tRBM``. Then a cycle is split into the fewest ticks that express
those timings exactly (within 2%). All JEDEC timings are whole cycles, so ordinary commands
still issue on cycle boundaries.

Rounding is stated by each conversion: a count of ticks as whole cycles is rounded up (the
cycles that cover it), the cycle a tick lies in is rounded down, a datasheet time in ns is
rounded up to whole cycles the JEDEC way, a PIM time in ns to the nearest tick. The integer
conversions take Python ints or numpy integer arrays alike.

Nothing here imports the config at run time (pimsim.config uses the clock while it loads).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from pimsim.config import Config

#: Largest number of ticks a cycle is split into; a PIM timing is rounded to the nearest tick.
MAX_TICKS_PER_CYCLE = 16

#: How far (in ticks) a PIM timing in ns may be from a whole number of ticks to count as one.
TICK_TOLERANCE = 0.02

#: Guard band (in cycles) of JEDEC's rounding of a time in ns up to whole cycles: a time at
#: most this far above a whole number of cycles takes that number.
JEDEC_GUARD = 0.025

Count = TypeVar("Count", int, np.ndarray)


@dataclass(frozen=True)
class Clock:
    """One memory clock: a cycle is ``tck_ns`` ns and ``ticks_per_cycle`` ticks."""

    tck_ns: float
    ticks_per_cycle: int = 1

    @classmethod
    def of(cls, config: Config) -> Clock:
        """The clock of ``config``: its tCK, split into the fewest ticks that express the PIM
        timings in ns it uses (tWLOV with the split decoder, tRBM with LISA) within
        TICK_TOLERANCE ticks, at most MAX_TICKS_PER_CYCLE."""
        cycles = [cls(config.tCK_ns).ns_in_cycles(ns) for ns in _ns_timings(config)]
        for ticks in range(1, MAX_TICKS_PER_CYCLE + 1):
            if all(abs(c * ticks - round(c * ticks)) <= TICK_TOLERANCE for c in cycles):
                return cls(config.tCK_ns, ticks)
        return cls(config.tCK_ns, MAX_TICKS_PER_CYCLE)

    @property
    def tick_ns(self) -> float:
        """Nanoseconds of one tick."""
        return self.tck_ns / self.ticks_per_cycle

    # -- cycles and ticks -----------------------------------------------------------------

    def cycles_to_ticks(self, cycles: Count) -> Count:
        """Ticks of a count of cycles (exact)."""
        return cycles * self.ticks_per_cycle

    def ticks_to_cycles(self, ticks: Count) -> Count:
        """Whole cycles that cover a count of ticks: rounded up."""
        return -(-ticks // self.ticks_per_cycle)

    def cycle_at(self, tick: Count) -> Count:
        """The cycle a tick lies in: rounded down."""
        return tick // self.ticks_per_cycle

    def ticks_in_cycles(self, ticks: float) -> float:
        """A count of ticks as cycles, not rounded (for messages)."""
        return ticks / self.ticks_per_cycle

    # -- nanoseconds ------------------------------------------------------------------------

    def cycles_to_ns(self, cycles: float) -> float:
        """Nanoseconds of a count of cycles."""
        return cycles * self.tck_ns

    def ticks_to_ns(self, ticks: float) -> float:
        """Nanoseconds of a count of ticks."""
        return ticks * self.tck_ns / self.ticks_per_cycle

    def ns_to_cycles(self, ns: float) -> int:
        """A datasheet time in ns as whole cycles, rounded up the JEDEC way: a time within
        JEDEC_GUARD cycles above a whole number of cycles takes that number."""
        return math.ceil(self.ns_in_cycles(ns) - JEDEC_GUARD)

    def ns_in_cycles(self, ns: float) -> float:
        """A time in ns as cycles, not rounded."""
        return ns / self.tck_ns

    def ns_to_ticks(self, ns: float) -> int:
        """A PIM time in ns as ticks, rounded to the nearest tick and at least one."""
        return max(1, round(self.ns_in_ticks(ns)))

    def ns_in_ticks(self, ns: float) -> float:
        """A time in ns as ticks, not rounded (a rate: the host's compute time per line)."""
        return self.ns_in_cycles(ns) * self.ticks_per_cycle


def _ns_timings(config: Config) -> list[float]:
    """The PIM timings given in ns that are in use: tWLOV (split decoder), tRBM (LISA)."""
    pim = config.pim
    return [pim.tWLOV_ns] * pim.split_decoder + [pim.tRBM_ns] * pim.lisa


def tick_timings(config: Config, clock: Clock) -> dict[str, int]:
    """Every timing of ``config`` in ticks of ``clock``, with the derived ones of
    pimsim.standards.DERIVED_TIMINGS: nCK (one cycle), nTRANSFER (pim.transfer_cycles), nRBM
    (pim.tRBM) and nAAP (pim.tWLOV with the split decoder, else nRAS)."""
    timings = {name: clock.cycles_to_ticks(value) for name, value in config.timing.items()}
    timings["nCK"] = clock.cycles_to_ticks(1)
    timings["nTRANSFER"] = clock.cycles_to_ticks(config.pim.transfer_cycles)
    timings["nRBM"] = clock.ns_to_ticks(config.pim.tRBM_ns)
    if config.pim.split_decoder:
        timings["nAAP"] = clock.ns_to_ticks(config.pim.tWLOV_ns)
    else:
        timings["nAAP"] = timings["nRAS"]
    return timings
