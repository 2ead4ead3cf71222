# The C-level layout of the DRAM core. One place declares the C types and every field.
cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

# Row ids per chunk of the per-row tables (row data, activation count).
cdef enum:
    CHUNK_BITS = 12
    CHUNK_ROWS = 4096


ctypedef struct RowTable:            # the per-row state of CHUNK_ROWS consecutive row ids
    uint64_t* blocks[CHUNK_ROWS]     # the row's data block (see RowHead), NULL: holds no data
    int32_t acts[CHUNK_ROWS]         # ACT/AACT commands the row received


# A row's data block: this header (one uint64 word), map_words bitmap words (bit b: burst b
# is held), then the bursts held, in column order.
ctypedef struct RowHead:
    int32_t held      # bursts held (n_bursts: the whole row, each burst at its column)
    int32_t cap       # bursts the block has room for


# Command codes, shared by every compiled module (pimsim.standards.COMMANDS, same order).
cdef enum:
    C_ACT = 0
    C_PRE = 1
    C_PREA = 2
    C_RD = 3
    C_WR = 4
    C_RDA = 5
    C_WRA = 6
    C_REF = 7
    C_AACT = 8
    C_TRANSFER = 9
    C_RBM = 10
    C_PREE = 11


@cython.final  # no subclasses: method calls are direct C calls the compiler can inline
cdef class Core:
    # --- organisation ------------------------------------------------------------------
    cdef readonly int n_channels      # channels in the system
    cdef readonly int n_ranks         # ranks per channel
    cdef readonly int n_bankgroups    # bank groups per rank (1 for DDR3)
    cdef readonly int n_banks         # banks per bank group
    cdef readonly int n_rows          # physical rows per bank (data rows and extra wordlines)
    cdef readonly int n_columns       # columns per row; one uint64 word per column (rank-wide)
    cdef readonly int burst_words     # words moved by one RD/WR (the burst length)
    cdef int n_cmds                   # number of command codes
    cdef int level_count[4]           # children per parent: channels, ranks, bank groups, banks
    cdef int level_offset[4]          # index of each level's first node in the flat node arrays
    cdef int n_nodes                  # channel + rank + bank group + bank nodes in total
    cdef int64_t n_bank_nodes         # banks in the whole system

    # --- compiled timing tables (cycles; -1 = no constraint) ----------------------------
    cdef int64_t[:, :, ::1] lat       # [level, preceding, following], same node
    cdef int64_t[:, :, ::1] sib       # [level, preceding, following], sibling nodes
    cdef uint8_t[:, ::1] has_sib      # [level, preceding]: any sibling rule to apply
    # the same tables compacted for apply(): per (level, preceding) the following commands
    # that have a rule, and its latency: [(level * n_cmds + prev) * n_cmds + k]
    cdef int32_t[::1] upd_n           # [level * n_cmds + prev]: same-node rules
    cdef int32_t[::1] upd_f
    cdef int64_t[::1] upd_v
    cdef int32_t[::1] sib_n           # [level * n_cmds + prev]: sibling rules
    cdef int32_t[::1] sib_f
    cdef int64_t[::1] sib_v
    cdef int32_t[::1] scope           # [cmd]: the level the command acts on
    cdef int n_windows                # windowed constraints (tFAW)
    cdef int32_t[::1] win_level       # [w]: level of window w
    cdef uint8_t[:, ::1] win_prev     # [w, cmd]: cmd enters window w's history
    cdef uint8_t[:, ::1] win_next     # [w, cmd]: cmd is constrained by window w
    cdef int64_t[::1] win_lat         # [w]: latency from the oldest entry of the window
    cdef int32_t[::1] win_size        # [w]: entries in the window (4 for tFAW)
    cdef int64_t[::1] win_base        # [w]: offset of window w's ring buffers in win_hist
    cdef int64_t[::1] win_hist        # ring buffers of issue cycles, one per (w, node)
    cdef int32_t[::1] win_head        # next slot to overwrite, one per (w, node)

    # --- timing and bank state -------------------------------------------------------------
    cdef int64_t[::1] future          # [node * n_cmds + cmd]: earliest cycle cmd may issue there
    cdef int32_t[::1] open_rows       # [bank]: open row, -1 when closed
    cdef int32_t[::1] open_banks      # [rank]: banks open in that rank
    cdef int64_t[::1] counts          # [channel * n_cmds + cmd]: commands issued
    cdef readonly int64_t last_cycle  # latest cycle any command was issued at (-1 = none yet)
    cdef int act_weight               # window entries the next ACT/AACT takes (tFAW by rows)
    cdef int act_rows                 # wordlines the next ACT/AACT raises (1 for a host ACT)
    cdef int64_t[::1] raised          # [channel]: wordlines raised by ACT/AACT
    cdef int64_t[::1] closes          # [channel]: banks precharged (PRE, PREA per open bank, RDA/WRA)
    cdef int64_t[::1] open_since      # [rank]: tick its first bank opened (while any is open)
    cdef int64_t[::1] open_ticks      # [rank]: ticks with at least one bank open, closed intervals

    # --- optional log of issued commands (for exports and tests) -------------------------
    cdef readonly bint recording      # append every issued command to the log
    cdef int64_t* log                 # rows of LOG_FIELDS int64: cycle, cmd, ch, rk, bg, ba, row, col
    cdef int64_t log_n                # commands logged
    cdef int64_t log_cap              # rows allocated

    # --- per-row state, allocated in chunks of CHUNK_ROWS row ids on first touch ------------
    # chunks[row_id >> CHUNK_BITS]: NULL while no row of it was touched, else the RowTable of
    # its rows, at k = row_id & (CHUNK_ROWS - 1). Host bursts are kept as written (a block
    # holds only them); a whole-row operation materializes the row.
    cdef RowTable** chunks
    cdef int64_t n_chunks
    cdef bint counts_lost             # a chunk could not be allocated to count an ACT
    cdef int n_bursts                 # bursts per row (n_columns / burst_words)
    cdef int map_words                # bitmap words in a block
    cdef int head_words               # words before a block's bursts (header and bitmap)
    cdef int64_t rows_used            # rows holding data
    cdef int64_t rows_whole_n         # rows holding every burst (a materialized row)
    cdef int64_t block_bytes          # bytes of all blocks

    cdef int path(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                  int* nodes) noexcept nogil
    cdef int64_t c_earliest(self, int cmd, int ch, int rk, int bg, int ba, int row,
                            int col) noexcept nogil
    cdef inline int _weight(self, int w, int cmd) noexcept nogil
    cdef int64_t earliest_at(self, int cmd, const int* nodes) noexcept nogil
    cdef int64_t check(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                       int* nodes) noexcept nogil
    cdef int c_issue(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                     int64_t cycle) noexcept nogil
    cdef int64_t c_issue_asap(self, int cmd, int ch, int rk, int bg, int ba, int row, int col,
                              int64_t not_before, int64_t align) noexcept nogil
    cdef void apply(self, int cmd, int ch, int row, int col, int* nodes,
                    int64_t cycle) noexcept nogil
    cdef void record(self, int cmd, int ch, int row, int col, const int* nodes,
                     int64_t cycle) noexcept nogil
    cdef RowTable* chunk(self, int64_t row_id) noexcept nogil
    cdef int check_id(self, int64_t row_id) except -1
    cdef int check_ids(self, const int64_t[::1] row_ids, Py_ssize_t n, str what) except -1
    cdef uint64_t* block_of(self, int64_t row_id) noexcept nogil
    cdef uint64_t** block_slot(self, int64_t row_id) except NULL nogil
    cdef uint64_t* grow(self, uint64_t** slot, int32_t cap) except NULL nogil
    cdef void fill_map(self, uint64_t* block) noexcept nogil
    cdef uint64_t* held_burst(self, int64_t row_id, int col) noexcept nogil
    cdef uint64_t* burst_ptr(self, int64_t row_id, int col) except NULL nogil
    cdef uint64_t* whole_row(self, int64_t row_id) except NULL nogil
    cdef uint64_t* whole_or_null(self, int64_t row_id) noexcept nogil
    cdef void assemble(self, int64_t row_id, uint64_t* out) noexcept nogil
