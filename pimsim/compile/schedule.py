"""Schedule a MIG onto the compute rows: a beam search over AAP/AP command sequences.

Gates are taken in depth-first order from the outputs. For each gate, every state of the
beam is extended by every way of computing it: a triple activation (T0,T1,T2, DCC0,T1,T2
...), an assignment of the three fanins (or of their complements, for the complemented
result: MAJ is self-dual) to its cells, the writes that bring each missing fanin there --
through any address, so one AAP may fill two cells (``AAP a -> ~DCC0,T0`` leaves a in T0 and
NOT a in DCC0) -- and what becomes of the majority: left in place (``AP``) or copied in the
same command to an output row or other compute rows (``AAP T0,T1,T2 -> ~DCC1``). A value
still needed whose last copy would be overwritten is first saved to an output row it is
due in, or to a scratch data row (a spill). The beam keeps the cheapest states (commands so
far, less half a command for each cell already holding a fanin of the next gates), and per
gate only the fills within SLACK commands of the cheapest; a two-row write is tried only
when its second row receives something a coming gate reads.

With ``naive=True`` it is the gate-by-gate baseline the optimizer is measured against:
one state, T0,T1,T2 only, fanins in order, one row per write, the majority left in place.
"""

from __future__ import annotations

import itertools

from pimsim.compile.machine import Machine
from pimsim.compile.mig import Mig
from pimsim.errors import PimsimError

#: How many gates ahead a value already in a compute cell counts as useful.
LOOKAHEAD = 3
#: Fills kept per gate: those at most this many commands dearer than the cheapest.
SLACK = 1
#: Work budget: states kept per gate is about this divided by the gates (2..48).
BUDGET = 400


class ScheduleError(PimsimError):
    """No way found to compute a gate (a compiler bug: every value still needed is kept)."""


class State:
    """Cell contents (literal, -1 = undefined), data rows holding values (scratch rows and
    outputs written), outputs still due, the commands so far (a linked list)."""

    __slots__ = ("cells", "rows", "pending", "steps", "cost", "scratch")

    def __init__(self, cells, rows, pending, steps, cost, scratch):
        self.cells, self.rows, self.pending = cells, rows, pending
        self.steps, self.cost, self.scratch = steps, cost, scratch

    def copy(self) -> State:
        return State(
            list(self.cells), dict(self.rows), dict(self.pending), self.steps, self.cost,
            self.scratch,
        )  # fmt: skip

    def key(self) -> tuple:
        return (tuple(self.cells), frozenset(self.rows.items()), frozenset(self.pending))

    def emit(self, src: str, dst: str | None) -> None:
        self.steps = (self.steps, (src, dst))
        self.cost += 1

    def commands(self) -> list[tuple[str, str | None]]:
        out, node = [], self.steps
        while node:
            node, step = node
            out.append(step)
        return out[::-1]


