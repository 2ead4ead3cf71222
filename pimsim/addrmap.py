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

Ordinary addresses reach data rows only. The row field counts the data rows of a bank
(``organisation.rows``); with a subarray layout (pimsim.ambit.layout) every subarray has extra
wordlines beyond its data rows (C0, C1, the B-group rows, RowClone's temporary row), so host
row h is physical row (h // data_rows) * physical_rows + h % data_rows, and no address reaches
an extra row. The row is the most significant field of every scheme, so the memory is the
contiguous range [0, capacity_bytes): the organisation's nominal capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pimsim.ambit.layout import SubarrayLayout
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


def capacity_lines(config) -> list[str]:
    """What a config's host addresses reach, and the rows in-DRAM computing adds on top."""
    org = config.organisation
    mapper = AddressMapper.for_config(config)
    banks = org.channels * org.ranks * org.bankgroups * org.banks_per_group
    return [
        f"capacity: {_bytes_text(mapper.capacity_bytes)} addressable, "
        f"[0, {mapper.capacity_bytes:#x}) = {banks} banks x {org.rows} rows x "
        f"{_bytes_text(org.row_bytes)}",
        f"in-DRAM rows on top: {mapper.layout.overhead_text()}",
    ]


def _bytes_text(size: int) -> str:
    """``size`` bytes in the largest binary unit it reaches (16 GiB, 8 KiB, 512 bytes)."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if size >= 1 << shift:
            return f"{size / (1 << shift):g} {unit}"
    return f"{size} bytes"


def _bits(count: int) -> int:
    return count.bit_length() - 1


@dataclass(frozen=True)
class AddressMapper:
    """Decodes byte addresses for one organisation under one scheme."""

    organisation: Organisation  # noqa: F821 (imported for type checking only)
    scheme: str = "RoBaRaCoCh"
    layout: SubarrayLayout | None = None  # None: every row is a data row

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise AddressError(
                f"unknown address mapping {self.scheme!r} (known: {', '.join(SCHEMES)})"
            )

    @classmethod
    def for_config(cls, config) -> AddressMapper:
        """The mapping a config selects, its subarrays' extra wordlines out of reach."""
        return cls(
            config.organisation,
            config.address_scheme,
            SubarrayLayout.from_params(config.pim),
        )

    def physical_row(self, host_row):
        """Physical row of host row(s) ``host_row`` (an int or an integer array)."""
        if self.layout is None:
            return host_row
        return self.layout.host_to_physical(host_row)

    def host_row(self, row: int) -> int:
        """Host row of physical data row ``row``; AddressError for a reserved row."""
        if self.layout is None:
            return row
        try:
            return self.layout.physical_to_host(row)
        except ValueError:
            raise AddressError(f"row {row} is reserved for in-DRAM computing") from None

    @property
    def offset_bits(self) -> int:
        """Bits of the byte offset inside one burst."""
        return _bits(self.organisation.burst_bytes)

    @property
    def capacity_bytes(self) -> int:
        """Bytes of memory ordinary addresses reach (all channels): the nominal capacity."""
        org = self.organisation
        return (
            org.channels
            * org.ranks
            * org.bankgroups
            * org.banks_per_group
            * org.rows
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
