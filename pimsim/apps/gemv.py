"""gemv: the decode step of a quantized language model, y = W x, in DRAM against the CPU.

W is an M x N matrix of signed q-bit weights (q = 2, 4 or 8) stored once in DRAM; x is a
vector of N int8 activations, known to the host at each token. y is exact (int64) and
checked against numpy's ``W @ x``.

**In DRAM** (``dram-shift-add``, after MVDRAM's idea of encoding the input in the command
stream). The N inputs are split into G blocks, one per bank in use (block g holds inputs
g * B .. g * B + B - 1, B = ceil(N / G)). In bank g, input j's weight column W[:, j] is q
bit rows in vertical layout (bit b of W[i, j] + 2**(q-1), an unsigned offset form, in
column i of row b), so the M outputs lie along the row's bitlines. Per token the host
writes a µprogram specialized to x: for every set bit k of |x_j| the weight column is
added, shifted by k, into an accumulator (``pos`` for x_j > 0, ``neg`` for x_j < 0) by the
library's full-adder step (lib/fa.pim), the carry rippled only as high as the
accumulator's bound needs. Every bank runs the same program; step s adds, in bank g, the
weight rows of that bank's s-th term of the same shift and sign (or a zero row when the
bank has fewer): the program is the same, the operand rows differ per bank. Then the host
reads the 2A accumulator rows of every bank (only the lines that hold the M outputs) and
finishes on the CPU: y = sum over banks (pos - neg) - 2**(q-1) * sum(x) -- G * M
additions, against M * N multiply-adds.

**On the CPU** (``cpu``): the host streams W (M * N * q / 8 bytes) and then x (N bytes), one
array, through the same controller and computes in registers; nothing is stored.
"""

from __future__ import annotations

import numpy as np

from pimsim.ambit.bulk import BulkEngine, Vector
from pimsim.ambit.vectors import BulkError
from pimsim.apps.sides import fits_host, host_reads_arrays, host_reads_rows, side_of
from pimsim.apps.sweep import Point, Workload, WorkloadError
from pimsim.baseline import LINE_BYTES
from pimsim.config import Config
from pimsim.device import Device
from pimsim.programs.builder import Builder
from pimsim.programs.errors import ProgramError
from pimsim.programs.parse import Program, builtin
from pimsim.programs.vertical import from_rows, to_rows

#: Bits of an activation (int8).
X_BITS = 8
#: The library's full-adder step: the first bit of an add (carry in C0, carry out left in
#: T0 and T3) and the next ones (carry from T0 and T3).
_FA_FIRST = {"store": 0}
_FA_NEXT = {"load": 0, "store": 0}


def _point(point: Point) -> tuple[int, int, int]:
    return point["rows"], point["cols"], point["bits"]


