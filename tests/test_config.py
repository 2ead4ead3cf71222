"""Configuration: presets, layering (preset, file, -p), ns-to-cycle rounding and every error."""

from __future__ import annotations

import dataclasses
import pickle
import sys
from pathlib import Path

import pytest
import yaml

from pimsim.clock import Clock
from pimsim.config import (
    ADDRESS_SCHEMES,
    ROW_POLICIES,
    SCHEDULERS,
    Config,
    ControllerParams,
    FrozenMap,
    list_presets,
    load_config,
    preset_path,
)
from pimsim.errors import ConfigError
from pimsim.standards import STANDARDS


def write(tmp_path: Path, text: str, name: str = "my.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def config_error(spec: str | None, *overrides: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(spec, overrides)
    error = info.value
    assert "\n" not in str(error)
    assert str(error) == f"{error.source}: {error.key}: {error.message}"
    return error


# --- presets ---------------------------------------------------------------------------------


def test_the_three_presets_are_listed():
    assert list_presets() == ["ddr3-1066", "ddr3-1600", "ddr4-2400"]
    assert preset_path("ddr3-1600").name == "ddr3-1600.yaml"


def test_default_is_ddr4_2400():
    config = load_config()
    org = config.organisation
    assert (config.name, config.standard, config.source) == (
        "ddr4-2400",
        "DDR4",
        "preset ddr4-2400",
    )
    assert (org.row_bytes, org.banks_per_rank, org.burst_bytes, org.channel_width_bits) == (
        8192,
        16,
        64,
        64,
    )
    assert (config.timing["nRCD"], config.timing["nRAS"], config.timing["nRFC"]) == (16, 39, 420)
    assert config.tCK_ns == 0.833
    assert (config.power["IDD0"], config.power["VPP"], config.power["IPP3N"]) == (64, 2.5, 3)
    assert (config.pim.rows_per_subarray, config.pim.split_decoder) == (512, True)
    assert (config.preset, config.overrides, config.differences()) == ("ddr4-2400", (), {})


def test_ddr3_1600_is_ambits_setting():
    config = load_config("ddr3-1600")
    assert config.organisation.row_bytes == 8192
    assert config.organisation.banks_per_rank == 8
    assert (config.timing["nFAW"], config.timing["nRAS"], config.tCK_ns) == (24, 28, 1.25)
    assert config.pim.rows_per_subarray == 1024 and config.pim.tWLOV_ns == 4.0
    assert config.power["IDD4R"] == 187 and "VPP" not in config.power


def test_ddr3_1066_is_rowclones_setting():
    config = load_config("ddr3-1066")
    assert config.organisation.row_bytes == 4096
    assert (config.timing["nRAS"], config.timing["nRP"], config.tCK_ns) == (20, 8, 1.875)
    # RowClone FPM = 2 tRAS + tRP = 90 ns
    assert (2 * config.timing["nRAS"] + config.timing["nRP"]) * config.tCK_ns == 90
    assert config.pim.split_decoder is False


@pytest.mark.parametrize("name", ["ddr3-1066", "ddr3-1600", "ddr4-2400"])
def test_presets_are_complete(name):
    config = load_config(name)
    assert list(config.timing) == list(STANDARDS[config.standard].timing_names)
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in config.timing.values())
    assert config.address_scheme in ADDRESS_SCHEMES


def test_address_schemes_match_the_address_mapper():
    from pimsim.addrmap import SCHEMES

    assert set(ADDRESS_SCHEMES) == set(SCHEMES)


# --- nanoseconds -----------------------------------------------------------------------------


def test_jedec_rounding():
    assert Clock(0.833).ns_to_cycles(32) == 39
    assert Clock(0.833).ns_to_cycles(14.16) == 17
    assert Clock(0.833).ns_to_cycles(13.32) == 16
    assert Clock(1.25).ns_to_cycles(35) == 28


def test_tras_in_ns_gives_the_preset_cycles():
    config = load_config("ddr4-2400", ["timing.tRAS=32"])
    assert config.timing["nRAS"] == 39
    assert config.differences() == {}


