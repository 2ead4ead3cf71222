"""Checks between keys of a resolved configuration, and the checks the later stages rely on.

:func:`check_consistency` applies the rules between keys (geometry, timing relations, the
decoder table) to the resolved values; :func:`check_runnable` then compiles a built
:class:`Config` the way a run does (timing tables in ticks, the address mapper, the subarray
layout, the energy table) without allocating the core's arrays, so that no configuration
error is found for the first time by ``pimsim run``. A failure is blamed on the most
recently given key involved (a ``-p`` override before the file, the file before the preset),
in one line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pimsim.clock import Clock, tick_timings
from pimsim.config.model import Config
from pimsim.config.schema import (
    ADDRESS_SCHEMES,
    DECODER,
    MAX_NAMES,
    ROW_POLICIES,
    SCHEDULERS,
    VPP_KEYS,
    Entry,
    cut,
    shown,
)
from pimsim.errors import ConfigError
from pimsim.standards import Standard, compile_tables

#: Width of one channel's data bus and bytes of one burst: the core stores rows as 64-bit
#: words, one per column, and the host moves 64-byte cache lines, one burst each.
CHANNEL_BITS = 64
BURST_BYTES = 64


def blame(merged: Mapping[str, Entry], keys: Sequence[str], message: str) -> ConfigError:
    """An error on the most recently given of ``keys`` (the first of them on a tie)."""
    entry = max((merged[k] for k in keys if k in merged), key=lambda e: e.level)
    return ConfigError(entry.where, entry.given, message)


def _organisation_rules(v: Mapping[str, Any], std: Standard) -> list[tuple[list[str], bool, str]]:
    """(keys, holds, message) of the organisation's rules."""
    org = {k.partition(".")[2]: x for k, x in v.items() if k.startswith("organisation.")}
    keys = {k: f"organisation.{k}" for k in org}
    geometry = ("bankgroups", "banks_per_group", "rows", "columns", "device_width")
    gbit = math.prod(org[k] for k in geometry) / 2**30
    width, burst = org["device_width"] * org["devices_per_rank"], org["burst_length"]
    return [
        (
            [keys["bankgroups"]],
            std.has_bankgroups or org["bankgroups"] == 1,
            f"{std.name} has no bank groups: bankgroups must be 1, got {org['bankgroups']}",
        ),
        (
            [keys["devices_per_rank"], keys["device_width"]],
            width == CHANNEL_BITS,
            f"devices_per_rank * device_width = {width} bits; the channel must be "
            f"{CHANNEL_BITS} bits wide (one 64-bit word per column)",
        ),
        (
            [keys["burst_length"]],
            burst * CHANNEL_BITS // 8 == BURST_BYTES,
            f"a burst of {burst} beats moves {burst * CHANNEL_BITS // 8} bytes; it must move "
            f"{BURST_BYTES} (one cache line): burst_length {BURST_BYTES * 8 // CHANNEL_BITS}",
        ),
        (
            [keys["columns"], keys["burst_length"]],
            org["columns"] >= burst,
            f"columns = {org['columns']} is less than one burst of burst_length = {burst}",
        ),
        (
            [keys["density_gbit"], *(keys[k] for k in geometry)],
            gbit == org["density_gbit"],
            f"{'*'.join(geometry)} = {gbit:g} Gbit, but density_gbit is {org['density_gbit']}",
        ),
    ]


def _timing_rules(v: Mapping[str, Any]) -> list[tuple[list[str], bool, str]]:
    """(keys, holds, message) of the rules between timings."""
    nrc, nras, nrp, nbl = (v[f"timing.{n}"] for n in ("nRC", "nRAS", "nRP", "nBL"))
    burst = v["organisation.burst_length"]
    return [
        (
            ["timing.nBL", "organisation.burst_length"],
            2 * nbl == burst,
            f"nBL = {nbl} is not burst_length / 2 = {burst / 2:g}",
        ),
        (
            ["timing.nRC", "timing.nRAS", "timing.nRP"],
            nrc >= nras + nrp,
            f"nRC = {nrc} is less than nRAS + nRP = {nras} + {nrp} = {nras + nrp}",
        ),
        (
            ["timing.nRFC", "timing.nREFI"],
            v["timing.nRFC"] < v["timing.nREFI"],
            f"nRFC = {v['timing.nRFC']} must be less than nREFI = {v['timing.nREFI']} "
            "(a refresh must end before the next is due)",
        ),
    ]


def _pim_rules(v: Mapping[str, Any]) -> list[tuple[list[str], bool, str]]:
    """(keys, holds, message) of the subarray's rules."""
    rps, rows = v["pim.rows_per_subarray"], v["organisation.rows"]
    addresses = [k for k in v if k.startswith(DECODER)]
    return [
        (
            ["pim.rows_per_subarray", "organisation.rows"],
            rps <= rows,
            f"rows_per_subarray = {rps} must be at most rows = {rows}",
        ),
        (
            addresses,
            len(addresses) <= MAX_NAMES,
            f"{len(addresses)} decoder addresses; at most {MAX_NAMES}",
        ),
    ]


