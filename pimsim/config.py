"""Configuration: presets and user files resolved into one frozen, validated :class:`Config`.

A configuration is resolved in layers, each overriding the one before, key by key:

1. a preset, ``configs/<name>.yaml`` (complete; shipped as the package ``pimsim.configs``);
2. a user file, which may name a preset to start from (``preset: ddr4-2400``) and give any
   subset of its sections and keys, or be complete on its own;
3. ``-p KEY=VALUE`` overrides with dotted keys (``timing.nRCD=20``, ``pim.split_decoder=false``;
   each value is read as YAML).

``pim.decoder`` is the one table whose keys are free: it maps each reserved row address of a
subarray (Ambit's B-group, ``B0``..``B15`` in the presets; a variant may add more) to the
wordlines it raises, and each entry is a key of its own (``pim.decoder.B12``), so a later layer
replaces or adds single entries (``-p "pim.decoder.B12=T0 T1 T3"``). Row and wordline lists are
names separated by spaces (``T0 T1 T2``; a YAML list also works), ``~X`` being the negated
wordline of dual-contact row ``X``.

Then the whole is checked. Timings are integer cycles of the memory clock under their ``n``
names (``nRCD``); any of them may instead be given in nanoseconds under its ``t`` name
(``tRCD: 13.32``) and is rounded to cycles the JEDEC way, ``n = ceil(t / tCK - 0.025)``, with
the final ``tCK``. ``tCK`` itself is in ns. Every problem raises
:class:`~pimsim.errors.ConfigError` naming the source (``FILE:LINE``, ``-p`` or ``preset NAME``)
and the dotted key at fault, in one line.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pimsim.addrmap import SCHEMES
from pimsim.ambit.layout import extra_rows
from pimsim.errors import ConfigError
from pimsim.standards import STANDARDS, Standard

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DEFAULT_PRESET = "ddr4-2400"

#: Names of the physical-address mapping schemes (row, bank, rank, column, channel order).
ADDRESS_SCHEMES: tuple[str, ...] = tuple(SCHEMES)
#: Request schedulers of the memory controller: first-ready FCFS, and plain FCFS.
SCHEDULERS: tuple[str, ...] = ("frfcfs", "fcfs")
#: Row-buffer policies: keep a row open until a conflict, or close it after ``row_cap`` accesses.
ROW_POLICIES: tuple[str, ...] = ("open", "closed")

# Value kinds: "str"; "bool"; "int" positive integer; "int0" non-negative integer; "pow2"
# positive power of two; "num" positive number; "num0" non-negative number; "frac" positive
# number at most 1 (numbers -> float).
_TOP: dict[str, str] = {"name": "str", "description": "str", "standard": "str"}
_SECTIONS: dict[str, dict[str, str]] = {
    "organisation": {
        "channels": "pow2",
        "ranks": "pow2",
        "bankgroups": "pow2",
        "banks_per_group": "pow2",
        "rows": "pow2",
        "columns": "pow2",
        "device_width": "int",
        "devices_per_rank": "int",
        "burst_length": "int",
        "density_gbit": "int",
    },
    "timing": {},  # tCK and the standard's timing names: see _timing_kind
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
        "decoder": "decoder",  # address -> wordlines: one key per address, see _flatten_decoder
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
_VPP_KEYS = ("power.VPP", "power.IPP0", "power.IPP3N")  # optional, all three or none
# power.IPP2N: optional with the VPP keys (pimsim.energy takes IPP3N when it is not given)
_OPTIONAL = {"description": "", **dict.fromkeys((*_VPP_KEYS, "power.IPP2N"))}
#: Timings that must be at least one cycle; the others may be 0 ("no gap", e.g. nFAW=0).
_POSITIVE_TIMINGS = {"nBL", "nCL", "nCWL", "nRCD", "nRP", "nRAS", "nRC", "nRFC", "nREFI"}
#: Prefix of the dotted keys of the decoder table, one per reserved address (pim.decoder.B0).
_DECODER = "pim.decoder."
#: Addresses of the constant rows (all zeros, all ones), reserved before the decoder's.
_CONSTANT_ROWS = ("C0", "C1")
#: Most physical rows of a bank (data rows and the subarrays' extra wordlines): a C int.
_MAX_ROWS_PER_BANK = 2**31 - 1
#: Most wordlines one decoder address may raise (Ambit's triple-row activation).
_MAX_RAISED = 3
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TIMING_KEY = re.compile(r"([nt])([A-Z]\w*)")
#: Timing names of every standard, for suggestions before the standard is known.
_ALL_TIMING_NAMES = tuple(dict.fromkeys(n for s in STANDARDS.values() for n in s.timing_names))
_KIND_TEXT = {"str": "text", "bool": "true or false"}
_NAME_KINDS = ("names", "names0", "wordlines")


class FrozenMap(Mapping):
    """A read-only, hashable mapping (configuration tables do not change after loading)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


