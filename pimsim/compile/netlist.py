"""Read a combinational netlist: ISCAS ``.bench``, BLIF (``.names`` covers), AIGER (``.aag``
ASCII and ``.aig`` binary). Small readers of our own rather than aigverse's AIGER reader:
every error names the file, line and field (``c17.bench:4: gate: ...``), names survive
(AIGER symbol tables, BLIF and bench signal names become operand names) and BLIF and bench
keep their XOR gates, which the MIG maps better than the AND trees an AIG reader makes.
Latches and other sequential elements are refused: pimsim compiles combinational logic."""

from __future__ import annotations

import re

from pimsim.compile.network import FALSE, MAX_GATES, TRUE, Network
from pimsim.programs.errors import ProgramError, echo


def _signal(name: str) -> str:
    """How an error names a signal: an AIGER variable (``\\0N``) as ``variable N``, a
    gate's helper (``y\\0``, ``y\\0k``: a cover's parts) as the gate ``y`` it is part of."""
    if name.startswith("\0"):
        return f"variable {name[1:]}"
    return echo(name.split("\0")[0])


class _Builder:
    """Signals defined in any order; :meth:`network` orders them and checks for loops."""

    def __init__(self, source: str):
        self.source = source
        self.inputs: list[tuple[str, int]] = []  # (name, line)
        self.outputs: list[tuple[str, int]] = []
        self.gates: dict[str, tuple[str, list[tuple[str, int]], int]] = {}  # kind, fanins

    def fail(self, line: int, field: str, message: str) -> ProgramError:
        return ProgramError(self.source, line, field, message)

    def define(self, name: str, kind: str, fanins: list[tuple[str, int]], line: int) -> None:
        """``name`` = kind(fanins); fanins are (signal, complemented); kinds ``zero`` and
        ``one`` (no fanin) are constants."""
        if name in self.gates or any(n == name for n, _ in self.inputs):
            raise self.fail(line, "gate", f"{_signal(name)} is defined twice")
        if len(self.gates) >= MAX_GATES:
            raise self.fail(line, "gate", f"more than {MAX_GATES:,} gates")
        self.gates[name] = (kind, fanins, line)

    def network(self) -> Network:
        net = Network(self.source)
        lits: dict[str, int] = {}
        for name, line in self.inputs:
            if name in lits:
                raise self.fail(line, "input", f"{echo(name)} is declared twice")
            lits[name] = net.add_input(name)
        state: dict[str, int] = {}  # 1 = in progress, 2 = done
        for name, line in self.outputs:
            if name not in lits and name not in self.gates:
                raise self.fail(line, "output", f"{echo(name)} is no input and no gate")
            self._build(name, net, lits, state)
            net.outputs.append((name, lits[name]))
        if not net.outputs:
            raise self.fail(0, "output", "the netlist has no output")
        return net

    def _build(self, root: str, net: Network, lits: dict, state: dict) -> None:
        stack = [root]
        while stack:
            name = stack[-1]
            if name in lits:
                stack.pop()
                continue
            kind, fanins, line = self.gates[name]
            todo = [f for f, _ in fanins if f not in lits]
            for f in todo:
                if f not in self.gates:
                    raise self.fail(line, "gate", f"{_signal(f)} is no input and no gate")
                if state.get(f) == 1:
                    raise self.fail(line, "gate", f"{_signal(f)} depends on itself (a loop)")
            if todo:
                state[name] = 1
                stack.extend(todo)
                continue
            ins = tuple(lits[f] ^ neg for f, neg in fanins)
            if not ins:
                lits[name] = TRUE if kind == "one" else FALSE
            elif len(ins) == 1 or kind == "buf":
                lits[name] = ins[0]
            else:
                lits[name] = net.add(kind, ins)
            state[name] = 2
            stack.pop()


# ------------------------------------------------------------------------ ISCAS .bench

_BENCH_GATE = re.compile(r"(\S+)\s*=\s*([A-Za-z]+)\s*\((.*)\)\s*")
_BENCH_IO = re.compile(r"(INPUT|OUTPUT)\s*\(\s*(\S+?)\s*\)\s*", re.IGNORECASE)
#: .bench gate -> (kind, complemented output)
_BENCH_KINDS = {
    "AND": ("and", 0), "NAND": ("and", 1), "OR": ("or", 0), "NOR": ("or", 1),
    "XOR": ("xor", 0), "XNOR": ("xor", 1), "NOT": ("buf", 1), "BUF": ("buf", 0),
    "BUFF": ("buf", 0), "MAJ": ("maj", 0),
}  # fmt: skip


