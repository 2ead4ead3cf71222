"""Shared helpers for the timing tests: the "earliest ready at exactly t" check, and scenarios
generated from a standard's constraint list in which one chosen constraint is the binding one.

``assert_tight(dev, cmd, t, **addr)`` is the verb every timing test ends with. The generator
(:func:`generated_cases`, :func:`build_scenario`) turns each (constraint, preceding, following)
of ``standard.constraints`` into a short command history; :func:`binding_report` then checks,
from the constraint list alone, that the constraint under test really is the one that decides
the cycle (strictly later than every other constraint outside its table cell), so a test
cannot pass by accident on a tie with some other rule.

The generated cases run with Ambit's split row decoder off (:data:`NO_SPLIT`): then a cycle is
one tick and every latency, the derived ``nCK`` and ``nAAP`` included, is a whole number of
cycles (:func:`cycle_timings`). The split decoder's fractional nAAP has named tests of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest

from pimsim.errors import TimingViolationError
from pimsim.standards import LEVELS, SCOPE, Constraint, Standard, evaluate_latency

ADDRESS_FIELDS = ("channel", "rank", "bankgroup", "bank", "row", "column")
READS, WRITES = ("RD", "RDA"), ("WR", "WRA")
CAS = READS + WRITES

#: Prerequisites are spaced this far apart (and this far before the command under test), far
#: more than any latency of the presets (nRFC = 420 at DDR4-2400), so they never bind.
FAR = 1000

#: The override every generated case gets: one tick per cycle, nAAP = nRAS (see cycle_timings).
NO_SPLIT = "pim.split_decoder=false"


def cycle_timings(config) -> dict[str, int]:
    """The config's timings in cycles, with the derived ones of standards.DERIVED_TIMINGS.

    Worked out here from the config rather than taken from the device: nCK is one cycle, nAAP
    is nRAS without the split decoder and tWLOV with it (which must then be whole cycles; use
    the split-decoder presets through ``earliest_tick`` instead).
    """
    from pimsim.standards import DERIVED_TIMINGS

    timings = {**config.timing, "nCK": 1, "nTRANSFER": config.pim.transfer_cycles}
    rbm = config.pim.tRBM_ns / config.tCK_ns
    timings["nRBM"] = max(1, round(rbm))
    if not config.pim.split_decoder:
        timings["nAAP"] = timings["nRAS"]
    else:
        cycles = config.pim.tWLOV_ns / config.tCK_ns
        if abs(cycles - round(cycles)) > 1e-9:
            raise ValueError(f"tWLOV is {cycles:g} cycles, not a whole number: use ticks")
        timings["nAAP"] = round(cycles)
    assert set(DERIVED_TIMINGS) <= set(timings), "a derived timing this helper does not know"
    return timings


def make_device(preset: str, *overrides: str):
    """A fresh Device for a preset with ``-p``-style overrides ("timing.nCS=0")."""
    from pimsim.device import Device

    return Device(_config(preset, overrides))


@functools.cache
def _config(preset: str, overrides: tuple[str, ...]):
    # Configs are frozen, so one per (preset, overrides) serves every test (YAML is slow).
    from pimsim.config import load_config

    return load_config(preset, overrides=list(overrides))


def _snapshot(dev, cmd: str, addr: dict) -> tuple:
    bank = tuple(addr.get(k, 0) for k in ("channel", "rank", "bankgroup", "bank"))
    return dev.command_counts(), dev.open_row(*bank)


def assert_tight(dev, cmd: str, t: int, **addr) -> None:
    """``cmd`` at ``addr`` is ready at exactly cycle ``t``.

    ``earliest()`` says ``t``; issuing at ``t - 1`` raises TimingViolationError and changes
    nothing (counts, open row, earliest); issuing at ``t`` is accepted.
    """
    _assert_tight(dev.earliest, dev.issue, dev, cmd, t, addr)


def assert_tight_tick(dev, cmd: str, t: int, **addr) -> None:
    """As :func:`assert_tight`, in ticks (``earliest_tick`` / ``issue_tick``)."""
    _assert_tight(dev.earliest_tick, dev.issue_tick, dev, cmd, t, addr)


def _assert_tight(earliest, issue, dev, cmd: str, t: int, addr: dict) -> None:
    where = f"{cmd} {addr}"
    assert earliest(cmd, **addr) == t, f"earliest({where})"
    before = _snapshot(dev, cmd, addr)
    with pytest.raises(TimingViolationError):
        issue(cmd, t - 1, **addr)
    assert _snapshot(dev, cmd, addr) == before, f"refused {where} changed the device"
    assert earliest(cmd, **addr) == t, f"earliest({where}) after a refused issue"
    issue(cmd, t, **addr)
    assert dev.command_counts()[cmd] == before[0][cmd] + 1


# ------------------------------------------------------------------------------------------
# Generated scenarios
# ------------------------------------------------------------------------------------------

Bank = tuple[int, int, int, int]  # (channel, rank, bankgroup, bank)


@dataclass(frozen=True)
class Step:
    """One command of a scenario, issued at ``cycle``."""

    cmd: str
    cycle: int
    bank: Bank
    row: int = 0
    column: int = 0

    @property
    def addr(self) -> dict[str, int]:
        return dict(zip(ADDRESS_FIELDS, (*self.bank, self.row, self.column), strict=True))

    @property
    def path(self) -> tuple[int, ...]:
        return self.bank[: SCOPE[self.cmd] + 1]


@dataclass(frozen=True)
class Case:
    """One (constraint, preceding, following) of a standard, with what it takes to bind.

    ``relation`` places the following command relative to the preceding one: "bank" (same
    bank), "bankgroup" (same bank group, other bank), "rank" (same rank, other bank group, or
    other bank without bank groups), "other-rank" (same channel). ``overrides`` are ``-p``
    timing overrides that make this constraint the binding one; ``why`` says why they are
    needed. ``xfail`` is the reason a constraint cannot be made binding at all.
    """

    standard: Standard
    preset: str
    constraint: Constraint
    preceding: str
    following: str
    relation: str
    overrides: tuple[str, ...] = ()
    why: str = ""
    xfail: str = ""
    common: tuple[str, ...] = ()  # overrides every case of the file gets (not in the id)

    @property
    def id(self) -> str:
        con = self.constraint
        kind = (
            con.level
            + ("-sibling" if con.sibling else "")
            + (f"-window{con.window}" if con.window else "")
        )
        text = f"{self.standard.name}-{kind}-{self.preceding}->{self.following}"
        text += f"[{con.latency.replace(' ', '')}]"
        if self.overrides:
            text += "{" + ",".join(o.removeprefix("timing.") for o in self.overrides) + "}"
        return text

    def param(self):
        marks = [pytest.mark.xfail(reason=self.xfail, run=False)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


@dataclass(frozen=True)
class Adjust:
    """What a case needs beyond the default scenario (see :class:`Case`)."""

    relation: str | None = None
    overrides: Callable[[dict[str, int]], tuple[str, ...]] | None = None
    why: str = ""
    xfail: str = ""


def default_relation(con: Constraint) -> str:
    """The placement that isolates a constraint: the nearest node its level allows."""
    if con.sibling:  # another node of that level under the same parent
        return {"rank": "other-rank", "bankgroup": "rank", "bank": "bankgroup"}[con.level]
    if con.level == "channel":
        return "other-rank"
    return con.level


def generated_cases(
    standard: Standard,
    preset: str,
    timings: dict[str, int],
    adjust: Callable[[Constraint, str, str, dict[str, int]], Adjust | None],
    always: Iterable[str] = (),
) -> list:
    """One pytest.param per (constraint, preceding, following) of ``standard``.

    ``adjust`` gives the per-case relation, overrides or xfail reason; ``always`` are
    overrides every case gets (e.g. ``organisation.ranks=2`` for the rank-switch rules), after
    :data:`NO_SPLIT`, which every case gets. ``timings`` are in cycles (:func:`cycle_timings`).
    """
    params = []
    for con in standard.constraints:
        for p in con.preceding:
            for f in con.following:
                a = adjust(con, p, f, timings) or Adjust()
                extra = a.overrides(timings) if a.overrides else ()
                case = Case(
                    standard=standard,
                    preset=preset,
                    constraint=con,
                    preceding=p,
                    following=f,
                    relation=a.relation or default_relation(con),
                    overrides=extra,
                    why=a.why,
                    xfail=a.xfail,
                    common=(NO_SPLIT, *always),
                )
                params.append(case.param())
    ids = [p.id for p in params]
    assert len(ids) == len(set(ids)), "generated case ids must be unique"
    return params


@dataclass
class Scenario:
    """Commands to issue, then the following command that must be ready at ``expected``."""

    steps: list[Step] = field(default_factory=list)
    following: Step | None = None
    expected: int = 0
    report: str = ""  # empty when the case's constraint alone decides ``expected``


class Unbuildable(AssertionError):
    """The state a constraint needs cannot be reached (give such cases an xfail reason)."""


def _banks_under(org, bank: Bank, level: int) -> list[Bank]:
    """Banks sharing ``bank``'s node at ``level``, spread over bank groups first."""
    out = []
    for i in range(org.bankgroups * org.banks_per_group):
        b = (bank[0], bank[1], i % org.bankgroups, i // org.bankgroups)
        if b[: level + 1] == bank[: level + 1]:
            out.append(b)
    return out


def _place(org, relation: str, a: Bank) -> Bank:
    ch, rk, bg, ba = a
    if relation == "bank":
        return a
    if relation == "bankgroup":
        return (ch, rk, bg, (ba + 1) % org.banks_per_group)
    if relation == "rank":
        if org.bankgroups > 1:
            return (ch, rk, (bg + 1) % org.bankgroups, ba)
        return (ch, rk, bg, (ba + 1) % org.banks_per_group)
    if relation == "other-rank":
        return (ch, (rk + 1) % org.ranks, bg, ba)
    raise ValueError(f"unknown relation {relation!r}")


class _Model:
    """Bank state plus the constraint list, evaluated over a plain history (no tables)."""

    def __init__(self, standard: Standard, timings: dict[str, int], org):
        self.standard, self.timings, self.org = standard, timings, org
        self.history: list[Step] = []
        self.open: dict[Bank, int] = {}

    def legal(self, step: Step) -> bool:
        is_open = step.bank in self.open
        if step.cmd == "ACT":
            return not is_open
        if step.cmd in ("PRE", "AACT", "RBM", "PREE"):  # AACT/RBM/PREE leave the bank open
            return is_open
        if step.cmd in CAS:
            return self.open.get(step.bank) == step.row
        if step.cmd == "REF":
            return not any(b[:2] == step.bank[:2] for b in self.open)
        if step.cmd == "TRANSFER":  # a source and a destination row open in the rank
            return sum(b[:2] == step.bank[:2] for b in self.open) >= 2
        return True  # PREA

    def apply(self, step: Step) -> None:
        if not self.legal(step):
            raise Unbuildable(f"{step.cmd} at {step.bank} is illegal in the scenario's state")
        self.history.append(step)
        # AACT changes nothing: the bank stays open with the same row
        if step.cmd == "ACT":
            self.open[step.bank] = step.row
        elif step.cmd in ("PRE", "RDA", "WRA"):
            del self.open[step.bank]
        elif step.cmd == "PREA":
            for b in [b for b in self.open if b[:2] == step.bank[:2]]:
                del self.open[b]

    def bounds(self, cmd: str, path: tuple[int, ...]) -> dict[Constraint, int]:
        """Every constraint that holds ``cmd`` at ``path``, with the cycle it demands."""
        out: dict[Constraint, int] = {}
        for con in self.standard.constraints:
            level = LEVELS.index(con.level)
            if cmd not in con.following or level > SCOPE[cmd]:
                continue
            latency = evaluate_latency(con.latency, self.timings)
            hits = [
                h.cycle
                for h in self.history
                if h.cmd in con.preceding
                and SCOPE[h.cmd] >= level
                and _related(con, level, h.path, path)
            ]
            if con.window:
                if len(hits) >= con.window:
                    out[con] = sorted(hits)[-con.window] + latency
            elif hits:
                out[con] = max(hits) + latency
        return out

    def earliest(self, cmd: str, path: tuple[int, ...], not_before: int = 0) -> int:
        return max([not_before, *self.bounds(cmd, path).values()])


def _related(con: Constraint, level: int, prev: tuple[int, ...], new: tuple[int, ...]) -> bool:
    if con.sibling:
        return prev[:level] == new[:level] and prev[level] != new[level]
    return prev[: level + 1] == new[: level + 1]


ROW_A, ROW_B = 10, 20
ROW_AACT = 30  # the row an AACT raises: any row, not the open one
OPEN_BANK = ("PRE", "AACT", "RBM", "PREE", *CAS)  # commands that need their bank open


def _row(cmd: str, open_row: int) -> int:
    return ROW_AACT if cmd == "AACT" else open_row


def build_scenario(case: Case, timings: dict[str, int], org) -> Scenario:
    """The history that makes ``case`` binding, and the cycle its following command waits for.

    Prerequisites (ACTs that open the banks the commands need) go FAR apart, FAR before the
    preceding command(s) at T (so an AACT at T has its bank opened by an ACT long before; only
    an ACT -> AACT case has the ACT itself at T); a windowed constraint gets ``window``
    preceding commands to distinct banks, each as early as allowed. If the following command
    needs a bank closed that the preceding ACT opened, an RDA closes it as early as allowed (its
    own rules are shorter).
    """
    con, p, f = case.constraint, case.preceding, case.following
    model = _Model(case.standard, timings, org)
    a: Bank = (0, 0, 0, 0)
    b = _place(org, case.relation, a)
    if con.window:
        level = LEVELS.index(con.level)
        pool = [x for x in _banks_under(org, a, level) if x != b]
        if len(pool) < con.window:
            raise Unbuildable(f"fewer than {con.window} banks under one {con.level}")
        a_banks = pool[: con.window]
        if b in a_banks or b[: level + 1] != a[: level + 1]:
            raise Unbuildable("the following bank must be a fresh one under the same node")
    else:
        a_banks = [a]
    row_b = ROW_A if b == a else ROW_B

    # 1. prerequisites, far in the past: open the banks the commands need open
    prereqs: list[Bank] = []
    if p in OPEN_BANK:
        prereqs += a_banks
    opened_by_p = b in a_banks and SCOPE[p] == SCOPE["ACT"]  # p itself, or its prerequisite
    if f in OPEN_BANK and not opened_by_p:
        prereqs.append(b)
    for rank_of in {
        x[:2] for x in ([b] if f == "TRANSFER" else []) + (a_banks if p == "TRANSFER" else [])
    }:
        # a TRANSFER needs two open rows in its rank: open partner banks first
        opened = {x for x in (*prereqs, *(a_banks if p == "ACT" else ())) if x[:2] == rank_of}
        partners = [
            x
            for x in _banks_under(org, (*rank_of, 0, 0), 1)
            if x not in opened and x not in a_banks and x != b
        ]
        prereqs += partners[: max(0, 2 - len(opened))]
    cycle = 0
    for bank in prereqs:
        cycle += FAR
        model.apply(Step("ACT", cycle, bank, ROW_A if bank in a_banks else row_b))

    # 2. the preceding command(s), from T on
    t0 = cycle + FAR
    first = None
    for x in a_banks:
        path = x[: SCOPE[p] + 1]
        when = model.earliest(p, path, t0 if first is None else first + 1)
        step = Step(p, when, x, _row(p, ROW_A))
        model.apply(step)
        first = when if first is None else first
    expected = first + evaluate_latency(con.latency, timings)

    # 3. close what the following command needs closed
    target = Step(f, 0, b, _row(f, row_b))
    if f == "ACT" and b in model.open:
        closers = [b]
    elif f == "REF":
        closers = [x for x in model.open if x[:2] == b[:2]]
    else:
        closers = []
    for x in closers:
        when = model.earliest("RDA", x, model.history[-1].cycle + 1)
        model.apply(Step("RDA", when, x, model.open[x]))
    if not model.legal(target):
        raise Unbuildable(f"{f} at {b} cannot be made legal after {p}")
    for step in model.history:
        assert step.cycle < expected, f"{step} is not before the cycle under test"
    return Scenario(
        list(model.history), target, expected, binding_report(case, model, target, expected)
    )


def binding_report(case: Case, model: _Model, target: Step, expected: int) -> str:
    """Empty if the case's constraint alone decides ``expected``; else what gets in the way.

    Other constraints may demand the same cycle only if they share the case's table cell
    (same level, sibling-ness, preceding and following command, no window), because then the
    core holds one number for both and the test still tells whether that number is right.
    """
    con = case.constraint
    bounds = model.bounds(target.cmd, target.path)
    problems = []
    if bounds.get(con) != expected:
        problems.append(f"the constraint itself demands {bounds.get(con)}, not {expected}")
    for other, when in bounds.items():
        if other is con or when < expected:
            continue
        same_cell = (
            other.level == con.level
            and other.sibling == con.sibling
            and not other.window
            and not con.window
            and case.preceding in other.preceding
            and case.following in other.following
        )
        if when > expected or not same_cell:
            problems.append(
                f"{other.level} {'/'.join(other.preceding)}->"
                f"{'/'.join(other.following)} [{other.latency}] demands {when}"
            )
    return "; ".join(problems)


def run_case(case: Case) -> None:
    """Build the case's scenario on a fresh device and check the following command is tight."""
    dev = make_device(case.preset, *case.common, *case.overrides)
    scenario = build_scenario(case, cycle_timings(dev.config), dev.config.organisation)
    assert not scenario.report, (
        f"{case.id} ({case.why or 'no overrides'}) is not the binding constraint in its "
        f"scenario: {scenario.report}. "
        "Give it timing overrides, another relation, or an xfail with the reason."
    )
    for step in scenario.steps:
        dev.issue(step.cmd, step.cycle, **step.addr)
    assert_tight(dev, scenario.following.cmd, scenario.expected, **scenario.following.addr)


# ------------------------------------------------------------------------------------------
# Adjustments every standard with a command bus, a data bus and refresh needs
# ------------------------------------------------------------------------------------------

REF_PRE = (
    "PRE needs an open bank and REF needs every bank of its rank closed; no ACT can open one "
    "before nRFC has passed, so REF->PRE is never observable (REF->ACT shows the same cycle)"
)
BUS_SHARED_CELL = (
    "dead entry: the one-cycle (nCK) command-bus rule shares the table cell (channel, {p}, {f}) "
    "with the data-bus rule nBL >= 1, and compile_tables keeps the larger"
)


def _rule(standard: Standard, level: str, sibling: bool, p: str, f: str) -> Constraint:
    """The (single, unwindowed) constraint of ``standard`` at that level for ``p -> f``."""
    (con,) = [
        c
        for c in standard.constraints
        if c.level == level
        and c.sibling == sibling
        and not c.window
        and p in c.preceding
        and f in c.following
    ]
    return con


def common_adjust(
    standard: Standard, con: Constraint, p: str, f: str, timings: dict[str, int]
) -> Adjust | None:
    """Cases that need the same treatment in DDR3 and DDR4 (see each ``why``)."""
    if con.level == "rank" and p == "REF" and f == "PRE":
        return Adjust(xfail=REF_PRE)
    if con.level == "channel" and con.latency == "nCK" and p in CAS and f in CAS:
        if (p in READS) == (f in READS):
            return Adjust(xfail=BUS_SHARED_CELL.format(p=p, f=f))
        # Column commands in opposite directions are held at least a cycle apart by the
        # read-to-write turnaround (same rank) or the rank switch (other rank). Both shrink as
        # the write latency grows: raise nCWL until the shorter one is zero (no real part
        # writes that late), so that only the command bus is left.
        if p in READS:
            relation, rule = "rank", _rule(standard, "rank", False, p, f)
        else:
            relation, rule = "other-rank", _rule(standard, "rank", True, p, f)

        def late_writes(t: dict[str, int], rule: Constraint = rule) -> tuple[str, ...]:
            return (f"timing.nCWL={t['nCWL'] + evaluate_latency(rule.latency, t)}",)

        return Adjust(
            relation=relation, overrides=late_writes, why=f"nCWL raised until [{rule.latency}] is 0"
        )
    return None


def assert_xfail_is_needed(case: Case) -> None:
    """An xfailed case really cannot bind: its scenario is unbuildable or its rule dominated.

    Keeps the xfail list honest when the constraint table changes.
    """
    dev = make_device(case.preset, *case.common, *case.overrides)
    try:
        scenario = build_scenario(case, cycle_timings(dev.config), dev.config.organisation)
    except Unbuildable:
        return
    assert scenario.report, f"{case.id} binds in its scenario; remove its xfail"
