"""Capacity (issue 10): every preset's nominal capacity is addressable. Ambit's and RowClone's
rows (C0, C1, the B-group rows, the temporary row) are extra row addresses of every subarray,
which host addresses never reach; the overhead is stated."""

import functools
import resource
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.addrmap import SCHEMES, AddressError, AddressMapper
from pimsim.ambit.bulk import BulkEngine
from pimsim.ambit.layout import SubarrayLayout
from pimsim.cli.main import cli
from pimsim.config import list_presets, load_config
from pimsim.device import Device
from pimsim.sim import Replay

PRESETS = list_presets()
LINE = 64


def nominal(config) -> int:
    """channels * ranks * bank groups * banks * rows * row bytes."""
    org = config.organisation
    banks = org.channels * org.ranks * org.bankgroups * org.banks_per_group
    return banks * org.rows * org.row_bytes


def written(address: int) -> np.ndarray:
    """The burst a trace write stores: each 8-byte word holds its own byte address."""
    return np.arange(address, address + LINE, 8, dtype=np.uint64)


def run_cli(*args):
    return CliRunner().invoke(cli, list(args))


def test_the_presets_are_the_shipped_ones():
    assert {"ddr3-1066", "ddr3-1600", "ddr4-2400"} <= set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_last_line_of_the_nominal_capacity_replays(tmp_path, preset):
    config = load_config(preset)
    top = nominal(config)
    host_row = top // config.organisation.rows  # the row is the top field: one row per bank
    last, below = top - host_row, top - 2 * host_row
    trace = tmp_path / "edge.trace"
    trace.write_text(
        f"0 W 0x0\n0 W {top - LINE:#x}\n100 R 0x0\n100 R {top - LINE:#x}\n"
        f"200 BBOP not {below:#x} {last:#x} {host_row}\n"  # the last two rows of every bank
    )
    run = Replay(config, trace)
    doc = run.run()
    assert doc["requests"]["reads"] == 2 and doc["requests"]["writes"] == 2
    assert doc["commands"]["RD"] == 2 and doc["commands"]["WR"] == 2  # BBOP: in DRAM
    mapper = AddressMapper.for_config(config)
    for address in (0, top - LINE):
        assert (run.device.read_burst(*mapper.decode(address)) == written(address)).all()
    result = run.device.read_burst(*mapper.decode(top - LINE - host_row))
    assert (result == ~written(top - LINE)).all()


@pytest.mark.parametrize("preset", PRESETS)
def test_the_nominal_capacity_itself_is_refused_with_one_line(tmp_path, preset):
    top = nominal(load_config(preset))
    bad, malformed = tmp_path / "over.trace", tmp_path / "malformed.trace"
    bad.write_text(f"0 W 0x0\n1 R {top:#x}\n")
    malformed.write_text("0 W 0x0\n1 R 0xZZ\n")
    result = run_cli("run", str(bad), "--config", preset)
    reference = run_cli("run", str(malformed), "--config", preset)
    assert result.exit_code == reference.exit_code != 0  # refused like any bad trace line
    assert result.output == (
        f"Error: {bad}:2: address: address {top:#x} is outside the memory [0, {top:#x})\n"
    )


@pytest.mark.parametrize(
    ("fmt", "line"),
    [("ramulator", "ST {a:#x}\nLD {a:#x}\n"), ("dramsim3", "{a:#x} WRITE 0\n{a:#x} READ 9\n")],
)
def test_ramulator_and_dramsim3_traces_reach_the_whole_module(tmp_path, fmt, line):
    top = 16 * 2**30  # ddr4-2400: 2 ranks of eight 8 Gb devices
    trace = tmp_path / f"{fmt}.trace"
    trace.write_text(line.format(a=top - LINE))
    result = run_cli("run", str(trace))
    assert result.exit_code == 0, result.output
    assert "1 reads, 1 writes" in result.output
    trace.write_text(line.format(a=top))
    result = run_cli("run", str(trace))
    assert result.exit_code != 0
    assert result.output.endswith(f"is outside the memory [0, {top:#x})\n")


