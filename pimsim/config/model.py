"""The resolved configuration as frozen dataclasses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

#: Addresses of the constant rows (all zeros, all ones), reserved before the decoder's.
CONSTANT_ROWS = ("C0", "C1")


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
        return len(CONSTANT_ROWS) + len(self.decoder)


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
