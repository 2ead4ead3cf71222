"""The configuration schema: every key, its kind of value and its documented range.

Value kinds: ``str`` one line of text; ``bool``; ``int`` positive integer; ``int0`` non-negative
integer; ``pow2`` positive power of two; ``num`` positive number; ``num0`` non-negative number;
``frac`` positive number at most 1 (numbers come back as float); ``names``/``names0``/
``wordlines`` row names (see :func:`check_names`); ``decoder`` the table of reserved addresses.

Every number also has a range (:func:`value_range`), chosen so that every quantity the
simulator derives from a configuration stays far inside its integer types and its memory:

- timings in cycles are at most ``MAX_TIMING_CYCLES`` = 2^16 (real parts need at most ~1,000:
  tRFC of a 16 Gb DDR4-3200 device is 880 cycles), ``nREFI`` at most ``MAX_REFRESH_CYCLES`` =
  2^20 (7.8 us is 78,000 cycles at the smallest tCK); a latency sums at most five of them, in
  ticks of at most 16 per cycle, so every latency is below 2^28 ticks;
- ``tCK`` is 0.1 to 100 ns (DDR5-8400 is 0.24 ns, DDR-200 10 ns); a timing given in ns must
  round to a number of cycles within the same range; the PIM times ``tWLOV`` and ``tRBM`` are
  at most 1,000 ns (Ambit's tWLOV is 4 ns, LISA's tRBM 8 ns), 10,000 cycles at the smallest
  tCK;
- the organisation follows JEDEC DDR3/DDR4 (JESD79-3F, JESD79-4C) with headroom: at most 32
  channels (a DDR5 socket has 24 sub-channels), 16 ranks per channel (4 chip selects of up to 4
  stacked ranks), 8 bank groups, 16 banks per group, 2^18 rows (DDR4's A0-A17), 4,096 columns;
  x4, x8 or x16 devices making one 64-bit channel with 64-byte bursts (the simulator moves
  64-bit words and 64-byte cache lines); within these bounds the simulator's memory stays
  small, as the core allocates its per-row tables only for the rows a run touches;
- queues hold at most 1,024 entries, the host keeps at most 1,024 misses in flight; currents
  are at most 10 A (10,000 mA) per device, voltages at most 5 V.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pimsim.addrmap import SCHEMES
from pimsim.config.model import CONSTANT_ROWS
from pimsim.errors import ECHO_CHARS, ConfigError
from pimsim.standards import STANDARDS

#: Names of the physical-address mapping schemes (row, bank, rank, column, channel order).
ADDRESS_SCHEMES: tuple[str, ...] = tuple(SCHEMES)
#: Request schedulers of the memory controller: first-ready FCFS, and plain FCFS.
SCHEDULERS: tuple[str, ...] = ("frfcfs", "fcfs")
#: Row-buffer policies: keep a row open until a conflict, or close it after ``row_cap`` accesses.
ROW_POLICIES: tuple[str, ...] = ("open", "closed")

TOP: dict[str, str] = {"name": "str", "description": "str", "standard": "str"}
SECTIONS: dict[str, dict[str, str]] = {
    "organisation": {
        "channels": "pow2",
        "ranks": "pow2",
        "bankgroups": "pow2",
        "banks_per_group": "pow2",
        "rows": "pow2",
        "columns": "pow2",
        "device_width": "pow2",
        "devices_per_rank": "int",
        "burst_length": "pow2",
        "density_gbit": "int",
    },
    "timing": {},  # tCK and the standard's timing names: see timing_kind
    "power": dict.fromkeys(
        ("VDD", "IDD0", "IDD2N", "IDD3N", "IDD4R", "IDD4W", "IDD5", "VPP"), "num"
    )
    # VPP-rail currents that datasheets may list as 0 (DRAMPower's DDR4 memspecs do)
    | dict.fromkeys(("IPP0", "IPP2N", "IPP3N"), "num0")
    | {"io_rd_pj_per_bit": "num0", "io_wr_pj_per_bit": "num0"},
    "pim": {
        "rows_per_subarray": "pow2",
        "split_decoder": "bool",
        "tWLOV": "num",
        "extra_row_energy_factor": "num0",
        "transfer_cycles": "int",
        "faw_counts_raised_rows": "bool",
        "lisa": "bool",
        "tRBM": "num",
        "rbm_subarrays": "int",
        "rbm_energy_nj": "num0",
        "compute_rows": "names",
        "dual_contact_rows": "names0",
        "decoder": "decoder",  # address -> wordlines: one key per address, see flatten_decoder
    },
    "address_mapping": {"scheme": "str"},
    "controller": {
        "read_queue": "int",
        "write_queue": "int",
        "scheduler": "str",
        "row_policy": "str",
        "row_cap": "int",
        "high_watermark": "frac",
        "low_watermark": "num0",
        "refresh": "bool",
    },
    "host": {"misses_in_flight": "int", "compute_gbps": "num"},
}
VPP_KEYS = ("power.VPP", "power.IPP0", "power.IPP3N")  # optional, all three or none
# power.IPP2N: optional with the VPP keys (pimsim.results.energy takes IPP3N when not given)
OPTIONAL = {"description": "", **dict.fromkeys((*VPP_KEYS, "power.IPP2N"))}
#: Timings that must be at least one cycle; the others may be 0 ("no gap", e.g. nFAW=0).
POSITIVE_TIMINGS = {"nBL", "nCL", "nCWL", "nRCD", "nRP", "nRAS", "nRC", "nRFC", "nREFI"}
#: Prefix of the dotted keys of the decoder table, one per reserved address (pim.decoder.B0).
DECODER = "pim.decoder."
#: Most wordlines one decoder address may raise (Ambit's triple-row activation).
MAX_RAISED = 3
#: Most row names in one list, and most decoder addresses (Ambit has 6 and 16).
MAX_NAMES = 64
#: Longest row or address name, and longest text value (a name, a description), in characters.
MAX_NAME_CHARS = 32
MAX_TEXT_CHARS = 200

#: Largest timing in cycles but nREFI, and largest nREFI (see the module docstring).
MAX_TIMING_CYCLES = 1 << 16
MAX_REFRESH_CYCLES = 1 << 20
#: Largest time in ns of the PIM timings tWLOV and tRBM.
MAX_PIM_NS = 1000.0
#: Fewest data rows of a subarray: the operands of a three-operand built-in (and, or, ...)
#: and the row programs.check keeps free.
MIN_SUBARRAY_ROWS = 4
#: Inclusive (low, high) range of every numeric key but the timings (see timing_range); a
#: kind's own lower limit (positive, non-negative) applies as well.
RANGES: dict[str, tuple[float, float]] = {
    "organisation.channels": (1, 32),
    "organisation.ranks": (1, 16),
    "organisation.bankgroups": (1, 8),
    "organisation.banks_per_group": (1, 16),
    "organisation.rows": (1, 1 << 18),
    "organisation.columns": (1, 4096),
    "organisation.device_width": (4, 16),
    "organisation.devices_per_rank": (1, 16),
    "organisation.burst_length": (1, 16),
    "organisation.density_gbit": (1, 64),
    "timing.tCK": (0.1, 100.0),
    # at least the 3 operand rows of the built-in µprograms and a free one (programs.check)
    "pim.rows_per_subarray": (MIN_SUBARRAY_ROWS, 1 << 18),
    "pim.tWLOV": (0, MAX_PIM_NS),
    "pim.extra_row_energy_factor": (0, 10.0),
    # one 64-byte burst on the chip's internal bus: a few cycles (4 on the presets); the
    # engine steps a transfer cycle by cycle, so the bound also bounds a copy's cost
    "pim.transfer_cycles": (1, 256),
    "pim.tRBM": (0, MAX_PIM_NS),
    "pim.rbm_subarrays": (1, 1 << 18),
    "pim.rbm_energy_nj": (0, 1e6),
    "controller.read_queue": (1, 1024),
    "controller.write_queue": (1, 1024),
    "controller.row_cap": (1, MAX_TIMING_CYCLES),
    "controller.high_watermark": (0, 1.0),
    "controller.low_watermark": (0, 1.0),
    "host.misses_in_flight": (1, 1024),
    "host.compute_gbps": (0.01, 1e5),
}
#: Ranges of power keys by the first letters of their name: volts, mA, pJ per bit.
POWER_RANGES: dict[str, tuple[float, float]] = {
    "V": (0, 5.0),
    "I": (0, 10_000.0),
    "io_": (0, 1000.0),
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TIMING_KEY = re.compile(r"([nt])([A-Z]\w*)")
#: Timing names of every standard, for suggestions before the standard is known.
ALL_TIMING_NAMES = tuple(dict.fromkeys(n for s in STANDARDS.values() for n in s.timing_names))
_KIND_TEXT = {"str": "text", "bool": "true or false"}
_NAME_KINDS = ("names", "names0", "wordlines")
#: Characters of a file path shown in an error message (its end: the file's name).
SHOWN_PATH_CHARS = 80


@dataclass(frozen=True)
class Entry:
    """One value as given: ``where`` it came from, the dotted key as written (``given``), the
    layer ``level`` (later wins), and whether it is in ns still to be turned into cycles."""

    value: Any
    where: str
    given: str
    level: int
    in_ns: bool = False


def shown(value: Any) -> str:
    """``repr(value)`` cut to about ECHO_CHARS characters, for error messages."""
    return cut(repr(value[: ECHO_CHARS + 1] if isinstance(value, str) else value))


def number(value: float) -> str:
    """A range limit for a message: ``65,536``, ``0.1``."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def cut(text: str) -> str:
    """``text`` cut to about ECHO_CHARS characters, for error messages."""
    return text if len(text) <= ECHO_CHARS + 2 else text[:ECHO_CHARS] + "..."


