"""Row copies without the channel, as command streams: RowClone PSM, LISA-RISC, PSM twice.

Another bank of the rank: RowClone PSM (ACT the source, ACT the destination, one TRANSFER
per cache line over the chip's internal bus, PRE both). The same bank, another subarray:
LISA-RISC when ``pim.lisa`` is on, else PSM twice through the temporary row of a
neighbouring bank (in the source's subarray). Each command is a
pimsim.ambit.execute.Command with its data action (the copy lands with the last burst).
"""

from __future__ import annotations

from collections.abc import Iterator

from pimsim.ambit.execute import Command, PimDevice
from pimsim.ambit.vectors import RowAddress
from pimsim.device import Device


def chain(iterators: list[Iterator[Command]]) -> Iterator[Command]:
    for it in iterators:
        yield from it


class RowMover:
    """Copies rows of one rank on a device (see the module docstring)."""

    def __init__(self, device: Device, pim: PimDevice):
        self.device, self.pim = device, pim

    def temp_row(self, subarray: int) -> int:
        """Physical row of ``subarray``'s temporary row, the middle stop of RowClone's
        inter-subarray copies (an extra wordline: no host address or vector reaches it)."""
        layout = self.pim.layout
        return subarray * layout.physical_rows + layout.temp_slot

    def copy_row(
        self, src: RowAddress, dst: RowAddress, dst_address: int | None = None
    ) -> Iterator[Command]:
        """Copy row ``src`` to physical row ``dst`` of the same rank without the channel
        (``dst_address``: the row address to activate when it is not ``dst``'s own)."""
        if dst_address is None:
            dst_address = dst[4]
        if src[:4] != dst[:4]:
            return self.transfer(src, dst, dst_address)
        if self.device.config.pim.lisa:
            return self.lisa_copy(src, dst, dst_address)
        org = self.device.config.organisation
        ch, rk, bg, ba = src[:4]
        ba_tmp, bg_tmp = (ba + 1) % org.banks_per_group, bg
        if org.banks_per_group == 1:
            bg_tmp = (bg + 1) % org.bankgroups
        tmp = (ch, rk, bg_tmp, ba_tmp, self.temp_row(src[4] // self.pim.layout.physical_rows))
        return chain([self.transfer(src, tmp, tmp[4]), self.transfer(tmp, dst, dst_address)])

    def lisa_copy(self, src: RowAddress, dst: RowAddress, dst_address: int) -> Iterator[Command]:
        """LISA-RISC: ACT the source; per half of the row buffer (open bitlines: a row's
        halves sit in the row buffers above and below its subarray; here, alternate words)
        RBM it hop by hop to the destination subarray, AACT the destination row to store it;
        PREE between the halves keeps the source's second half; PRE."""
        pim = self.device.config.pim
        rps = self.pim.layout.physical_rows
        hops = abs(dst[4] // rps - src[4] // rps)
        bank = src[:4]
        yield Command("ACT", bank, src[4], raised=(src[4],))
        for half in (0, 1):
            if half:
                yield Command("PREE", bank, src[4])
            for _ in range(-(-hops // pim.rbm_subarrays)):
                yield Command("RBM", bank, dst_address)
            yield Command(
                "AACT",
                bank,
                dst_address,
                lambda h=half: self._store_half(src, dst, h),
                (dst[4],),
            )
        yield Command("PRE", bank, 0)

    def _store_half(self, src: RowAddress, dst: RowAddress, half: int) -> None:
        row = self.device.read_row(*dst)
        row[half::2] = self.device.read_row(*src)[half::2]
        self.device.write_row(*dst, row)

    def transfer(self, src: RowAddress, dst: RowAddress, dst_address: int) -> Iterator[Command]:
        """RowClone PSM from ``src`` to ``dst`` (another bank of the rank)."""
        org = self.device.config.organisation
        rank = (*src[:2], 0, 0)
        yield Command("ACT", src[:4], src[4], raised=(src[4],))
        yield Command("ACT", dst[:4], dst_address, raised=(dst[4],))
        bursts = org.columns // org.burst_length
        for k in range(bursts):
            last = k == bursts - 1
            yield Command(
                "TRANSFER",
                rank,
                0,
                (lambda: self.device.write_row(*dst, self.device.read_row(*src))) if last else None,
            )
        yield Command("PRE", src[:4], 0)
        yield Command("PRE", dst[:4], 0)
