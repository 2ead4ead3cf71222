"""Row copies without the channel, as command templates: RowClone PSM, LISA-RISC, PSM twice.

Another bank of the rank: RowClone PSM (ACT the source, ACT the destination, one TRANSFER
per cache line over the chip's internal bus, PRE both). The same bank, another subarray:
LISA-RISC when ``pim.lisa`` is on (ACT the source; per half of the row buffer -- open
bitlines: a row's halves sit in the row buffers above and below its subarray; here, the
even and the odd words -- RBM it hop by hop to the destination subarray and AACT the
destination row to store it, PREE between the halves keeping the source's second half; PRE),
else PSM twice through RowClone's temporary row of a neighbouring bank (in the source's
subarray). Each move is a pimsim.ambit.lowering.Template over three endpoints of a row (its
source, its target and the temporary row); :func:`move_kind` tells which move each row
needs, so rows are grouped by pattern and every pattern is built once. The data effect of a
move is the target's row taking the source's (the temporary row, like the compute rows,
holds its value only while the operation runs); pimsim.ambit.execute.copy_commands is the
per-command slow twin.
"""

from __future__ import annotations

import numpy as np

from pimsim.ambit.layout import SubarrayLayout
from pimsim.ambit.lowering import Template
from pimsim.ambit.vectors import bank_index

#: Move kinds (:func:`move_kind`).
PSM, PSM_TWICE, LISA = 0, 1, 2


def temp_rows(fields: np.ndarray, org, layout: SubarrayLayout) -> np.ndarray:
    """(n, 5) endpoints of the temporary rows PSM twice goes through for sources ``fields``
    (n, 5): the next bank of the bank group (the next bank group with one bank per group),
    in the source's subarray."""
    out = fields.copy()
    if org.banks_per_group == 1:
        out[:, 2] = (fields[:, 2] + 1) % org.bankgroups
    else:
        out[:, 3] = (fields[:, 3] + 1) % org.banks_per_group
    rps = layout.physical_rows
    out[:, 4] = fields[:, 4] // rps * rps + layout.temp_slot
    return out


def move_kind(
    src: np.ndarray, dst: np.ndarray, org, layout: SubarrayLayout, pim
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, how ``src`` (n, 5) reaches ``dst`` (n, 5) in the same rank: the kind (PSM,
    PSM_TWICE, LISA) and the RBMs per half of a LISA copy (0 otherwise)."""
    rps = layout.physical_rows
    same_bank = bank_index(src, org) == bank_index(dst, org)
    kind = np.where(same_bank, LISA if pim.lisa else PSM_TWICE, PSM)
    hops = np.abs(dst[:, 4] // rps - src[:, 4] // rps)
    rbms = np.where(kind == LISA, -(-hops // pim.rbm_subarrays), 0)
    return kind.astype(np.int64), rbms.astype(np.int64)


def move(
    kind: int, rbms: int, bursts: int, src: int, dst: tuple[int, int, int], temp: int
) -> Template:
    """The commands of one move: from endpoint ``src`` to ``dst`` = (endpoint, address
    offset, physical row offset) -- a staging address raises a row stored elsewhere --
    through endpoint ``temp`` (PSM twice)."""
    if kind == PSM:
        return transfer(src, dst, bursts)
    if kind == PSM_TWICE:
        return transfer(src, (temp, 0, 0), bursts) + transfer(temp, dst, bursts)
    return lisa(src, dst, rbms)


def transfer(src: int, dst: tuple[int, int, int], bursts: int) -> Template:
    """RowClone PSM: ACT src, ACT dst, TRANSFER per burst over the rank's internal bus,
    PRE src, PRE dst."""
    end, add, phys = dst
    commands = [("ACT", src, False, src, 0, 1), ("ACT", end, False, end, add, 1)]
    commands += [("TRANSFER", src, True, -1, 0, 1)] * bursts
    commands += [("PRE", src, False, -1, 0, 1), ("PRE", end, False, -1, 0, 1)]
    return Template.of(commands, [(src, 0, 1), (end, phys, 1)])


def lisa(src: int, dst: tuple[int, int, int], rbms: int) -> Template:
    """LISA-RISC in the source's bank: ACT, then per half RBM x ``rbms`` and AACT the
    destination (PREE before the second half), PRE."""
    end, add, phys = dst
    half = [("RBM", src, False, end, add, 1)] * rbms + [("AACT", src, False, end, add, 1)]
    commands = [("ACT", src, False, src, 0, 1), *half, ("PREE", src, False, src, 0, 1), *half]
    commands.append(("PRE", src, False, -1, 0, 1))
    return Template.of(commands, [(src, 0, 1), (end, phys, 2)])