def timing_range(name: str) -> tuple[int, int]:
    """Inclusive range in cycles of timing ``name`` (``nRCD``)."""
    low = 1 if name in POSITIVE_TIMINGS else 0
    return low, MAX_REFRESH_CYCLES if name == "nREFI" else MAX_TIMING_CYCLES


def value_range(key: str) -> tuple[float, float] | None:
    """Inclusive range of the numeric canonical ``key``, or None if it is not a number."""
    section, _, leaf = key.partition(".")
    if key in RANGES:
        return RANGES[key]
    if section == "timing":
        return timing_range(leaf)
    if section == "power":
        return next(r for prefix, r in POWER_RANGES.items() if leaf.startswith(prefix))
    return None


def range_table() -> list[tuple[str, str]]:
    """(key, allowed values) of every numeric key, for ``pimsim configs limits``; timings of
    every standard, a timing in ns (``tRCD``) rounds to cycles within its ``n`` range."""
    timing_names = ("tCK", *ALL_TIMING_NAMES)
    keys = [
        f"{section}.{key}"
        for section, kinds in SECTIONS.items()
        for key in (timing_names if section == "timing" else kinds)
    ]
    kinds = {f"{s}.{k}": kind for s, table in SECTIONS.items() for k, kind in table.items()}
    rows = []
    for key in keys:
        bounds = value_range(key)
        if bounds is None:
            continue
        low, high = bounds
        kind = kinds.get(key, "int" if key != "timing.tCK" else "num")
        opening = "(" if low == 0 and kind in ("num", "frac") else "["  # positive: 0 excluded
        text = f"{opening}{number(low)}, {number(high)}]"
        rows.append((key, text + (", a power of two" if kind == "pow2" else "")))
    return rows


