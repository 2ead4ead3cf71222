"""Resolving a configuration: presets, a user file and ``-p`` overrides, merged and checked."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pimsim.clock import Clock
from pimsim.config.checks import check_consistency, check_runnable
from pimsim.config.model import (
    Config,
    ControllerParams,
    FrozenMap,
    HostParams,
    Organisation,
    PimParams,
)
from pimsim.config.read import parse_value, parse_yaml, read_file
from pimsim.config.schema import (
    DECODER,
    OPTIONAL,
    SECTIONS,
    TOP,
    Entry,
    canonical_keys,
    check,
    check_address_name,
    cut,
    shown,
    shown_path,
    suggest,
    timing_candidates,
    timing_kind,
    timing_range,
    unknown_key,
    value_range,
)
from pimsim.errors import ConfigError
from pimsim.standards import STANDARDS, Standard

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DEFAULT_PRESET = "ddr4-2400"

#: An override: ``"KEY=VALUE"`` as given to ``-p``, or (option, ``"KEY=VALUE"``) for a
#: command option that sets a configuration key (``("--ranks", "organisation.ranks=4")``),
#: so that an error names the option.
Override = str | tuple[str, str]


# --- presets ------------------------------------------------------------------------------


def _preset_dir() -> Traversable:
    try:
        return resources.files("pimsim.configs")
    except ModuleNotFoundError:  # not installed: the repository's configs/ folder
        return Path(__file__).resolve().parents[2] / "configs"


def list_presets() -> list[str]:
    """Names of the shipped presets, sorted."""
    names = (entry.name for entry in _preset_dir().iterdir())
    return sorted(name.removesuffix(".yaml") for name in names if name.endswith(".yaml"))


def _known_presets() -> str:
    return f"known presets: {', '.join(list_presets())}"


def preset_path(name: str) -> Traversable:
    """The YAML file of preset ``name``; ConfigError if there is no such preset."""
    if name not in list_presets():
        raise ConfigError("--config", cut(name), f"unknown preset; {_known_presets()}")
    return _preset_dir() / f"{name}.yaml"


# --- reading layers ------------------------------------------------------------------------


def _flatten_decoder(
    body: Any, where: Callable[[str], str], level: int, given: str
) -> dict[str, Entry]:
    """The decoder table of one layer: one entry per address, ``pim.decoder.NAME``."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        message = f"mapping of address -> wordlines expected, got {shown(body)}"
        raise ConfigError(where(given), given, message)
    entries: dict[str, Entry] = {}
    for name, value in body.items():
        key = f"{DECODER}{cut(str(name))}"
        check_address_name(name, where(key), key)
        raised = check("wordlines", value, where(key), key)
        entries[key] = Entry(raised, where(key), key, level)
    return entries


def _flatten(doc: Any, source: str, level: int, places: Mapping[str, str]) -> dict[str, Entry]:
    """Check one layer's keys and value types; canonical dotted key -> entry. ``places``
    says where a dotted key was given (``FILE:LINE``); ``source`` for the others."""

    def where(key: str) -> str:
        return places.get(key, source)

    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(source, "top level", f"mapping of keys expected, got {shown(doc)}")
    entries: dict[str, Entry] = {}
    for top, body in doc.items():
        top = str(top)
        if top in TOP:
            entries[top] = Entry(check(TOP[top], body, where(top), top), where(top), top, level)
            continue
        if top not in SECTIONS:
            raise unknown_key(where(top), top)
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ConfigError(where(top), top, f"mapping of keys expected, got {shown(body)}")
        for key, value in body.items():
            entries.update(_flatten_key(top, str(key), value, where, level, entries))
    return entries


def _flatten_key(
    top: str,
    key: str,
    value: Any,
    where: Callable[[str], str],
    level: int,
    entries: Mapping[str, Entry],
) -> dict[str, Entry]:
    """The entries of one key of a section (several for the decoder table)."""
    given = f"{top}.{key}"
    if given == "pim.decoder":
        return _flatten_decoder(value, where, level, given)
    if top == "timing":
        found = timing_kind(key)
    else:
        found = (given, SECTIONS[top][key]) if key in SECTIONS[top] else None
    if found is None:
        raise unknown_key(where(given), given)
    canonical, kind = found
    if canonical in entries:
        other = entries[canonical].given
        raise ConfigError(where(given), given, f"given twice, also as {other}; give one")
    in_ns = canonical != given
    bounds = None if in_ns else value_range(canonical)
    value = check(kind, value, where(given), given, bounds)
    return {canonical: Entry(value, where(given), given, level, in_ns)}


def _parse_overrides(overrides: Sequence[Override]) -> tuple[dict[str, Any], dict[str, str]]:
    """``-p KEY=VALUE`` strings as a nested document (later ones win; values read as YAML),
    and the option that gave each dotted key (``-p`` unless named, see :data:`Override`)."""
    doc: dict[str, Any] = {}
    places: dict[str, str] = {}
    for item in overrides:
        option, text = item if isinstance(item, tuple) else ("-p", item)
        key, equals, raw = text.partition("=")
        key = key.strip()
        if not equals or not key:
            message = "KEY=VALUE expected, e.g. timing.nRCD=20"
            raise ConfigError(option, cut(text), message)
        key = cut(key)
        _set_override(doc, key, parse_value(raw, key), option)
        places[key] = option
    return doc, places


