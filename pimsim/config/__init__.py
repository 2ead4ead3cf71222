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
and the dotted key at fault, in one line (a value echoed in it is cut to about 40 characters).

Every number has a documented range (:mod:`pimsim.config.schema`: timings at most 2^16 cycles,
nREFI 2^20, tCK 0.1..100 ns, JEDEC-sized organisations) and the simulator's fixed state must
fit in 1 GiB (:mod:`pimsim.config.checks`). YAML is read without anchors or aliases, nested at
most 16 deep, from files of at most 1 MiB (:mod:`pimsim.config.read`). A configuration that
loads has passed every check a run makes: :func:`load_config` also compiles its timing
tables, address mapping, subarray layout and energy table as a run does.

Modules: ``model`` (the frozen dataclasses), ``schema`` (keys, kinds and ranges), ``read``
(YAML text), ``checks`` (rules between keys, compilation), ``load`` (presets,
layers, resolution).
"""

from pimsim.config.load import DEFAULT_PRESET, Override, list_presets, load_config, preset_path
from pimsim.config.model import (
    Config,
    ControllerParams,
    FrozenMap,
    HostParams,
    Organisation,
    PimParams,
)
from pimsim.config.schema import ADDRESS_SCHEMES, ROW_POLICIES, SCHEDULERS

__all__ = [
    "ADDRESS_SCHEMES",
    "DEFAULT_PRESET",
    "ROW_POLICIES",
    "SCHEDULERS",
    "Config",
    "ControllerParams",
    "FrozenMap",
    "HostParams",
    "Organisation",
    "Override",
    "PimParams",
    "list_presets",
    "load_config",
    "preset_path",
]