def read_bench(text: str, source: str) -> Network:
    b = _Builder(source)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        io = _BENCH_IO.fullmatch(line)
        if io:
            (b.inputs if io.group(1).upper() == "INPUT" else b.outputs).append(
                (io.group(2), lineno)
            )
            continue
        gate = _BENCH_GATE.fullmatch(line)
        if not gate:
            raise b.fail(lineno, "line", f"expected INPUT(x), OUTPUT(x) or x = GATE(a, b), "
                         f"found {echo(line)}")  # fmt: skip
        name, kind, args = gate.group(1), gate.group(2).upper(), gate.group(3)
        if kind == "DFF":
            raise b.fail(lineno, "gate", "DFF: a latch; only combinational netlists compile")
        if kind not in _BENCH_KINDS:
            raise b.fail(lineno, "gate", f"{echo(kind)} is not one of {', '.join(_BENCH_KINDS)}")
        fanins = [a.strip() for a in args.split(",")]
        if not all(fanins):
            raise b.fail(lineno, "gate", f"{name}: an empty fanin name")
        op, neg = _BENCH_KINDS[kind]
        need = {"buf": (1, 1), "maj": (3, 3)}.get(op, (2, MAX_GATES))
        if not need[0] <= len(fanins) <= need[1]:
            raise b.fail(lineno, "gate", f"{kind} takes {need[0]} to {need[1]} fanins, "
                         f"got {len(fanins)}")  # fmt: skip
        if neg:  # NAND(a, b) = NOT(AND(a, b)): a hidden gate then an inverting buffer
            b.define(name + "\0", op, [(f, 0) for f in fanins], lineno)
            b.define(name, "buf", [(name + "\0", 1)], lineno)
        else:
            b.define(name, op, [(f, 0) for f in fanins], lineno)
    return b.network()


# ------------------------------------------------------------------------------- BLIF


def _blif_lines(text: str):
    """(line number, tokens) of each logical line: comments cut, ``\\`` continued."""
    pending, start = [], 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = lineno
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        tokens = " ".join(pending).split()
        pending = []
        if tokens:
            yield start, tokens


def read_blif(text: str, source: str) -> Network:
    b = _Builder(source)
    cover: tuple[str, list[str], int, list] | None = None  # out, ins, line, rows

    def close() -> None:
        if cover is None:
            return
        out, ins, line, rows = cover
        phases = {phase for _, phase in rows}
        if len(phases) > 1:
            raise b.fail(line, "names", f"{out}: a cover mixes on-set (1) and off-set (0) rows")
        neg = int(phases == {"0"})
        if not ins or not rows:
            kind = "one" if rows and not neg else "zero"
            b.define(out, kind, [], line)
            return
        cubes = []
        for k, (cube, _) in enumerate(rows):
            lits = [(ins[i], int(ch == "0")) for i, ch in enumerate(cube) if ch != "-"]
            name = f"{out}\0{k}"
            b.define(name, "and" if len(lits) > 1 else ("buf" if lits else "one"), lits, line)
            cubes.append((name, 0))
        if len(cubes) == 1:
            b.define(out, "buf", [(cubes[0][0], neg)], line)
        else:
            b.define(out + "\0", "or", cubes, line)
            b.define(out, "buf", [(out + "\0", neg)], line)

    for lineno, tokens in _blif_lines(text):
        head = tokens[0]
        if head.startswith("."):
            close()
            cover = None
            if head == ".names":
                if len(tokens) < 2:
                    raise b.fail(lineno, "names", "expected .names IN ... OUT")
                cover = (tokens[-1], tokens[1:-1], lineno, [])
            elif head in (".inputs", ".outputs"):
                target = b.inputs if head == ".inputs" else b.outputs
                target.extend((name, lineno) for name in tokens[1:])
            elif head in (".model", ".end"):
                if head == ".end":
                    break
            elif head in (".latch", ".mlatch", ".subckt", ".gate", ".exdc", ".clock"):
                raise b.fail(lineno, head[1:], f"{head} is not supported: only one flat "
                             "combinational .model of .names covers compiles")  # fmt: skip
            else:
                raise b.fail(lineno, "line", f"unknown BLIF command {echo(head)}")
            continue
        if cover is None:
            raise b.fail(lineno, "line", f"{echo(' '.join(tokens))} is outside a .names cover")
        out, ins, _, rows = cover
        cube, phase = (tokens + [""])[:2] if ins else ("", tokens[0])
        if (
            len(tokens) != (2 if ins else 1)
            or len(cube) != len(ins)
            or set(cube) - set("01-")
            or phase not in ("0", "1")
        ):
            raise b.fail(lineno, "cover", f"expected {len(ins)} of 0/1/- and an output 0 or 1, "
                         f"found {echo(' '.join(tokens))}")  # fmt: skip
        rows.append((cube, phase))
    close()
    return b.network()


# ------------------------------------------------------------------------------ AIGER