@pytest.mark.parametrize("preset", PRESETS)
def test_host_rows_fill_the_data_rows_and_never_a_reserved_row(preset):
    config = load_config(preset)
    layout, device = SubarrayLayout.from_params(config.pim), Device(config)
    host = np.arange(config.organisation.rows)
    physical = AddressMapper.for_config(config).physical_row(host)
    assert (physical % layout.physical_rows < layout.data_rows).all()
    assert (np.diff(physical) > 0).all() and physical[-1] < device.rows_per_bank
    data = physical.size + layout.extra_rows * (config.organisation.rows // layout.data_rows)
    assert device.rows_per_bank == data  # data rows, then each subarray's extra rows
    engine = BulkEngine(device)
    temp = [engine.temp_row(s) for s in range(engine.subarrays)]
    assert not set(temp) & set(physical.tolist())


@functools.cache
def mapper_of(preset: str, scheme: str) -> tuple[AddressMapper, int]:
    config = load_config(preset, [f"address_mapping.scheme={scheme}"])
    return AddressMapper.for_config(config), nominal(config)


@pytest.mark.parametrize("preset", PRESETS)
@settings(max_examples=300, deadline=None)
@given(line=st.integers(), scheme=st.sampled_from(sorted(SCHEMES)))
def test_every_address_decodes_to_a_data_row_and_back(preset, line, scheme):
    mapper, top = mapper_of(preset, scheme)
    address = line % (top // LINE) * LINE  # negative lines count down from the top
    fields = mapper.decode(address)
    assert fields[4] % mapper.layout.physical_rows < mapper.layout.data_rows
    assert mapper.encode(*fields) == address
    assert tuple(mapper.decode_array(np.array([address], dtype=np.uint64))[0]) == fields


def test_extra_rows_are_not_addressable():
    mapper = AddressMapper.for_config(load_config("ddr4-2400"))
    layout = mapper.layout
    for slot in range(layout.data_rows, layout.physical_rows):  # C0 .. the temporary row
        with pytest.raises(AddressError, match="reserved for in-DRAM computing"):
            mapper.encode(0, 0, 0, 0, layout.physical_rows + slot, 0)


def test_the_overhead_is_stated_by_configs_show():
    result = run_cli("configs", "show", "ddr4-2400")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "# capacity: 16 GiB addressable, [0, 0x400000000) = 32 banks x 65536 rows x 8 KiB" in (
        lines
    )
    assert (
        "# in-DRAM rows on top: 19 row addresses per subarray of 512 data rows (C0, C1, 16 "
        "decoder addresses, RowClone's temporary row), 9 with cells: +1.8% cells"
    ) in lines
    result = run_cli("configs", "show", "ddr3-1600", "-p", "pim.rows_per_subarray=256")
    assert "subarray of 256 data rows" in result.output and "+3.5% cells" in result.output


def test_max_row_activations_counts_data_rows_only():
    device = Device(load_config("ddr4-2400"))
    layout = device.layout
    for cycle, row in enumerate([7, 7, layout.data_rows, layout.data_rows, layout.data_rows]):
        device.issue("ACT", 100 * cycle, 0, 0, 0, 0, row)
        device.issue("PRE", 100 * cycle + 50, 0, 0, 0, 0)
    assert device.snapshot(0).max_row_activations == 2  # C0's three activations are not counted


def _limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_the_largest_organisation_costs_only_the_rows_touched():
    """The per-row tables are allocated per chunk of rows touched: the largest organisation
    (32 channels of 16 ranks of ddr4-2400: 8,192 banks, whose dense per-row tables would
    take 4.5 GB) runs one 8 KiB operation within a 1 GiB address space."""
    command = [sys.executable, "-c", "from pimsim.cli.main import cli; cli()", "compare"]
    result = subprocess.run(
        [*command, "--ops", "not", "--size", "8KiB", "--ranks", "16"]
        + ["-p", "organisation.channels=32"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_address_space,
    )
    assert result.returncode == 0, result.stderr
    assert "yes" in result.stdout  # bit-exact