def test_trp_in_ns_rounds_up():
    # 14.16 ns is 17 cycles; nRC must grow with it (nRAS 39 + nRP 17 = 56).
    config = load_config("ddr4-2400", ["timing.tRP=14.16", "timing.nRC=56"])
    assert config.timing["nRP"] == 17
    assert config.differences() == {"timing.nRP": 17, "timing.nRC": 56}


def test_ns_in_a_file_use_the_final_tck(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ntiming:\n  tRCD: 13.32\n")
    assert load_config(path).timing["nRCD"] == 16
    assert load_config(path, ["timing.tCK=1.0"]).timing["nRCD"] == 14


def test_a_later_level_may_switch_between_ns_and_cycles(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ntiming:\n  nRAS: 30\n  nRC: 60\n")
    assert load_config(path).timing["nRAS"] == 30
    assert load_config(path, ["timing.tRAS=32"]).timing["nRAS"] == 39


def test_zero_is_allowed_where_it_means_no_gap():
    config = load_config("ddr4-2400", ["timing.nFAW=0", "timing.nCS=0"])
    assert (config.timing["nFAW"], config.timing["nCS"]) == (0, 0)


# --- layering --------------------------------------------------------------------------------


def test_file_then_overrides(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\norganisation:\n  ranks: 1\ntiming:\n  nRCD: 18\n")
    config = load_config(path, ["timing.nRCD=20"])
    assert config.timing["nRCD"] == 20
    assert config.organisation.ranks == 1
    assert (config.name, config.source, config.preset) == ("ddr4-2400", path, "ddr4-2400")
    assert config.differences() == {"organisation.ranks": 1, "timing.nRCD": 20}


def test_the_last_of_repeated_overrides_wins():
    config = load_config("ddr3-1600", ["timing.nRCD=9", "timing.nRCD=10"])
    assert config.timing["nRCD"] == 10


def test_override_values_are_yaml():
    config = load_config(
        None, ["pim.split_decoder=false", "pim.tWLOV=3", "address_mapping.scheme=RoCoRaBaCh"]
    )
    assert config.pim.split_decoder is False and config.pim.tWLOV_ns == 3.0
    assert config.address_scheme == "RoCoRaBaCh"


def test_complete_file_without_preset(tmp_path):
    doc = load_config("ddr3-1066").to_dict()
    del doc["preset"]
    doc["name"] = "mine"
    path = write(tmp_path, yaml.safe_dump(doc))
    config = load_config(path, ["timing.nWR=10"])
    assert (config.name, config.preset, config.source) == ("mine", None, path)
    assert config.differences() == {"timing.nWR": 10}


def test_to_dict_round_trips(tmp_path):
    config = load_config("ddr3-1600", ["timing.tRCD=12", "organisation.ranks=2"])
    again = load_config(write(tmp_path, yaml.safe_dump(config.to_dict())))
    assert dataclasses.replace(again, source=config.source) == config
    assert again.differences() == {"organisation.ranks": 2, "timing.nRCD": 10}


def test_config_is_frozen_hashable_and_picklable():
    config = load_config("ddr3-1600")
    with pytest.raises(TypeError):
        config.timing["nRCD"] = 1  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.organisation.ranks = 4  # type: ignore[misc]
    assert hash(config) == hash(load_config("ddr3-1600"))
    assert pickle.loads(pickle.dumps(config)) == config
    assert isinstance(config, Config)


# --- errors ----------------------------------------------------------------------------------


def test_unknown_key_in_a_file_names_file_line_and_key(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\norganisation:\n  colums: 512\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:3", "organisation.colums")
    assert error.message == "unknown key; did you mean organisation.columns?"


def test_unknown_section(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ntimings:\n  nRCD: 20\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:2", "timings")
    assert error.message == "unknown key; did you mean timing?"


def test_timing_typo_suggests_the_cycle_name():
    error = config_error("ddr4-2400", "timing.REFI=9000")
    assert (error.source, error.key) == ("-p", "timing.REFI")
    assert error.message == "unknown key; did you mean timing.nREFI?"


def test_timing_typo_in_a_file(tmp_path):
    path = write(tmp_path, "preset: ddr3-1600\ntiming:\n  nRCD: 9\n  REFI: 7000\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:4", "timing.REFI")
    assert "did you mean timing.nREFI?" in error.message


def test_timing_of_another_standard():
    error = config_error("ddr3-1600", "timing.nCCD_S=4")
    assert (error.source, error.key) == ("-p", "timing.nCCD_S")
    assert error.message == "not a DDR3 timing; did you mean timing.nCCD?"


def test_negative_timing():
    error = config_error("ddr4-2400", "timing.nRCD=-3")
    assert (error.source, error.key, error.message) == (
        "-p",
        "timing.nRCD",
        "must be positive, got -3",
    )


def test_zero_core_timing():
    error = config_error("ddr4-2400", "timing.nRCD=0")
    assert (error.key, error.message) == ("timing.nRCD", "must be positive, got 0")


def test_inconsistent_nrc():
    error = config_error("ddr4-2400", "timing.nRC=40")
    assert (error.source, error.key) == ("-p", "timing.nRC")
    assert error.message == "nRC = 40 is less than nRAS + nRP = 39 + 16 = 55"


def test_inconsistency_is_blamed_on_the_latest_key(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ntiming:\n  tRAS: 40\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:3", "timing.tRAS")
    assert error.message == "nRC = 55 is less than nRAS + nRP = 48 + 16 = 64"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("timing.nRCD=abc", "integer expected, got 'abc'"),
        ("timing.nRCD=16.0", "integer expected, got 16.0"),
        ("organisation.ranks=true", "integer expected, got True"),
        ("pim.split_decoder=1", "true or false expected, got 1"),
        ("timing.tCK=fast", "number expected, got 'fast'"),
        ("standard=4", "text expected, got 4"),
        ("timing.nRCD=", "missing value"),
    ],
)
def test_bad_type(override, message):
    error = config_error("ddr4-2400", override)
    assert (error.source, error.key, error.message) == ("-p", override.split("=")[0], message)


def test_bad_type_in_a_file(tmp_path):
    path = write(tmp_path, "preset: ddr3-1066\npim:\n  split_decoder: maybe\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:3", "pim.split_decoder")
    assert error.message == "true or false expected, got 'maybe'"


@pytest.mark.parametrize("key", ["channels", "ranks", "bankgroups", "banks_per_group", "rows"])
def test_non_power_of_two(key):
    error = config_error("ddr4-2400", f"organisation.{key}=3")
    assert (error.source, error.key) == ("-p", f"organisation.{key}")
    assert error.message == "must be a power of two, got 3"


def test_density_mismatch():
    error = config_error("ddr4-2400", "organisation.rows=32768")
    assert (error.source, error.key) == ("-p", "organisation.rows")
    assert error.message == (
        "bankgroups*banks_per_group*rows*columns*device_width = 4 Gbit, but density_gbit is 8"
    )


def test_burst_length_and_nbl_disagree():
    error = config_error("ddr4-2400", "timing.nBL=8")
    assert (error.key, error.message) == ("timing.nBL", "nBL = 8 is not burst_length / 2 = 4")


def test_ddr3_has_no_bank_groups():
    error = config_error("ddr3-1600", "organisation.bankgroups=2", "organisation.banks_per_group=4")
    assert (error.source, error.key) == ("-p", "organisation.bankgroups")


def test_ns_and_cycles_at_the_same_level(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ntiming:\n  nRAS: 39\n  tRAS: 32\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:4", "timing.tRAS")
    assert error.message == "given twice, also as timing.nRAS; give one"
    error = config_error("ddr4-2400", "timing.tRAS=32", "timing.nRAS=39")
    assert (error.source, error.key) == ("-p", "timing.nRAS")


def test_unknown_standard_and_scheme():
    error = config_error("ddr4-2400", "standard=DDR5")
    assert (error.key, error.message) == ("standard", "unknown standard 'DDR5'; known: DDR3, DDR4")
    error = config_error("ddr4-2400", "address_mapping.scheme=RoRaBaCoCh")
    assert (error.source, error.key) == ("-p", "address_mapping.scheme")
    assert error.message == "unknown scheme 'RoRaBaCoCh'; known: RoBaRaCoCh, RoCoRaBaCh"


def test_unknown_preset():
    error = config_error("ddr5")
    assert (error.source, error.key) == ("--config", "ddr5")
    assert error.message == "no such preset or file; known presets: ddr3-1066, ddr3-1600, ddr4-2400"


def test_unknown_preset_named_in_a_file(tmp_path):
    path = write(tmp_path, "# mine\npreset: ddr5\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:2", "preset")
    assert error.message.startswith("unknown preset 'ddr5'; known presets: ddr3-1066")


def test_file_not_found(tmp_path):
    path = str(tmp_path / "nope.yaml")
    error = config_error(path)
    assert (error.source, error.key, error.message) == ("--config", path, "no such file")


def test_yaml_syntax_error(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ntiming:\n  nRCD: 20\n  nRP 16\n  nRAS: 39\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:5", "YAML syntax")
    assert "could not find expected ':'" in error.message


def test_duplicate_key(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ntiming:\n  nRCD: 20\n  nRCD: 21\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:4", "timing.nRCD")
    assert error.message == "duplicate key (first on line 3)"


def test_missing_value_in_a_file_without_preset(tmp_path):
    doc = load_config("ddr3-1600").to_dict()
    del doc["preset"], doc["timing"]["nWR"]
    path = write(tmp_path, yaml.safe_dump(doc))
    error = config_error(path)
    assert (error.source, error.key, error.message) == (path, "timing.nWR", "missing value")


def test_top_level_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "- ddr4-2400\n")
    error = config_error(path)
    assert (error.source, error.key) == (path, "top level")


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        ("timing.nRCD", "timing.nRCD", "KEY=VALUE expected, e.g. timing.nRCD=20"),
        ("tCK=1.0", "tCK", "unknown key; did you mean timing.tCK?"),
        ("preset=ddr3-1600", "preset", "name the preset with --config, not -p"),
        ("timing=5", "timing", "timing.KEY=VALUE expected"),
        ("organisatin.rows=3", "organisatin.rows", "unknown key; did you mean organisation.rows?"),
    ],
)
def test_bad_override_syntax(override, key, message):
    error = config_error("ddr4-2400", override)
    assert (error.source, error.key, error.message) == ("-p", key, message)


def test_vpp_currents_go_together():
    error = config_error("ddr3-1600", "power.VPP=2.5")
    assert (error.key, error.message) == (
        "power.VPP",
        "VPP, IPP0 and IPP3N go together; missing IPP0, IPP3N",
    )


def test_small_subarrays_count_data_rows_only():
    # rows_per_subarray counts data rows: the 19 extra wordlines come on top, even of 16
    assert load_config("ddr4-2400", ["pim.rows_per_subarray=16"]).pim.rows_per_subarray == 16


# --- Ambit's B-group decoder ----------------------------------------------------------------

#: REFERENCE.md, "B-group address decoder": address -> wordlines raised (~X: X's n-wordline).
AMBIT_DECODER = {
    "B0": ("T0",),
    "B1": ("T1",),
    "B2": ("T2",),
    "B3": ("T3",),
    "B4": ("DCC0",),
    "B5": ("~DCC0",),
    "B6": ("DCC1",),
    "B7": ("~DCC1",),
    "B8": ("~DCC0", "T0"),
    "B9": ("~DCC1", "T1"),
    "B10": ("T2", "T3"),
    "B11": ("T0", "T3"),
    "B12": ("T0", "T1", "T2"),
    "B13": ("T1", "T2", "T3"),
    "B14": ("DCC0", "T1", "T2"),
    "B15": ("DCC1", "T0", "T3"),
}


@pytest.mark.parametrize("name", ["ddr3-1066", "ddr3-1600", "ddr4-2400"])
def test_preset_decoder_is_ambits(name):
    pim = load_config(name).pim
    assert pim.compute_rows == ("T0", "T1", "T2", "T3", "DCC0", "DCC1")
    assert pim.dual_contact_rows == ("DCC0", "DCC1")
    assert dict(pim.decoder) == AMBIT_DECODER
    assert list(pim.decoder) == [f"B{i}" for i in range(16)]  # address order
    assert isinstance(pim.decoder, FrozenMap)
    assert pim.reserved_rows_per_subarray == 18


def test_override_one_decoder_entry():
    config = load_config("ddr3-1600", ["pim.decoder.B12=T0 T1 T3"])
    assert config.pim.decoder["B12"] == ("T0", "T1", "T3")
    assert dict(config.pim.decoder) == {**AMBIT_DECODER, "B12": ("T0", "T1", "T3")}
    assert list(config.pim.decoder) == list(AMBIT_DECODER)  # a replaced entry keeps its place
    assert config.differences() == {"pim.decoder.B12": "T0 T1 T3"}
    assert load_config("ddr3-1600", ["pim.decoder.B12=T0 T1 T2"]).differences() == {}
    with pytest.raises(TypeError):
        config.pim.decoder["B12"] = ("T0",)  # type: ignore[index]


def test_a_variant_with_a_third_dcc(tmp_path):
    text = (
        "preset: ddr4-2400\n"
        "pim:\n"
        "  compute_rows: T0 T1 T2 T3 DCC0 DCC1 DCC2\n"
        "  dual_contact_rows: [DCC0, DCC1, DCC2]\n"
        "  decoder:\n"
        "    B5: ~DCC0\n"
        "    B16: DCC2\n"
        "    B17: ~DCC2 T2\n"
    )
    config = load_config(write(tmp_path, text))
    pim = config.pim
    assert pim.compute_rows[-1] == "DCC2" and pim.dual_contact_rows[-1] == "DCC2"
    assert list(pim.decoder) == [*AMBIT_DECODER, "B16", "B17"]
    assert pim.decoder["B17"] == ("~DCC2", "T2")
    assert pim.reserved_rows_per_subarray == 20
    assert config.differences() == {
        "pim.compute_rows": "T0 T1 T2 T3 DCC0 DCC1 DCC2",
        "pim.dual_contact_rows": "DCC0 DCC1 DCC2",
        "pim.decoder.B16": "DCC2",
        "pim.decoder.B17": "~DCC2 T2",
    }
    # to_dict round trip, with the preset and as a complete file of its own
    again = load_config(write(tmp_path, yaml.safe_dump(config.to_dict()), "again.yaml"))
    assert dataclasses.replace(again, source=config.source) == config
    assert again.differences() == config.differences()
    doc = config.to_dict()
    del doc["preset"]
    alone = load_config(write(tmp_path, yaml.safe_dump(doc), "alone.yaml"))
    assert alone.pim == config.pim and alone.differences() == {}
    assert hash(dataclasses.replace(again, source=config.source)) == hash(config)
    assert pickle.loads(pickle.dumps(config)) == config


def test_a_decoder_override_may_add_an_address():
    config = load_config("ddr3-1600", ["pim.decoder.B16=T0 T2", "pim.decoder.B16=T1 T3"])
    assert config.pim.decoder["B16"] == ("T1", "T3")
    assert config.pim.reserved_rows_per_subarray == 19
    assert config.differences() == {"pim.decoder.B16": "T1 T3"}


def test_a_whole_decoder_may_be_given_with_p():
    config = load_config("ddr3-1600", ["pim.decoder={B3: T2, B20: T0 T1}", "pim.decoder.B4=~DCC1"])
    assert config.pim.decoder["B3"] == ("T2",) and config.pim.decoder["B20"] == ("T0", "T1")
    assert config.pim.decoder["B4"] == ("~DCC1",) and len(config.pim.decoder) == 17


def test_a_complete_file_may_have_fewer_reserved_rows(tmp_path):
    doc = load_config("ddr3-1600").to_dict()
    del doc["preset"]
    doc["pim"].update(compute_rows="T0 T1 T2", dual_contact_rows="")
    doc["pim"]["decoder"] = {"B0": "T0", "B1": "T1", "B2": "T2", "B3": "T0 T1 T2"}
    pim = load_config(write(tmp_path, yaml.safe_dump(doc))).pim
    assert (pim.dual_contact_rows, pim.reserved_rows_per_subarray) == ((), 6)
    config = load_config(None, ["pim.rows_per_subarray=32"])
    assert config.pim.reserved_rows_per_subarray < config.pim.rows_per_subarray


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        (
            ["pim.decoder.B3=T0 T1 T2 T3"],
            "pim.decoder.B3",
            "raises 4 wordlines (T0 T1 T2 T3); 1 to 3 allowed",
        ),
        (["pim.decoder.B3=T0 T0"], "pim.decoder.B3", "row T0 named twice"),
        (["pim.decoder.B3=T0 ~T0"], "pim.decoder.B3", "row T0 named twice (T0 and ~T0)"),
        (["pim.decoder.B3="], "pim.decoder.B3", "missing value"),
        (["pim.decoder.B3=3"], "pim.decoder.B3", "row names separated by spaces expected, got 3"),
        (
            ["pim.decoder.B3=T0 T-1"],
            "pim.decoder.B3",
            "bad row name 'T-1': letters, digits, _ expected (~NAME for a negated wordline)",
        ),
        (
            ["pim.decoder.B12=T0 T1 T9"],
            "pim.decoder.B12",
            "B12 raises T9, which is not a compute row (compute_rows: T0 T1 T2 T3 DCC0 DCC1)",
        ),
        (
            ["pim.decoder.B12=~T0 T1"],
            "pim.decoder.B12",
            "B12 raises ~T0, but T0 is not a dual-contact row (dual_contact_rows: DCC0 DCC1)",
        ),
        (
            ["pim.compute_rows=T0 T1 T2 DCC0 DCC1"],
            "pim.compute_rows",
            "B3 raises T3, which is not a compute row (compute_rows: T0 T1 T2 DCC0 DCC1)",
        ),
        (
            ["pim.dual_contact_rows=DCC0"],
            "pim.dual_contact_rows",
            "B7 raises ~DCC1, but DCC1 is not a dual-contact row (dual_contact_rows: DCC0)",
        ),
        (
            ["pim.dual_contact_rows=DCC0 DCC2"],
            "pim.dual_contact_rows",
            "DCC2 not among the compute rows (compute_rows: T0 T1 T2 T3 DCC0 DCC1)",
        ),
        (["pim.compute_rows=T0 T1 T0"], "pim.compute_rows", "row T0 named twice"),
        (["pim.dual_contact_rows=DCC0 DCC0"], "pim.dual_contact_rows", "row DCC0 named twice"),
        (["pim.compute_rows="], "pim.compute_rows", "missing value"),
        (
            ["pim.compute_rows=~T0"],
            "pim.compute_rows",
            "bad row name '~T0': letters, digits, _ expected",
        ),
        (
            [f"pim.compute_rows=T0 T1 T2 T3 DCC0 DCC1 {' '.join(f'X{i}' for i in range(11))}"],
            "pim.compute_rows",
            "17 compute rows but 16 decoder addresses; each compute row is stored at one of them",
        ),
        (
            ["pim.decoder.C0=T0"],
            "pim.decoder.C0",
            "C0 is the address of a constant row, not of the decoder",
        ),
        (
            ["pim.decoder.C1=T0"],
            "pim.decoder.C1",
            "C1 is the address of a constant row, not of the decoder",
        ),
        (
            ["pim.decoder.1B=T0"],
            "pim.decoder.1B",
            "bad address name '1B': letters, digits, _ expected, not first a digit",
        ),
        (
            ["pim.decoder.B-1=T0"],
            "pim.decoder.B-1",
            "bad address name 'B-1': letters, digits, _ expected, not first a digit",
        ),
        (["pim.decoder.=T0"], "pim.decoder.", "pim.decoder.ADDRESS=WORDLINES expected"),
        (["pim.decoder.B1.x=T0"], "pim.decoder.B1.x", "pim.decoder.ADDRESS=WORDLINES expected"),
        (["pim.decoder=T0"], "pim.decoder", "mapping of address -> wordlines expected, got 'T0'"),
    ],
)
def test_bad_decoder(overrides, key, message):
    error = config_error("ddr3-1600", *overrides)
    assert (error.source, error.key, error.message) == ("-p", key, message)


def test_one_row_subarrays_at_the_most_rows_are_accepted():
    """The extreme subarray (four data rows and their 19 extra wordlines) at the most rows a
    bank may have: 2^16 * 23 physical rows, well within the core's row numbers."""
    most = ["organisation.rows=262144", "organisation.density_gbit=32"]
    config = load_config("ddr4-2400", [*most, "pim.rows_per_subarray=4"])
    assert (config.organisation.rows, config.pim.rows_per_subarray) == (2**18, 4)


def test_subarray_at_most_the_bank():
    error = config_error("ddr4-2400", "pim.rows_per_subarray=131072")
    assert (error.source, error.key) == ("-p", "pim.rows_per_subarray")
    assert error.message == "rows_per_subarray = 131072 must be at most rows = 65536"


def test_decoder_errors_in_a_file_name_the_line(tmp_path):
    text = "preset: ddr4-2400\npim:\n  decoder:\n    B0: T0\n    B12: T0 T1 T2 T3\n"
    error = config_error(write(tmp_path, text))
    assert (error.key, error.message) == (
        "pim.decoder.B12",
        "raises 4 wordlines (T0 T1 T2 T3); 1 to 3 allowed",
    )
    assert error.source.endswith(":5")
    text = "preset: ddr4-2400\npim:\n  decoder:\n    B0: T0\n    B0: T1\n"
    error = config_error(write(tmp_path, text))
    assert (error.key, error.message) == ("pim.decoder.B0", "duplicate key (first on line 4)")
    text = "preset: ddr4-2400\npim:\n  decoder:\n    7: T0\n"
    error = config_error(write(tmp_path, text))
    assert error.key == "pim.decoder.7" and error.source.endswith(":4")


def test_a_complete_file_needs_a_decoder(tmp_path):
    doc = load_config("ddr3-1600").to_dict()
    del doc["preset"], doc["pim"]["decoder"]
    path = write(tmp_path, yaml.safe_dump(doc))
    error = config_error(path)
    assert (error.source, error.key, error.message) == (path, "pim.decoder", "missing value")


# --- controller ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ddr3-1066", "ddr3-1600", "ddr4-2400"])
def test_controller_defaults(name):
    controller = load_config(name).controller
    assert controller == ControllerParams(
        read_queue=32,
        write_queue=32,
        scheduler="frfcfs",
        row_policy="open",
        row_cap=16,
        high_watermark=0.8,
        low_watermark=0.2,
        refresh=True,
    )
    assert isinstance(controller.high_watermark, float)
    assert isinstance(controller.low_watermark, float)
    assert (SCHEDULERS, ROW_POLICIES) == (("frfcfs", "fcfs"), ("open", "closed"))


def test_controller_overrides(tmp_path):
    config = load_config(
        None,
        [
            "controller.scheduler=fcfs",
            "controller.row_policy=closed",
            "controller.row_cap=4",
            "controller.write_queue=64",
            "controller.low_watermark=0",
            "controller.refresh=false",
        ],
    )
    controller = config.controller
    assert (controller.scheduler, controller.row_policy, controller.row_cap) == (
        "fcfs",
        "closed",
        4,
    )
    assert (controller.write_queue, controller.low_watermark, controller.refresh) == (
        64,
        0.0,
        False,
    )
    assert config.differences() == {
        "controller.write_queue": 64,
        "controller.scheduler": "fcfs",
        "controller.row_policy": "closed",
        "controller.row_cap": 4,
        "controller.low_watermark": 0.0,
        "controller.refresh": False,
    }
    assert config.to_dict()["controller"]["scheduler"] == "fcfs"
    again = load_config(write(tmp_path, yaml.safe_dump(config.to_dict())))
    assert dataclasses.replace(again, source=config.source) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        controller.scheduler = "frfcfs"  # type: ignore[misc]


def test_controller_in_a_file(tmp_path):
    path = write(tmp_path, "preset: ddr3-1600\ncontroller:\n  read_queue: 8\n")
    config = load_config(path)
    assert config.controller.read_queue == 8 and config.controller.write_queue == 32
    assert config.differences() == {"controller.read_queue": 8}


def test_unknown_scheduler():
    error = config_error("ddr4-2400", "controller.scheduler=fifo")
    assert (error.source, error.key) == ("-p", "controller.scheduler")
    assert error.message == "unknown scheduler 'fifo'; known: frfcfs, fcfs"


def test_unknown_row_policy(tmp_path):
    path = write(tmp_path, "preset: ddr4-2400\ncontroller:\n  row_policy: adaptive\n")
    error = config_error(path)
    assert (error.source, error.key) == (f"{path}:3", "controller.row_policy")
    assert error.message == "unknown row policy 'adaptive'; known: open, closed"


@pytest.mark.parametrize(
    "overrides",
    [
        ["controller.low_watermark=0.8"],
        ["controller.high_watermark=0.5", "controller.low_watermark=0.9"],
    ],
)
def test_low_watermark_must_be_below_high(overrides):
    error = config_error("ddr4-2400", *overrides)
    low = overrides[-1].partition("=")[2]
    assert (error.source, error.key) == ("-p", "controller.low_watermark")
    high = "0.5" if len(overrides) == 2 else "0.8"
    assert error.message == f"low_watermark = {low} must be less than high_watermark = {high}"


def test_lowering_high_watermark_below_low_is_blamed_on_it():
    error = config_error("ddr4-2400", "controller.high_watermark=0.1")
    assert (error.source, error.key) == ("-p", "controller.high_watermark")
    assert error.message == "low_watermark = 0.2 must be less than high_watermark = 0.1"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("controller.read_queue=0", "must be positive, got 0"),
        ("controller.write_queue=2.5", "integer expected, got 2.5"),
        ("controller.row_cap=-1", "must be positive, got -1"),
        ("controller.high_watermark=1.5", "must be at most 1, got 1.5"),
        ("controller.high_watermark=0", "must be positive, got 0"),
        ("controller.low_watermark=-0.1", "must be non-negative, got -0.1"),
        ("controller.refresh=1", "true or false expected, got 1"),
        ("controller.scheduler=3", "text expected, got 3"),
    ],
)
def test_bad_controller_value(override, message):
    error = config_error("ddr4-2400", override)
    assert (error.source, error.key, error.message) == ("-p", override.split("=")[0], message)


def test_high_watermark_may_be_one():
    assert load_config(None, ["controller.high_watermark=1"]).controller.high_watermark == 1.0


def test_unknown_controller_key():
    error = config_error("ddr4-2400", "controller.read_queu=8")
    assert (error.source, error.key) == ("-p", "controller.read_queu")
    assert error.message == "unknown key; did you mean controller.read_queue?"


def test_presets_are_found_without_the_installed_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "pimsim.configs", None)
    assert list_presets() == ["ddr3-1066", "ddr3-1600", "ddr4-2400"]
    assert load_config("ddr3-1066").organisation.row_bytes == 4096


def test_refresh_longer_than_its_interval_is_inconsistent():
    with pytest.raises(ConfigError) as info:
        load_config("ddr4-2400", ["timing.nREFI=300"])
    assert str(info.value).startswith("-p: timing.nREFI: nRFC = 420 must be less than nREFI")
