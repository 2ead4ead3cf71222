"""DRAM energy as pure functions of the simulator's counters (never inside the hot loop).

Per-command energies follow DRAMPower's current-based equations, per device, times the devices
of a rank (currents in mA, voltages in V, times in ns, so mA * ns * V = pJ):

- activation + precharge: IDD0 * tRC - (IDD3N * tRAS + IDD2N * tRP), times VDD
  [+ (IPP0 - IPP3N) * tRC * VPP], with tRC = tRAS + tRP; split between the ACT and the PRE
  in proportion to tRAS and tRP (DRAMPower's split, (IDD0 - IDD3N) * tRAS for the ACT, turns
  negative on parts whose IDD3N exceeds IDD0, such as the DDR4-2400 figures of REFERENCE.md)
- read burst:   (IDD4R - IDD3N) * nBL * tCK * VDD; write burst likewise with IDD4W
- refresh:      (IDD5 - IDD3N) * tRFC * VDD
- TRANSFER:     one read burst's energy (RowClone PSM moves 64 bytes over the chip's
  internal bus: the array read-out, no channel I/O)
- RBM:          ``pim.rbm_energy_nj`` for an 8 KiB rank-wide row, scaled by the row size
  (LISA's row-buffer movement; reported with TRANSFER under ``transfer``); a PREE costs a PRE
- background:   per rank, IDD3N * VDD while at least one bank is open (active standby),
  IDD2N * VDD while all are closed (precharge standby); IPP3N * VPP in both when given
- channel I/O:  ``power.io_rd_pj_per_bit`` per bit a RD moves over the bus,
  ``power.io_wr_pj_per_bit`` per bit a WR moves.

An activation that raises k rows at once costs (1 + f * (k - 1)) single activations,
f = ``pim.extra_row_energy_factor`` (Ambit: 22% per extra row), so the activation term is
E_act * (activations + f * (rows_raised - activations)).

A calibration profile may replace the derived per-command energies by constants (see
:data:`PROFILES`); every result names the profile it used.

``above_idle`` is the part of the total an operation causes: the total less what an idle
memory spends over the same time anyway (precharge standby of every rank, and refresh).
``pimsim compare`` ranks in-DRAM and CPU work by it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pimsim.config import Config
from pimsim.device import Device
from pimsim.errors import ConfigError, PimsimError


class EnergyProfileError(PimsimError):
    """An unknown energy profile name."""


@dataclass(frozen=True)
class EnergyProfile:
    """A named calibration: each field left None comes from the config's datasheet currents.

    Row energies are per KiB of the rank-wide row activated; burst and I/O energies per bit
    moved. ``background`` False leaves standby power out (both standby powers are 0).
    """

    name: str
    description: str
    act_nj_per_row_kib: float | None = None
    pre_nj_per_row_kib: float | None = None
    rd_pj_per_bit: float | None = None
    wr_pj_per_bit: float | None = None
    io_pj_per_bit: float | None = None
    background: bool = True


#: The calibration profiles. ``ambit-micro17`` reproduces the energy table of Ambit (MICRO 2017;
#: REFERENCE.md): its "DRAM & channel" baseline spends about 46 nJ per KB moved and Ambit about
#: 0.8 nJ per KB per AAP, counting dynamic energy only. The constants:
#: - ACT and PRE 0.26 nJ per KiB of row each: with the 22% surcharge per extra row raised this
#:   gives not 1.55, and/or 3.2, nand/nor 4.0, xor/xnor 5.4 nJ per KB of result (paper: 1.6,
#:   3.2, 4.0, 5.5);
#: - channel I/O 2.25 pJ/bit (18.4 nJ/KB): 40% of the baseline's per-KB energy, the channel's
#:   share of a copy's energy in RowClone (MICRO 2013);
#: - RD and WR bursts 3.3 pJ/bit (27.1 nJ/KB): the rest of the 46 nJ/KB after I/O and the
#:   0.52 nJ/KB of streaming whole 8 KiB rows (one ACT and PRE per row);
#: - no background power (the paper's figures leave standby out).
PROFILES: dict[str, EnergyProfile] = {
    "datasheet": EnergyProfile(
        "datasheet", "DRAMPower's equations on the config's datasheet currents (power section)"
    ),
    "ambit-micro17": EnergyProfile(
        "ambit-micro17",
        "constants that reproduce Ambit's (MICRO 2017) per-KB energy table; dynamic energy only",
        act_nj_per_row_kib=0.26,
        pre_nj_per_row_kib=0.26,
        rd_pj_per_bit=3.3,
        wr_pj_per_bit=3.3,
        io_pj_per_bit=2.25,
        background=False,
    ),
}
DEFAULT_PROFILE = "datasheet"

#: The keys of an energy breakdown, in report order (all in nJ).
BREAKDOWN = ("act", "pre", "rd", "wr", "ref", "transfer", "io", "background")


def get_profile(name: str) -> EnergyProfile:
    """The profile called ``name``; EnergyProfileError names the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise EnergyProfileError(f"unknown energy profile {name!r}; known: {known}") from None


