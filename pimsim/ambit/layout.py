"""Where Ambit's rows live inside a subarray, and what each reserved address raises.

A subarray has ``rows_per_subarray`` data rows (the D-group: the rows host addresses reach)
and, beyond them, extra wordlines the host never addresses: the constant rows C0 (all zeros)
and C1 (all ones), one row per reserved address of the B-group decoder (``pim.decoder`` in the
config: B0..B15 for Ambit), and RowClone's temporary row. The physical compute rows (T0..T3,
DCC0, DCC1) are stored in the slots of the first reserved addresses, one each, in
``pim.compute_rows`` order. With Ambit's decoder that is 2 + 16 + 1 = 19 extra row addresses
per subarray (1024 data rows take 1043 row addresses, 512 take 531). Only 9 of them are rows of
cells -- C0, C1, T0..T3, DCC0, DCC1 and the temporary row; the other decoder addresses raise
those rows, the DCCs' second wordlines among them -- so the cells grow by 9 / 1024 = 0.9%
(1.8% with 512-row subarrays). Ambit reserves these rows inside a 1024-row subarray, leaving
1006 data rows; here they come on top, so that the module keeps its nominal capacity.

The reserved rows are extra wordlines, not a hole in the host's address space: every data row
of the nominal organisation (``organisation.rows`` per bank) stays addressable. RowClone's
temporary row (the middle stop of an inter-subarray copy by PSM twice) is an extra row of
every subarray rather than one per bank so that every subarray is the same tile (real arrays
replicate one subarray design) and every copy finds one in the source's subarray; it costs one
row per subarray (0.1% with 1024 data rows).

Physical rows of a bank are numbered subarray by subarray, ``physical_rows`` apart: host row h
of a bank is physical row (h // data_rows) * physical_rows + h % data_rows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config imports this module (the row arithmetic), not the other way
    from pimsim.config import PimParams

C0, C1 = "C0", "C1"
#: RowClone's temporary rows per subarray (see the module docstring).
TEMP_ROWS = 1


def extra_rows(addresses: int) -> int:
    """Wordlines of a subarray beyond its data rows, with ``addresses`` decoder addresses:
    C0, C1, one row per address and RowClone's temporary row."""
    return len((C0, C1)) + addresses + TEMP_ROWS


@dataclass(frozen=True)
class Wordline:
    """One wordline raised by an address: the row slot it reaches and whether it is the
    negated (n-) wordline of a dual-contact cell."""

    slot: int  # offset of the row's storage inside its subarray
    negated: bool


