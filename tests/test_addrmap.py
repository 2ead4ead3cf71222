"""Address mapping: field order of each scheme, round trips, and out-of-range addresses."""

import numpy as np
import pytest

from pimsim.addrmap import SCHEMES, AddressError, AddressMapper
from pimsim.config import load_config

ORG = load_config("ddr4-2400").organisation  # 1 channel, 2 ranks, 4x4 banks, 64K rows


def test_robaracoch_slices_column_rank_bankgroup_bank_row_from_the_lsb():
    m = AddressMapper(ORG, "RoBaRaCoCh")
    # 6 offset bits, 7 column bits (128 bursts of 8 columns), 1 rank, 2 bankgroup, 2 bank
    assert m.decode(0x3F) == (0, 0, 0, 0, 0, 0)
    assert m.decode(1 << 6) == (0, 0, 0, 0, 0, 8)
    assert m.decode(1 << 13) == (0, 1, 0, 0, 0, 0)
    assert m.decode(1 << 14) == (0, 0, 1, 0, 0, 0)
    assert m.decode(1 << 16) == (0, 0, 0, 1, 0, 0)
    assert m.decode(1 << 18) == (0, 0, 0, 0, 1, 0)


def test_rocorabach_interleaves_bank_groups_at_cache_line_granularity():
    m = AddressMapper(ORG, "RoCoRaBaCh")
    lines = [m.decode(64 * i) for i in range(4)]
    assert [f[2] for f in lines] == [0, 1, 2, 3]  # consecutive lines: next bank group
    assert m.decode(64 * 4)[3] == 1  # then the bank
    assert m.decode(64 * 16)[1] == 1  # then the rank
    assert m.decode(64 * 32)[5] == 8  # then the column


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_decode_encode_round_trip_and_array_decode_agrees(scheme):
    m = AddressMapper(ORG, scheme)
    rng = np.random.default_rng(3)
    addrs = rng.integers(0, m.capacity_bytes // 64, 500, dtype=np.uint64) * np.uint64(64)
    fields = m.decode_array(addrs)
    for addr, row in zip(addrs, fields, strict=True):
        assert tuple(row) == m.decode(int(addr))
        assert m.encode(*(int(v) for v in row)) == int(addr)


def test_capacity_is_the_module_size():
    assert AddressMapper(ORG).capacity_bytes == 16 * 2**30  # 2 ranks x 8 x 8 Gb


def test_address_outside_memory_is_an_error():
    m = AddressMapper(ORG)
    with pytest.raises(AddressError, match="outside the memory"):
        m.decode(m.capacity_bytes)
    with pytest.raises(AddressError, match="outside the memory"):
        m.decode_array(np.array([0, m.capacity_bytes], dtype=np.uint64))


def test_unknown_scheme_is_an_error():
    with pytest.raises(AddressError, match="unknown address mapping 'RoRo'"):
        AddressMapper(ORG, "RoRo")


def test_ordinary_addresses_reach_data_rows_only():
    cfg = load_config("ddr4-2400")  # 512 data rows per subarray, 19 extra wordlines each
    m = AddressMapper.for_config(cfg)
    stride = 512 + 19
    assert m.capacity_bytes == 16 * 2**30  # every row of the nominal organisation
    top = m.decode(m.capacity_bytes - 64)
    assert top[4] == 127 * stride + 511  # the last data row of the last subarray
    row = 1 << 18  # RoBaRaCoCh: one host row up
    assert m.decode(511 * row)[4] == 511
    assert m.decode(512 * row)[4] == stride  # the next data row starts subarray 1
    rng = np.random.default_rng(5)
    addrs = rng.integers(0, m.capacity_bytes // 64, 2000, dtype=np.uint64) * np.uint64(64)
    rows = m.decode_array(addrs)[:, 4]
    assert (rows % stride < 512).all()
    assert all(
        m.encode(*(int(v) for v in f)) == int(a)
        for a, f in zip(addrs[:200], m.decode_array(addrs[:200]), strict=True)
    )
    for reserved in (512, stride - 1):  # C0 and RowClone's temporary row
        with pytest.raises(AddressError, match="reserved"):
            m.encode(0, 0, 0, 0, reserved, 0)
