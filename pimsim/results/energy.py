"""DRAM energy as pure functions of the simulator's counters (never inside the hot loop).

Per-command energies follow DRAMPower 5.x's DDR4 equations (bank-wise factor rho = 1, IBeta =
IDD0), per device, times the devices of a rank (currents in mA, voltages in V, times in ns, so
mA * ns * V = pJ), on the VDD rail and, when the config gives VPP, on the VPP rail alike:

- activation:   (IDD0 - IDD3N) * tRAS * VDD  [+ (IPP0 - IPP3N) * tRAS * VPP]
- precharge:    (IDD0 - IDD2N) * tRP * VDD   [+ (IPP0 - IPP2N) * tRP * VPP]; together an ACT and
  its PRE cost IDD0 * tRC - IDD3N * tRAS - IDD2N * tRP. The ACT term alone turns negative on
  parts whose IDD3N exceeds IDD0 (the DDR4-2400 figures of REFERENCE.md): the pair must cost
  energy, the ACT need not (DRAMPower reports it so)
- read burst:   (IDD4R - IDD3N) * nBL * tCK * VDD; write burst likewise with IDD4W
- refresh:      (IDD5 - IDD3N) * tRFC * VDD, and the rank counts as active (not precharged)
  standby for the tRFC of every REF, as in DRAMPower
- TRANSFER:     one read burst's energy (RowClone PSM moves 64 bytes over the chip's
  internal bus: the array read-out, no channel I/O)
- RBM:          ``pim.rbm_energy_nj`` for an 8 KiB rank-wide row, scaled by the row size
  (LISA's row-buffer movement; reported with TRANSFER under ``transfer``); a PREE costs a PRE
- background:   per rank, IDD3N * VDD + IPP3N * VPP while at least one bank is open or a
  refresh runs (active standby), IDD2N * VDD + IPP2N * VPP otherwise (precharge standby);
  ``power.IPP2N`` defaults to IPP3N (Micron's datasheets give one VPP standby limit, IPP3N,
  for every IDD2x and IDD3x condition)
- channel I/O:  ``power.io_rd_pj_per_bit`` per bit a RD moves over the bus,
  ``power.io_wr_pj_per_bit`` per bit a WR moves.

An activation that raises k rows at once costs the ACT plus f * (k - 1) times one
activation's share of an ACT+PRE pair, f = ``pim.extra_row_energy_factor`` (Ambit: 22% per
extra row). That share is the pair's energy split by tRAS : tRP (positive on every part, unlike
DRAMPower's ACT term), or the profile's ACT constant.

A calibration profile may replace the derived per-command energies by constants (see
:data:`PROFILES`); every result names the profile it used.

``above_idle`` is the part of the total an operation causes: the total less what an idle
memory spends over the same time anyway (precharge standby of every rank, and refresh with its
active standby). ``pimsim compare`` ranks in-DRAM and CPU work by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimsim.clock import Clock
from pimsim.config import Config
from pimsim.errors import ConfigError, PimsimError
from pimsim.results.counters import Counters


class EnergyProfileError(PimsimError):
    """An unknown energy profile name."""


@dataclass(frozen=True)
class EnergyProfile:
    """A named calibration: each field left None comes from the config's datasheet currents.

    Row energies are per KiB of the rank-wide row activated (ACT and PRE given together or
    not at all); burst and I/O energies per bit moved. ``background`` False leaves standby
    power out (both standby powers are 0).
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
    per bit (nJ), under one profile. ``extra_row_nj`` is what each row an activation raises
    beyond the first adds; ``refresh_ns`` how long a REF keeps its rank in active standby."""

    profile: str
    act_nj: float
    pre_nj: float
    extra_row_nj: float
    rd_nj: float
    wr_nj: float
    ref_nj: float
    transfer_nj: float
    rbm_nj: float
    active_standby_w: float
    precharge_standby_w: float
    refresh_ns: float
    io_rd_nj_per_bit: float
    io_wr_nj_per_bit: float
    burst_bits: int


#: The keys an ACT+PRE's datasheet energy depends on.
ACT_PRE_KEYS = tuple(f"power.{k}" for k in ("IDD0", "IDD2N", "IDD3N", "VDD", "VPP", "IPP0"))
ACT_PRE_KEYS += ("power.IPP2N", "power.IPP3N", "timing.nRAS", "timing.nRP", "timing.nRC")


def _datasheet_act_pre(config: Config) -> tuple[float, float]:
    """DRAMPower's ACT and PRE energies (nJ per rank) from the datasheet currents; a pair
    that costs no energy is a ConfigError."""
    p, t, clock = config.power, config.timing, Clock(config.tCK_ns)
    devices = config.organisation.devices_per_rank
    t_ras, t_rp = clock.cycles_to_ns(t["nRAS"]), clock.cycles_to_ns(t["nRP"])
    vpp, ipp0, ipp3n = p.get("VPP", 0.0), p.get("IPP0", 0.0), p.get("IPP3N", 0.0)
    ipp2n = p.get("IPP2N", ipp3n)
    act = ((p["IDD0"] - p["IDD3N"]) * p["VDD"] + (ipp0 - ipp3n) * vpp) * t_ras * devices / 1000
    pre = ((p["IDD0"] - p["IDD2N"]) * p["VDD"] + (ipp0 - ipp2n) * vpp) * t_rp * devices / 1000
    if act + pre <= 0:
        rail = " (and IPPs on VPP)" if vpp else ""
        raise ConfigError(
            config.source,
            "power.IDD0",
            f"an ACT+PRE must cost energy: IDD0*tRC - IDD3N*tRAS - IDD2N*tRP{rail} = "
            f"{(act + pre) / devices * 1000:.1f} pJ per device",
            related=ACT_PRE_KEYS,
        )
    return act, pre


def energy_table(config: Config, profile: str = DEFAULT_PROFILE) -> EnergyTable:
    """The per-command energies of ``config`` under ``profile``."""
    prof = get_profile(profile)
    p, t, org = config.power, config.timing, config.organisation
    clock = Clock(config.tCK_ns)
    devices = org.devices_per_rank
    vpp, ipp3n = p.get("VPP", 0.0), p.get("IPP3N", 0.0)
    ipp2n = p.get("IPP2N", ipp3n)
    t_burst, t_rfc = clock.cycles_to_ns(t["nBL"]), clock.cycles_to_ns(t["nRFC"])
    burst_bits = org.burst_bytes * 8
    row_kib = org.row_bytes / 1024

    def rank_nj(pj_per_device: float) -> float:
        return pj_per_device * devices / 1000.0

    if prof.act_nj_per_row_kib is None:
        act, pre = _datasheet_act_pre(config)
        activation = (act + pre) * t["nRAS"] / (t["nRAS"] + t["nRP"])
    else:
        act = activation = prof.act_nj_per_row_kib * row_kib
        pre = prof.pre_nj_per_row_kib * row_kib
    rd = rank_nj((p["IDD4R"] - p["IDD3N"]) * t_burst * p["VDD"])
    wr = rank_nj((p["IDD4W"] - p["IDD3N"]) * t_burst * p["VDD"])
    io_rd, io_wr = p["io_rd_pj_per_bit"] / 1000.0, p["io_wr_pj_per_bit"] / 1000.0
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
        extra_row_nj=config.pim.extra_row_energy_factor * activation,
        rd_nj=rd,
        wr_nj=wr,
        ref_nj=rank_nj((p["IDD5"] - p["IDD3N"]) * t_rfc * p["VDD"]),
        transfer_nj=rd,
        rbm_nj=config.pim.rbm_energy_nj * org.row_bytes / 8192,
        active_standby_w=rank_nj(p["IDD3N"] * p["VDD"] + ipp3n * vpp) if standby else 0.0,
        precharge_standby_w=rank_nj(p["IDD2N"] * p["VDD"] + ipp2n * vpp) if standby else 0.0,
        refresh_ns=t_rfc,
        io_rd_nj_per_bit=io_rd,
        io_wr_nj_per_bit=io_wr,
        burst_bits=burst_bits,
    )


def activation_nj(table: EnergyTable, rows: int) -> float:
    """Energy of one activation that raises ``rows`` rows at once."""
    return table.act_nj + table.extra_row_nj * (rows - 1)


def energy_of(
    counters: Counters, config: Config, profile: str = DEFAULT_PROFILE
) -> dict[str, float]:
    """Energy in nJ of a run from its counters (pimsim.results.counters), under ``config``'s
    per-command energies and ``profile``: see :func:`energy_breakdown`."""
    return energy_breakdown(energy_table(config, profile), counters)


def energy_breakdown(table: EnergyTable, counters: Counters) -> dict[str, float]:
    """Energy in nJ of a run: per-command terms, background and channel I/O, their
    ``total``, and ``above_idle`` (total less idle standby and refresh; see the module).

    Every ACT/AACT raises ``counters.rows_raised`` wordlines in all; a bank closed (PRE,
    RDA/WRA, PREA per open bank, PREE) costs a precharge; each rank spends its open time in
    active standby, the rest of the run in precharge standby. Each REF keeps its rank in
    active standby for ``table.refresh_ns`` (at most the time all ranks were closed).
    """
    counts = counters.command_counts()
    rows_raised = int(counters.rows_raised.sum())
    banks_precharged = int(counters.banks_precharged.sum())
    open_ns, time_ns = counters.open_ns(), counters.time_ns
    activations = counts.get("ACT", 0) + counts.get("AACT", 0)
    reads = counts.get("RD", 0) + counts.get("RDA", 0)
    writes = counts.get("WR", 0) + counts.get("WRA", 0)
    refreshes = counts.get("REF", 0)
    extra_rows = max(0, rows_raised - activations)
    open_total = sum(open_ns)
    closed_total = len(open_ns) * time_ns - open_total
    refresh_total = min(refreshes * table.refresh_ns, closed_total)
    refresh_standby = (table.active_standby_w - table.precharge_standby_w) * refresh_total
    parts = {
        "act": table.act_nj * activations + table.extra_row_nj * extra_rows,
        "pre": table.pre_nj * banks_precharged,
        "rd": table.rd_nj * reads,
        "wr": table.wr_nj * writes,
        "ref": table.ref_nj * refreshes,
        "transfer": table.transfer_nj * counts.get("TRANSFER", 0)
        + table.rbm_nj * counts.get("RBM", 0),
        "io": table.burst_bits * (table.io_rd_nj_per_bit * reads + table.io_wr_nj_per_bit * writes),
        "background": table.active_standby_w * open_total
        + table.precharge_standby_w * closed_total
        + refresh_standby,
    }
    total = sum(parts.values())
    idle = table.precharge_standby_w * len(open_ns) * time_ns + parts["ref"] + refresh_standby
    return {**parts, "total": total, "above_idle": total - idle}
