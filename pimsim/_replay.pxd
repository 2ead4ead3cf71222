# C-level layout of the trace-replay engine: requests, queues, per-channel controller state.
cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from pimsim._core cimport Core


cdef struct Req:
    int64_t arrive       # cycle the request entered the controller
    int64_t depart       # cycle its data returns (reads), -1 before
    uint64_t addr        # byte address
    int32_t rank         # address fields (the channel is the queue's)
    int32_t bg
    int32_t bank
    int32_t row
    int32_t col
    int32_t kind         # K_READ, K_WRITE or K_REFRESH
    int32_t cmd          # the next command it needs (cached by ready_at)
    int32_t seen_row     # the bank's open row when cmd and bound were computed (-2: never)
    int64_t bound        # lower bound on the cycle cmd may issue, valid while seen_row holds
    int32_t counted      # row-buffer outcome already recorded
    int32_t tag          # an agent's request: its id, reported when it completes (0: none;
                         # an int32 beside ``counted`` keeps the struct at 112 bytes)
    int nodes[4]         # the core's node per level (channel, rank, bankgroup, bank)
    int64_t bank_flat    # the bank's index among all banks of the system
    int64_t index        # host mode: its index in the chunk (-1: not tracked)
    int64_t seq          # order it was sent in: a job's banks serve older requests first


cdef struct Queue:
    Req* items           # in arrival order
    int32_t n            # entries in use
    int32_t cap          # capacity


cdef struct JStream:
    # a stream of a running job with commands left, in the list of the channel its next
    # command goes to (Channel.jobs); the list is in no order (job_pick breaks ties itself).
    # What job_pick reads of every entry comes first.
    int64_t bound        # the tick its next command may issue, as job_pick last computed
                         # it (-1: unknown, or it waits: computed afresh)
    int64_t key          # ties go to the lower key: its job's age, then s
    const int64_t* fut[4]  # where the core keeps its command's next tick at each node of
                           # its path (past the command's level: ZERO_TICK)
    int64_t from_tick    # its phase's start
    int64_t checked      # Channel.moves when its waits were last looked at
    const int32_t* watch # its command is valid while *watch (its bank's open row, or its
    int32_t seen         # rank's open banks) still equals seen
    int32_t close        # its next command closes a bank the host left open (a PRE first)
    const int64_t* win_row   # its command's one windowed rule (tFAW; NULL: none or more,
    const int32_t* win_head  # see _window_floor): the window's ring at its node, the
    int32_t win_slot     # ring's head, the slot of its weight-th oldest entry past the head
    int32_t win_size     # (weight - 1), the ring's size,
    int64_t win_lat      # and the rule's latency
    int32_t cmd_windows  # windowed rules (tFAW) constrain that command
    int32_t job          # its job's slot
    int32_t s            # its index among the job's streams
    int32_t cmd          # the command computed (PRE when closing), valid with ``nodes``,
    int32_t tcmd         # as are the stream's own command, its rank and its bank's index
    int32_t rank         # among all banks (-1: a rank command)
    int32_t weight       # tFAW entries of that command (act_weight)
    int64_t bank
    int nodes[4]         # the core's node per level for it (prepared: nodes[0] >= 0)


cdef struct Channel:
    Queue readq          # reads waiting
    Queue writeq         # writes waiting
    Queue active         # requests whose row this controller opened
    Queue priority       # refreshes
    Req* pending         # ring buffer of reads waiting for their data
    int64_t pend_head
    int64_t pend_n
    int64_t pend_cap
    int32_t write_mode   # draining writes
    int64_t next_refresh # cycle of the next refresh (-1: refresh off)
    int64_t last_event   # last read returned / write issued
    int64_t scan_min     # earliest ready cycle seen by the last step that issued nothing
    int64_t reads        # counters
    int64_t writes
    int64_t forwarded
    int64_t hits
    int64_t misses
    int64_t conflicts
    int64_t refreshes
    int64_t* lat_hist    # reads per latency in ticks, below 1 << LAT_EXACT_BITS (exact)
    int64_t* lat_tail    # reads per log-spaced latency bucket above it (see lat_bucket)
    int64_t lat_max      # longest read latency, ticks
    double lat_sum       # sum of read latencies, cycles (each rounded up to a cycle)
    JStream* jobs        # running jobs' streams whose next command is on this channel
    int32_t jobs_n
    int32_t jobs_cap
    int64_t moves        # host commands issued and refreshes raised: what job streams
                         # wait for may change
    bint jobs_dirty      # a command not of those streams issued (or a job ended): bank
                         # states and what the streams wait for may have changed
    int64_t pick_stamp   # job_pick's last answer (none could issue before pick_when; the
    int32_t pick_entry   # first is entry pick_entry) holds while moves equals this (-1:
    int64_t pick_when    # none kept); a job command or a stream joining clears it


