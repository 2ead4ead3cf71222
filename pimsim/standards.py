"""DRAM standards declared as data, and their compilation into dense timing tables.

A standard is a list of levels, a list of commands with the level each one acts on, the names
of its timing parameters, and one flat list of timing constraints. A constraint says: after a
*preceding* command is issued at some node of *level*, a *following* command to the same node
(or, for a sibling constraint, to another node of that level under the same parent) may not
issue earlier than *latency* cycles later. A windowed constraint (tFAW) counts the last
*window* preceding commands instead of the last one.

Latencies are expressions over timing names ("nCWL + nBL + nWR"), evaluated once per
configuration by :func:`compile_tables`; the result is a set of dense integer numpy arrays that
the Cython core reads. Nothing here imports SimPy or the core.

Adding a standard means adding a table, not logic. The constraint lists follow the JEDEC
specifications (JESD79-3F for DDR3, JESD79-4C for DDR4) in the form Ramulator 2 uses for its
DDR3/DDR4 models, plus two rules Ramulator applies implicitly: the command bus carries one
command per cycle per channel, and nothing reaches a rank during tRFC.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np

#: Levels of the hierarchy that hold timing state, outermost first. LEVELS and COMMANDS are
#: the one declaration of the level and command codes: setup.py reads these two literals and
#: generates the compiled core's C enums from them (L_CHANNEL.., C_ACT..; pimsim/_codes.pxi).
LEVELS: tuple[str, ...] = ("channel", "rank", "bankgroup", "bank")
CHANNEL, RANK, BANKGROUP, BANK = range(len(LEVELS))

#: Commands, in the order of their integer codes (the core and the tables use these codes).
#: AACT is processing-in-memory's second activation of an already open bank (the second ACT
#: of Ambit's ACTIVATE-ACTIVATE-PRECHARGE): the rows it raises receive the sensed value.
#: TRANSFER is RowClone's pipelined serial mode: one 64-byte move over the chip's internal bus
#: from an open row of one bank to an open row of another bank of the same rank.
#: RBM and PREE are LISA's (HPCA 2016): RBM moves one half of an open bank's row buffer to the
#: row buffer of a subarray up to ``pim.rbm_subarrays`` away through the links between
#: subarrays' bitlines; PREE precharges the bank except the source half (the bank stays open).
COMMANDS: tuple[str, ...] = (
    "ACT",
    "PRE",
    "PREA",
    "RD",
    "WR",
    "RDA",
    "WRA",
    "REF",
    "AACT",
    "TRANSFER",
    "RBM",
    "PREE",
)
CMD = {name: code for code, name in enumerate(COMMANDS)}
ACT, PRE, PREA, RD, WR, RDA, WRA, REF, AACT, TRANSFER, RBM, PREE = range(len(COMMANDS))

#: Timings every standard has besides its own, computed by the device from the config:
#: nCK is one clock cycle in ticks (see pimsim.clock), nAAP the gap from an ACT to the AACT
#: that follows it (pim.tWLOV with Ambit's split row decoder, nRAS without), nTRANSFER the
#: internal-bus time of one TRANSFER (pim.transfer_cycles), nRBM one row-buffer movement
#: (pim.tRBM).
DERIVED_TIMINGS: tuple[str, ...] = ("nCK", "nAAP", "nTRANSFER", "nRBM")

#: The level each command acts on (its scope): bank commands name a bank, rank ones a rank.
SCOPE: dict[str, int] = {
    "ACT": BANK,
    "PRE": BANK,
    "PREA": RANK,
    "RD": BANK,
    "WR": BANK,
    "RDA": BANK,
    "WRA": BANK,
    "REF": RANK,
    "AACT": BANK,
    "TRANSFER": RANK,
    "RBM": BANK,
    "PREE": BANK,
}

_READS = ("RD", "RDA")
_WRITES = ("WR", "WRA")
_CAS = _READS + _WRITES
_ACTS = ("ACT", "AACT")  # every activation counts in tRRD and tFAW
_ALL = COMMANDS


@dataclass(frozen=True)
class Constraint:
    """One timing rule: *following* may not issue until *latency* cycles after *preceding*.

    ``level`` names the level whose nodes carry the rule; ``sibling`` applies it between
    different nodes of that level under one parent (rank-to-rank switching); ``window`` > 0
    measures from the ``window``-th most recent preceding command (tFAW: window 4).
    """

    level: str
    preceding: tuple[str, ...]
    following: tuple[str, ...]
    latency: str
    window: int = 0
    sibling: bool = False
    note: str = ""


@dataclass(frozen=True)
class Standard:
    """A DRAM standard: its timing parameter names and its flat constraint list."""

    name: str
    timing_names: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    has_bankgroups: bool = True
    doc: dict[str, str] = field(default_factory=dict)


def _c(level, preceding, following, latency, window=0, sibling=False, note=""):
    return Constraint(level, tuple(preceding), tuple(following), latency, window, sibling, note)


def _common_constraints(ccd_s: str, wtr_s: str, rank_switch: str) -> list[Constraint]:
    """Rules DDR3 and DDR4 share; the arguments name the short-path and rank-switch timings."""
    return [
        # --- channel: command bus and data bus -------------------------------------------
        _c("channel", _ALL, _ALL, "nCK", note="one command per cycle on the command bus"),
        _c("channel", _READS, _READS, "nBL", note="data bus occupancy (reads)"),
        _c("channel", _WRITES, _WRITES, "nBL", note="data bus occupancy (writes)"),
        # --- rank: column to column --------------------------------------------------------
        _c("rank", _READS, _READS, ccd_s, note="column-to-column delay"),
        _c("rank", _WRITES, _WRITES, ccd_s, note="column-to-column delay"),
        _c("rank", _READS, _WRITES, "nCL + nBL + 2 * nCK - nCWL", note="read to write turnaround"),
        _c("rank", _WRITES, _READS, f"nCWL + nBL + {wtr_s}", note="write to read (tWTR)"),
        _c(
            "rank",
            _READS,
            _CAS,
            f"nBL + {rank_switch}",
            sibling=True,
            note="rank switch after read",
        ),
        _c(
            "rank",
            _WRITES,
            _READS,
            f"nCL + nBL + {rank_switch} - nCWL",
            sibling=True,
            note="rank switch, write to read",
        ),
        # --- rank: precharge-all -----------------------------------------------------------
        _c("rank", ["RD"], ["PREA"], "nRTP", note="read to precharge"),
        _c("rank", ["WR"], ["PREA"], "nCWL + nBL + nWR", note="write recovery"),
        # --- rank: activations --------------------------------------------------------------
        _c("rank", _ACTS, _ACTS, "nFAW", window=4, note="four-activate window"),
        _c("rank", _ACTS, ["PREA"], "nRAS", note="row active time"),
        _c("rank", ["PREA"], ["ACT"], "nRP", note="precharge time"),
        # --- rank: refresh ---------------------------------------------------------------------
        _c("rank", _ACTS, ["REF"], "nRC", note="activate to refresh"),
        _c("rank", ["PRE", "PREA"], ["REF"], "nRP", note="precharge to refresh"),
        _c("rank", ["RDA"], ["REF"], "nRP + nRTP", note="auto-precharge read to refresh"),
        _c(
            "rank",
            ["WRA"],
            ["REF"],
            "nCWL + nBL + nWR + nRP",
            note="auto-precharge write to refresh",
        ),
        _c("rank", ["REF"], ["ACT", "PRE", "PREA", "REF"], "nRFC", note="nothing during tRFC"),
        # --- rank: RowClone PSM over the internal bus (the rank's banks share it) -------------
        _c("rank", _ACTS, ["TRANSFER"], "nRCD", note="activate to TRANSFER"),
        _c("rank", ["TRANSFER"], ["TRANSFER"], "nTRANSFER", note="internal bus occupancy"),
        _c(
            "rank",
            ["TRANSFER"],
            ["PRE", "PREA"],
            "nCWL + nBL + nWR",
            note="write recovery in the destination row",
        ),
        _c("rank", ["TRANSFER"], ["REF"], "nCWL + nBL + nWR + nRP", note="TRANSFER to refresh"),
        # --- bank -------------------------------------------------------------------------------
        _c("bank", ["ACT"], ["ACT"], "nRC", note="row cycle time"),
        _c("bank", ["ACT"], _CAS, "nRCD", note="activate to column command"),
        _c("bank", _ACTS, ["PRE", "PREE"], "nRAS", note="row active time (from the last ACT)"),
        _c("bank", ["ACT"], ["AACT"], "nAAP", note="second activation of an AAP"),
        _c("bank", ["PRE"], ["ACT"], "nRP", note="precharge time"),
        _c("bank", ["RD"], ["PRE"], "nRTP", note="read to precharge"),
        # --- bank: LISA row-buffer movement (RBM) between subarrays -------------------------
        _c("bank", ["ACT"], ["RBM"], "nRAS", note="source row restored before it drives links"),
        _c("bank", ["RBM"], ["RBM", "AACT", "PRE", "PREE"], "nRBM", note="RBM latches"),
        _c("bank", ["PREE"], ["RBM"], "nRP", note="precharge but the source's row buffer"),
        _c("bank", ["WR"], ["PRE"], "nCWL + nBL + nWR", note="write recovery"),
        _c("bank", ["RDA"], ["ACT"], "nRTP + nRP", note="auto-precharge read to activate"),
        _c(
            "bank",
            ["WRA"],
            ["ACT"],
            "nCWL + nBL + nWR + nRP",
            note="auto-precharge write to activate",
        ),
    ]


DDR4 = Standard(
    name="DDR4",
    timing_names=(
        "nBL",
        "nCL",
        "nRCD",
        "nRP",
        "nRAS",
        "nRC",
        "nWR",
        "nRTP",
        "nCWL",
        "nCCD_S",
        "nCCD_L",
        "nRRD_S",
        "nRRD_L",
        "nWTR_S",
        "nWTR_L",
        "nFAW",
        "nRFC",
        "nREFI",
        "nCS",
    ),
    constraints=tuple(
        _common_constraints("nCCD_S", "nWTR_S", "nCS")
        + [
            # --- same bank group: the long timings -------------------------------------------
            _c("bankgroup", _READS, _READS, "nCCD_L", note="column-to-column, same bank group"),
            _c("bankgroup", _WRITES, _WRITES, "nCCD_L", note="column-to-column, same bank group"),
            _c(
                "bankgroup",
                _WRITES,
                _READS,
                "nCWL + nBL + nWTR_L",
                note="write to read, same bank group",
            ),
            # tRRD holds between activations of *different* banks (one bank: tRC, or nAAP
            # for the AACT that follows its ACT): sibling rules.
            _c("bankgroup", _ACTS, _ACTS, "nRRD_S", sibling=True, note="ACT to ACT, other group"),
            _c("bank", _ACTS, _ACTS, "nRRD_L", sibling=True, note="ACT to ACT, other bank"),
        ]
    ),
)

DDR3 = Standard(
    name="DDR3",
    timing_names=(
        "nBL",
        "nCL",
        "nRCD",
        "nRP",
        "nRAS",
        "nRC",
        "nWR",
        "nRTP",
        "nCWL",
        "nCCD",
        "nRRD",
        "nWTR",
        "nFAW",
        "nRFC",
        "nREFI",
        "nRTRS",
    ),
    constraints=tuple(
        _common_constraints("nCCD", "nWTR", "nRTRS")
        # tRRD: between activations of different banks (DDR3 has one bank group per rank)
        + [_c("bank", _ACTS, _ACTS, "nRRD", sibling=True, note="ACT to ACT, other bank")]
    ),
    has_bankgroups=False,
)

STANDARDS: dict[str, Standard] = {s.name: s for s in (DDR3, DDR4)}

#: Sentinel in the compiled tables for "no constraint between these two commands".
NO_CONSTRAINT = -1


def evaluate_latency(expression: str, timings: dict[str, int]) -> int:
    """Evaluate a latency expression such as ``"nCWL + nBL + nWR"`` over named timings.

    Only integers, timing names, ``+``, ``-`` and ``*`` are allowed; the result is in the
    unit of the timings given (the device passes ticks).
    """
    tree = ast.parse(expression, mode="eval")

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in timings:
                raise KeyError(f"latency {expression!r} uses unknown timing {node.id!r}")
            return int(timings[node.id])
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Mult):
                return left * right
            return left + right if isinstance(node.op, ast.Add) else left - right
        raise ValueError(f"latency {expression!r}: only names, integers, +, - and * are allowed")

    return walk(tree)


@dataclass(frozen=True)
class TimingTables:
    """Dense integer tables for the core (all latencies in cycles, -1 = no constraint).

    ``latency[level, prev, next]``: same-node constraints; ``sibling[level, prev, next]``:
    constraints between sibling nodes; windowed constraints are listed one per row of
    ``window_level`` / ``window_prev`` / ``window_next`` (boolean masks over commands) /
    ``window_latency`` / ``window_size``; ``scope[cmd]`` is the level each command acts on.
    """

    latency: np.ndarray
    sibling: np.ndarray
    scope: np.ndarray
    window_level: np.ndarray
    window_prev: np.ndarray
    window_next: np.ndarray
    window_latency: np.ndarray
    window_size: np.ndarray


def compile_tables(standard: Standard, timings: dict[str, int]) -> TimingTables:
    """Flatten a standard's constraint list into dense per-level tables for ``timings``.

    Where several constraints cover the same (level, prev, next) the largest latency wins,
    which is what issuing under all of them at once means.
    """
    n_levels, n_cmds = len(LEVELS), len(COMMANDS)
    latency = np.full((n_levels, n_cmds, n_cmds), NO_CONSTRAINT, dtype=np.int64)
    sibling = np.full((n_levels, n_cmds, n_cmds), NO_CONSTRAINT, dtype=np.int64)
    windows = []
    for con in standard.constraints:
        level = LEVELS.index(con.level)
        value = evaluate_latency(con.latency, timings)
        if con.window:
            prev_mask = np.isin(COMMANDS, con.preceding)
            next_mask = np.isin(COMMANDS, con.following)
            windows.append((level, prev_mask, next_mask, value, con.window))
            continue
        table = sibling if con.sibling else latency
        for prev in con.preceding:
            for nxt in con.following:
                cell = (level, CMD[prev], CMD[nxt])
                table[cell] = max(table[cell], value)
    return TimingTables(
        latency=latency,
        sibling=sibling,
        scope=np.array([SCOPE[c] for c in COMMANDS], dtype=np.int32),
        window_level=np.array([w[0] for w in windows], dtype=np.int32),
        window_prev=np.array([w[1] for w in windows], dtype=np.uint8).reshape(-1, n_cmds),
        window_next=np.array([w[2] for w in windows], dtype=np.uint8).reshape(-1, n_cmds),
        window_latency=np.array([w[3] for w in windows], dtype=np.int64),
        window_size=np.array([w[4] for w in windows], dtype=np.int32),
    )