def read_aiger(data: bytes, source: str) -> Network:
    """An ``aag`` (ASCII) or ``aig`` (binary) file without latches."""
    b = _Builder(source)
    end = data.find(b"\n")
    header = data[: end if end >= 0 else len(data)].decode("ascii", "replace").split()
    if (
        len(header) < 6
        or header[0] not in ("aag", "aig")
        or not all(h.isdigit() for h in header[1:])
    ):
        raise b.fail(1, "header", "expected 'aag M I L O A' or 'aig M I L O A'")
    binary = header[0] == "aig"
    m, i, latches, o, a = (int(h) for h in header[1:6])
    if latches or any(int(h) for h in header[6:]):
        raise b.fail(1, "header", "latches or other sequential parts: only combinational "
                     "AIGER compiles")  # fmt: skip
    if max(a, i, o) > MAX_GATES or m < i + a:
        raise b.fail(1, "header", f"M={m} must be at least I+A, and I, O and A at most "
                     f"{MAX_GATES:,}")  # fmt: skip
    pos, line = end + 1, 2

    def text_line(field: str) -> list[int]:
        nonlocal pos, line
        stop = data.find(b"\n", pos)
        stop = len(data) if stop < 0 else stop
        words = data[pos:stop].decode("ascii", "replace").split()
        if not words or not all(w.isdigit() for w in words):
            raise b.fail(line, field, f"expected literals, found {echo(' '.join(words))}")
        pos, line = stop + 1, line + 1
        values = [int(w) for w in words]
        if any(v > 2 * m + 1 for v in values):
            raise b.fail(line - 1, field, f"a literal above 2*M+1 = {2 * m + 1}")
        return values

    def name(var: int) -> str:
        return f"\0{var}"

    inputs = list(range(1, i + 1))
    if not binary:  # the input lines
        inputs = []
        for _ in range(i):
            (lit,) = text_line("input")
            if lit & 1 or lit < 2:
                raise b.fail(line - 1, "input", f"{lit} is not a positive variable literal")
            inputs.append(lit >> 1)
    outs = [text_line("output") for _ in range(o)]
    ands = []
    for k in range(a):
        if binary:
            lhs = 2 * (i + k + 1)
            d0, d1 = _varint(data, pos, b, line), None
            pos = d0[1]
            d1 = _varint(data, pos, b, line)
            pos = d1[1]
            rhs0 = lhs - d0[0]
            ands.append((lhs, rhs0, rhs0 - d1[0], line))
        else:
            values = text_line("and")
            if len(values) != 3 or values[0] & 1:
                raise b.fail(line - 1, "and", "expected 'lhs rhs0 rhs1', lhs even")
            ands.append((*values, line - 1))
    symbols = _symbols(data[pos:], b, line)
    in_names = [symbols.get(("i", k), f"i{k}") for k in range(i)]
    b.define(name(0), "zero", [], 1)
    for k, var in enumerate(inputs):
        b.inputs.append((in_names[k], 2 + k))
        b.define(name(var), "buf", [(in_names[k], 0)], 2 + k)
    for lhs, rhs0, rhs1, where in ands:
        if rhs0 < 0 or rhs1 < 0:
            raise b.fail(where, "and", "a delta points below literal 0")
        b.define(name(lhs >> 1), "and", [(name(rhs0 >> 1), rhs0 & 1), (name(rhs1 >> 1), rhs1 & 1)],
                 where)  # fmt: skip
    for k, values in enumerate(outs):
        if len(values) != 1:
            raise b.fail(2 + i + k, "output", "expected one literal")
        lit = values[0]
        out = symbols.get(("o", k), f"o{k}")
        b.define(out, "buf", [(name(lit >> 1), lit & 1)], 2 + i + k)
        b.outputs.append((out, 2 + i + k))
    return b.network()


def _varint(data: bytes, pos: int, b: _Builder, line: int) -> tuple[int, int]:
    """AIGER's 7-bit little-endian number at ``pos``: (value, next position)."""
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise b.fail(line, "and", "the binary AND section ends early")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _symbols(data: bytes, b: _Builder, line: int) -> dict[tuple[str, int], str]:
    """The symbol table (``i0 name``, ``o3 name``) up to the comment section."""
    found = {}
    for raw in data.decode("utf-8", "replace").splitlines():
        if raw.startswith("c"):
            break
        match = re.fullmatch(r"([ilo])([0-9]+) (.+)", raw)
        if not match:
            if raw.strip():
                raise b.fail(line, "symbol", f"expected 'i0 name' or 'o0 name', found {echo(raw)}")
        elif match.group(1) != "l":
            found[(match.group(1), int(match.group(2)))] = match.group(3).strip()
        line += 1
    return found


def read_netlist(path: str) -> Network:
    """The network in the file at ``path``, by its extension (.bench, .blif, .aag, .aig)."""
    lower = path.lower()
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as error:
        raise ProgramError(path, 0, "file", error.strerror or str(error)) from None
    if lower.endswith((".aag", ".aig")):
        return read_aiger(data, path)
    text = data.decode("utf-8", "replace")
    return read_bench(text, path) if lower.endswith(".bench") else read_blif(text, path)
