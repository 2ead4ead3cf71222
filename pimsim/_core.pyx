# cython: language_level=3
"""The DRAM core: timing state, bank state, row data and row kernels, in C loops.

Everything here runs per command or per word and touches no Python object in its loops.
Inputs are checked once at the boundary; errors come back as status codes (see STATUS_TEXT)
that pimsim.device turns into exceptions. Time is an integer count of ticks (a clock cycle
is nCK ticks, 1 unless a sub-cycle PIM timing needs more; see pimsim.clock).

Timing follows Ramulator 2's node model: every channel, rank, bank group and bank node keeps
"earliest cycle each command may issue here"; issuing a command raises those values along its
path (and at sibling ranks) by the compiled latencies, and checking a command is one comparison
per level plus the windowed (tFAW) rules.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, realloc
from libc.string cimport memcpy, memmove, memset

cnp.import_array()

#: LEVEL_NAMES and COMMAND_NAMES: the names of the codes this module was compiled with
#: (generated from pimsim.standards; pimsim.device checks them against it, for a stale build).
include "_code_names.pxi"

# Status codes returned by the C functions (earliest() returns minus the code).
cdef enum:
    S_OK = 0
    S_RANGE = 1
    S_ALIGN = 2
    S_CLOSED = 3
    S_OPEN = 4
    S_ROW = 5
    S_RANK_OPEN = 6
    S_EARLY = 7
    S_COMMAND = 8

STATUS_TEXT = {
    S_RANGE: "address out of range",
    S_ALIGN: "column is not a multiple of the burst length",
    S_CLOSED: "bank is closed (no open row)",
    S_OPEN: "bank already has an open row",
    S_ROW: "a different row is open in that bank",
    S_RANK_OPEN: "a bank of the rank is still open",
    S_EARLY: "too early for the timing constraints",
    S_COMMAND: "unknown command code",
}
STATUS_TOO_EARLY = S_EARLY
STATUS_OUT_OF_RANGE = S_RANGE

cdef enum:
    LOG_FIELDS = 8   # int64 values per logged command

cdef int64_t NEVER = -(1 << 62)   # window history slot not filled yet

cdef extern from *:
    int popcount64 "__builtin_popcountll"(unsigned long long bits) nogil
    int ctz64 "__builtin_ctzll"(unsigned long long bits) nogil


cdef inline int rank(const uint64_t* block, int b) noexcept nogil:
    """Bursts a row's block holds below burst ``b``: the place of ``b`` among them."""
    cdef int k, pos = popcount64(block[1 + (b >> 6)] & (((<uint64_t>1) << (b & 63)) - 1))
    for k in range(b >> 6):
        pos += popcount64(block[1 + k])
    return pos


