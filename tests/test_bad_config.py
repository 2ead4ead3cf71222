"""Bad configurations (issue 10): huge and tiny numbers, impossible organisations, hostile YAML,
``-p`` values of every wrong type. Each gets one ``Error: <source>: <key>: <message>`` line and
exit 2 from every command, never a traceback, a hang or a memory blow-up; and ``configs show``
accepts exactly the configurations ``run`` accepts."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pimsim.cli.main import cli
from pimsim.config import list_presets, load_config
from pimsim.config.read import MAX_FILE_BYTES
from pimsim.config.schema import SECTIONS, value_range
from pimsim.standards import STANDARDS

ROOT = Path(__file__).resolve().parent.parent
TRACE = str(ROOT / "traces" / "sample.trace")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def refused(*args: str) -> str:
    """The one error line of a command that must exit 2."""
    result = invoke(*args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert len(result.stderr) < 240, result.stderr
    return result.stderr.strip()


def refused_everywhere(*params: str) -> str:
    """``configs show`` and ``run`` refuse the overrides with the same line."""
    show = refused("configs", "show", *params)
    assert refused("run", TRACE, "--limit", "10", *params) == show
    return show


# --- item 5 and the nRCD hang: huge integers ------------------------------------------------


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("timing.nFAW=18446744073709551616", "-p: timing.nFAW: must be in 0..65,536"),
        ("timing.nWTR_L=9223372036854775807", "-p: timing.nWTR_L: must be in 0..65,536"),
        (f"timing.nREFI={10**30}", "-p: timing.nREFI: must be in 1..1,048,576"),
        ("timing.nRCD=4294967296", "-p: timing.nRCD: must be in 1..65,536"),
        ("timing.nRCD=-5", "-p: timing.nRCD: must be positive"),
        ("pim.transfer_cycles=99999999999", "-p: pim.transfer_cycles: must be in 1..256"),
        ("controller.read_queue=100000000", "-p: controller.read_queue: must be in 1..1,024"),
        ("host.misses_in_flight=4294967296", "-p: host.misses_in_flight: must be in 1..1,024"),
    ],
)
def test_huge_integers_are_out_of_range(param, expected):
    assert refused_everywhere("-p", param).startswith(f"Error: {expected}, got ")


def test_a_timing_in_ns_must_round_into_the_range():
    line = refused_everywhere("-p", "timing.tRCD=1000000.0")
    assert line == (
        "Error: -p: timing.tRCD: 1e+06 ns is 1,200,480 cycles at tCK 0.833 ns; "
        "1..65,536 cycles allowed"
    )
    assert "ns is 0 cycles" in refused_everywhere("-p", "timing.tRCD=0.0001")


def test_the_energy_table_is_built_at_load():
    line = refused_everywhere("-p", "timing.nRAS=6001", "-p", "timing.nRC=6100")
    assert line.startswith("Error: -p: timing.nRAS: an ACT+PRE must cost energy: IDD0*tRC - ")


# --- item 6: floats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("timing.tCK=5.0e-324", "-p: timing.tCK: must be in 0.1..100, got 5e-324"),
        ("timing.tCK=1.0e+300", "-p: timing.tCK: must be in 0.1..100, got 1e+300"),
        ("timing.tCK=.nan", "-p: timing.tCK: finite number expected, got nan"),
        ("power.IDD0=.inf", "-p: power.IDD0: finite number expected, got inf"),
        ("power.VDD=1000.0", "-p: power.VDD: must be in 0..5, got 1000.0"),
        ("host.compute_gbps=1.0e-300", "-p: host.compute_gbps: must be in 0.01..100,000"),
        ("pim.tWLOV=1.0e+30", "-p: pim.tWLOV: must be in 0..1,000, got 1e+30"),
    ],
)
def test_floats_must_be_finite_and_plausible(param, expected):
    assert refused_everywhere("-p", param).startswith(f"Error: {expected}")


# --- items 7, 8, 9: organisations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (["organisation.channels=1099511627776"], "-p: organisation.channels: must be in 1..32"),
        (["organisation.channels=4294967296"], "-p: organisation.channels: must be in 1..32"),
        (["organisation.ranks=1048576"], "-p: organisation.ranks: must be in 1..16"),
        (
            [
                "organisation.device_width=1",
                "organisation.devices_per_rank=1",
                "organisation.rows=524288",
            ],
            "-p: organisation.device_width: must be in 4..16, got 1",
        ),
        (
            ["organisation.devices_per_rank=4"],
            "-p: organisation.devices_per_rank: devices_per_rank * device_width = 32 bits",
        ),
        (
            ["organisation.device_width=16", "organisation.columns=512"],
            "-p: organisation.device_width: devices_per_rank * device_width = 128 bits",
        ),
        (
            ["organisation.burst_length=16", "timing.nBL=8"],
            "-p: organisation.burst_length: a burst of 16 beats moves 128 bytes",
        ),
    ],
)
def test_impossible_organisations(params, expected):
    args = [arg for param in params for arg in ("-p", param)]
    assert refused_everywhere(*args).startswith(f"Error: {expected}")


def test_the_largest_organisation_is_accepted():
    """Every key at its bound is a valid configuration: the core allocates its per-row
    tables as rows are touched (tests/test_capacity.py runs one in a 1 GiB address space)."""
    args = ["-p", "organisation.channels=32", "-p", "organisation.ranks=16"]
    result = CliRunner().invoke(cli, ["configs", "show", *args])
    assert result.exit_code == 0, result.output


def test_compare_ranks_is_checked_as_an_option():
    for ranks in ("1048576", "1024"):
        line = refused("compare", "--ranks", ranks, "--ops", "not", "--size", "8KiB")
        assert line == f"Error: Invalid value for '--ranks': {ranks} is not in the range 1<=x<=16."


def test_the_largest_allowed_ranks_run():
    result = invoke("run", TRACE, "--limit", "10", "-p", "organisation.ranks=16")
    assert result.exit_code == 0, result.output


def test_configs_limits_prints_every_range():
    result = invoke("configs", "limits")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "organisation.ranks             [1, 16], a power of two" in lines
    assert "timing.nREFI                   [1, 1,048,576]" in lines
    assert "timing.tCK                     [0.1, 100]" in lines
    assert lines[-1].startswith("devices_per_rank * device_width = 64 bits")


def test_every_numeric_key_has_a_range():
    for section, kinds in SECTIONS.items():
        for key, kind in kinds.items():
            if kind in ("int", "int0", "pow2", "num", "num0", "frac"):
                assert value_range(f"{section}.{key}") is not None, key
    for standard in STANDARDS.values():
        for name in ("tCK", *standard.timing_names):
            assert value_range(f"timing.{name}") is not None


# --- item 10: YAML and -p values ----------------------------------------------------------------


def test_deep_nesting_in_a_value():
    deep = "[" * 2000 + "]" * 2000
    line = refused_everywhere("-p", f"description={deep}")
    assert line.startswith("Error: -p: description: cannot read value '[[[[")
    assert "nest" in line  # pimsim's limit, or libyaml's own (1,000) when it is the parser


def test_deep_nesting_in_a_file(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("preset: ddr4-2400\ndescription: " + "[" * 500 + "]" * 500 + "\n")
    line = refused("configs", "show", str(path))
    assert line == f"Error: {path}:2: YAML syntax: nested more than 16 levels deep"
    mapping = "preset: ddr4-2400\n" + "".join("  " * i + "k:\n" for i in range(500))
    path.write_text(mapping)
    assert refused("run", TRACE, "--config", str(path)).endswith("nested more than 16 levels deep")


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, prev in zip("bcd", "abc", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("description: [" + ",".join(["*d"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert len(path.read_bytes()) < 500
    line = refused("configs", "show", str(path))
    assert line.startswith("Error: ")  # a long path is shortened to its end: match that
    assert line.endswith("bomb.yaml:1: YAML syntax: anchors and aliases (& and *) are not "
                         "supported")  # fmt: skip
    assert refused("run", TRACE, "-p", "description=&x 1").endswith("are not supported")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"preset: ddr4-2400\ndescription: \xff\n", "cannot read: not UTF-8 text (byte 31)"),
        (b"- a\n- b\n", "top level: mapping of keys expected, got ['a', 'b']"),
        (b"preset: ddr4-2400\ntiming: {}\ntiming: {}\n", "timing: duplicate key (first on line 2)"),
        (b"timing:\n  nRCD: 5\n  nRCD: 6\n", "timing.nRCD: duplicate key (first on line 2)"),
        (b"preset: ddr4-2400\ndescription: 2001-13-45\n", "YAML syntax: bad value"),
        (b"preset: [1]\n", "preset: unknown preset [1]"),
        (
            b"preset: ddr4-2400\n" + b"#" * MAX_FILE_BYTES,
            "cannot read: larger than 1,048,576 bytes",
        ),
    ],
)
def test_bad_files(tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    assert expected in refused("configs", "show", str(path))


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfpreset: ddr3-1600\n")
    assert invoke("configs", "show", str(path)).exit_code == 0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (".", "Error: --config: .: cannot read: Is a directory"),
        ("/dev/zero", "Error: --config: /dev/zero: cannot read: larger than 1,048,576 bytes"),
        ("missing.yaml", "Error: --config: missing.yaml: no such file"),
        ("/dev/null", "Error: /dev/null: standard: missing value"),
    ],
)
def test_files_that_are_not_configs(spec, expected):
    assert refused("configs", "show", spec) == expected
    assert refused("run", TRACE, "--config", spec) == expected


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("timing.nRCD=true", "-p: timing.nRCD: integer expected, got True"),
        ("timing.nRCD=twenty", "-p: timing.nRCD: integer expected, got 'twenty'"),
        ("timing.nRCD=[20]", "-p: timing.nRCD: integer expected, got [20]"),
        ("timing.tCK={a: 1}", "-p: timing.tCK: number expected, got {'a': 1}"),
        ("pim.lisa=1", "-p: pim.lisa: true or false expected, got 1"),
        ("name=[a]", "-p: name: text expected, got ['a']"),
        ("name=~", "-p: name: missing value"),
        ("organisation.banks=4", "-p: organisation.banks: unknown key"),
        ("a.b.c=1", "-p: a.b.c: unknown key"),
        ("timing.nRCD.x=1", "-p: timing.nRCD.x: timing.KEY=VALUE expected"),
        ("timing=5", "-p: timing: timing.KEY=VALUE expected"),
        ("nRCD", "-p: nRCD: KEY=VALUE expected"),
        ("description=" + "x" * 5000, "-p: description: at most 200 characters, got 5,000"),
        ('name="a\\nb"', "-p: name: one line of printable text expected"),
    ],
)
def test_bad_override_values(param, expected):
    assert refused_everywhere("-p", param).startswith(f"Error: {expected}")


def test_echoed_values_are_cut():
    line = refused("configs", "show", "-p", "timing.nRCD=" + "9" * 5000 + "x")
    assert line == "Error: -p: timing.nRCD: integer expected, got '" + "9" * 39 + "..."
    line = refused("configs", "show", "-p", "timing.nRCD=[" + "1, " * 5000 + "1]")
    assert line == "Error: -p: timing.nRCD: integer expected, got [" + "1, " * 13 + "..."


# --- configs show accepts exactly what run accepts ------------------------------------------------

#: Overrides run found a fault in before configs show did (issue 10), and neighbours of them.
SHOW_VS_RUN = [
    (),
    ("timing.nRCD=6000", "timing.nRC=6100", "timing.nRAS=6001"),  # ACT energy < 0
    ("timing.nRCD=60000", "timing.nRC=60100", "timing.nRAS=40"),
    ("timing.nCWL=40",),
    ("timing.nCWL=20",),
    ("timing.nCL=4",),
    ("organisation.ranks=16",),
    ("organisation.channels=8",),
    ("pim.rows_per_subarray=32",),
    ("pim.rows_per_subarray=65536",),
    ("pim.rows_per_subarray=16",),
    ("timing.tCK=0.1",),
    ("timing.tCK=100.0",),
    ("pim.tWLOV=0.001",),
    ("pim.split_decoder=false", "pim.tWLOV=999.0"),
    ("power.IDD0=1",),
    ("power.IDD4R=1",),
    ("controller.read_queue=1", "controller.write_queue=1"),
    ("controller.low_watermark=0.9",),
    ("host.compute_gbps=0.01",),
    ("address_mapping.scheme=RoCoRaBaCh",),
]


@pytest.mark.parametrize("params", SHOW_VS_RUN, ids=lambda p: " ".join(p) or "preset")
@pytest.mark.parametrize("preset", ["ddr4-2400", "ddr3-1600"])
def test_show_passes_exactly_what_run_passes(preset, params):
    args = [arg for param in params for arg in ("-p", param)]
    show = invoke("configs", "show", preset, *args)
    run = invoke("run", TRACE, "--limit", "10", "--config", preset, *args)
    assert show.exit_code in (0, 2) and run.exit_code in (0, 2), (show.output, run.output)
    assert show.exit_code == run.exit_code, (show.output, run.output)


# --- seeded fuzz ----------------------------------------------------------------------------------

_VALUES = [0, -1, 1, 2, 3, 8, 2**16, 2**16 + 1, 2**20, 2**31, 2**32, 2**63, 2**64, 10**30]
_VALUES += ["0.5", "1e-300", "5e-324", "1.0e+308", ".nan", ".inf", "-.inf", "abc", "''", "~"]
_VALUES += ["[1, 2]", "[[1]]", "{a: 1}", "true", "false", "T0 T1", "~DCC0 T0", "&a 1", "*a"]
_VALUES += ["0x10", "1_000", "1:20", "2001-01-01", "!!binary aGk=", "[" * 40 + "]" * 40]
_EXTRA_KEYS = ["timing.tRCD", "timing.tRFC", "timing.nXYZ", "bogus", "organisation.foo"]
_EXTRA_KEYS += ["pim.decoder.B16", "pim.decoder.C0", "power.IPP2N", "a.b.c", "timing", "pim"]


def _flat(doc: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def fuzz_case(seed: int) -> tuple[str, list[str]]:
    """A preset and 1-3 ``KEY=VALUE`` mutations of its keys (or of extra keys): values of
    every type, huge and tiny, and numbers near the key's own value."""
    rng = random.Random(seed)
    preset = rng.choice(list_presets())
    keys = _flat(load_config(preset).to_dict())
    params = []
    for _ in range(rng.randint(1, 3)):
        key = rng.choice([*keys, *_EXTRA_KEYS])
        current = keys.get(key)
        pool = list(_VALUES)
        if isinstance(current, int | float) and not isinstance(current, bool):
            pool += [current * 2, current // 2, current + 1, current - 1, current * 1000]
        params.append(f"{key}={rng.choice(pool)}")
    return preset, params


def as_file(tmp_path: Path, seed: int, preset: str, params: list[str]) -> str:
    """The mutations written as a YAML file that starts from ``preset``."""
    lines = [f"preset: {preset}"]
    for param in params:
        key, _, value = param.partition("=")
        top, _, leaf = key.partition(".")
        lines += [f"{top}:", f"  {leaf}: {value}"] if leaf else [f"{top}: {value}"]
    path = tmp_path / f"fuzz{seed}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _check_clean(result) -> None:
    assert result.exit_code in (0, 2), (result.output, result.exception)
    if result.exit_code:
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
        assert len(result.stderr) < 300


def test_fuzz_configs_show(tmp_path):
    """200 seeded mutations through ``configs show`` (-p and YAML files), 10 through ``run``."""
    outcomes = {0: 0, 2: 0}
    for seed in range(200):
        preset, params = fuzz_case(seed)
        if seed % 3:
            args = [preset, *(arg for p in params for arg in ("-p", p))]
        else:
            args = [as_file(tmp_path, seed, preset, params)]
        show = invoke("configs", "show", *args)
        _check_clean(show)
        outcomes[show.exit_code] += 1
        if seed % 20 == 0:
            config = ["--config", *args[:1], *args[1:]]
            run = invoke("run", TRACE, "--limit", "10", *config)
            _check_clean(run)
            assert run.exit_code == show.exit_code, (args, show.output, run.output)
    assert outcomes[0] >= 5 and outcomes[2] > 150


@pytest.mark.slow
@pytest.mark.parametrize("part", range(3))  # in three parts, spread over the cores by xdist
def test_fuzz_show_and_run_in_processes(tmp_path, part):
    """150 seeded mutations through ``configs show`` and ``run --limit 50`` as processes under
    a 4 GB address-space cap and a 60 s time limit each: no traceback, no hang, no blow-up, and
    show exits 0 exactly when run does."""
    pimsim = str(Path(sys.executable).with_name("pimsim"))
    for seed in range(1000 + part, 1150, 3):
        preset, params = fuzz_case(seed)
        if seed % 2:
            args = [preset, *(arg for p in params for arg in ("-p", p))]
        else:
            args = [as_file(tmp_path, seed, preset, params)]
        codes = []
        for command in (
            ["configs", "show", *args],
            ["run", TRACE, "--limit", "50", "--config", *args],
        ):
            proc = subprocess.run(
                ["bash", "-c", 'ulimit -v 4000000; exec "$@"', "-", pimsim, *command],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode in (0, 2), (command, proc.stderr[-500:])
            assert "Traceback" not in proc.stderr, (command, proc.stderr[-500:])
            codes.append(proc.returncode)
        assert codes[0] == codes[1], (args, codes)


def test_transfer_cycles_are_bounded_like_a_burst():
    """A RowClone TRANSFER moves one burst: at most 256 cycles (the engine steps them), so a
    staged trace stays quick at the bound."""
    refused("configs", "show", "-p", "pim.transfer_cycles=257")
    result = invoke(
        "run", str(ROOT / "traces" / "sample-pim.trace"), "-p", "pim.transfer_cycles=256"
    )
    assert result.exit_code == 0, result.output