cdef enum:
    MAX_JOBS = 8         # in-DRAM jobs running at once (bits of a uint8 bank mask)


cdef struct Job:
    const int32_t* cmd          # [i * J_FIELDS + f]: command i (see load_job)
    const int32_t* stream_end   # [s]: one past the stream's last command
    const int32_t* phase_end    # [p]: one past the phase's last stream
    int32_t n_phases
    int64_t* when               # [i]: tick command i issued (-1: not yet)
    int64_t* order              # commands in issue order
    int64_t* kinds              # [cmd]: its commands issued of each kind (not the closes)
    int64_t raised              # wordlines its ACTs and AACTs raised
    int64_t* busy               # [bank]: its PREs' ticks plus nRP minus its ACTs' ticks
    uint8_t* busy_seen          # [bank]: the job issued an ACT or PRE there
    int64_t issued              # commands issued so far
    int32_t* next               # [s]: the stream's next command
    int32_t* hold               # [s]: banks the stream holds open
    int phase                   # current phase
    int stream0                 # its first stream
    int32_t left                # streams of the phase with commands left
    int32_t n_streams           # streams in all phases
    int64_t age                 # jobs loaded before it (ties go to the older job)
    int64_t from_tick           # tick the current phase may start
    int64_t first               # tick of the job's first command (-1: none yet)
    int64_t last_pre            # tick of its last PRE (-1: none yet)
    int64_t seq                 # requests sent before the job (they go first in its banks)
    int64_t closes              # PREs it issued to close rows the host left open
    int64_t nrp                 # nRP, ticks
    bint by_rows                # an activation takes a tFAW slot per raised row
    bint stirs                  # its commands change a state another of its streams
                                # watches (two streams of a phase share a bank, or a rank
                                # command): each marks the channel dirty
    bint active                 # loaded and not finished


ctypedef int (*pick_fn)(Engine, Queue*, int, int64_t, int64_t*) noexcept nogil
ctypedef bint (*close_fn)(Engine, int, Req*) noexcept nogil