@dataclass(frozen=True)
class EnergyTable:
    """Energy per rank-level command (nJ), standby power per rank (W = nJ/ns), channel I/O
    per bit (nJ), under one profile."""

    profile: str
    act_nj: float
    pre_nj: float
    rd_nj: float
    wr_nj: float
    ref_nj: float
    transfer_nj: float
    rbm_nj: float
    active_standby_w: float
    precharge_standby_w: float
    io_rd_nj_per_bit: float
    io_wr_nj_per_bit: float
    extra_row_factor: float
    burst_bits: int


def energy_table(config: Config, profile: str = DEFAULT_PROFILE) -> EnergyTable:
    """The per-command energies of ``config`` under ``profile``."""
    prof = get_profile(profile)
    p, t, org = config.power, config.timing, config.organisation
    tck = config.tCK_ns
    devices = org.devices_per_rank
    vpp, ipp0, ipp3n = p.get("VPP", 0.0), p.get("IPP0", 0.0), p.get("IPP3N", 0.0)
    t_ras, t_rp, t_rfc = t["nRAS"] * tck, t["nRP"] * tck, t["nRFC"] * tck
    t_burst = t["nBL"] * tck
    burst_bits = org.burst_bytes * 8
    row_kib = org.row_bytes / 1024

    def rank_nj(pj_per_device: float) -> float:
        return pj_per_device * devices / 1000.0

    t_rc = t_ras + t_rp
    act_pre = rank_nj(
        (p["IDD0"] * t_rc - p["IDD3N"] * t_ras - p["IDD2N"] * t_rp) * p["VDD"]
        + (ipp0 - ipp3n) * t_rc * vpp
    )
    if act_pre <= 0 and prof.act_nj_per_row_kib is None:
        raise ConfigError(
            config.source,
            "power.IDD0",
            f"IDD0 * tRC - IDD3N * tRAS - IDD2N * tRP must be positive (an ACT+PRE costs "
            f"energy), got {act_pre / devices * 1000:.1f} pJ per device",
        )
    act, pre = act_pre * t_ras / t_rc, act_pre * t_rp / t_rc
    rd = rank_nj((p["IDD4R"] - p["IDD3N"]) * t_burst * p["VDD"])
    wr = rank_nj((p["IDD4W"] - p["IDD3N"]) * t_burst * p["VDD"])
    io_rd, io_wr = p["io_rd_pj_per_bit"] / 1000.0, p["io_wr_pj_per_bit"] / 1000.0
    if prof.act_nj_per_row_kib is not None:
        act = prof.act_nj_per_row_kib * row_kib
    if prof.pre_nj_per_row_kib is not None:
        pre = prof.pre_nj_per_row_kib * row_kib
    if prof.rd_pj_per_bit is not None:
        rd = prof.rd_pj_per_bit * burst_bits / 1000.0
    if prof.wr_pj_per_bit is not None:
        wr = prof.wr_pj_per_bit * burst_bits / 1000.0
    if prof.io_pj_per_bit is not None:
        io_rd = io_wr = prof.io_pj_per_bit / 1000.0
    standby = prof.background
    return EnergyTable(
        profile=prof.name,
        act_nj=act,
        pre_nj=pre,
        rd_nj=rd,
        wr_nj=wr,
        ref_nj=rank_nj((p["IDD5"] - p["IDD3N"]) * t_rfc * p["VDD"]),
        transfer_nj=rd,
        rbm_nj=config.pim.rbm_energy_nj * org.row_bytes / 8192,
        active_standby_w=rank_nj(p["IDD3N"] * p["VDD"] + ipp3n * vpp) if standby else 0.0,
        precharge_standby_w=rank_nj(p["IDD2N"] * p["VDD"] + ipp3n * vpp) if standby else 0.0,
        io_rd_nj_per_bit=io_rd,
        io_wr_nj_per_bit=io_wr,
        extra_row_factor=config.pim.extra_row_energy_factor,
        burst_bits=burst_bits,
    )


