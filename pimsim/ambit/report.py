"""What one bulk operation did: its plan (rows per path and why) and its report."""

from __future__ import annotations

from dataclasses import dataclass, field

from pimsim.ambit.jobs import Job, Span
from pimsim.baseline import HostOp
from pimsim.programs.parse import Program


@dataclass
class BulkPlan:
    """A bulk operation lowered to a controller job (BulkEngine.plan), and what the
    lowering decided: rows per path and why."""

    program: Program
    rows: int
    job: Job
    cpu_rows: int
    fallback_reasons: dict[str, int]
    psm_rows: int
    staged_rows: int
    host: HostOp | None = None  # the fallback rows, done by the host model after the job
    span: Span | None = None  # the job's, once it has run (pimsim.sim keeps it here)


@dataclass(frozen=True)
class HostWork:
    """What the host model issued for a plan's fallback rows."""

    commands: dict[str, int]  # per kind (refreshes left out)
    end_tick: int  # when its last request was served


@dataclass
class OpReport:
    """What one bulk operation did; times in ns, energy left to pimsim.results.energy."""

    op: str
    rows: int
    in_dram_rows: int
    cpu_rows: int
    fallback_reasons: dict[str, int]
    time_ns: float
    commands: dict[str, int]
    aap: int
    ap: int
    rows_raised: int
    max_row_activations: int
    bank_busy_ns: dict[str, float]
    span: Span = field(repr=False)
    psm_rows: int = 0  # of in_dram_rows: copies across banks or subarrays (PSM or LISA)
    staged_rows: int = 0  # of in_dram_rows: sources first copied into the output's subarray
    lisa_moves: int = 0  # rows moved between subarrays by LISA-RISC (copies and staging)
    row_bytes: int = 0
    with_data: bool = True  # False: timing only, no row data simulated

    @property
    def throughput_gbps(self) -> float:
        """Bytes of result per ns (GB/s)."""
        return self.rows * self.row_bytes / self.time_ns if self.time_ns else 0.0

    def to_dict(self) -> dict:
        return {
            "op": self.op,
            "rows": self.rows,
            "in_dram_rows": self.in_dram_rows,
            "cpu_rows": self.cpu_rows,
            "cpu_bytes": self.cpu_rows * self.row_bytes,
            "fallback_reasons": dict(self.fallback_reasons),
            "time_ns": round(self.time_ns, 3),
            "throughput_gbps": round(self.throughput_gbps, 3),
            "commands": {**self.commands, "AAP": self.aap, "AP": self.ap},
            "rows_raised": self.rows_raised,
            "max_row_activations": self.max_row_activations,
            "bank_busy_ns": {k: round(v, 3) for k, v in self.bank_busy_ns.items()},
            "psm_rows": self.psm_rows,
            "staged_rows": self.staged_rows,
            "lisa_moves": self.lisa_moves,
            "data_simulated": self.with_data,
        }