def suggest(key: str, candidates: Sequence[str]) -> str:
    """'; did you mean X?' for the candidate closest to ``key`` (case-insensitive), or ''.

    A key given without its section (``tCK``) is matched to the key with that last part."""
    lowered = {c.lower(): c for c in candidates}
    leaves = {c.rpartition(".")[2].lower(): c for c in candidates}
    best = leaves.get(key.lower())
    if best is None:
        close = difflib.get_close_matches(key.lower()[:100], list(lowered), n=1)
        best = lowered[close[0]] if close else None
    return f"; did you mean {best}?" if best else ""


def canonical_keys(timing_names: Sequence[str], addresses: Sequence[str] = ()) -> list[str]:
    """Every dotted key of a configuration, in file order, timings in cycles; the decoder
    table as one key per address given (``pim.decoder`` itself if none are)."""
    keys = list(TOP)
    for section, kinds in SECTIONS.items():
        names = ("tCK", *timing_names) if section == "timing" else kinds
        for k in names:
            if section == "pim" and k == "decoder" and addresses:
                keys += [f"{DECODER}{a}" for a in addresses]
            else:
                keys.append(f"{section}.{k}")
    return keys


def unknown_key(where: str, key: str) -> ConfigError:
    """An unknown top-level or section key, with the closest known one."""
    candidates = list(SECTIONS) + canonical_keys(ALL_TIMING_NAMES)
    section, _, leaf = key.partition(".")
    if section == "timing" and leaf:
        candidates = timing_candidates(leaf, ALL_TIMING_NAMES)
    elif section in SECTIONS and leaf:
        candidates = [f"{section}.{k}" for k in SECTIONS[section]]
    return ConfigError(where, cut(key), "unknown key" + suggest(key, candidates))


def shown_path(path: str) -> str:
    """A file path for an error message: whole, or its last SHOWN_PATH_CHARS characters."""
    return path if len(path) <= SHOWN_PATH_CHARS else "..." + path[-SHOWN_PATH_CHARS:]


def timing_candidates(key: str, names: Sequence[str]) -> list[str]:
    """Timing keys to suggest for ``key``: the ``n`` names, and the ``t`` ones for a key in ns."""
    if key.startswith("t"):
        names = [*names, *(f"t{n[1:]}" for n in names)]
    return [f"timing.{n}" for n in ("tCK", *names)]


def timing_kind(key: str) -> tuple[str, str] | None:
    """(canonical key, kind) of a timing key given in cycles or ns, or None if malformed."""
    if key == "tCK":
        return "timing.tCK", "num"
    match = _TIMING_KEY.fullmatch(key)
    if match is None:
        return None
    name = f"n{match[2]}"
    if match[1] == "t":
        return f"timing.{name}", "num" if name in POSITIVE_TIMINGS else "num0"
    return f"timing.{name}", "int" if name in POSITIVE_TIMINGS else "int0"


