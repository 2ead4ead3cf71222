"""PIM vectors and where their rows go.

A :class:`Vector` holds its rows as an (n, 5) int64 array of (channel, rank, bankgroup, bank,
physical row). :class:`Placement` places row i of every vector in the same bank and
subarray -- banks in the order that spreads consecutive rows over channels, then ranks, then
bank groups, then banks; within a bank, subarrays round-robin -- so the operands of one
operation meet in one subarray, as Ambit's in-DRAM path requires. It also keeps, per
subarray, the scratch rows programs use at the top of its data rows. :func:`vectors_at`
maps byte ranges of the host's address space to vectors with the mapper's decode_array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pimsim.ambit.layout import SubarrayLayout
from pimsim.errors import PimsimError

RowAddress = tuple[int, int, int, int, int]  # channel, rank, bankgroup, bank, physical row
Bank = tuple[int, int, int, int]


class BulkError(PimsimError):
    """A bulk operation cannot be set up (sizes, allocation)."""


class Vector:
    """A vector of rank-wide rows (``row_bytes`` each): ``fields`` (n, 5) int64."""

    __slots__ = ("fields", "row_bytes", "_rows")

    def __init__(self, rows: np.ndarray | Sequence[RowAddress], row_bytes: int):
        self.fields = np.asarray(rows, dtype=np.int64).reshape(-1, 5)
        self.fields.flags.writeable = False
        self.row_bytes = row_bytes
        self._rows: tuple[RowAddress, ...] | None = None

    @property
    def rows(self) -> tuple[RowAddress, ...]:
        """The rows as tuples (made on first use; the bulk path works on ``fields``)."""
        if self._rows is None:
            self._rows = tuple(tuple(int(v) for v in r) for r in self.fields.tolist())
        return self._rows

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def nbytes(self) -> int:
        return len(self.fields) * self.row_bytes

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Vector)
            and self.row_bytes == other.row_bytes
            and np.array_equal(self.fields, other.fields)
        )

    __hash__ = None  # type: ignore[assignment]


def bank_index(fields: np.ndarray, org) -> np.ndarray:
    """Flat bank index of each row: ((channel * ranks + rank) * bankgroups + bankgroup) *
    banks_per_group + bank."""
    f = fields
    return ((f[:, 0] * org.ranks + f[:, 1]) * org.bankgroups + f[:, 2]) * org.banks_per_group + f[
        :, 3
    ]


class Placement:
    """Free data rows and scratch rows of every subarray of a device's banks."""

    def __init__(self, org, layout: SubarrayLayout, banks: Sequence[Bank]):
        self.org, self.layout = org, layout
        self.banks = np.array(banks, dtype=np.int64).reshape(-1, 4)
        self.subarrays = org.rows // layout.data_rows
        n_banks = org.channels * org.ranks * org.bankgroups * org.banks_per_group
        self.next_free = np.zeros((n_banks, self.subarrays), dtype=np.int64)
        self.scratch = np.zeros((n_banks, self.subarrays), dtype=np.int64)

    def alloc(self, rows: int) -> np.ndarray:
        """Fields of ``rows`` new rows, striped over the banks in use."""
        i = np.arange(rows, dtype=np.int64)
        k = i % len(self.banks)
        sub = (i // len(self.banks)) % self.subarrays
        flat = bank_index(self.banks, self.org)
        bank = flat[k]
        # the j-th use of a (bank, subarray) in this vector takes its j-th free row
        uses = np.zeros_like(self.next_free)
        np.add.at(uses, (bank, sub), 1)
        offset = self.next_free[bank, sub] + i // (len(self.banks) * self.subarrays)
        full = offset >= self.layout.data_rows - self.scratch[bank, sub]
        if full.any():
            j = int(np.argmax(full))
            raise BulkError(
                f"no free data row left in subarray {int(sub[j])} of bank "
                f"{tuple(int(v) for v in self.banks[k[j]])}"
            )
        self.next_free += uses
        fields = np.empty((rows, 5), dtype=np.int64)
        fields[:, :4] = self.banks[k]
        fields[:, 4] = sub * self.layout.physical_rows + offset
        return fields

    def free_rows(self) -> int:
        """Data rows free in every subarray of the banks in use (the fullest one's)."""
        flat = bank_index(self.banks, self.org)
        used = self.next_free[flat] + self.scratch[flat]
        return self.layout.data_rows - int(used.max(initial=0))

    def scratch_rows(self, bank: np.ndarray, sub: np.ndarray, count: int) -> np.ndarray:
        """Offsets of the ``count`` scratch rows of subarrays (``bank`` flat indices,
        ``sub`` subarray indices, arrays): the top data rows, kept from the allocator from
        their first use on (and shared by every program there)."""
        top = self.layout.data_rows
        grow = count > self.scratch[bank, sub]
        if grow.any():
            short = grow & (top - count < self.next_free[bank, sub])
            if short.any():
                j = int(np.argmax(short))
                raise BulkError(
                    f"no room for {count} scratch row(s) in subarray {int(sub[j])} of bank "
                    f"{_bank_tuple(int(bank[j]), self.org)}"
                )
            self.scratch[bank[grow], sub[grow]] = count
        return np.arange(top - count, top, dtype=np.int64)


def _bank_tuple(flat: int, org) -> Bank:
    flat, ba = divmod(flat, org.banks_per_group)
    flat, bg = divmod(flat, org.bankgroups)
    ch, rk = divmod(flat, org.ranks)
    return (ch, rk, bg, ba)


def vectors_at(
    mapper, org, addresses: Sequence[int], size: int, row_bytes: int
) -> tuple[list[Vector], str]:
    """The row vectors of byte ranges [address, address + size), or ([], reason) when they
    are not whole rows (not row-aligned, or the mapping spreads a row's bytes)."""
    if size % row_bytes:
        return [], "size is not a multiple of the row size"
    if any(a % row_bytes for a in addresses):
        return [], "address not row-aligned"
    last_col = org.columns - org.burst_length
    offsets = np.arange(0, size, row_bytes, dtype=np.uint64)
    vectors = []
    for base in addresses:
        starts = np.uint64(base) + offsets
        first = mapper.decode_array(starts).astype(np.int64)
        last = mapper.decode_array(starts + np.uint64(row_bytes - 64)).astype(np.int64)
        if (
            (first[:, :5] != last[:, :5]).any()
            or (first[:, 5] != 0).any()
            or (last[:, 5] != last_col).any()
        ):
            return [], "the address mapping spreads a row's bytes over banks"
        vectors.append(Vector(first[:, :5], row_bytes))
    return vectors, ""