@dataclass(frozen=True)
class Organisation:
    """Geometry of the memory system; counts per level, ``rows``/``columns`` per bank of one
    device (JEDEC column count), ``device_width`` in bits, ``density_gbit`` per device."""

    channels: int
    ranks: int
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    device_width: int
    devices_per_rank: int
    burst_length: int
    density_gbit: int

    @property
    def banks_per_rank(self) -> int:
        """Banks in one rank (all bank groups)."""
        return self.bankgroups * self.banks_per_group

    @property
    def row_bytes(self) -> int:
        """Bytes in one rank-wide row (all devices of the rank act in lockstep)."""
        return self.columns * self.device_width // 8 * self.devices_per_rank

    @property
    def burst_bytes(self) -> int:
        """Bytes moved over the channel by one burst (one RD or WR)."""
        return self.devices_per_rank * self.device_width // 8 * self.burst_length

    @property
    def channel_width_bits(self) -> int:
        """Width of the data bus of one channel, in bits."""
        return self.devices_per_rank * self.device_width


@dataclass(frozen=True)
class PimParams:
    """In-DRAM computing parameters: data rows per subarray (the extra wordlines of
    pimsim.ambit.layout come on top), whether the row decoder is split
    (Ambit's overlapped second ACT, ``tWLOV_ns`` ns after the first), the activation energy
    surcharge per extra row raised at once (0.22 = 22%), and the subarray's reserved rows
    (Ambit's B-group): the physical ``compute_rows``, those of them that are dual-contact rows
    (a second, negated wordline), and the ``decoder``, reserved address name -> the wordlines
    it raises, in address order (``("T0",)``, ``("~DCC0", "T0")``; ``~X`` is X's negated
    wordline). Besides C0 and C1, a subarray reserves one row address per decoder entry; compute
    row i is stored at the i-th of them."""

    rows_per_subarray: int
    split_decoder: bool
    tWLOV_ns: float
    extra_row_energy_factor: float
    transfer_cycles: int  # RowClone PSM: cycles per 64-byte TRANSFER on the internal bus
    faw_counts_raised_rows: bool  # tFAW counts every raised row, not every ACT command
    lisa: bool  # LISA links: inter-subarray copies in one bank by row-buffer movement
    tRBM_ns: float  # one row-buffer movement (RBM), ns
    rbm_subarrays: int  # subarrays one RBM crosses at most
    rbm_energy_nj: float  # one RBM of an 8 KiB rank-wide row, nJ (scaled by the row size)
    compute_rows: tuple[str, ...]
    dual_contact_rows: tuple[str, ...]
    decoder: FrozenMap

    @property
    def reserved_rows_per_subarray(self) -> int:
        """Row addresses of a subarray that are not data rows: C0, C1 and the decoder's."""
        return len(_CONSTANT_ROWS) + len(self.decoder)


@dataclass(frozen=True)
class ControllerParams:
    """Memory-controller parameters: read and write queue sizes in entries, the scheduler (one
    of :data:`SCHEDULERS`) and row-buffer policy (one of :data:`ROW_POLICIES`), ``row_cap``
    column accesses to an open row before the closed policy closes it, the write-drain
    watermarks as fractions of ``write_queue`` (drain above ``high_watermark``, stop below
    ``low_watermark``), and whether all-bank refresh is issued every nREFI."""

    read_queue: int
    write_queue: int
    scheduler: str
    row_policy: str
    row_cap: int
    high_watermark: float
    low_watermark: float
    refresh: bool