cdef class Core:
    """Timing and bank state of every channel, plus the row data, of one DRAM system.

    ``organisation`` is (channels, ranks, bankgroups, banks per group, rows, columns, burst
    length); the table arguments are the arrays of pimsim.standards.TimingTables.
    """

    def __cinit__(self):
        self.log = NULL
        self.chunks = NULL

    def __init__(self, tuple organisation, latency, sibling, scope, window_level, window_prev,
                 window_next, window_latency, window_size):
        cdef int level, cmd, w, f
        cdef int64_t nodes_at, offset
        (self.n_channels, self.n_ranks, self.n_bankgroups, self.n_banks,
         self.n_rows, self.n_columns, self.burst_words) = organisation
        self.n_cmds = N_COMMANDS
        self.level_count[L_CHANNEL] = self.n_channels
        self.level_count[L_RANK] = self.n_ranks
        self.level_count[L_BANKGROUP] = self.n_bankgroups
        self.level_count[L_BANK] = self.n_banks
        nodes_at = 1
        offset = 0
        for level in range(N_LEVELS):
            nodes_at *= self.level_count[level]
            self.level_offset[level] = offset
            offset += nodes_at
        self.n_nodes = offset
        self.n_bank_nodes = nodes_at

        self.lat = np.ascontiguousarray(latency, dtype=np.int64)
        self.sib = np.ascontiguousarray(sibling, dtype=np.int64)
        self.scope = np.ascontiguousarray(scope, dtype=np.int32)
        if self.lat.shape[0] != N_LEVELS or self.lat.shape[1] != self.n_cmds:
            raise ValueError("timing tables do not match the core's levels and commands")
        self.has_sib = np.zeros((N_LEVELS, self.n_cmds), dtype=np.uint8)
        self.upd_n = np.zeros(N_LEVELS * self.n_cmds, dtype=np.int32)
        self.sib_n = np.zeros(N_LEVELS * self.n_cmds, dtype=np.int32)
        self.upd_f = np.zeros(N_LEVELS * self.n_cmds * self.n_cmds, dtype=np.int32)
        self.sib_f = np.zeros(N_LEVELS * self.n_cmds * self.n_cmds, dtype=np.int32)
        self.upd_v = np.zeros(N_LEVELS * self.n_cmds * self.n_cmds, dtype=np.int64)
        self.sib_v = np.zeros(N_LEVELS * self.n_cmds * self.n_cmds, dtype=np.int64)
        for level in range(N_LEVELS):
            for cmd in range(self.n_cmds):
                w = level * self.n_cmds + cmd
                for f in range(self.n_cmds):
                    if self.lat[level, cmd, f] >= 0:
                        self.upd_f[w * self.n_cmds + self.upd_n[w]] = f
                        self.upd_v[w * self.n_cmds + self.upd_n[w]] = self.lat[level, cmd, f]
                        self.upd_n[w] += 1
                    if self.sib[level, cmd, f] >= 0:
                        self.has_sib[level, cmd] = 1
                        self.sib_f[w * self.n_cmds + self.sib_n[w]] = f
                        self.sib_v[w * self.n_cmds + self.sib_n[w]] = self.sib[level, cmd, f]
                        self.sib_n[w] += 1

        self.n_windows = len(window_size)
        self.win_level = np.ascontiguousarray(window_level, dtype=np.int32)
        self.win_prev = np.ascontiguousarray(window_prev, dtype=np.uint8).reshape(-1, self.n_cmds)
        self.win_next = np.ascontiguousarray(window_next, dtype=np.uint8).reshape(-1, self.n_cmds)
        self.win_lat = np.ascontiguousarray(window_latency, dtype=np.int64)
        self.win_size = np.ascontiguousarray(window_size, dtype=np.int32)
        self.win_base = np.zeros(self.n_windows, dtype=np.int64)
        offset = 0
        for w in range(self.n_windows):
            self.win_base[w] = offset
            offset += self._nodes_at_level(self.win_level[w]) * self.win_size[w]
        self.win_hist = np.full(offset, NEVER, dtype=np.int64)
        self.win_head = np.zeros(max(1, self.n_nodes * max(1, self.n_windows)), dtype=np.int32)

        self.future = np.zeros(self.n_nodes * self.n_cmds, dtype=np.int64)
        self.open_rows = np.full(self.n_bank_nodes, -1, dtype=np.int32)
        self.open_banks = np.zeros(self.n_channels * self.n_ranks, dtype=np.int32)
        self.counts = np.zeros(self.n_channels * self.n_cmds, dtype=np.int64)
        self.last_cycle = -1
        self.act_weight = 1
        self.act_rows = 1
        self.raised = np.zeros(self.n_channels, dtype=np.int64)
        self.closes = np.zeros(self.n_channels, dtype=np.int64)
        self.open_since = np.zeros(self.n_channels * self.n_ranks, dtype=np.int64)
        self.open_ticks = np.zeros(self.n_channels * self.n_ranks, dtype=np.int64)

        self.n_chunks = (self.n_bank_nodes * self.n_rows + CHUNK_ROWS - 1) >> CHUNK_BITS
        self.chunks = <RowTable**>calloc(self.n_chunks, sizeof(RowTable*))
        if self.chunks == NULL:
            raise MemoryError(f"cannot allocate the row tables of {self.n_bank_nodes} banks")
        self.counts_lost = False
        if self.burst_words < 1 or self.n_columns % self.burst_words:
            raise ValueError(f"a row of {self.n_columns} columns is not a whole number of "
                             f"bursts of {self.burst_words}")
        self.n_bursts = self.n_columns // self.burst_words
        self.map_words = (self.n_bursts + 63) >> 6
        self.head_words = 1 + self.map_words

    def __dealloc__(self):
        cdef int64_t c, k
        free(self.log)
        if self.chunks != NULL:
            for c in range(self.n_chunks):
                if self.chunks[c] != NULL:
                    for k in range(CHUNK_ROWS):
                        free(self.chunks[c].blocks[k])
                    free(self.chunks[c])
            free(self.chunks)

    def _nodes_at_level(self, int level):
        cdef int64_t n = 1
        cdef int k
        for k in range(level + 1):
            n *= self.level_count[k]
        return n

    # ------------------------------------------------------------------------------------
    # Timing and state, C level
    # ------------------------------------------------------------------------------------

    cdef int path(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                  int* nodes) noexcept nogil:
        """Check the address of ``cmd`` and fill ``nodes`` with its node per level."""
        cdef int level = self.scope[cmd]
        if ch < 0 or ch >= self.n_channels or rk < 0 or rk >= self.n_ranks:
            return S_RANGE
        if level == L_BANK:
            if bg < 0 or bg >= self.n_bankgroups or ba < 0 or ba >= self.n_banks:
                return S_RANGE
            if row < 0 or row >= self.n_rows:
                return S_RANGE
            if cmd == C_RD or cmd == C_WR or cmd == C_RDA or cmd == C_WRA:
                if col < 0 or col >= self.n_columns:
                    return S_RANGE
                if col % self.burst_words != 0:
                    return S_ALIGN
        else:
            bg = 0
            ba = 0
        nodes[0] = ch
        nodes[1] = self.level_offset[1] + ch * self.n_ranks + rk
        nodes[2] = self.level_offset[2] + (ch * self.n_ranks + rk) * self.n_bankgroups + bg
        nodes[3] = self.level_offset[3] + ((ch * self.n_ranks + rk) * self.n_bankgroups + bg) \
            * self.n_banks + ba
        return S_OK

    cdef int64_t c_earliest(self, int cmd, int ch, int rk, int bg, int ba, int row,
                            int col) noexcept nogil:
        """Earliest legal issue cycle of ``cmd`` at that address, or minus a status code."""
        cdef int nodes[N_LEVELS]
        return self.check(cmd, ch, rk, bg, ba, row, col, nodes)

    cdef int64_t check(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                       int* nodes) noexcept nogil:
        """As c_earliest, also filling ``nodes`` with the command's node per level."""
        cdef int status
        cdef int64_t bank
        if cmd < 0 or cmd >= self.n_cmds:
            return -S_COMMAND
        status = self.path(cmd, ch, rk, bg, ba, row, col, nodes)
        if status != S_OK:
            return -status
        bank = nodes[3] - self.level_offset[3]
        # bank-state preconditions
        if cmd == C_ACT:
            if self.open_rows[bank] >= 0:
                return -S_OPEN
        elif cmd == C_PRE or cmd == C_AACT or cmd == C_RBM or cmd == C_PREE:
            if self.open_rows[bank] < 0:
                return -S_CLOSED
        elif cmd == C_RD or cmd == C_WR or cmd == C_RDA or cmd == C_WRA:
            if self.open_rows[bank] < 0:
                return -S_CLOSED
            if self.open_rows[bank] != row:
                return -S_ROW
        elif cmd == C_REF:
            if self.open_banks[nodes[1] - self.level_offset[1]] != 0:
                return -S_RANK_OPEN
        elif cmd == C_TRANSFER:  # needs a source and a destination row open in the rank
            if self.open_banks[nodes[1] - self.level_offset[1]] < 2:
                return -S_CLOSED
        return self.earliest_at(cmd, nodes)

    cdef inline int _weight(self, int w, int cmd) noexcept nogil:
        """Entries an activation takes in window w: 1, or the rows it raises when the
        config counts raised rows (set_activation_rows), at most the window size."""
        if cmd != C_ACT and cmd != C_AACT:
            return 1
        return self.act_weight if self.act_weight < self.win_size[w] else self.win_size[w]

    def set_activation_rows(self, int rows, bint in_windows=False):
        """The next ACT/AACT checked and issued raises ``rows`` wordlines (counted in
        rows_raised); with ``in_windows`` it also takes ``rows`` entries of the windowed
        rules (tFAW) instead of one. ``set_activation_rows(1)`` restores a host ACT."""
        self.act_rows = rows if rows > 1 else 1
        self.act_weight = self.act_rows if in_windows else 1

    cdef int64_t earliest_at(self, int cmd, const int* nodes) noexcept nogil:
        """Timing-only earliest cycle of ``cmd`` at a checked node path (no state checks)."""
        cdef int level, w, top, node
        cdef int64_t when = 0, value, slot
        top = self.scope[cmd]
        for level in range(top + 1):
            value = self.future[nodes[level] * self.n_cmds + cmd]
            if value > when:
                when = value
        for w in range(self.n_windows):
            level = self.win_level[w]
            if level <= top and self.win_next[w, cmd]:
                # an activation counting as `weight` entries needs the weight-th oldest of
                # the last win_size entries to be a full window ago (weight 1: the oldest)
                node = nodes[level] - self.level_offset[level]
                slot = self.win_base[w] + node * self.win_size[w] \
                    + (self.win_head[w * self.n_nodes + node] + self._weight(w, cmd) - 1) \
                    % self.win_size[w]
                value = self.win_hist[slot] + self.win_lat[w]
                if value > when:
                    when = value
        return when

    cdef int c_issue(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                     int64_t cycle) noexcept nogil:
        """Issue ``cmd`` at ``cycle``: update timing, bank state and counters, or refuse."""
        cdef int nodes[N_LEVELS]
        cdef int64_t when = self.check(cmd, ch, rk, bg, ba, row, col, nodes)
        if when < 0:
            return <int>(-when)
        if cycle < when:
            return S_EARLY
        self.apply(cmd, ch, row, col, nodes, cycle)
        return S_OK

    cdef int64_t c_issue_asap(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                              int64_t not_before, int64_t align) noexcept nogil:
        """Issue ``cmd`` at max(not_before, earliest) rounded up to a multiple of ``align``:
        the tick used, or minus a status."""
        cdef int nodes[N_LEVELS]
        cdef int64_t when = self.check(cmd, ch, rk, bg, ba, row, col, nodes)
        if when < 0:
            return when
        if not_before > when:
            when = not_before
        when = (when + align - 1) // align * align
        self.apply(cmd, ch, row, col, nodes, when)
        return when

    cdef void apply(self, int cmd, int ch, int row, int col, int* nodes,
                    int64_t cycle) noexcept nogil:
        """Record a checked command: timing of its nodes and siblings, windows, bank state."""
        cdef int level, top, f, w, node, first, k, sibling_node, rank, j, n, base
        cdef int64_t bank, v, row_id
        cdef int64_t* fut
        cdef RowTable* table
        top = self.scope[cmd]
        for level in range(top + 1):
            w = level * self.n_cmds + cmd
            base = w * self.n_cmds
            fut = &self.future[nodes[level] * self.n_cmds]
            for j in range(self.upd_n[w]):
                f = self.upd_f[base + j]
                v = cycle + self.upd_v[base + j]
                if v > fut[f]:
                    fut[f] = v
            n = self.sib_n[w]
            if n and level > L_CHANNEL:
                node = nodes[level] - self.level_offset[level]
                first = (node // self.level_count[level]) * self.level_count[level]
                for k in range(self.level_count[level]):
                    sibling_node = self.level_offset[level] + first + k
                    if sibling_node == nodes[level]:
                        continue
                    fut = &self.future[sibling_node * self.n_cmds]
                    for j in range(n):
                        f = self.sib_f[base + j]
                        v = cycle + self.sib_v[base + j]
                        if v > fut[f]:
                            fut[f] = v
        for w in range(self.n_windows):
            level = self.win_level[w]
            if level <= top and self.win_prev[w, cmd]:
                node = nodes[level] - self.level_offset[level]
                k = w * self.n_nodes + node
                for j in range(self._weight(w, cmd)):
                    self.win_hist[self.win_base[w] + node * self.win_size[w]
                                  + self.win_head[k]] = cycle
                    self.win_head[k] = (self.win_head[k] + 1) % self.win_size[w]
        # bank state
        bank = nodes[3] - self.level_offset[3]
        rank = nodes[1] - self.level_offset[1]
        if cmd == C_ACT or cmd == C_AACT:
            row_id = bank * self.n_rows + row
            table = self.chunk(row_id)
            if table == NULL:
                self.counts_lost = True
            else:
                table.acts[row_id & (CHUNK_ROWS - 1)] += 1
            self.raised[ch] += self.act_rows
        if cmd == C_ACT:
            self.open_rows[bank] = row
            if self.open_banks[rank] == 0:
                self.open_since[rank] = cycle
            self.open_banks[rank] += 1
        elif cmd == C_PRE or cmd == C_RDA or cmd == C_WRA:
            self.open_rows[bank] = -1
            self.closes[ch] += 1
            self.open_banks[rank] -= 1
            if self.open_banks[rank] == 0:
                self.open_ticks[rank] += cycle - self.open_since[rank]
        elif cmd == C_PREE:  # LISA: precharges the bank but for the source's row buffer
            self.closes[ch] += 1
        elif cmd == C_PREA:
            first = rank * self.n_bankgroups * self.n_banks
            for k in range(self.n_bankgroups * self.n_banks):
                self.open_rows[first + k] = -1
            if self.open_banks[rank] > 0:
                self.closes[ch] += self.open_banks[rank]
                self.open_ticks[rank] += cycle - self.open_since[rank]
            self.open_banks[rank] = 0
        self.counts[ch * self.n_cmds + cmd] += 1
        if cycle > self.last_cycle:
            self.last_cycle = cycle
        if self.recording:
            self.record(cmd, ch, row, col, nodes, cycle)

    cdef void record(self, int cmd, int ch, int row, int col, const int* nodes,
                     int64_t cycle) noexcept nogil:
        """Append one issued command to the log (growing it; on no memory, stop logging)."""
        cdef int64_t bank = nodes[3] - self.level_offset[3]
        cdef int64_t* entry
        cdef int64_t* grown
        cdef int64_t cap
        if self.log_n == self.log_cap:
            cap = 4096 if self.log_cap == 0 else 2 * self.log_cap
            grown = <int64_t*>realloc(self.log, cap * LOG_FIELDS * sizeof(int64_t))
            if grown == NULL:
                self.recording = False
                return
            self.log = grown
            self.log_cap = cap
        entry = self.log + self.log_n * LOG_FIELDS
        entry[0] = cycle
        entry[1] = cmd
        entry[2] = ch
        entry[3] = (bank // (self.n_banks * self.n_bankgroups)) % self.n_ranks
        entry[4] = (bank // self.n_banks) % self.n_bankgroups
        entry[5] = bank % self.n_banks
        entry[6] = row if self.scope[cmd] == L_BANK else -1
        entry[7] = col if cmd == C_RD or cmd == C_WR or cmd == C_RDA or cmd == C_WRA else -1
        self.log_n += 1

    def start_recording(self):
        """Log every command issued from now on (see take_log)."""
        self.recording = True

    def take_log(self):
        """The commands logged so far as an (n, 8) int64 array, oldest first; clears the log.

        Columns: cycle, command code, channel, rank, bankgroup, bank, row (-1 for rank
        commands), column (-1 unless a RD/WR/RDA/WRA).
        """
        out = np.empty((self.log_n, LOG_FIELDS), dtype=np.int64)
        cdef int64_t[:, ::1] view = out
        if self.log_n:
            memcpy(&view[0, 0], self.log, self.log_n * LOG_FIELDS * sizeof(int64_t))
        self.log_n = 0
        return out

    # ------------------------------------------------------------------------------------
    # Timing and state, Python level (one call per command; loops belong in issue_batch)
    # ------------------------------------------------------------------------------------

    def earliest(self, int cmd, int ch, int rk, int bg, int ba, int row, int col):
        """Earliest issue cycle of ``cmd`` (>= 0), or minus a status code if illegal now."""
        return self.c_earliest(cmd, ch, rk, bg, ba, row, col)

    def issue(self, int cmd, int ch, int rk, int bg, int ba, int row, int col, int64_t cycle):
        """Issue ``cmd`` at ``cycle``; returns 0 or a status code (state unchanged then)."""
        return self.c_issue(cmd, ch, rk, bg, ba, row, col, cycle)

    def issue_batch(self, const int32_t[::1] cmds, const int32_t[:, ::1] addrs,
                    int64_t[::1] cycles, int64_t align=1):
        """Issue commands in order, each at max(cycles[i], its earliest tick), rounded up to a
        multiple of ``align`` ticks (a cycle, for commands that issue on clock edges).

        ``addrs[i]`` is (channel, rank, bankgroup, bank, row, column). The cycle each command
        issued at is written back into ``cycles``. Returns (commands issued, status); on a
        nonzero status the command at that index was refused and nothing after it ran.
        """
        cdef Py_ssize_t i, n = cmds.shape[0]
        cdef int64_t when
        cdef int status = S_OK
        if addrs.shape[0] != n or cycles.shape[0] != n or addrs.shape[1] != 6:
            raise ValueError("cmds, addrs (n x 6) and cycles must describe the same commands")
        with nogil:
            for i in range(n):
                when = self.c_issue_asap(cmds[i], addrs[i, 0], addrs[i, 1], addrs[i, 2],
                                         addrs[i, 3], addrs[i, 4], addrs[i, 5], cycles[i], align)
                if when < 0:
                    status = <int>(-when)
                    break
                cycles[i] = when
        return i if status != S_OK else n, status

    def open_row(self, int ch, int rk, int bg, int ba):
        """The open row of a bank, or -1 when it is closed (or the address is out of range)."""
        if not (0 <= ch < self.n_channels and 0 <= rk < self.n_ranks
                and 0 <= bg < self.n_bankgroups and 0 <= ba < self.n_banks):
            return -1
        return self.open_rows[((ch * self.n_ranks + rk) * self.n_bankgroups + bg)
                              * self.n_banks + ba]

    def open_banks_in_rank(self, int ch, int rk):
        """How many banks of that rank are open (0 when out of range)."""
        if not (0 <= ch < self.n_channels and 0 <= rk < self.n_ranks):
            return 0
        return self.open_banks[ch * self.n_ranks + rk]

    def max_activations(self, int stride, int data_rows):
        """The most ACT/AACT commands any one row address received, over the rows whose
        offset in every ``stride`` rows is below ``data_rows`` (stride 0: every row)."""
        cdef int64_t c, k, row_id, limit = self.n_bank_nodes * self.n_rows
        cdef int32_t best = 0
        cdef int32_t* counts
        if self.counts_lost:
            raise MemoryError("activation counts were lost: a row table could not be allocated")
        for c in range(self.n_chunks):
            if self.chunks[c] == NULL:
                continue
            counts = self.chunks[c].acts
            for k in range(CHUNK_ROWS):
                row_id = (c << CHUNK_BITS) + k
                if counts[k] > best and row_id < limit and (
                        stride == 0 or row_id % self.n_rows % stride < data_rows):
                    best = counts[k]
        return best

    def command_counts(self):
        """Commands issued, as a (channels x commands) int64 array (a copy)."""
        return np.asarray(self.counts).reshape(self.n_channels, self.n_cmds).copy()

    def activity(self, int64_t until):
        """What the energy model needs beyond command counts, up to tick ``until``: a dict of
        ``rows_raised`` and ``banks_precharged`` per channel and ``open_ticks`` per rank
        (channels x ranks: ticks with at least one bank open, a still-open rank counted up
        to ``until``)."""
        open_ticks = np.asarray(self.open_ticks).copy()
        cdef int r
        for r in range(self.n_channels * self.n_ranks):
            if self.open_banks[r] > 0 and until > self.open_since[r]:
                open_ticks[r] += until - self.open_since[r]
        return {
            "rows_raised": np.asarray(self.raised).copy(),
            "banks_precharged": np.asarray(self.closes).copy(),
            "open_ticks": open_ticks.reshape(self.n_channels, self.n_ranks),
        }

    # ------------------------------------------------------------------------------------
    # Row data: rank-wide rows of n_columns uint64 words. A row holds nothing until written;
    # host bursts are kept as written (a bitmap and the bursts, in column order), and a row is
    # materialized whole (the bursts spread out, zeros between) when a whole-row operation
    # needs it. Data never written reads as zero.
    # ------------------------------------------------------------------------------------

    def row_id(self, int ch, int rk, int bg, int ba, int row):
        """Flat id of a row, or -1 when the address is out of range."""
        if not (0 <= ch < self.n_channels and 0 <= rk < self.n_ranks
                and 0 <= bg < self.n_bankgroups and 0 <= ba < self.n_banks
                and 0 <= row < self.n_rows):
            return -1
        return ((((<int64_t>ch * self.n_ranks + rk) * self.n_bankgroups + bg)
                 * self.n_banks + ba) * self.n_rows + row)

    @property
    def rows_allocated(self):
        """Rows that hold data (some bursts, or the whole row)."""
        return self.rows_used

    @property
    def rows_whole(self):
        """Rows held whole (materialized, or every burst written)."""
        return self.rows_whole_n

    @property
    def data_bytes(self):
        """Bytes allocated for row data: every row's block, a header and burst bitmap plus
        room for the bursts it holds (n_columns * 8 for a whole row)."""
        return self.block_bytes

    cdef RowTable* chunk(self, int64_t row_id) noexcept nogil:
        """The per-row tables of the chunk holding ``row_id`` (see chunks), allocated zeroed
        on first touch; NULL when it cannot be allocated."""
        cdef RowTable* table = self.chunks[row_id >> CHUNK_BITS]
        if table == NULL:
            table = <RowTable*>calloc(1, sizeof(RowTable))
            self.chunks[row_id >> CHUNK_BITS] = table
        return table

    cdef uint64_t* block_of(self, int64_t row_id) noexcept nogil:
        """The data block of ``row_id``, or NULL while it holds no data."""
        cdef RowTable* table = self.chunks[row_id >> CHUNK_BITS]
        if table == NULL:
            return NULL
        return table.blocks[row_id & (CHUNK_ROWS - 1)]

    cdef uint64_t** block_slot(self, int64_t row_id) except NULL nogil:
        """Where the block pointer of ``row_id`` is kept (allocating its chunk's tables)."""
        cdef RowTable* table = self.chunk(row_id)
        if table == NULL:
            with gil:
                raise MemoryError("cannot allocate a row table")
        return &table.blocks[row_id & (CHUNK_ROWS - 1)]

    cdef uint64_t* grow(self, uint64_t** slot, int32_t cap) except NULL nogil:
        """Give the block at ``slot`` room for ``cap`` bursts; a new block holds none."""
        cdef size_t size = (self.head_words + <size_t>cap * self.burst_words) * sizeof(uint64_t)
        cdef uint64_t* block = <uint64_t*>realloc(slot[0], size)
        cdef RowHead* head = <RowHead*>block
        if block == NULL:
            with gil:
                raise MemoryError("cannot grow a row's data")
        if slot[0] == NULL:
            memset(block, 0, self.head_words * sizeof(uint64_t))
            self.rows_used += 1
        else:
            self.block_bytes -= (self.head_words + <int64_t>head.cap * self.burst_words) \
                * <int64_t>sizeof(uint64_t)
        self.block_bytes += size
        head.cap = cap
        slot[0] = block
        return block

    cdef void fill_map(self, uint64_t* block) noexcept nogil:
        """Mark every burst of the block's row held."""
        cdef int w
        for w in range(1, self.head_words):
            block[w] = ~(<uint64_t>0)
        if self.n_bursts & 63:
            block[self.map_words] = ((<uint64_t>1) << (self.n_bursts & 63)) - 1
        (<RowHead*>block).held = self.n_bursts
        self.rows_whole_n += 1

    cdef uint64_t* held_burst(self, int64_t row_id, int col) noexcept nogil:
        """Words of the burst at column ``col`` (a burst start), or NULL when the row holds
        none there (it reads as zeros)."""
        cdef uint64_t* block = self.block_of(row_id)
        cdef int b = col // self.burst_words
        if block == NULL:
            return NULL
        if (<RowHead*>block).held == self.n_bursts:
            return block + self.head_words + col
        if not (block[1 + (b >> 6)] >> (b & 63)) & 1:
            return NULL
        return block + self.head_words + rank(block, b) * self.burst_words

    cdef uint64_t* burst_ptr(self, int64_t row_id, int col) except NULL nogil:
        """Words of the burst at column ``col`` (a burst start) to write, adding it (zeroed)
        to the row when it holds none there."""
        cdef uint64_t** slot = self.block_slot(row_id)
        cdef uint64_t* block = slot[0]
        cdef RowHead* head
        cdef int b = col // self.burst_words, bw = self.burst_words, pos
        cdef uint64_t* data
        if block == NULL:
            block = self.grow(slot, 1)
        head = <RowHead*>block
        if head.held == self.n_bursts:
            return block + self.head_words + col
        pos = rank(block, b)
        if (block[1 + (b >> 6)] >> (b & 63)) & 1:
            return block + self.head_words + pos * bw
        if head.held == head.cap:  # grow by 1/16 (at least 2 bursts): little slack, few copies
            block = self.grow(slot, min(self.n_bursts, head.held + 2 + head.held // 16))
            head = <RowHead*>block
        data = block + self.head_words
        memmove(data + (pos + 1) * bw, data + pos * bw,
                (head.held - pos) * bw * sizeof(uint64_t))
        memset(data + pos * bw, 0, bw * sizeof(uint64_t))
        block[1 + (b >> 6)] |= (<uint64_t>1) << (b & 63)
        head.held += 1
        if head.held == self.n_bursts:
            self.rows_whole_n += 1
        return data + pos * bw

    cdef uint64_t* whole_row(self, int64_t row_id) except NULL nogil:
        """Words of ``row_id`` as a whole row, materializing it: its bursts spread out to
        their columns and zeros where none was written."""
        cdef uint64_t** slot = self.block_slot(row_id)
        cdef uint64_t* block = slot[0]
        cdef uint64_t* data
        cdef int b, src, bw = self.burst_words
        if block == NULL:
            block = self.grow(slot, self.n_bursts)
            memset(block + self.head_words, 0, self.n_columns * sizeof(uint64_t))
            self.fill_map(block)
        elif (<RowHead*>block).held < self.n_bursts:
            src = (<RowHead*>block).held
            block = self.grow(slot, self.n_bursts)
            data = block + self.head_words
            # from the top down, each held burst moves up (or stays) to its column
            for b in range(self.n_bursts - 1, -1, -1):
                if (block[1 + (b >> 6)] >> (b & 63)) & 1:
                    src -= 1
                    if src != b:
                        memmove(data + b * bw, data + src * bw, bw * sizeof(uint64_t))
                else:
                    memset(data + b * bw, 0, bw * sizeof(uint64_t))
            self.fill_map(block)
        return block + self.head_words

    cdef uint64_t* whole_or_null(self, int64_t row_id) noexcept nogil:
        """Words of ``row_id`` when it is held whole, else NULL (see assemble)."""
        cdef uint64_t* block = self.block_of(row_id)
        if block == NULL or (<RowHead*>block).held < self.n_bursts:
            return NULL
        return block + self.head_words

    cdef void assemble(self, int64_t row_id, uint64_t* out) noexcept nogil:
        """Copy the contents of ``row_id`` (n_columns words) into ``out``, without
        materializing it."""
        cdef uint64_t* block = self.block_of(row_id)
        cdef int w, b, pos = 0, bw = self.burst_words
        cdef uint64_t bits
        cdef const uint64_t* data
        if block == NULL:
            memset(out, 0, self.n_columns * sizeof(uint64_t))
            return
        data = block + self.head_words
        if (<RowHead*>block).held == self.n_bursts:
            memcpy(out, data, self.n_columns * sizeof(uint64_t))
            return
        memset(out, 0, self.n_columns * sizeof(uint64_t))
        for w in range(self.map_words):
            bits = block[1 + w]
            while bits:
                b = (w << 6) + ctz64(bits)
                bits &= bits - 1
                memcpy(out + b * bw, data + pos * bw, bw * sizeof(uint64_t))
                pos += 1

    cdef int check_id(self, int64_t row_id) except -1:
        """Raise IndexError unless ``row_id`` names a row of this system."""
        cdef int64_t limit = self.n_bank_nodes * self.n_rows
        if row_id < 0 or row_id >= limit:
            raise IndexError(f"row id {row_id} out of range [0, {limit})")
        return 0

    cdef int check_ids(self, const int64_t[::1] row_ids, Py_ssize_t n, str what) except -1:
        """Raise ValueError unless ``row_ids`` and the ``n`` rows of ``what`` agree and every
        id names a row of this system."""
        cdef int64_t limit = self.n_bank_nodes * self.n_rows
        cdef Py_ssize_t i, bad = -1
        if row_ids.shape[0] != n:
            raise ValueError(f"{row_ids.shape[0]} row ids for {n} rows of {what}")
        with nogil:
            for i in range(n):
                if row_ids[i] < 0 or row_ids[i] >= limit:
                    bad = i
                    break
        if bad >= 0:
            raise ValueError(f"row id {row_ids[bad]} (index {bad}) out of range [0, {limit})")
        return 0

    def read_row(self, int64_t row_id):
        """A copy of the row's words (zeros where never written)."""
        self.check_id(row_id)
        out = np.empty(self.n_columns, dtype=np.uint64)
        cdef uint64_t[::1] view = out
        self.assemble(row_id, &view[0])
        return out

    def write_row(self, int64_t row_id, const uint64_t[::1] words):
        """Overwrite the whole row with ``words`` (n_columns uint64)."""
        self.check_id(row_id)
        if words.shape[0] != self.n_columns:
            raise ValueError(f"a row holds {self.n_columns} words, got {words.shape[0]}")
        memcpy(self.whole_row(row_id), &words[0], self.n_columns * sizeof(uint64_t))

    def gather_rows(self, const int64_t[::1] row_ids, uint64_t[:, ::1] out):
        """``out[i, :]`` = the contents of row ``row_ids[i]`` (zeros where never written);
        ``out`` is (len(row_ids), n_columns). Rows are read, not materialized."""
        cdef Py_ssize_t i, n = row_ids.shape[0]
        if out.shape[1] != self.n_columns:
            raise ValueError(f"out has {out.shape[1]} columns, a row holds {self.n_columns}")
        self.check_ids(row_ids, out.shape[0], "out")
        with nogil:
            for i in range(n):
                self.assemble(row_ids[i], &out[i, 0])

    def scatter_rows(self, const int64_t[::1] row_ids, const uint64_t[:, ::1] data):
        """Row ``row_ids[i]`` := ``data[i, :]``, materialized whole; ``data`` is
        (len(row_ids), n_columns). With a repeated id the last row of ``data`` wins."""
        cdef Py_ssize_t i, n = row_ids.shape[0]
        if data.shape[1] != self.n_columns:
            raise ValueError(f"data has {data.shape[1]} columns, a row holds {self.n_columns}")
        self.check_ids(row_ids, data.shape[0], "data")
        with nogil:
            for i in range(n):
                memcpy(self.whole_row(row_ids[i]), &data[i, 0],
                       self.n_columns * sizeof(uint64_t))

    def drop_rows(self, const int64_t[::1] row_ids):
        """Forget the data of these rows and free it: they read as zeros again (for rows that
        hold data only while an operation runs). ValueError for an id out of range."""
        cdef Py_ssize_t i
        cdef RowTable* table
        cdef uint64_t* block
        self.check_ids(row_ids, row_ids.shape[0], "row_ids")
        for i in range(row_ids.shape[0]):
            table = self.chunks[row_ids[i] >> CHUNK_BITS]
            block = NULL if table == NULL else table.blocks[row_ids[i] & (CHUNK_ROWS - 1)]
            if block == NULL:
                continue
            self.block_bytes -= (self.head_words + <int64_t>(<RowHead*>block).cap
                                 * self.burst_words) * <int64_t>sizeof(uint64_t)
            self.rows_used -= 1
            self.rows_whole_n -= (<RowHead*>block).held == self.n_bursts
            free(block)
            table.blocks[row_ids[i] & (CHUNK_ROWS - 1)] = NULL

    def read_burst(self, int64_t row_id, int col, uint64_t[::1] out):
        """Copy the burst at column ``col`` (burst_words words) into ``out``."""
        self._check_burst(row_id, col, out.shape[0])
        cdef uint64_t* src = self.held_burst(row_id, col)
        if src == NULL:
            memset(&out[0], 0, self.burst_words * sizeof(uint64_t))
        else:
            memcpy(&out[0], src, self.burst_words * sizeof(uint64_t))

    def write_burst(self, int64_t row_id, int col, const uint64_t[::1] words):
        """Write ``words`` (burst_words uint64) at column ``col``."""
        self._check_burst(row_id, col, words.shape[0])
        memcpy(self.burst_ptr(row_id, col), &words[0], self.burst_words * sizeof(uint64_t))

    def _check_burst(self, int64_t row_id, int col, Py_ssize_t n_words):
        self.check_id(row_id)
        if col < 0 or col >= self.n_columns or col % self.burst_words:
            raise IndexError(f"column {col} is not a burst start in [0, {self.n_columns})")
        if n_words != self.burst_words:
            raise ValueError(f"a burst is {self.burst_words} words, got {n_words}")

    def copy_rows(self, int64_t src_id, const int64_t[::1] dst_ids):
        """Copy one row into every row of ``dst_ids`` (RowClone / AAP semantics); the copies
        are whole rows."""
        cdef Py_ssize_t i
        self.check_id(src_id)
        for i in range(dst_ids.shape[0]):
            self.check_id(dst_ids[i])
        for i in range(dst_ids.shape[0]):
            if dst_ids[i] != src_id:
                self.assemble(src_id, self.whole_row(dst_ids[i]))

    def majority3(self, int64_t a_id, int64_t b_id, int64_t c_id):
        """Bitwise majority of three rows, written back into all three (triple activation)."""
        cdef Py_ssize_t k
        cdef uint64_t x, y, z, m
        self.check_id(a_id)
        self.check_id(b_id)
        self.check_id(c_id)
        cdef uint64_t* a = self.whole_row(a_id)
        cdef uint64_t* b = self.whole_row(b_id)
        cdef uint64_t* c = self.whole_row(c_id)
        with nogil:
            for k in range(self.n_columns):
                x = a[k]
                y = b[k]
                z = c[k]
                m = (x & y) | (y & z) | (x & z)
                a[k] = m
                b[k] = m
                c[k] = m

    def complement(self, int64_t src_id, int64_t dst_id):
        """Write the bitwise complement of ``src`` into ``dst`` (a dual-contact cell)."""
        cdef Py_ssize_t k
        self.check_id(src_id)
        self.check_id(dst_id)
        cdef uint64_t* dst = self.whole_row(dst_id)
        cdef const uint64_t* src = self.whole_or_null(src_id)
        if src == NULL:  # a row of bursts (or none): assembled into dst, then inverted there
            self.assemble(src_id, dst)
            src = dst
        with nogil:
            for k in range(self.n_columns):
                dst[k] = ~src[k]


# --- row programs: the data effect of a lowered µprogram over many rows -------------------
# A row program (pimsim.ambit.rowdata.row_program) is a list of (code, r, a, b, c) over
# registers that hold one row each; register 0 holds zeros and 1 ones. Its slow twin is
# run_rows_twin in tests/test_row_program.py.

cdef enum:
    OP_LOAD = 0    # r := the row of operand a (read, not materialized)
    OP_STORE = 1   # the row of operand a := r (materialized whole)
    OP_NOT = 2     # r := ~a
    OP_AND = 3     # r := a & b
    OP_OR = 4      # r := a | b
    OP_MAJ = 5     # r := the bitwise majority of a, b, c
    N_OPS = 6


def run_rows(Core core, const int64_t[:, ::1] ids, const int32_t[:, ::1] ops, int registers):
    """Run the row program ``ops`` once per row i of ``ids``, in order: operand k is the row
    ``ids[i, k]``, so a row's loads see what the rows before it stored. ValueError for an
    op, register, operand or row id out of range (checked before any row is touched)."""
    cdef Py_ssize_t i, j, w, n = ids.shape[0], n_ops = ops.shape[0]
    cdef Py_ssize_t ncol = core.n_columns
    cdef int64_t limit = core.n_bank_nodes * core.n_rows
    cdef int code, k
    cdef uint64_t* r
    cdef const uint64_t* a
    cdef const uint64_t* b
    cdef const uint64_t* c
    cdef uint64_t x, y, z
    if ops.shape[1] != 5 or registers < 2:
        raise ValueError("a row program is (n, 5) ops over at least the 2 constant registers")
    for j in range(n_ops):
        code = ops[j, 0]
        if not 0 <= code < N_OPS:
            raise ValueError(f"op {j}: unknown code {code}")
        for k in range(1, 2 if code == OP_LOAD or code == OP_STORE else 5):
            if not 0 <= ops[j, k] < registers:
                raise ValueError(f"op {j}: register {ops[j, k]} out of range [0, {registers})")
        if code != OP_STORE and ops[j, 1] < 2:
            raise ValueError(f"op {j}: writes the constant register {ops[j, 1]}")
        if (code == OP_LOAD or code == OP_STORE) and not 0 <= ops[j, 2] < ids.shape[1]:
            raise ValueError(f"op {j}: operand {ops[j, 2]} of {ids.shape[1]}")
    for i in range(n):
        for k in range(ids.shape[1]):
            if not 0 <= ids[i, k] < limit:
                raise ValueError(f"row id {ids[i, k]} out of range [0, {limit})")
    regs = np.zeros((registers, ncol), dtype=np.uint64)
    regs[1] = ~np.uint64(0)
    cdef uint64_t[:, ::1] reg = regs
    with nogil:
        for i in range(n):
            for j in range(n_ops):
                code = ops[j, 0]
                r = &reg[ops[j, 1], 0]
                if code == OP_LOAD:
                    core.assemble(ids[i, ops[j, 2]], r)
                    continue
                if code == OP_STORE:
                    memcpy(core.whole_row(ids[i, ops[j, 2]]), r, ncol * sizeof(uint64_t))
                    continue
                a = &reg[ops[j, 2], 0]
                b = &reg[ops[j, 3], 0]
                c = &reg[ops[j, 4], 0]
                if code == OP_NOT:
                    for w in range(ncol):
                        r[w] = ~a[w]
                elif code == OP_AND:
                    for w in range(ncol):
                        r[w] = a[w] & b[w]
                elif code == OP_OR:
                    for w in range(ncol):
                        r[w] = a[w] | b[w]
                else:
                    for w in range(ncol):
                        x = a[w]
                        y = b[w]
                        z = c[w]
                        r[w] = (x & y) | (z & (x | y))


# --- random test data: SplitMix64 over a counter (word k of key: mix(key + (k + 1) * GAMMA)) -
# Counter-based, so any word is made without the ones before it (chunks need no state); its
# numpy twin is in tests/test_inputs.py.

cdef inline uint64_t splitmix(uint64_t key, uint64_t k) noexcept nogil:
    """Word ``k`` of the SplitMix64 stream of ``key``."""
    cdef uint64_t z = key + (k + 1) * <uint64_t>0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


def random_words(uint64_t key, uint64_t first, uint64_t[::1] out):
    """``out[j]`` := word ``first + j`` of the stream of ``key``."""
    cdef Py_ssize_t j
    with nogil:
        for j in range(out.shape[0]):
            out[j] = splitmix(key, first + j)


def write_random_rows(Core core, const int64_t[::1] ids, uint64_t key):
    """Row ``ids[i]`` := words ``i * n_columns ..`` of the stream of ``key`` (materialized
    whole); ValueError for an id out of range (checked before any row is written)."""
    cdef Py_ssize_t i, j, ncol = core.n_columns
    cdef uint64_t* row
    core.check_ids(ids, ids.shape[0], "ids")
    with nogil:
        for i in range(ids.shape[0]):
            row = core.whole_row(ids[i])
            for j in range(ncol):
                row[j] = splitmix(key, <uint64_t>(i * ncol + j))
