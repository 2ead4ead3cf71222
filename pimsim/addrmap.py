"""Physical byte address <-> (channel, rank, bankgroup, bank, row, column), by named schemes.

A scheme is the order in which the address fields are sliced off the address, least
significant first, after the offset bits of one burst (64 bytes on a 64-bit BL8 channel).
Names read from the most significant field down, as in Ramulator 2:

- ``RoBaRaCoCh`` (default, Ramulator 2's): channel, column, rank, bankgroup, bank, row. A
  sequential stream walks a whole row before changing bank: row-buffer friendly.
- ``RoCoRaBaCh``: channel, bankgroup, bank, rank, column, row. Consecutive cache lines go to
  different bank groups, then banks, then ranks: bank-parallel streaming.

Every field width is log2 of its count (the config checks counts are powers of two); the
column field counts bursts, so the column returned is the device column of the burst start
(a multiple of the burst length).

Ordinary addresses reach data rows only: with Ambit's reserved rows (C0, C1 and the B-group
addresses at the end of every subarray, see pimsim.ambit.layout) the row field counts data
rows, and host row h is physical row (h // data_rows) * rows_per_subarray + h % data_rows.
The last data row of each bank is kept for RowClone's temporary copies, too. The row is the
most significant field of every scheme, so the memory is the contiguous range
[0, capacity_bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pimsim.errors import PimsimError

if TYPE_CHECKING:  # config imports SCHEMES from here
    from pimsim.config import Organisation

FIELDS = ("channel", "rank", "bankgroup", "bank", "row", "column")

#: Scheme name -> fields from the least significant bit upwards.
SCHEMES: dict[str, tuple[str, ...]] = {
    "RoBaRaCoCh": ("channel", "column", "rank", "bankgroup", "bank", "row"),
    "RoCoRaBaCh": ("channel", "bankgroup", "bank", "rank", "column", "row"),
}


class AddressError(PimsimError):
    """A byte address does not fall inside the configured memory."""


def _bits(count: int) -> int:
    return count.bit_length() - 1


@dataclass(frozen=True)
class AddressMapper:
    """Decodes byte addresses for one organisation under one scheme."""

    organisation: Organisation  # noqa: F821 (imported for type checking only)
    scheme: str = "RoBaRaCoCh"
    rows_per_subarray: int = 0  # 0: every row is a data row
    reserved_rows: int = 0  # rows at the end of each subarray that addresses do not reach
    kept_rows: int = 0  # data rows at the top of each bank kept from addresses (RowClone's)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise AddressError(
                f"unknown address mapping {self.scheme!r} (known: {', '.join(SCHEMES)})"
            )

    @classmethod
    def for_config(cls, config) -> AddressMapper:
        """The mapping a config selects, with its PIM-reserved rows kept out of reach: the
        reserved rows of every subarray, and the last data row of every bank, which RowClone
        uses as the temporary row of its inter-subarray copies."""
        pim = config.pim
        return cls(
            config.organisation,
            config.address_scheme,
            pim.rows_per_subarray,
            pim.reserved_rows_per_subarray,
            kept_rows=1,
        )

    @property
    def data_rows_per_bank(self) -> int:
        """Rows of a bank that ordinary addresses reach."""
        rows = self.organisation.rows
        if not self.rows_per_subarray:
            return rows
        data = rows // self.rows_per_subarray * (self.rows_per_subarray - self.reserved_rows)
        return data - self.kept_rows

    def physical_row(self, host_row):
        """Physical row of host row(s) ``host_row`` (an int or an integer array)."""
        if not self.rows_per_subarray:
            return host_row
        data = self.rows_per_subarray - self.reserved_rows
        return host_row // data * self.rows_per_subarray + host_row % data

    def host_row(self, row: int) -> int:
        """Host row of physical data row ``row``; AddressError for a reserved row."""
        if not self.rows_per_subarray:
            return row
        data = self.rows_per_subarray - self.reserved_rows
        sub, offset = divmod(row, self.rows_per_subarray)
        if offset >= data:
            raise AddressError(f"row {row} is reserved for in-DRAM computing")
        return sub * data + offset

    @property
    def offset_bits(self) -> int:
        """Bits of the byte offset inside one burst."""
        return _bits(self.organisation.burst_bytes)

    @property
    def capacity_bytes(self) -> int:
        """Bytes of memory ordinary addresses reach (all channels)."""
        org = self.organisation
        return (
            org.channels
            * org.ranks
            * org.bankgroups
            * org.banks_per_group
            * self.data_rows_per_bank
            * org.row_bytes
        )

    def _widths(self) -> list[tuple[str, int]]:
        org = self.organisation
        counts = {
            "channel": org.channels,
            "rank": org.ranks,
            "bankgroup": org.bankgroups,
            "bank": org.banks_per_group,
            "row": org.rows,
            "column": org.columns // org.burst_length,
        }
        return [(name, _bits(counts[name])) for name in SCHEMES[self.scheme]]

    def decode(self, address: int) -> tuple[int, int, int, int, int, int]:
        """(channel, rank, bankgroup, bank, row, column) of one byte address."""
        if not 0 <= address < self.capacity_bytes:
            raise AddressError(
                f"address {address:#x} is outside the memory [0, {self.capacity_bytes:#x})"
            )
        value = address >> self.offset_bits
        out = dict.fromkeys(FIELDS, 0)
        for name, width in self._widths():
            out[name] = value & ((1 << width) - 1)
            value >>= width
        out["column"] *= self.organisation.burst_length
        out["row"] = self.physical_row(out["row"])
        return tuple(out[name] for name in FIELDS)  # type: ignore[return-value]

    def decode_array(self, addresses: np.ndarray) -> np.ndarray:
        """Decode many addresses at once: an (n, 6) int32 array in FIELDS order."""
        addrs = np.asarray(addresses, dtype=np.uint64)
        if addrs.size and int(addrs.max()) >= self.capacity_bytes:
            bad = int(addrs[addrs >= self.capacity_bytes][0])
            raise AddressError(
                f"address {bad:#x} is outside the memory [0, {self.capacity_bytes:#x})"
            )
        value = addrs >> np.uint64(self.offset_bits)
        out = np.zeros((addrs.size, len(FIELDS)), dtype=np.int32)
        for name, width in self._widths():
            out[:, FIELDS.index(name)] = value & np.uint64((1 << width) - 1)
            value = value >> np.uint64(width)
        out[:, FIELDS.index("column")] *= self.organisation.burst_length
        row = FIELDS.index("row")
        out[:, row] = self.physical_row(out[:, row])
        return out

    def encode(
        self, channel: int, rank: int, bankgroup: int, bank: int, row: int, column: int
    ) -> int:
        """The byte address of the burst that starts at that column (``row`` is physical)."""
        fields = {
            "channel": channel,
            "rank": rank,
            "bankgroup": bankgroup,
            "bank": bank,
            "row": self.host_row(row),
            "column": column // self.organisation.burst_length,
        }
        value, shift = 0, 0
        for name, width in self._widths():
            if not 0 <= fields[name] < (1 << width):
                raise AddressError(f"{name} {fields[name]} does not fit in {width} bits")
            value |= fields[name] << shift
            shift += width
        return value << self.offset_bits