@cython.final  # no subclasses: method calls are direct C calls the compiler can inline
cdef class Engine:
    cdef Core core                # the DRAM core commands go to
    cdef Channel* chans           # one controller per channel
    cdef int n_channels
    cdef int ranks, bankgroups, banks, rows, burst
    cdef int read_latency         # nCL + nBL: RD issue to data returned (ticks)
    cdef int tick                 # ticks per clock cycle
    cdef int64_t refresh_interval # nREFI (ticks), 0 = no refresh
    cdef double high_wm, low_wm   # write-drain watermarks, fractions of the write queue
    cdef int row_cap              # closed-row policy cap
    cdef bint with_data           # writes store their data in the rows
    cdef pick_fn pick             # scheduler
    cdef close_fn close_row       # row policy
    cdef int32_t* row_accesses    # column commands since the bank's last ACT, per bank
    cdef readonly int64_t now     # current tick
    cdef int64_t stepped          # last cycle the controllers were stepped
    cdef int acted                # something happened in cycle ``stepped``
    cdef readonly int64_t error   # nonzero: an internal inconsistency (status of the core)
    # in-DRAM jobs (pimsim/engine/jobs.pxi): command streams in phases, scheduled with the
    # requests; up to MAX_JOBS at once
    cdef Job* jobs                     # [MAX_JOBS] (off the object: keeps hot fields close)
    cdef object job_refs               # [k]: the arrays job k's pointers point into
    cdef int j_live                    # how many run
    cdef uint8_t j_older[MAX_JOBS]     # [k]: the running jobs loaded before job k (bits)
    cdef int64_t j_loads               # jobs loaded so far
    cdef public bint exhaustive_jobs   # debug: job_pick recomputes every stream each step
    cdef uint8_t j_finished            # jobs finished and not yet reported by run() (bits)
    cdef int j_reported                # the job run() reported JOB_DONE for last (-1: none)
    cdef int j_loaded                  # the job loaded last (-1: none)
    cdef int32_t* j_rank_hold          # [channel * ranks + rank]: banks jobs hold open there
    cdef uint8_t* j_bank               # [bank]: the jobs running there (bits)
    cdef int j_pick_entry              # the stream job_pick chose (its channel list entry)
    cdef int j_pick_close              # the picked command is a PRE closing a host row
    cdef int64_t j_pick_when           # tick the picked command may issue
    cdef int64_t sent                  # requests sent so far (the next one's seq)

    # agents' requests (pimsim/engine/agents.pxi): submitted one at a time, tagged
    cdef Req* in_items                 # ring of requests waiting to enter, in submit order
    cdef int64_t in_head, in_n, in_cap
    cdef int64_t in_sent               # tick the last of them entered (one per cycle)
    cdef bint in_blocked               # the oldest found its queue full
    cdef int64_t* done_tags            # tags completed in cycle ``now`` (reads: data back;
    cdef int64_t done_n, done_cap      # writes: issued), taken by completions()

    # the current trace chunk
    cdef const int64_t[::1] t_cycle
    cdef const uint8_t[::1] t_write
    cdef const int32_t[:, ::1] t_fields
    cdef const uint64_t[::1] t_addr
    cdef readonly Py_ssize_t t_next   # index of the next request to send
    cdef Py_ssize_t t_n
    cdef bint blocked                  # the next request found its queue full

    # host mode (load_host): a CPU that keeps at most host_mlp reads in flight, holds each
    # write in a store buffer until the reads it needs are back and the result is computed
    cdef int host_mlp                  # reads in flight allowed; 0 = trace mode
    cdef int64_t inflight              # reads sent whose data has not returned
    cdef double compute_ticks          # ticks to compute one 64-byte result
    cdef double compute_free           # tick the host's compute unit is free
    cdef const int32_t[::1] t_deps     # [k]: the requests right before k whose data k needs
    cdef int64_t[::1] t_done           # [k]: tick read k's data returned (FOREVER: not yet)
    cdef int64_t* sb                   # store buffer: ring of chunk indices of writes
    cdef int64_t sb_head, sb_n, sb_cap
    cdef int64_t sb_ready              # tick the head's data is ready (-1: not known yet)

    cdef void set_nodes(self, int ch, Req* r) noexcept nogil
    cdef int prerequisite(self, int ch, Req* r) noexcept nogil
    cdef int64_t ready_at(self, int ch, Req* r) noexcept nogil
    cdef void update_write_mode(self, Channel* c) noexcept nogil
    cdef int step(self, int ch) except -1 nogil
    cdef int64_t next_event(self, int ch) noexcept nogil
    cdef int issue(self, int ch, Queue* q, int i) except -1 nogil
    cdef bint _holds_back(self, Channel* c, Req* r) noexcept nogil
    cdef int _push_pending(self, Channel* c, Req* r) except -1 nogil
    cdef int _store(self, int ch, Req* r) except -1 nogil
    cdef bint _idle(self) noexcept nogil
    cdef int _report(self) noexcept nogil
    cdef int _loop(self, int64_t until, bint final, bint hold, int64_t budget) except -1 nogil
    # idle refresh slots counted in bulk (_skip_refreshes)
    cdef int64_t skip_slot             # refresh slot of the last quiet check (-1: none)
    cdef int64_t skip_sent             # requests sent by then
    cdef int64_t* skip_counts          # core command counts then, [channel * n_cmds + cmd]
    cdef int64_t* skip_refreshes       # controller refresh counts then, [channel]