def _set_override(doc: dict[str, Any], key: str, value: Any, option: str) -> None:
    """Put one override's value at its dotted ``key`` in ``doc``."""
    top, _, leaf = key.partition(".")
    if top == "preset":
        raise ConfigError(option, key, "name the preset with --config, not -p")
    if key.startswith(DECODER):
        name = key.removeprefix(DECODER)
        if not name or "." in name:
            raise ConfigError(option, key, f"{DECODER}ADDRESS=WORDLINES expected")
        section = doc.setdefault(top, {})
        if not isinstance(section.get("decoder"), dict):  # none yet, or replaced later
            section["decoder"] = {}
        section["decoder"][name] = value
    elif top in SECTIONS and leaf and "." not in leaf:
        doc.setdefault(top, {})[leaf] = value
    elif top in SECTIONS and (leaf or not isinstance(value, dict | None)):
        raise ConfigError(option, key, f"{top}.KEY=VALUE expected")
    elif leaf:
        raise unknown_key(option, key)
    else:
        doc[top] = value


def _read_preset(name: str) -> dict[str, Entry]:
    """The checked entries of preset ``name``, the first layer (level 0)."""
    return dict(_preset_layer(name))


@functools.cache
def _preset_layer(name: str) -> dict[str, Entry]:
    source = f"preset {name}"
    doc, _ = parse_yaml(preset_path(name).read_text(encoding="utf-8"), source)
    return _flatten(doc, source, 0, {})


# --- resolution ----------------------------------------------------------------------------


def load_config(spec: str | None = None, overrides: Sequence[Override] = ()) -> Config:
    """Resolve a configuration: ``spec`` is a preset name, the path of a YAML file, or None
    for the default preset; ``overrides`` are ``KEY=VALUE`` strings as given to ``-p`` (or
    named, see :data:`Override`). The result passed every check a run makes of it."""
    spec = DEFAULT_PRESET if spec is None else spec
    if spec in list_presets():
        preset, source, layers = spec, f"preset {spec}", [_read_preset(spec)]
    else:
        doc, lines = read_file(spec, _known_presets())
        preset, source, layers = None, spec, []
        places = {key: f"{shown_path(spec)}:{line}" for key, line in lines.items()}
        if isinstance(doc, dict) and "preset" in doc:
            preset = doc.pop("preset")
            if not isinstance(preset, str) or preset not in list_presets():
                message = f"unknown preset {shown(preset)}; {_known_presets()}"
                raise ConfigError(places["preset"], "preset", message)
            layers.append(_read_preset(preset))
        layers.append(_flatten(doc, shown_path(spec), len(layers), places))
    doc, places = _parse_overrides(overrides)
    layers.append(_flatten(doc, "-p", len(layers), places))
    merged = _merge(layers, shown_path(source))
    standard = STANDARDS[merged["standard"].value]
    values = _resolve(merged, standard, shown_path(source))
    base = layers[0]
    base_tck = base["timing.tCK"].value if "timing.tCK" in base else values["timing.tCK"]
    base_clock = Clock(base_tck)
    before = {k: base_clock.ns_to_cycles(e.value) if e.in_ns else e.value for k, e in base.items()}
    changed = tuple(
        (k, " ".join(v) if isinstance(v, tuple) else v)
        for k, v in values.items()
        if k not in ("name", "description") and before.get(k) != v
    )
    config = _build(values, standard, source, preset, changed)
    check_runnable(config, standard, merged)
    return config


def _merge(layers: Sequence[dict[str, Entry]], source: str) -> dict[str, Entry]:
    """The layers merged key by key (later wins), with a known standard."""
    merged: dict[str, Entry] = {}
    for layer in layers:
        merged.update(layer)
    if "standard" not in merged:
        raise ConfigError(source, "standard", "missing value")
    entry = merged["standard"]
    if entry.value not in STANDARDS:
        known = ", ".join(STANDARDS)
        message = f"unknown standard {shown(entry.value)}; known: {known}"
        raise ConfigError(entry.where, entry.given, message)
    return merged


def _resolve(merged: Mapping[str, Entry], standard: Standard, source: str) -> dict[str, Any]:
    """Check the merged entries: canonical key -> final value (timings in cycles)."""
    addresses = [k.removeprefix(DECODER) for k in merged if k.startswith(DECODER)]
    keys = canonical_keys(standard.timing_names, addresses)
    known = set(keys)
    for key, entry in merged.items():
        if key not in known:
            leaf = entry.given.partition(".")[2]
            hint = suggest(entry.given, timing_candidates(leaf, standard.timing_names))
            raise ConfigError(entry.where, entry.given, f"not a {standard.name} timing{hint}")
    for key in keys:
        if key not in merged and key not in OPTIONAL:
            raise ConfigError(source, key, "missing value")
    tck = merged["timing.tCK"].value
    values = {k: _cycles(merged[k], tck) if k in merged else OPTIONAL[k] for k in keys}
    values = {k: v for k, v in values.items() if v is not None}
    check_consistency(values, merged, standard)
    return values


def _cycles(entry: Entry, tck: float) -> Any:
    """The entry's value; a timing given in ns turned into cycles of ``tck`` ns, which must
    be within the timing's range."""
    if not entry.in_ns:
        return entry.value
    name = "n" + entry.given.partition(".")[2][1:]
    low, high = timing_range(name)
    clock = Clock(tck)
    ratio = clock.ns_in_cycles(entry.value)
    cycles = clock.ns_to_cycles(entry.value) if ratio <= high + 1 else None
    if cycles is None or not low <= cycles <= high:
        shown_cycles = f"{cycles}" if cycles is not None else f"{ratio:,.0f}"
        message = (
            f"{entry.value:g} ns is {shown_cycles} cycles at tCK {tck:g} ns; "
            f"{low:,}..{high:,} cycles allowed"
        )
        raise ConfigError(entry.where, entry.given, message)
    return cycles


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
    decoder = {k.removeprefix(DECODER): x for k, x in values.items() if k.startswith(DECODER)}
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