def check(
    kind: str, value: Any, where: str, key: str, bounds: tuple[float, float] | None = None
) -> Any:
    """``value`` checked against ``kind`` and the inclusive ``bounds`` (see value_range);
    numbers come back as float, names as a tuple."""
    if kind in _NAME_KINDS:
        return check_names(kind, value, where, key)
    if value is None:
        raise ConfigError(where, key, "missing value")
    if kind in ("str", "bool"):
        return _check_plain(kind, value, where, key)
    integer = kind in ("int", "int0", "pow2")
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        expected = "integer" if integer else "number"
        raise ConfigError(where, key, f"{expected} expected, got {shown(value)}")
    if not math.isfinite(value):
        raise ConfigError(where, key, f"finite number expected, got {shown(value)}")
    if value < 0 or (value == 0 and kind not in ("int0", "num0")):
        need = "non-negative" if kind in ("int0", "num0") else "positive"
        raise ConfigError(where, key, f"must be {need}, got {shown(value)}")
    if kind == "pow2" and value & (value - 1):
        raise ConfigError(where, key, f"must be a power of two, got {shown(value)}")
    if kind == "frac" and value > 1:
        raise ConfigError(where, key, f"must be at most 1, got {shown(value)}")
    if bounds and not bounds[0] <= value <= bounds[1]:
        low, high = bounds
        raise ConfigError(
            where, key, f"must be in {number(low)}..{number(high)}, got {shown(value)}"
        )
    return value if integer else float(value)


def _check_plain(kind: str, value: Any, where: str, key: str) -> Any:
    """A text (one printable line, at most MAX_TEXT_CHARS) or a boolean."""
    if not isinstance(value, str if kind == "str" else bool):
        raise ConfigError(where, key, f"{_KIND_TEXT[kind]} expected, got {shown(value)}")
    if kind == "str" and not value.isprintable():
        raise ConfigError(where, key, f"one line of printable text expected, got {shown(value)}")
    if kind == "str" and len(value) > MAX_TEXT_CHARS:
        message = f"at most {MAX_TEXT_CHARS} characters, got {len(value):,}"
        raise ConfigError(where, key, message)
    return value


def check_names(kind: str, value: Any, where: str, key: str) -> tuple[str, ...]:
    """Row names, given as one string separated by spaces or as a list of them: at least one
    for ``names``, any number for ``names0`` (at most MAX_NAMES), and 1 to 3 wordlines for
    ``wordlines``, where ``~X`` is the negated wordline of row X. A row may be named once."""
    if isinstance(value, str):
        words = value.split()
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        words = [word for item in value for word in item.split()]
    elif value is None:
        words = []
    else:
        message = f"row names separated by spaces expected, got {shown(value)}"
        raise ConfigError(where, key, message)
    if not words and kind != "names0":
        raise ConfigError(where, key, "missing value")
    if len(words) > MAX_NAMES:
        raise ConfigError(where, key, f"at most {MAX_NAMES} names, got {len(words):,}")
    seen: dict[str, str] = {}
    for word in words:
        name = word[1:] if kind == "wordlines" and word.startswith("~") else word
        if not _NAME.fullmatch(name) or len(name) > MAX_NAME_CHARS:
            tilde = " (~NAME for a negated wordline)" if kind == "wordlines" else ""
            longest = f" (at most {MAX_NAME_CHARS})" if len(name) > MAX_NAME_CHARS else ""
            message = f"bad row name {shown(word)}: letters, digits, _ expected{longest}{tilde}"
            raise ConfigError(where, key, message)
        if name in seen:
            twice = f" ({seen[name]} and {word})" if seen[name] != word else ""
            raise ConfigError(where, key, f"row {name} named twice{twice}")
        seen[name] = word
    if kind == "wordlines" and len(words) > MAX_RAISED:
        raised = cut(" ".join(words))
        message = f"raises {len(words)} wordlines ({raised}); 1 to {MAX_RAISED} allowed"
        raise ConfigError(where, key, message)
    return tuple(words)


def check_address_name(name: Any, where: str, key: str) -> str:
    """A decoder address name: letters, digits, _, not first a digit, not C0 or C1."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > MAX_NAME_CHARS:
        longest = f" (at most {MAX_NAME_CHARS})" if len(str(name)) > MAX_NAME_CHARS else ""
        message = (
            f"bad address name {shown(name)}: letters, digits, _ expected, not first a digit"
            + longest
        )
        raise ConfigError(where, key, message)
    if name in CONSTANT_ROWS:
        message = f"{name} is the address of a constant row, not of the decoder"
        raise ConfigError(where, key, message)
    return name