class Scheduler:
    """Commands computing the ``roots`` of ``mig`` into ``outputs`` (row names, in order);
    ``inputs`` names the data row of each input node; scratch rows are ``scratch[k]``."""

    def __init__(
        self,
        machine: Machine,
        mig: Mig,
        inputs,
        roots,
        outputs,
        scratch: str,
        naive: bool = False,
        flip: bool = False,
    ):
        self.m, self.mig, self.inputs, self.naive = machine, mig, list(inputs), naive
        self.flip_order = flip
        self.roots, self.outputs, self.scratch = list(roots), list(outputs), scratch
        self.order = self._order()
        self.last_use: dict[int, int] = {}
        for p, node in enumerate(self.order):
            for f in mig.node_fanins(node):
                self.last_use[f >> 1] = p
        self.wanted = [
            {
                f ^ form
                for node in self.order[p + 1 : p + 1 + LOOKAHEAD]
                for f in mig.node_fanins(node)
                for form in (0, 1)  # either form of the gate (MAJ is self-dual)
            }
            for p in range(len(self.order))
        ]
        self.writes_to = {c: machine.writes_to(c) for c in range(len(machine.cells))}
        self.dcc = [  # cells with a lone n-wordline write and a lone d-wordline read
            (c, n, d)
            for c in range(len(machine.cells))
            for n, wls in machine.writes
            if wls == ((c, 1),)
            for d, rc, neg in machine.reads
            if rc == c and not neg
        ]

    def _order(self) -> list[int]:
        """Gate nodes the roots need, depth-first (fanins before their gate), the fanins of
        a gate visited in literal order or, with ``flip``, the other way round."""
        order, seen = [], set()
        for root in self.roots:
            stack = [(root >> 1, False)]
            while stack:
                node, expanded = stack.pop()
                if node <= self.mig.inputs or (node in seen and not expanded):
                    continue
                if expanded:
                    order.append(node)
                    continue
                seen.add(node)
                stack.append((node, True))
                fanins = self.mig.node_fanins(node)
                stack.extend((f >> 1, False) for f in (fanins if self.flip_order else fanins[::-1]))
        return order

    # -- where values are -------------------------------------------------------------------

    def _live(self, state: State, node: int, after: int) -> bool:
        if node <= self.mig.inputs:
            return False  # constants and inputs are always in their rows
        return self.last_use.get(node, -1) > after or any(
            lit >> 1 == node for lit in state.pending.values()
        )

    def _source(self, state: State, value: int, exclude=()) -> str | None:
        """A row whose activation senses ``value`` (a literal), not reading ``exclude``."""
        if value < 2:
            return "C1" if value else "C0"
        if not value & 1 and value >> 1 <= self.mig.inputs:
            return self.inputs[(value >> 1) - 1]
        for row, lit in state.rows.items():
            if lit == value:
                return row
        for name, cell, neg in self.m.reads:
            if cell not in exclude and state.cells[cell] >= 0 and state.cells[cell] ^ neg == value:
                return name
        return None

    def _guard(self, state: State, clobber, after: int) -> None:
        """Before ``clobber`` (cells) is overwritten: save each value still needed after gate
        position ``after`` that is nowhere else."""
        for cell in clobber:
            lit = state.cells[cell]
            if lit < 0 or not self._live(state, lit >> 1, after):
                continue
            node = lit >> 1
            kept = any(
                c not in clobber and v >= 0 and v >> 1 == node for c, v in enumerate(state.cells)
            ) or any(v >> 1 == node for v in state.rows.values())
            if kept:
                continue
            reads = [(n, lit ^ neg) for n, c, neg in self.m.reads if c == cell]
            for index, want in state.pending.items():
                for name, value in reads:
                    if value == want:
                        state.emit(name, self.outputs[index])
                        state.rows[self.outputs[index]] = value
                        del state.pending[index]
                        break
                else:
                    continue
                break
            else:
                row = self._scratch_row(state, after)
                state.emit(reads[0][0], row)
                state.rows[row] = reads[0][1]

    def _scratch_row(self, state: State, after: int) -> str:
        """A scratch row holding nothing still needed, else a new one."""
        for row, lit in state.rows.items():
            if row.startswith(self.scratch + "[") and not self._live(state, lit >> 1, after):
                return row
        state.scratch += 1
        return f"{self.scratch}[{state.scratch - 1}]"

    def _write(self, state: State, name: str, wls, value: int, after: int, keep) -> bool:
        """AAP of ``value`` (sensed) into address ``name``; False if no row senses it and no
        DCC row is free to make it."""
        cells = {c for c, _ in wls}
        src = self._source(state, value, cells)
        if src is None:
            src = self._flip(state, value, after, cells | set(keep))
            if src is None:
                return False
        self._guard(state, cells, after)
        state.emit(src, name)
        for c, neg in wls:
            state.cells[c] = value ^ neg
        return True

    def _flip(self, state: State, value: int, after: int, busy) -> str | None:
        """Make ``value`` readable by writing its complement through a DCC n-wordline."""
        for cell, n_name, d_name in self.dcc:
            if cell in busy:
                continue
            src = self._source(state, value ^ 1, {cell})
            if src is None:
                continue
            self._guard(state, {cell}, after)
            state.emit(src, n_name)
            state.cells[cell] = value
            return d_name
        return None

    # -- one gate ---------------------------------------------------------------------------

    def _fills(self, state: State, required: dict, after: int, bound: list, seen: set):
        """States with every cell of ``required`` holding its literal, found by writes from
        ``state``, none dearer than ``bound[0]`` (lowered as cheaper ones are found, less
        the slack)."""
        missing = [c for c, lit in required.items() if state.cells[c] != lit]
        if not missing:
            bound[0] = min(bound[0], state.cost + SLACK)
            yield state
            return
        if state.cost + (len(missing) + 1) // 2 > bound[0]:
            return
        cell = missing[0]
        wanted = self.wanted[after + 1]
        for name, wls in self.writes_to[cell]:
            value = required[cell] ^ dict(wls)[cell]
            if len(wls) > 1 and (
                self.naive or not all(c in required or value ^ neg in wanted for c, neg in wls)
            ):
                continue  # a second row raised for nothing it will need
            new = state.copy()
            if self._write(new, name, wls, value, after, required):
                key = new.key()
                if key not in seen:
                    seen.add(key)
                    yield from self._fills(new, required, after, bound, seen)

    def _gate(self, state: State, p: int):
        """Every way worth trying to compute gate ``p`` from ``state``: the fills within
        SLACK commands of the cheapest, each with every activation."""
        node = self.order[p]
        fanins = self.mig.node_fanins(node)
        plans = []
        for form in (0,) if self.naive else (0, 1):
            lits = tuple(f ^ form for f in fanins)
            for triple, cells in self.m.triples[:1] if self.naive else self.m.triples:
                for perm in [lits] if self.naive else set(itertools.permutations(lits)):
                    required = dict(zip(cells, perm, strict=True))
                    missing = sum(state.cells[c] != lit for c, lit in required.items())
                    result = 2 * node + form
                    plans.append((missing, sorted(required.items()), triple, cells, result))
        plans.sort()
        bound = [10**9]
        ready: dict[tuple, tuple[State, str, tuple, int]] = {}
        for _, required, triple, cells, result in plans:
            for new in self._fills(state, dict(required), p - 1, bound, set()):
                key = (new.key(), triple)
                if key not in ready or new.cost < ready[key][0].cost:
                    ready[key] = (new, triple, cells, result)
        for new, triple, cells, result in ready.values():
            if new.cost <= bound[0]:
                yield from self._activate(new, triple, cells, result, p)

    def _activate(self, state: State, triple: str, cells, result: int, p: int):
        """The gate's activation: in place (AP), or copied on to an output row due or to
        other compute rows in the same command."""
        base = state.copy()
        self._guard(base, cells, p)
        done = base.copy()
        done.emit(triple, None)
        for c in cells:
            done.cells[c] = result
        yield done
        if self.naive:
            return
        for index, lit in base.pending.items():
            if lit == result:
                out = base.copy()
                out.emit(triple, self.outputs[index])
                out.rows[self.outputs[index]] = result
                del out.pending[index]
                for c in cells:
                    out.cells[c] = result
                yield out
        if self.last_use.get(result >> 1, -1) <= p:
            return  # no later gate reads it: no copy worth keeping in compute rows
        for name, wls in self.m.writes:
            if any(c in cells for c, _ in wls):
                continue
            out = state.copy()  # the triple and these rows are overwritten together
            self._guard(out, {*cells, *(c for c, _ in wls)}, p)
            out.emit(triple, name)
            for c in cells:
                out.cells[c] = result
            for c, neg in wls:
                out.cells[c] = result ^ neg
            yield out

    def _finish(self, state: State) -> State:
        """Write the outputs still due."""
        state = state.copy()
        last = len(self.order)
        for index, lit in sorted(state.pending.items()):
            src = self._source(state, lit) or self._flip(state, lit, last, ())
            state.emit(src, self.outputs[index])
            state.rows[self.outputs[index]] = lit
        state.pending = {}
        return state

    def run(self, width: int | None = None) -> State:
        """The cheapest complete schedule found with ``width`` states kept per gate."""
        if width is None:
            width = max(2, min(48, BUDGET // max(1, len(self.order))))
        start = State([-1] * len(self.m.cells), {}, dict(enumerate(self.roots)), None, 0, 0)
        beam = [start]
        for p in range(len(self.order)):
            found: dict[tuple, State] = {}
            for state in beam:
                for new in self._gate(state, p):
                    key = new.key()
                    if key not in found or new.cost < found[key].cost:
                        found[key] = new
            if not found:
                raise ScheduleError(f"no schedule found for gate {p + 1} of {len(self.order)}")
            wanted = self.wanted[p]
            beam = sorted(
                found.values(),
                key=lambda s: s.cost - 0.5 * sum(v in wanted for v in s.cells),
            )[:width]
        return min((self._finish(s) for s in beam), key=lambda s: s.cost)