@dataclass(frozen=True)
class HostParams:
    """The CPU baseline (pimsim.baseline): cache-line misses it keeps in flight, and the rate
    at which it computes results, in GB/s of result."""

    misses_in_flight: int
    compute_gbps: float


@dataclass(frozen=True)
class Config:
    """A resolved configuration. ``timing`` maps every timing name of the standard to integer
    cycles of ``tCK_ns``; ``power`` holds per-device currents in mA and voltages in V;
    ``source`` is the preset or file it was loaded from, ``preset`` the preset it starts from
    (None for a complete file of its own), and ``overrides`` the dotted keys whose values
    differ from that base, in canonical order (timings in cycles)."""

    name: str
    description: str
    standard: str
    organisation: Organisation
    timing: Mapping[str, int]
    tCK_ns: float
    power: Mapping[str, float]
    pim: PimParams
    address_scheme: str
    controller: ControllerParams
    host: HostParams
    source: str
    preset: str | None
    overrides: tuple[tuple[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a nested plain dict in the file layout; loads back as is."""
        doc: dict[str, Any] = {"preset": self.preset} if self.preset else {}
        doc.update(
            name=self.name,
            description=self.description,
            standard=self.standard,
            organisation=asdict(self.organisation),
            timing={"tCK": self.tCK_ns, **self.timing},
            power=dict(self.power),
            pim={
                "rows_per_subarray": self.pim.rows_per_subarray,
                "split_decoder": self.pim.split_decoder,
                "tWLOV": self.pim.tWLOV_ns,
                "extra_row_energy_factor": self.pim.extra_row_energy_factor,
                "transfer_cycles": self.pim.transfer_cycles,
                "faw_counts_raised_rows": self.pim.faw_counts_raised_rows,
                "lisa": self.pim.lisa,
                "tRBM": self.pim.tRBM_ns,
                "rbm_subarrays": self.pim.rbm_subarrays,
                "rbm_energy_nj": self.pim.rbm_energy_nj,
                "compute_rows": " ".join(self.pim.compute_rows),
                "dual_contact_rows": " ".join(self.pim.dual_contact_rows),
                "decoder": {name: " ".join(raised) for name, raised in self.pim.decoder.items()},
            },
            address_mapping={"scheme": self.address_scheme},
            controller=asdict(self.controller),
            host=asdict(self.host),
        )
        return doc

    def differences(self) -> dict[str, Any]:
        """Dotted key -> value for every parameter that differs from the base preset."""
        return dict(self.overrides)


def ns_to_cycles(t_ns: float, tCK_ns: float) -> int:
    """A time in ns as whole cycles of ``tCK_ns``, rounded up the JEDEC way (0.025 guard)."""
    return math.ceil(t_ns / tCK_ns - 0.025)


# --- presets ------------------------------------------------------------------------------


def _preset_dir() -> Traversable:
    try:
        return resources.files("pimsim.configs")
    except ModuleNotFoundError:  # not installed: the repository's configs/ folder
        return Path(__file__).resolve().parent.parent / "configs"


def list_presets() -> list[str]:
    """Names of the shipped presets, sorted."""
    names = (entry.name for entry in _preset_dir().iterdir())
    return sorted(name.removesuffix(".yaml") for name in names if name.endswith(".yaml"))


def _known_presets() -> str:
    return f"known presets: {', '.join(list_presets())}"


def preset_path(name: str) -> Traversable:
    """The YAML file of preset ``name``; ConfigError if there is no such preset."""
    if name not in list_presets():
        raise ConfigError("--config", name, f"unknown preset; {_known_presets()}")
    return _preset_dir() / f"{name}.yaml"


# --- reading layers ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One value as given: ``where`` it came from, the dotted key as written (``given``), the
    layer ``level`` (later wins), and whether it is in ns still to be turned into cycles."""

    value: Any
    where: str
    given: str
    level: int
    in_ns: bool = False


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """The document and the line of each top-level and section key (for error messages)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        context = (
            f" ({error.context} on line {error.context_mark.line + 1})"
            if (error.context and error.context_mark)
            else ""
        )
        raise ConfigError(where, "YAML syntax", f"{error.problem}{context}") from None
    except yaml.YAMLError as error:
        raise ConfigError(source, "YAML syntax", " ".join(str(error).split())) from None
    lines: dict[str, int] = {}

    def record(mapping: yaml.Node, prefix: str, depth: int) -> None:
        if not isinstance(mapping, yaml.MappingNode):
            return
        for key_node, value_node in mapping.value:
            key, line = f"{prefix}{key_node.value}", key_node.start_mark.line + 1
            if key in lines:
                raise ConfigError(
                    f"{source}:{line}", key, f"duplicate key (first on line {lines[key]})"
                )
            lines[key] = line
            if depth < 2:  # sections, and the decoder table within pim
                record(value_node, f"{key}.", depth + 1)

    record(node, "", 0)
    return doc, lines


def _suggest(key: str, candidates: Sequence[str]) -> str:
    """'; did you mean X?' for the candidate closest to ``key`` (case-insensitive), or ''.

    A key given without its section (``tCK``) is matched to the key with that last part."""
    lowered = {c.lower(): c for c in candidates}
    leaves = {c.rpartition(".")[2].lower(): c for c in candidates}
    best = leaves.get(key.lower())
    if best is None:
        close = difflib.get_close_matches(key.lower(), list(lowered), n=1)
        best = lowered[close[0]] if close else None
    return f"; did you mean {best}?" if best else ""


def _canonical_keys(timing_names: Sequence[str], addresses: Sequence[str] = ()) -> list[str]:
    """Every dotted key of a configuration, in file order, timings in cycles; the decoder
    table as one key per address given (``pim.decoder`` itself if none are)."""
    keys = list(_TOP)
    for section, kinds in _SECTIONS.items():
        names = ("tCK", *timing_names) if section == "timing" else kinds
        for k in names:
            if section == "pim" and k == "decoder" and addresses:
                keys += [f"{_DECODER}{a}" for a in addresses]
            else:
                keys.append(f"{section}.{k}")
    return keys


def _unknown_key(where: str, key: str) -> ConfigError:
    """An unknown top-level or section key, with the closest known one."""
    candidates = list(_SECTIONS) + _canonical_keys(_ALL_TIMING_NAMES)
    section, _, leaf = key.partition(".")
    if section == "timing" and leaf:
        candidates = _timing_candidates(leaf, _ALL_TIMING_NAMES)
    elif section in _SECTIONS and leaf:
        candidates = [f"{section}.{k}" for k in _SECTIONS[section]]
    return ConfigError(where, key, "unknown key" + _suggest(key, candidates))


def _timing_candidates(key: str, names: Sequence[str]) -> list[str]:
    """Timing keys to suggest for ``key``: the ``n`` names, and the ``t`` ones for a key in ns."""
    if key.startswith("t"):
        names = [*names, *(f"t{n[1:]}" for n in names)]
    return [f"timing.{n}" for n in ("tCK", *names)]


def _timing_kind(key: str) -> tuple[str, str] | None:
    """(canonical key, kind) of a timing key given in cycles or ns, or None if malformed."""
    if key == "tCK":
        return "timing.tCK", "num"
    match = _TIMING_KEY.fullmatch(key)
    if match is None:
        return None
    name = f"n{match[2]}"
    if match[1] == "t":
        return f"timing.{name}", "num" if name in _POSITIVE_TIMINGS else "num0"
    return f"timing.{name}", "int" if name in _POSITIVE_TIMINGS else "int0"


def _check(kind: str, value: Any, where: str, key: str) -> Any:
    """``value`` checked against ``kind``; numbers come back as float, names as a tuple."""
    if kind in _NAME_KINDS:
        return _check_names(kind, value, where, key)
    if value is None:
        raise ConfigError(where, key, "missing value")
    if kind in ("str", "bool"):
        if not isinstance(value, str if kind == "str" else bool):
            raise ConfigError(where, key, f"{_KIND_TEXT[kind]} expected, got {value!r}")
        return value
    integer = kind in ("int", "int0", "pow2")
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise ConfigError(
            where, key, f"{'integer' if integer else 'number'} expected, got {value!r}"
        )
    if not math.isfinite(value):
        raise ConfigError(where, key, f"finite number expected, got {value!r}")
    if value < 0 or (value == 0 and kind not in ("int0", "num0")):
        need = "non-negative" if kind in ("int0", "num0") else "positive"
        raise ConfigError(where, key, f"must be {need}, got {value!r}")
    if kind == "pow2" and value & (value - 1):
        raise ConfigError(where, key, f"must be a power of two, got {value!r}")
    if kind == "frac" and value > 1:
        raise ConfigError(where, key, f"must be at most 1, got {value!r}")
    return value if integer else float(value)


def _check_names(kind: str, value: Any, where: str, key: str) -> tuple[str, ...]:
    """Row names, given as one string separated by spaces or as a list of them: at least one
    for ``names``, any number for ``names0``, and 1 to 3 wordlines for ``wordlines``, where
    ``~X`` is the negated wordline of row X. A row may be named once."""
    if isinstance(value, str):
        words = value.split()
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        words = [word for item in value for word in item.split()]
    elif value is None:
        words = []
    else:
        raise ConfigError(where, key, f"row names separated by spaces expected, got {value!r}")
    if not words and kind != "names0":
        raise ConfigError(where, key, "missing value")
    seen: dict[str, str] = {}
    for word in words:
        name = word[1:] if kind == "wordlines" and word.startswith("~") else word
        if not _NAME.fullmatch(name):
            tilde = " (~NAME for a negated wordline)" if kind == "wordlines" else ""
            raise ConfigError(
                where, key, f"bad row name {word!r}: letters, digits, _ expected{tilde}"
            )
        if name in seen:
            twice = f" ({seen[name]} and {word})" if seen[name] != word else ""
            raise ConfigError(where, key, f"row {name} named twice{twice}")
        seen[name] = word
    if kind == "wordlines" and len(words) > _MAX_RAISED:
        message = f"raises {len(words)} wordlines ({' '.join(words)}); 1 to {_MAX_RAISED} allowed"
        raise ConfigError(where, key, message)
    return tuple(words)


def _flatten_decoder(
    body: Any, where: Callable[[str], str], level: int, given: str
) -> dict[str, _Entry]:
    """The decoder table of one layer: one entry per address, ``pim.decoder.NAME``."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        message = f"mapping of address -> wordlines expected, got {body!r}"
        raise ConfigError(where(given), given, message)
    entries: dict[str, _Entry] = {}
    for name, value in body.items():
        key = f"{_DECODER}{name}"
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            message = f"bad address name {name!r}: letters, digits, _ expected, not first a digit"
            raise ConfigError(where(key), key, message)
        if name in _CONSTANT_ROWS:
            message = f"{name} is the address of a constant row, not of the decoder"
            raise ConfigError(where(key), key, message)
        raised = _check("wordlines", value, where(key), key)
        entries[key] = _Entry(raised, where(key), key, level)
    return entries


def _flatten(doc: Any, source: str, level: int, lines: Mapping[str, int]) -> dict[str, _Entry]:
    """Check one layer's keys and value types; canonical dotted key -> entry."""

    def where(key: str) -> str:
        return f"{source}:{lines[key]}" if key in lines else source

    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(source, "top level", f"mapping of keys expected, got {doc!r}")
    entries: dict[str, _Entry] = {}
    for top, body in doc.items():
        top = str(top)
        if top in _TOP:
            entries[top] = _Entry(_check(_TOP[top], body, where(top), top), where(top), top, level)
            continue
        if top not in _SECTIONS:
            raise _unknown_key(where(top), top)
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ConfigError(where(top), top, f"mapping of keys expected, got {body!r}")
        for key, value in body.items():
            given = f"{top}.{key}"
            if given == "pim.decoder":
                entries.update(_flatten_decoder(value, where, level, given))
                continue
            if top == "timing":
                found = _timing_kind(str(key))
            else:
                found = (given, _SECTIONS[top][key]) if key in _SECTIONS[top] else None
            if found is None:
                raise _unknown_key(where(given), given)
            canonical, kind = found
            if canonical in entries:
                other = entries[canonical].given
                raise ConfigError(where(given), given, f"given twice, also as {other}; give one")
            value = _check(kind, value, where(given), given)
            entries[canonical] = _Entry(value, where(given), given, level, canonical != given)
    return entries


def _parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``-p KEY=VALUE`` strings as a nested document (later ones win); values read as YAML."""
    doc: dict[str, Any] = {}
    for text in overrides:
        key, equals, raw = text.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ConfigError("-p", text, "KEY=VALUE expected, e.g. timing.nRCD=20")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ConfigError("-p", key, f"cannot read value {raw!r}") from None
        top, _, leaf = key.partition(".")
        if top == "preset":
            raise ConfigError("-p", key, "name the preset with --config, not -p")
        if key.startswith(_DECODER):
            name = key.removeprefix(_DECODER)
            if not name or "." in name:
                raise ConfigError("-p", key, f"{_DECODER}ADDRESS=WORDLINES expected")
            table = doc.setdefault(top, {}).get("decoder")
            if not isinstance(table, dict):  # none yet, or replaced by this later override
                table = doc[top]["decoder"] = {}
            table[name] = value
        elif top in _SECTIONS and leaf and "." not in leaf:
            doc.setdefault(top, {})[leaf] = value
        elif top in _SECTIONS:
            raise ConfigError("-p", key, f"{top}.KEY=VALUE expected")
        elif leaf:
            raise _unknown_key("-p", key)
        else:
            doc[top] = value
    return doc


def _read_preset(name: str, level: int) -> dict[str, _Entry]:
    source = f"preset {name}"
    doc, _ = _parse_yaml(preset_path(name).read_text(encoding="utf-8"), source)
    return _flatten(doc, source, level, {})


def _read_file(path: str) -> tuple[Any, dict[str, int]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        looks_like_name = not Path(path).suffix and "/" not in path and "\\" not in path
        message = (
            f"no such preset or file; {_known_presets()}" if looks_like_name else "no such file"
        )
        raise ConfigError("--config", path, message) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError("--config", path, f"cannot read: {reason}") from None
    return _parse_yaml(text, path)


# --- resolution ----------------------------------------------------------------------------


def load_config(spec: str | None = None, overrides: Sequence[str] = ()) -> Config:
    """Resolve a configuration: ``spec`` is a preset name, the path of a YAML file, or None
    for the default preset; ``overrides`` are ``KEY=VALUE`` strings as given to ``-p``."""
    spec = DEFAULT_PRESET if spec is None else spec
    if spec in list_presets():
        preset, source, layers = spec, f"preset {spec}", [_read_preset(spec, 0)]
    else:
        doc, lines = _read_file(spec)
        preset, source, layers = None, spec, []
        if isinstance(doc, dict) and "preset" in doc:
            preset = doc.pop("preset")
            if not isinstance(preset, str) or preset not in list_presets():
                where = f"{spec}:{lines['preset']}"
                raise ConfigError(where, "preset", f"unknown preset {preset!r}; {_known_presets()}")
            layers.append(_read_preset(preset, 0))
        layers.append(_flatten(doc, spec, len(layers), lines))
    layers.append(_flatten(_parse_overrides(overrides), "-p", len(layers), {}))
    values, standard = _resolve(layers, source)
    base = layers[0]
    base_tck = base["timing.tCK"].value if "timing.tCK" in base else values["timing.tCK"]
    before = {k: ns_to_cycles(e.value, base_tck) if e.in_ns else e.value for k, e in base.items()}
    changed = tuple(
        (k, " ".join(v) if isinstance(v, tuple) else v)
        for k, v in values.items()
        if k not in ("name", "description") and before.get(k) != v
    )
    return _build(values, standard, source, preset, changed)


def _blame(merged: Mapping[str, _Entry], keys: Sequence[str], message: str) -> ConfigError:
    """An error on the most recently given of ``keys`` (the first of them on a tie)."""
    entry = max((merged[k] for k in keys if k in merged), key=lambda e: e.level)
    return ConfigError(entry.where, entry.given, message)


def _resolve(layers: Sequence[dict[str, _Entry]], source: str) -> tuple[dict[str, Any], Standard]:
    """Merge the layers and check the result: canonical key -> final value, and the standard."""
    merged: dict[str, _Entry] = {}
    for layer in layers:
        merged.update(layer)
    if "standard" not in merged:
        raise ConfigError(source, "standard", "missing value")
    name = merged["standard"].value
    if name not in STANDARDS:
        known = ", ".join(STANDARDS)
        raise _blame(merged, ["standard"], f"unknown standard {name!r}; known: {known}")
    standard = STANDARDS[name]
    addresses = [k.removeprefix(_DECODER) for k in merged if k.startswith(_DECODER)]
    keys = _canonical_keys(standard.timing_names, addresses)
    for key, entry in merged.items():
        if key not in keys:
            leaf = entry.given.partition(".")[2]
            hint = _suggest(entry.given, _timing_candidates(leaf, standard.timing_names))
            raise ConfigError(entry.where, entry.given, f"not a {name} timing{hint}")
    for key in keys:
        if key not in merged and key not in _OPTIONAL:
            raise ConfigError(source, key, "missing value")
    tck = merged["timing.tCK"].value
    values = {k: _cycles(merged[k], tck) if k in merged else _OPTIONAL[k] for k in keys}
    values = {k: v for k, v in values.items() if v is not None}
    _check_consistency(values, merged, standard)
    return values, standard


def _cycles(entry: _Entry, tck: float) -> Any:
    """The entry's value; a timing given in ns turned into cycles of ``tck`` ns."""
    if not entry.in_ns:
        return entry.value
    cycles = ns_to_cycles(entry.value, tck)
    if cycles < 1 and "n" + entry.given.partition(".")[2][1:] in _POSITIVE_TIMINGS:
        message = f"{entry.value:g} ns is {cycles} cycles at tCK {tck:g} ns; at least 1 needed"
        raise ConfigError(entry.where, entry.given, message)
    return cycles


def _check_consistency(v: Mapping[str, Any], merged: Mapping[str, _Entry], std: Standard) -> None:
    """Rules between keys; a failure is blamed on the most recently given key involved."""
    org = {k.partition(".")[2]: x for k, x in v.items() if k.startswith("organisation.")}
    geometry = ("bankgroups", "banks_per_group", "rows", "columns", "device_width")
    gbit = math.prod(org[k] for k in geometry) / 2**30
    rps = v["pim.rows_per_subarray"]
    addresses = [k for k in v if k.startswith(_DECODER)]
    extra = extra_rows(len(addresses))
    nrc, nras, nrp, nbl = (v[f"timing.{n}"] for n in ("nRC", "nRAS", "nRP", "nBL"))
    vpp = [k for k in _VPP_KEYS if k in v]
    scheme = v["address_mapping.scheme"]
    ctl = {k.partition(".")[2]: x for k, x in v.items() if k.startswith("controller.")}
    rules = [
        (
            ["organisation.bankgroups"],
            std.has_bankgroups or org["bankgroups"] == 1,
            f"{std.name} has no bank groups: bankgroups must be 1, got {org['bankgroups']}",
        ),
        (
            ["organisation.density_gbit", *(f"organisation.{k}" for k in geometry)],
            gbit == org["density_gbit"],
            f"{'*'.join(geometry)} = {gbit:g} Gbit, but density_gbit is {org['density_gbit']}",
        ),
        (
            ["timing.nBL", "organisation.burst_length"],
            2 * nbl == org["burst_length"],
            f"nBL = {nbl} is not burst_length / 2 = {org['burst_length'] / 2:g}",
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
        (
            ["pim.rows_per_subarray", "organisation.rows", *addresses],
            org["rows"] // rps * (rps + extra) <= _MAX_ROWS_PER_BANK,
            f"rows = {org['rows']} in subarrays of {rps} data rows and {extra} extra wordlines "
            f"is more than {_MAX_ROWS_PER_BANK} rows per bank",
        ),
        (
            ["pim.rows_per_subarray", "organisation.rows"],
            rps <= org["rows"],
            f"rows_per_subarray = {rps} must be at most rows = {org['rows']}",
        ),
        (
            vpp,
            len(vpp) in (0, len(_VPP_KEYS)),
            "VPP, IPP0 and IPP3N go together; missing "
            + ", ".join(k.partition(".")[2] for k in _VPP_KEYS if k not in v),
        ),
        (
            ["power.IPP2N"],
            "power.IPP2N" not in v or len(vpp) == len(_VPP_KEYS),
            "IPP2N needs VPP, IPP0 and IPP3N",
        ),
        (
            ["address_mapping.scheme"],
            scheme in ADDRESS_SCHEMES,
            f"unknown scheme {scheme!r}; known: {', '.join(ADDRESS_SCHEMES)}",
        ),
        (
            ["controller.scheduler"],
            ctl["scheduler"] in SCHEDULERS,
            f"unknown scheduler {ctl['scheduler']!r}; known: {', '.join(SCHEDULERS)}",
        ),
        (
            ["controller.row_policy"],
            ctl["row_policy"] in ROW_POLICIES,
            f"unknown row policy {ctl['row_policy']!r}; known: {', '.join(ROW_POLICIES)}",
        ),
        (
            ["controller.low_watermark", "controller.high_watermark"],
            ctl["low_watermark"] < ctl["high_watermark"],
            f"low_watermark = {ctl['low_watermark']:g} must be less than "
            f"high_watermark = {ctl['high_watermark']:g}",
        ),
    ]
    for keys, ok, message in rules:
        if not ok:
            raise _blame(merged, keys, message)
    _check_decoder(v, merged)


def _check_decoder(v: Mapping[str, Any], merged: Mapping[str, _Entry]) -> None:
    """The decoder table against the compute and dual-contact rows (blamed as in
    :func:`_check_consistency`)."""
    compute, dual = v["pim.compute_rows"], v["pim.dual_contact_rows"]
    table = {k: x for k, x in v.items() if k.startswith(_DECODER)}
    rows = f"compute_rows: {' '.join(compute)}"
    duals = f"dual_contact_rows: {' '.join(dual) or '(none)'}"
    extra = [name for name in dual if name not in compute]
    if extra:
        message = f"{' '.join(extra)} not among the compute rows ({rows})"
        raise _blame(merged, ["pim.dual_contact_rows", "pim.compute_rows"], message)
    for key, raised in table.items():
        address = key.removeprefix(_DECODER)
        for wordline in raised:
            row = wordline.removeprefix("~")
            if row not in compute:
                message = f"{address} raises {row}, which is not a compute row ({rows})"
                raise _blame(merged, [key, "pim.compute_rows"], message)
            if wordline != row and row not in dual:
                message = (
                    f"{address} raises {wordline}, but {row} is not a dual-contact row ({duals})"
                )
                raise _blame(merged, [key, "pim.dual_contact_rows"], message)
    if len(compute) > len(table):
        message = (
            f"{len(compute)} compute rows but {len(table)} decoder addresses; "
            "each compute row is stored at one of them"
        )
        raise _blame(merged, ["pim.compute_rows", *table], message)


def _build(
    values: Mapping[str, Any],
    standard: Standard,
    source: str,
    preset: str | None,
    overrides: tuple[tuple[str, Any], ...],
) -> Config:
    """The frozen Config of checked, resolved values."""

    def section(name: str) -> dict[str, Any]:
        return {k.partition(".")[2]: x for k, x in values.items() if k.startswith(f"{name}.")}

    pim = section("pim")
    decoder = {k.removeprefix(_DECODER): x for k, x in values.items() if k.startswith(_DECODER)}
    return Config(
        name=values["name"],
        description=values["description"],
        standard=standard.name,
        organisation=Organisation(**section("organisation")),
        timing=FrozenMap({n: values[f"timing.{n}"] for n in standard.timing_names}),
        tCK_ns=values["timing.tCK"],
        power=FrozenMap(section("power")),
        pim=PimParams(
            rows_per_subarray=pim["rows_per_subarray"],
            split_decoder=pim["split_decoder"],
            tWLOV_ns=pim["tWLOV"],
            extra_row_energy_factor=pim["extra_row_energy_factor"],
            transfer_cycles=pim["transfer_cycles"],
            faw_counts_raised_rows=pim["faw_counts_raised_rows"],
            lisa=pim["lisa"],
            tRBM_ns=pim["tRBM"],
            rbm_subarrays=pim["rbm_subarrays"],
            rbm_energy_nj=pim["rbm_energy_nj"],
            compute_rows=pim["compute_rows"],
            dual_contact_rows=pim["dual_contact_rows"],
            decoder=FrozenMap(decoder),
        ),
        address_scheme=values["address_mapping.scheme"],
        controller=ControllerParams(**section("controller")),
        host=HostParams(**section("host")),
        source=source,
        preset=preset,
        overrides=overrides,
    )