@dataclass(frozen=True)
class SubarrayLayout:
    """Row offsets inside a subarray; every offset here is relative to the subarray start."""

    data_rows: int  # host-addressable rows of a subarray (pim.rows_per_subarray)
    compute_rows: tuple[str, ...]
    dual_contact_rows: tuple[str, ...]
    decoder: dict[str, tuple[str, ...]]

    @classmethod
    def from_params(cls, pim: PimParams) -> SubarrayLayout:
        return cls(
            pim.rows_per_subarray,
            tuple(pim.compute_rows),
            tuple(pim.dual_contact_rows),
            {name: tuple(wls) for name, wls in pim.decoder.items()},
        )

    @property
    def extra_rows(self) -> int:
        """Wordlines beyond the data rows: C0, C1, the decoder's rows, the temporary row."""
        return extra_rows(len(self.decoder))

    @property
    def physical_rows(self) -> int:
        """Wordlines of one subarray: its data rows and the extra ones (the row stride)."""
        return self.data_rows + self.extra_rows

    @property
    def cell_rows(self) -> int:
        """Extra rows that hold cells: C0, C1, the compute rows and the temporary row (the
        other extra row addresses raise these)."""
        return len((C0, C1)) + len(self.compute_rows) + TEMP_ROWS

    def overhead_text(self) -> str:
        """The in-DRAM rows' cost in one line: row addresses and cells per subarray."""
        return (
            f"{self.extra_rows} row addresses per subarray of {self.data_rows} data rows "
            f"(C0, C1, {len(self.decoder)} decoder addresses, RowClone's temporary row), "
            f"{self.cell_rows} with cells: +{self.cell_rows / self.data_rows:.1%} cells"
        )

    def constant_slot(self, name: str) -> int:
        """Offset of C0 or C1."""
        return self.data_rows + (0 if name == C0 else 1)

    def compute_slot(self, row: str) -> int:
        """Offset where compute row ``row`` (T0, DCC1, ...) is stored."""
        return self.data_rows + 2 + self.compute_rows.index(row)

    def address_slot(self, name: str) -> int:
        """Row address (offset) of reserved address ``name`` (B0..B15, or the compute rows it
        raises: see :meth:`address`), as sent with ACT."""
        return self.data_rows + 2 + list(self.decoder).index(self.address(name))

    @functools.cached_property
    def _by_wordlines(self) -> dict[frozenset[str], str]:
        found: dict[frozenset[str], str] = {}
        for name, raised in self.decoder.items():
            found.setdefault(frozenset(raised), name)
        return found

    def address(self, name: str) -> str | None:
        """The decoder address ``name`` means: itself (``B12``), or the first address that
        raises exactly the wordlines it lists, comma-joined in any order (``T0``, ``~DCC0``,
        ``T2,T1,T0`` is B12 in Ambit's table); None if it is neither."""
        if name in self.decoder:
            return name
        return self._by_wordlines.get(frozenset(name.split(",")))

    @property
    def temp_slot(self) -> int:
        """Offset of RowClone's temporary row, the last wordline of the subarray."""
        return self.physical_rows - TEMP_ROWS

    def wordlines(self, name: str) -> tuple[Wordline, ...]:
        """Wordlines raised by activating ``name``: C0, C1 or a decoder address (data rows
        are bound by offset, see pimsim.ambit.execute.Binding)."""
        if name in (C0, C1):
            return (Wordline(self.constant_slot(name), False),)
        return tuple(
            Wordline(self.compute_slot(w.lstrip("~")), w.startswith("~"))
            for w in self.decoder[self.address(name)]
        )

    def plain_address(self, row: str) -> str | None:
        """The decoder address that raises compute row ``row`` alone on its d-wordline (B0
        for T0 in Ambit's table), or None."""
        for name, raised in self.decoder.items():
            if raised == (row,):
                return name
        return None

    def writes(self, src: str, dst: str | None) -> set[int]:
        """Slots an AAP ``src -> dst`` (AP when ``dst`` is None) between reserved or constant
        addresses stores into: the dst's rows, and the src's when it raises several at once
        (the majority is written back). Data operands are left to the caller."""
        out = set()
        if self.is_reserved(src) and len(self.wordlines(src)) > 1:
            out |= {wl.slot for wl in self.wordlines(src)}
        if dst is not None and self.is_reserved(dst):
            out |= {wl.slot for wl in self.wordlines(dst)}
        return out

    def is_reserved(self, name: str) -> bool:
        """Whether ``name`` is C0, C1, a decoder address or compute rows one raises."""
        return name in (C0, C1) or self.address(name) is not None

    def host_to_physical(self, host_row):
        """Physical row of the ``host_row``-th data row of a bank (an int or an integer
        array)."""
        return host_row // self.data_rows * self.physical_rows + host_row % self.data_rows

    def physical_to_host(self, row: int) -> int:
        """Inverse of :meth:`host_to_physical`; ValueError for an extra (reserved) row."""
        sub, offset = divmod(row, self.physical_rows)
        if offset >= self.data_rows:
            raise ValueError(f"row {row} is a reserved row of subarray {sub}")
        return sub * self.data_rows + offset

    def physical_rows_per_bank(self, host_rows: int) -> int:
        """Wordlines of a bank of ``host_rows`` data rows (a whole number of subarrays)."""
        return host_rows // self.data_rows * self.physical_rows