def terms_of(x: np.ndarray, groups: int, block: int) -> dict[tuple[int, int], list[list[int]]]:
    """Per (sign, shift) class (sign 0: x_j > 0, 1: x_j < 0; shift k: bit k of |x_j|), each
    bank's local inputs (j - g * block) whose term falls in it, in order."""
    mags = np.abs(x.astype(np.int64))
    terms: dict[tuple[int, int], list[list[int]]] = {}
    for sign, chosen in ((0, x > 0), (1, x < 0)):
        for k in range(X_BITS):
            hit = chosen & ((mags >> k) & 1).astype(bool)
            js = np.flatnonzero(hit)
            if not len(js):
                continue
            per = [[] for _ in range(groups)]
            for j in js.tolist():
                per[j // block].append(j % block)
            terms[(sign, k)] = per
    return terms


def acc_bits(cols: int, bits: int) -> int:
    """Width of an accumulator: the bound of what a token's programs add into it. Each
    program step adds, per (sign, shift) class, the s-th term of every group at once, so
    a class takes as many steps as the group with most terms in it: the bound is
    (2**bits - 1) * 2**k per step, up to ``cols`` steps of every shift k in 0..7, i.e.
    (2**bits - 1) * 255 per input (a group's sum never needs more)."""
    return (((1 << bits) - 1) * ((1 << X_BITS) - 1) * cols).bit_length()


def groups_of(cols: int, bits: int, banks: int, free: int) -> tuple[int, int]:
    """(groups, inputs per group): the fewest input blocks, a multiple of ``banks`` (each
    bank's groups lie in subarrays of their own), whose weight rows, zero row and two pairs
    of accumulators fit the ``free`` data rows of a subarray (fewer if ``cols`` is small)."""
    groups = banks
    while True:
        block = -(-cols // min(groups, cols))
        if block * bits + 1 + 4 * acc_bits(block, bits) <= free or block == 1:
            return min(groups, cols), block
        groups += banks


class Layer:
    """The weights of one layer in DRAM on ``engine`` (one input block per row group) and
    two pairs of accumulators (pos, neg); :meth:`token` runs one token's programs."""

    def __init__(self, engine: BulkEngine, rows: int, cols: int, bits: int):
        self.engine, self.rows, self.cols, self.bits = engine, rows, cols, bits
        row_bits = engine.row_bytes * 8
        if rows > row_bits:
            raise WorkloadError(
                f"--shape {rows}x{cols}: {rows:,} outputs do not fit the {row_bits:,} columns "
                f"of a {engine.device.config.name} row"
            )
        self.groups, self.block = groups_of(cols, bits, len(engine.banks),
                                            engine.placement.free_rows())  # fmt: skip
        self.width = acc_bits(self.block, bits)
        #: Operand rows a program may name (one data row is kept for RowClone).
        self.room = engine.pim.layout.data_rows - 1
        store = Builder("gemv_layer")
        for jl in range(self.block):
            store.input(f"w{jl}", bits)
        store.input("z")
        for name in ("pos0", "neg0", "pos1", "neg1"):
            for row in store.output(name, self.width):
                store.aap("C0", row)  # never run: the program only places the rows
        try:
            inputs, acc = engine.alloc_program(store.build(), self.groups)
        except (BulkError, ProgramError) as error:
            raise WorkloadError(f"--shape {rows}x{cols} --bits {bits}: {error}") from None
        self.weights = inputs[:-1]  # vector jl * bits + b: bit b of local input jl
        self.zero = inputs[-1]
        w = self.width
        self.acc = (acc[: 2 * w], acc[2 * w :])  # two buffers: pos rows then neg rows

    def fill(self, w: np.ndarray) -> None:
        """Store W (rows x cols, signed ints of ``bits``) as W + 2**(bits-1), unsigned, and
        clear the zero row (host-side, untimed)."""
        words = self.engine.row_bytes // 8
        padded = np.zeros((self.groups * self.block, words * 64), dtype=np.int64)
        padded[: self.cols, : self.rows] = w.T.astype(np.int64) + (1 << (self.bits - 1))
        planes = to_rows(padded.reshape(-1), self.bits)  # (bits, inputs * words)
        planes = planes.reshape(self.bits, self.groups, self.block, words)
        data = planes.transpose(2, 0, 1, 3).reshape(self.block * self.bits, self.groups, words)
        zero = np.zeros((1, self.groups, words), dtype=np.uint64)
        self.engine.write_rows([*self.weights, self.zero], np.concatenate([data, zero]))

    def _term_rows(self, x: np.ndarray) -> list[tuple[int, int, list[Vector]]]:
        """The token's terms in program order: (sign, shift, its bit rows), term s of a
        class being, in group g, that group's s-th input of the class (or the zero row)."""
        stored = np.stack([v.fields for v in (*self.weights, self.zero)])  # (vectors, G, 5)
        zero, groups = len(self.weights), np.arange(self.groups)
        steps = []
        for (sign, k), per in terms_of(x, self.groups, self.block).items():
            for s in range(max(len(p) for p in per)):
                first = np.array([p[s] * self.bits if s < len(p) else -1 for p in per])
                vectors = [
                    Vector(stored[np.where(first < 0, zero, first + bit), groups],
                           self.engine.row_bytes)
                    for bit in range(self.bits)
                ]  # fmt: skip
                steps.append((sign, k, vectors))
        return steps

    def token(self, x: np.ndarray) -> tuple[int, int, int, tuple[Vector, ...]]:
        """Run the token's shift-and-add programs one after another: (first tick, end tick,
        commands per group, the accumulator rows holding the result). Each program adds
        as many terms as a subarray's rows allow, from one accumulator buffer into the
        other; the carry of a term ripples only as high as the accumulator's bound."""
        steps = self._term_rows(x)
        per = max((self.room - 4 * self.width) // self.bits, 1)
        bound = [0, 0]
        first = end = None
        commands = 0
        for c, at in enumerate(range(0, max(len(steps), 1), per)):
            program, terms = self._program(c, steps[at : at + per], bound)
            sums = list(self.acc[1 - c % 2]) if c else []
            report = self.engine.run(program, self.acc[c % 2], [*sums, *terms],
                                     not_before=end or 0)  # fmt: skip
            first = report.span.first_tick if first is None else first
            end = report.span.end_tick
            commands += len(program.steps)
        return first, end, commands, self.acc[c % 2]

    def _program(
        self, chunk: int, steps: list[tuple[int, int, list[Vector]]], bound: list[int]
    ) -> tuple[Program, list[Vector]]:
        """Program ``chunk``: the accumulators from the other buffer (zero for chunk 0) plus
        ``steps``' terms, into this chunk's buffer; ``bound`` (per sign) is updated."""
        b = Builder(f"gemv_token{chunk}")
        acc_in = [] if chunk == 0 else [*b.input("pos_in", self.width),
                                        *b.input("neg_in", self.width)]  # fmt: skip
        out = [b.output("pos", self.width), b.output("neg", self.width)]
        now = [list(out[s]) for s in (0, 1)]  # where each accumulator bit is now
        if chunk == 0:
            for row in (*out[0], *out[1]):
                b.aap("C0", row)
        else:
            now = [list(acc_in[: self.width]), list(acc_in[self.width :])]
        fa_first, fa_next = builtin("fa", _FA_FIRST), builtin("fa", _FA_NEXT)
        top = (1 << self.bits) - 1
        vectors = []
        for s, (sign, k, rows) in enumerate(steps):
            t = b.input(f"t{s}", self.bits)
            vectors += rows
            bound[sign] += top << k
            for m in range(k, bound[sign].bit_length()):
                term = t[m - k] if m - k < self.bits else "C0"
                fa = fa_first if m == k else fa_next
                b.call(fa, now[sign][m], term, "C0" if m == k else "T0", out[sign][m], "T0")
                now[sign][m] = out[sign][m]
        for sign in (0, 1):
            for m in range(self.width):
                if now[sign][m] != out[sign][m]:
                    b.aap(now[sign][m], out[sign][m])
        return b.build(), vectors

    def result(self, rows: tuple[Vector, ...], x: np.ndarray) -> np.ndarray:
        """y as the host finishes it from the accumulator rows ``rows`` (a host-side read,
        untimed): the groups' pos - neg summed, less the offset 2**(bits-1) * sum(x)."""
        words = self.engine.read_rows(rows)  # (2 * width, groups, words)
        total = np.zeros(self.rows, dtype=np.int64)
        for sign, first in ((1, 0), (-1, self.width)):
            for g in range(self.groups):
                got = from_rows(words[first : first + self.width, g], self.rows)
                total += sign * got.astype(np.int64)
        return total - (1 << (self.bits - 1)) * int(x.astype(np.int64).sum())


def inputs_of(rows: int, cols: int, bits: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random W (signed ``bits``-bit, rows x cols) and x (int8, cols), from ``seed``."""
    rng = np.random.default_rng((seed, rows, cols, bits))
    half = 1 << (bits - 1)
    w = rng.integers(-half, half, (rows, cols), dtype=np.int64)
    x = rng.integers(-128, 128, cols, dtype=np.int64)
    return w, x


def cpu_bytes(rows: int, cols: int, bits: int) -> int:
    """What the CPU streams, one array: W packed, then x (int8), in whole lines."""
    return -(-(rows * cols * bits + cols * X_BITS) // (LINE_BYTES * 8)) * LINE_BYTES


def check(config: Config, banks: int | None, point: Point) -> None:
    """WorkloadError if the layer does not fit (in DRAM, or as the CPU's arrays)."""
    rows, cols, bits = _point(point)
    if bits not in (2, 4, 8):
        raise WorkloadError(f"--bits: weights are int2, int4 or int8, not int{bits}")
    Layer(BulkEngine(Device(config), banks, with_data=False), rows, cols, bits)
    if not fits_host(config, [cpu_bytes(rows, cols, bits)]):
        raise WorkloadError(f"--shape {rows}x{cols}: W and x do not fit {config.name}")


def run(
    config: Config, banks: int | None, profile: str, point: Point, with_data: bool, seed: int = 0
) -> dict:
    """The point in DRAM and by the CPU (see the module docstring)."""
    rows, cols, bits = _point(point)
    w, x = inputs_of(rows, cols, bits, seed)
    device = Device(config)
    layer = Layer(BulkEngine(device, banks, with_data), rows, cols, bits)
    if with_data:
        layer.fill(w)
    first, end, commands, acc = layer.token(x)
    lines = -(-rows // (LINE_BYTES * 8))
    end = host_reads_rows(device, np.concatenate([v.fields for v in acc]), lines)
    ways = {"dram-shift-add": side_of(device, first, end, profile)}
    cpu = Device(config)
    ways["cpu"] = side_of(cpu, 0, host_reads_arrays(cpu, [cpu_bytes(rows, cols, bits)]), profile)
    result = {
        "banks_used": min(layer.groups, len(layer.engine.banks)),
        "inputs_per_group": layer.block,
        "accumulator_bits": layer.width,
        "row_groups": layer.groups,
        "program_commands": commands,
        "terms": int(sum(bin(abs(int(v))).count("1") for v in x)),
    }
    correct = None
    if with_data:
        correct = bool(np.array_equal(layer.result(acc, x), w @ x))
    return {"ways": ways, "correct": correct, "result": result}


GEMV = Workload(
    name="gemv",
    summary="y = W x of a quantized LM's decode step: int2/4/8 W in DRAM, int8 x",
    ways=("dram-shift-add",),
    baseline="cpu",
    on_cpu={
        "dram-shift-add": "writing the token's program (x decides which weight rows are "
        "added at which shift) and the final sum: the host reads each bank's two "
        "accumulators (only the lines holding the outputs) and adds banks, pos - neg, and "
        "the offset -2**(q-1) * sum(x) (DRAM has no cross-bank add)",
        "cpu": "everything: the host streams W and x over the bus and multiply-adds in registers",
    },
    check=check,
    run=run,
)