def activation_nj(table: EnergyTable, rows: int) -> float:
    """Energy of one activation that raises ``rows`` rows at once."""
    return table.act_nj * (1 + table.extra_row_factor * (rows - 1))


def energy_breakdown(
    table: EnergyTable,
    counts: Mapping[str, int],
    rows_raised: int,
    banks_precharged: int,
    open_ns: Sequence[float],
    time_ns: float,
) -> dict[str, float]:
    """Energy in nJ of a run: per-command terms, background and channel I/O, their
    ``total``, and ``above_idle`` (total less idle standby and refresh; see the module).

    ``counts`` are commands by name; ``rows_raised`` the wordlines every ACT/AACT raised;
    ``banks_precharged`` the banks closed (PRE, RDA/WRA, PREA per open bank, PREE); ``open_ns``
    per rank the time it had a bank open, within the run's ``time_ns``.
    """
    activations = counts.get("ACT", 0) + counts.get("AACT", 0)
    reads = counts.get("RD", 0) + counts.get("RDA", 0)
    writes = counts.get("WR", 0) + counts.get("WRA", 0)
    extra_rows = max(0, rows_raised - activations)
    open_total = sum(open_ns)
    closed_total = len(open_ns) * time_ns - open_total
    parts = {
        "act": table.act_nj * (activations + table.extra_row_factor * extra_rows),
        "pre": table.pre_nj * banks_precharged,
        "rd": table.rd_nj * reads,
        "wr": table.wr_nj * writes,
        "ref": table.ref_nj * counts.get("REF", 0),
        "transfer": table.transfer_nj * counts.get("TRANSFER", 0)
        + table.rbm_nj * counts.get("RBM", 0),
        "io": table.burst_bits * (table.io_rd_nj_per_bit * reads + table.io_wr_nj_per_bit * writes),
        "background": table.active_standby_w * open_total
        + table.precharge_standby_w * closed_total,
    }
    total = sum(parts.values())
    idle = table.precharge_standby_w * len(open_ns) * time_ns + parts["ref"]
    return {**parts, "total": total, "above_idle": total - idle}


def device_energy(device: Device, end_tick: int, profile: str = DEFAULT_PROFILE) -> dict:
    """Energy breakdown (nJ) of everything ``device`` did from tick 0 to ``end_tick``."""
    activity = device.activity(end_tick)
    tick_ns = device.config.tCK_ns / device.ticks_per_cycle
    return energy_breakdown(
        energy_table(device.config, profile),
        device.command_counts(),
        int(activity["rows_raised"].sum()),
        int(activity["banks_precharged"].sum()),
        [t * tick_ns for t in activity["open_ticks"].ravel().tolist()],
        end_tick * tick_ns,
    )