def _choice_rules(v: Mapping[str, Any]) -> list[tuple[list[str], bool, str]]:
    """(keys, holds, message) of the named choices, the VPP keys and the watermarks."""
    vpp = [k for k in VPP_KEYS if k in v]
    scheme = v["address_mapping.scheme"]
    ctl = {k.partition(".")[2]: x for k, x in v.items() if k.startswith("controller.")}
    return [
        (
            vpp,
            len(vpp) in (0, len(VPP_KEYS)),
            "VPP, IPP0 and IPP3N go together; missing "
            + ", ".join(k.partition(".")[2] for k in VPP_KEYS if k not in v),
        ),
        (
            ["power.IPP2N"],
            "power.IPP2N" not in v or len(vpp) == len(VPP_KEYS),
            "IPP2N needs VPP, IPP0 and IPP3N",
        ),
        (
            ["address_mapping.scheme"],
            scheme in ADDRESS_SCHEMES,
            f"unknown scheme {shown(scheme)}; known: {', '.join(ADDRESS_SCHEMES)}",
        ),
        (
            ["controller.scheduler"],
            ctl["scheduler"] in SCHEDULERS,
            f"unknown scheduler {shown(ctl['scheduler'])}; known: {', '.join(SCHEDULERS)}",
        ),
        (
            ["controller.row_policy"],
            ctl["row_policy"] in ROW_POLICIES,
            f"unknown row policy {shown(ctl['row_policy'])}; known: {', '.join(ROW_POLICIES)}",
        ),
        (
            ["controller.low_watermark", "controller.high_watermark"],
            ctl["low_watermark"] < ctl["high_watermark"],
            f"low_watermark = {ctl['low_watermark']:g} must be less than "
            f"high_watermark = {ctl['high_watermark']:g}",
        ),
    ]


def check_consistency(v: Mapping[str, Any], merged: Mapping[str, Entry], std: Standard) -> None:
    """Rules between keys of the resolved values ``v``; ``merged`` says where each came from."""
    rules = _organisation_rules(v, std) + _timing_rules(v) + _pim_rules(v) + _choice_rules(v)
    for keys, ok, message in rules:
        if not ok:
            raise blame(merged, keys, message)
    _check_decoder(v, merged)


def _check_decoder(v: Mapping[str, Any], merged: Mapping[str, Entry]) -> None:
    """The decoder table against the compute and dual-contact rows."""
    compute, dual = v["pim.compute_rows"], v["pim.dual_contact_rows"]
    table = {k: x for k, x in v.items() if k.startswith(DECODER)}
    rows = f"compute_rows: {cut(' '.join(compute))}"
    duals = f"dual_contact_rows: {cut(' '.join(dual)) if dual else '(none)'}"
    extra = [name for name in dual if name not in compute]
    if extra:
        message = f"{cut(' '.join(extra))} not among the compute rows ({rows})"
        raise blame(merged, ["pim.dual_contact_rows", "pim.compute_rows"], message)
    for key, raised in table.items():
        address = key.removeprefix(DECODER)
        for wordline in raised:
            row = wordline.removeprefix("~")
            if row not in compute:
                message = f"{address} raises {row}, which is not a compute row ({rows})"
                raise blame(merged, [key, "pim.compute_rows"], message)
            if wordline != row and row not in dual:
                message = (
                    f"{address} raises {wordline}, but {row} is not a dual-contact row ({duals})"
                )
                raise blame(merged, [key, "pim.dual_contact_rows"], message)
    if len(compute) > len(table):
        message = (
            f"{len(compute)} compute rows but {len(table)} decoder addresses; "
            "each compute row is stored at one of them"
        )
        raise blame(merged, ["pim.compute_rows", *table], message)


def check_runnable(config: Config, std: Standard, merged: Mapping[str, Entry]) -> None:
    """Build what a run builds from ``config`` before it simulates (but the core's arrays):
    the timing tables in ticks, the address mapper, the subarray layout, the energy table."""
    # imported here: these modules import pimsim.config themselves
    from pimsim.addrmap import AddressMapper
    from pimsim.ambit.layout import SubarrayLayout
    from pimsim.results.energy import energy_table

    compile_tables(std, tick_timings(config, Clock.of(config)))
    SubarrayLayout.from_params(config.pim)
    AddressMapper.for_config(config)
    try:
        energy_table(config)
    except ConfigError as error:  # blamed on the most recent key it involves
        raise blame(merged, [error.key, *error.related], error.message) from None
