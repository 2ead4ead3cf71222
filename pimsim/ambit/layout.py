"""Where Ambit's rows live inside a subarray, and what each reserved address raises.

A subarray has ``rows_per_subarray`` row addresses. The first ``data_rows`` of them are
ordinary data rows (the D-group); then come the constant rows C0 (all zeros) and C1 (all
ones) and the reserved addresses of the B-group decoder (``pim.decoder`` in the config:
B0..B15 for Ambit). The physical compute rows (T0..T3, DCC0, DCC1) are stored in the slots of
the first reserved addresses, one each, in ``pim.compute_rows`` order. With 1024-row
subarrays that is Ambit's 1006 data rows + 2 constant rows + 16 B-addresses.

Only data rows are reachable by ordinary (host) addresses: host row h of a bank is physical
row (h // data_rows) * rows_per_subarray + h % data_rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimsim.config import PimParams

C0, C1 = "C0", "C1"


@dataclass(frozen=True)
class Wordline:
    """One wordline raised by an address: the row slot it reaches and whether it is the
    negated (n-) wordline of a dual-contact cell."""

    slot: int  # offset of the row's storage inside its subarray
    negated: bool


@dataclass(frozen=True)
class SubarrayLayout:
    """Row offsets inside a subarray; every offset here is relative to the subarray start."""

    rows_per_subarray: int
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
    def data_rows(self) -> int:
        """Data rows per subarray (rows_per_subarray minus C0, C1 and the decoder addresses)."""
        return self.rows_per_subarray - 2 - len(self.decoder)

    def constant_slot(self, name: str) -> int:
        """Offset of C0 or C1."""
        return self.data_rows + (0 if name == C0 else 1)

    def compute_slot(self, row: str) -> int:
        """Offset where compute row ``row`` (T0, DCC1, ...) is stored."""
        return self.data_rows + 2 + self.compute_rows.index(row)

    def address_slot(self, name: str) -> int:
        """Row address (offset) of reserved address ``name`` (B0..B15), as sent with ACT."""
        return self.data_rows + 2 + list(self.decoder).index(name)

    def wordlines(self, name: str) -> tuple[Wordline, ...]:
        """Wordlines raised by activating ``name``: a data row offset (as a decimal string is
        not accepted: use :meth:`data_wordline`), C0, C1 or a decoder address."""
        if name in (C0, C1):
            return (Wordline(self.constant_slot(name), False),)
        return tuple(
            Wordline(self.compute_slot(w.lstrip("~")), w.startswith("~"))
            for w in self.decoder[name]
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
        return name in (C0, C1) or name in self.decoder

    def host_to_physical(self, host_row: int) -> int:
        """Physical row (within its bank) of the ``host_row``-th data row of the bank."""
        sub, offset = divmod(host_row, self.data_rows)
        return sub * self.rows_per_subarray + offset

    def physical_to_host(self, row: int) -> int:
        """Inverse of :meth:`host_to_physical`; ValueError for a reserved row."""
        sub, offset = divmod(row, self.rows_per_subarray)
        if offset >= self.data_rows:
            raise ValueError(f"row {row} is a reserved row of subarray {sub}")
        return sub * self.data_rows + offset

    def data_rows_per_bank(self, rows: int) -> int:
        """Host-addressable rows of a bank of ``rows`` physical rows."""
        return rows // self.rows_per_subarray * self.data_rows
