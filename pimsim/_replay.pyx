# cython: language_level=3
"""The engine: one memory controller per channel in C loops, fed by the trace frontend, the
CPU host model and SimPy agents' tagged requests, with in-DRAM jobs scheduled beside them.
The core here; each other job is a .pxi in pimsim/engine/ (see its docstring).

Semantics (the per-cycle order of Ramulator 2's generic DRAM controller, which makes cycle
counts comparable with it):

- in each cycle, every channel controller steps, then one agent request (the oldest made)
  and one trace request may enter;
- a controller step: (1) the oldest pending read whose data is back leaves (one per cycle);
  (2) every nREFI an all-bank refresh per rank enters the priority queue; (3) one command
  issues, chosen from the active buffer (requests whose row was opened for them), else the
  priority queue, else the read or write queue (write mode above the high watermark or when
  no read waits, until below the low one or empty, with a read waiting), by the scheduler; a PRE/PREA that would close a
  row an active request still needs is held back;
- a request's next command follows the bank state (ACT, PRE, then RD/WR; PREA then REF for a
  refresh) and never issues in the cycle it arrived;
- a read whose burst sits in the write queue is answered from it the next cycle.

Time is in the core's ticks (``tick`` of them make a cycle; see pimsim.clock): trace cycles,
"the next cycle" and the arrival rule are multiples of it. Cycles where nothing can happen
are skipped: after a cycle in which nothing acted the engine
jumps to the earliest cycle any queued command becomes ready, a read returns, a refresh is
due or the next trace request may enter. The engine talks to the DRAM core at C level.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memmove, memset

from pimsim._core cimport (C_AACT, C_ACT, C_PRE, C_PREA, C_RD, C_RDA, C_REF, C_WR, C_WRA,
                           L_BANK, Core)

cnp.import_array()

cdef extern from *:  # Cython's own branch hint (__builtin_expect), for rare branches
    bint unlikely(bint) noexcept nogil
    void __builtin_prefetch(const void*) noexcept nogil  # GCC/Clang: fetch a cache line

cdef enum:
    K_READ = 0
    K_WRITE = 1
    K_REFRESH = 2

cdef enum:  # run() results
    NEED_INPUT = 0
    REACHED = 1
    DONE = 2
    JOB_DONE = 3
    COMPLETED = 4

RUN_RESULTS = {"need_input": NEED_INPUT, "reached": REACHED, "done": DONE, "job_done": JOB_DONE,
               "completed": COMPLETED}

cdef enum:  # columns of a job's command table (load_job)
    J_CMD = 0
    J_CH = 1
    J_RK = 2
    J_BG = 3
    J_BA = 4
    J_ROW = 5
    J_COL = 6
    J_RAISED = 7
    J_FIELDS = 8

cdef int64_t FOREVER = 0x7000000000000000  # "never"; 2**60 below the largest int64

#: Latest tick a request may enter at or a job start at: 2**60 below FOREVER, headroom for
#: the timing values added to it.
MAX_TICK = 0x6000000000000000

#: In-DRAM jobs the engine runs at once (load_job).
JOBS_AT_ONCE = MAX_JOBS

#: A tick beyond every event: run(END_OF_TIME, ...) runs until done (or out of budget).
END_OF_TIME = FOREVER

cdef uint64_t LINE_MASK = ~(<uint64_t>63)

include "engine/latency.pxi"
include "engine/queues.pxi"
include "policies/scheduler_frfcfs.pxi"
include "policies/scheduler_fcfs.pxi"
include "policies/rowpolicy_open.pxi"
include "policies/rowpolicy_closed.pxi"
include "engine/jobs.pxi"
include "engine/frontend.pxi"
include "engine/host.pxi"
include "engine/refresh.pxi"
include "engine/agents.pxi"

SCHEDULER_CODES = {"frfcfs": 0, "fcfs": 1}
ROW_POLICY_CODES = {"open": 0, "closed": 1}


cdef class Engine:
    """Replays trace chunks on ``core``; see the module docstring for the semantics."""

    def __cinit__(self):
        self.chans = NULL
        self.row_accesses = NULL
        self.sb = NULL
        self.j_rank_hold = NULL
        self.j_bank = NULL
        self.jobs = NULL
        self.skip_counts = NULL
        self.skip_refreshes = NULL
        self.in_items = NULL
        self.done_tags = NULL

    def __init__(self, Core core, int read_queue, int write_queue, double high_watermark,
                 double low_watermark, int64_t refresh_interval, int read_latency,
                 str scheduler, str row_policy, int row_cap, bint with_data, int tick):
        cdef int ch
        self.core = core
        self.n_channels = core.n_channels
        self.ranks = core.n_ranks
        self.bankgroups = core.n_bankgroups
        self.banks = core.n_banks
        self.rows = core.n_rows
        self.burst = core.burst_words
        self.read_latency = read_latency
        self.tick = tick
        self.refresh_interval = refresh_interval
        self.high_wm = high_watermark
        self.low_wm = low_watermark
        self.row_cap = row_cap
        self.with_data = with_data
        self.pick = pick_frfcfs if SCHEDULER_CODES[scheduler] == 0 else pick_fcfs
        self.close_row = close_open if ROW_POLICY_CODES[row_policy] == 0 else close_closed
        self.row_accesses = <int32_t*>calloc(
            self.n_channels * self.ranks * self.bankgroups * self.banks, sizeof(int32_t))
        self.chans = <Channel*>calloc(self.n_channels, sizeof(Channel))
        self.j_rank_hold = <int32_t*>calloc(self.n_channels * self.ranks, sizeof(int32_t))
        self.j_bank = <uint8_t*>calloc(
            self.n_channels * self.ranks * self.bankgroups * self.banks, sizeof(uint8_t))
        if self.chans == NULL or self.row_accesses == NULL or self.j_rank_hold == NULL \
                or self.j_bank == NULL:
            raise MemoryError()
        for ch in range(self.n_channels):
            channel_init(&self.chans[ch], read_queue, write_queue,
                         self.ranks * self.bankgroups * self.banks, 2 * self.ranks,
                         refresh_interval)
        self.skip_counts = <int64_t*>calloc(self.n_channels * core.n_cmds, sizeof(int64_t))
        self.skip_refreshes = <int64_t*>calloc(self.n_channels, sizeof(int64_t))
        if self.skip_counts == NULL or self.skip_refreshes == NULL:
            raise MemoryError()
        self.skip_slot = -1
        self.jobs = <Job*>calloc(MAX_JOBS, sizeof(Job))
        if self.jobs == NULL:
            raise MemoryError()
        self.job_refs = [None] * MAX_JOBS
        self.j_reported = self.j_loaded = -1
        self.now = 0
        self.stepped = -1
        self.acted = 0
        self.error = 0
        self.t_n = 0
        self.t_next = 0
        self.blocked = False
        self.in_sent = -1

    def __dealloc__(self):
        cdef int ch, k
        if self.jobs != NULL:
            for k in range(MAX_JOBS):
                free(self.jobs[k].next)
                free(self.jobs[k].hold)
            free(self.jobs)
        if self.chans != NULL:
            for ch in range(self.n_channels):
                channel_free(&self.chans[ch])
            free(self.chans)
        free(self.row_accesses)
        free(self.sb)
        free(self.j_rank_hold)
        free(self.j_bank)
        free(self.skip_counts)
        free(self.skip_refreshes)
        free(self.in_items)
        free(self.done_tags)

    # -- helpers ----------------------------------------------------------------------------

    cdef void set_nodes(self, int ch, Req* r) noexcept nogil:
        """The core's node per level for the request's address."""
        cdef int rank = ch * self.ranks + r.rank
        cdef int bg = rank * self.bankgroups + r.bg
        r.nodes[0] = ch
        r.nodes[1] = self.core.level_offset[1] + rank
        r.nodes[2] = self.core.level_offset[2] + bg
        r.nodes[3] = self.core.level_offset[3] + bg * self.banks + r.bank
        r.bank_flat = <int64_t>bg * self.banks + r.bank

    cdef int prerequisite(self, int ch, Req* r) noexcept nogil:
        """The command the request needs next, from the bank state."""
        cdef int32_t open_row
        if r.kind == K_REFRESH:
            return C_PREA if self.core.open_banks[ch * self.ranks + r.rank] > 0 else C_REF
        open_row = self.core.open_rows[r.bank_flat]
        if open_row < 0:
            return C_ACT
        if open_row != r.row:
            return C_PRE
        return C_RD if r.kind == K_READ else C_WR

    cdef int64_t ready_at(self, int ch, Req* r) noexcept nogil:
        """Cycle the request's next command may issue (never its arrival cycle), or a lower
        bound on it that is still in the future.

        The next command of a read or write depends only on its bank's open row, and the
        earliest cycle of a given command only grows as commands issue, so a bound computed
        while the bank had the same open row stays a valid lower bound: while it lies in the
        future the request cannot be ready and nothing is recomputed.
        """
        cdef int32_t open_row
        cdef int64_t when
        if self.j_live and r.kind != K_REFRESH and self.j_bank[r.bank_flat] \
                and job_blocks(self, r.bank_flat, r.seq):
            return FOREVER  # a younger request waits for the job in its bank
        if r.kind != K_REFRESH:
            open_row = self.core.open_rows[r.bank_flat]
            if open_row == r.seen_row and r.bound > self.now:
                return r.bound
            r.seen_row = open_row
        r.cmd = self.prerequisite(ch, r)
        when = self.core.earliest_at(r.cmd, r.nodes)
        r.bound = when if when >= r.arrive + self.tick else r.arrive + self.tick
        return r.bound

    cdef void update_write_mode(self, Channel* c) noexcept nogil:
        if not c.write_mode:
            if c.writeq.n > self.high_wm * c.writeq.cap or c.readq.n == 0:
                c.write_mode = 1
        elif (c.writeq.n < self.low_wm * c.writeq.cap or c.writeq.n == 0) and c.readq.n != 0:
            c.write_mode = 0

    # -- one controller cycle ---------------------------------------------------------------------

    cdef int step(self, int ch) except -1 nogil:
        """Run cycle ``now`` on channel ``ch``; 1 if a command issued or a read returned."""
        cdef Channel* c = &self.chans[ch]
        cdef int acted = 0, r, i
        cdef Req* head
        cdef Queue* q = NULL
        if c.pend_n > 0 and c.pending[c.pend_head].depart <= self.now:
            head = &c.pending[c.pend_head]
            count_latency(self, c, head.depart - head.arrive)
            c.reads += 1
            c.last_event = self.now
            c.pend_head = (c.pend_head + 1) % c.pend_cap
            c.pend_n -= 1
            if head.index >= 0:
                self.t_done[head.index] = head.depart
                self.inflight -= 1
            if head.tag:
                push_done(self, head.tag)
            acted = 1
        if 0 <= c.next_refresh <= self.now:
            c.next_refresh += self.refresh_interval
            c.moves += 1  # a job's activations wait for the refreshes
            for r in range(self.ranks):
                if c.priority.n < c.priority.cap:
                    head = &c.priority.items[c.priority.n]
                    memset(head, 0, sizeof(Req))
                    head.kind = K_REFRESH
                    head.rank = r
                    self.set_nodes(ch, head)
                    head.arrive = self.now - self.tick  # schedulable in the cycle it is raised
                    c.priority.n += 1
        # choose; c.scan_min keeps the soonest any candidate becomes ready if none is now
        c.scan_min = FOREVER
        if self.j_live:
            r = job_pick(self, ch, &c.scan_min)
            if r >= 0:
                job_issue(self, ch, r)
                return 1
        i = self.pick(self, &c.active, ch, self.now, &c.scan_min)
        if i >= 0:
            q = &c.active
        elif c.priority.n > 0:
            i = pick_fcfs(self, &c.priority, ch, self.now, &c.scan_min)
            if i >= 0:
                q = &c.priority
        else:
            self.update_write_mode(c)
            q = &c.writeq if c.write_mode else &c.readq
            i = self.pick(self, q, ch, self.now, &c.scan_min)
            if i < 0 and self.j_live:  # the job may wait for older requests queued there
                q = &c.readq if c.write_mode else &c.writeq
                i = self.pick(self, q, ch, self.now, &c.scan_min)
            if i < 0:
                q = NULL
        if q != NULL and self._holds_back(c, &q.items[i]):
            q = NULL
            c.scan_min = self.now  # ready but held back: look again next cycle
        if q != NULL:
            self.issue(ch, q, i)
            acted = 1
        return acted

    cdef bint _holds_back(self, Channel* c, Req* r) noexcept nogil:
        """A PRE/PREA that would close a row an active request still needs waits."""
        cdef int i
        cdef Req* o
        if r.cmd != C_PRE and r.cmd != C_PREA:
            return False
        if r.cmd == C_PREA and self.j_rank_hold[r.nodes[1] - self.core.level_offset[1]]:
            return True  # the refresh waits for the job's open banks in the rank
        for i in range(c.active.n):
            o = &c.active.items[i]
            if o.rank == r.rank and (r.cmd == C_PREA or (o.bg == r.bg and o.bank == r.bank)):
                return True
        return False

    cdef int issue(self, int ch, Queue* q, int i) except -1 nogil:
        """Issue the chosen request's next command and move the request on."""
        cdef Channel* c = &self.chans[ch]
        cdef Req* r = &q.items[i]
        cdef int cmd = r.cmd, status
        cdef int64_t bank
        cdef bint column = cmd == C_RD or cmd == C_WR
        if not r.counted and r.kind != K_REFRESH:
            r.counted = 1
            if column:
                c.hits += 1
            elif cmd == C_ACT:
                c.misses += 1
            else:
                c.conflicts += 1
        if column and self.close_row(self, ch, r):
            cmd = C_RDA if cmd == C_RD else C_WRA
        status = self.core.c_issue(cmd, ch, r.rank, r.bg, r.bank, r.row, r.col, self.now)
        if status != 0:
            self.error = status
            return 0
        c.moves, c.jobs_dirty = c.moves + 1, c.jobs_n > 0  # jobs: states and waits change
        if r.kind != K_REFRESH:
            bank = r.bank_flat
            if cmd == C_ACT:
                self.row_accesses[bank] = 0
            elif column or cmd == C_RDA or cmd == C_WRA:
                self.row_accesses[bank] += 1
        if column or cmd == C_RDA or cmd == C_WRA:
            if r.kind == K_READ:
                r.depart = self.now + self.read_latency
                self._push_pending(c, r)
            else:
                c.writes += 1
                c.last_event = self.now
                if self.with_data and r.index < 0:  # a host program's result is stored
                    self._store(ch, r)  # by its caller, computed from the sources
                if r.tag:
                    push_done(self, r.tag)
            queue_remove(q, i)
        elif cmd == C_REF:
            c.refreshes += 1
            queue_remove(q, i)
        elif cmd == C_ACT and q != &c.active:
            queue_insert_by_age(&c.active, r)
            queue_remove(q, i)
        return 0

    cdef int _push_pending(self, Channel* c, Req* r) except -1 nogil:
        cdef int64_t k, cap
        cdef Req* grown
        if c.pend_n == c.pend_cap:
            cap = c.pend_cap * 2
            grown = <Req*>malloc(cap * sizeof(Req))
            if grown == NULL:
                with gil:
                    raise MemoryError()
            for k in range(c.pend_n):
                grown[k] = c.pending[(c.pend_head + k) % c.pend_cap]
            free(c.pending)
            c.pending = grown
            c.pend_head = 0
            c.pend_cap = cap
        c.pending[(c.pend_head + c.pend_n) % c.pend_cap] = r[0]
        c.pend_n += 1
        return 0

    cdef int _store(self, int ch, Req* r) except -1 nogil:
        """Write the request's burst into the row: each word holds its own byte address."""
        cdef uint64_t* words = self.core.burst_ptr(r.bank_flat * self.rows + r.row, r.col)
        cdef int k
        for k in range(self.burst):
            words[k] = (r.addr & LINE_MASK) + 8 * k
        return 0

    cdef int64_t next_event(self, int ch) noexcept nogil:
        """The first cycle after ``now`` at which channel ``ch`` can act (FOREVER: none).

        Valid right after a step of this cycle that changed nothing: the candidates the step
        scanned are the only ones that can issue, and c.scan_min is their soonest.
        """
        cdef Channel* c = &self.chans[ch]
        cdef int64_t best = c.scan_min
        if c.pend_n > 0 and c.pending[c.pend_head].depart < best:
            best = c.pending[c.pend_head].depart
        if c.next_refresh > self.now and c.next_refresh < best:
            best = c.next_refresh
        return best if best > self.now else self.now + self.tick

    # -- in-DRAM jobs ------------------------------------------------------------------------------

    def load_job(self, const int32_t[:, ::1] commands, const int32_t[::1] stream_end,
                 const int32_t[::1] phase_end, int64_t not_before, int64_t nrp,
                 bint by_rows):
        """Schedule in-DRAM command streams with the requests from now on: ``commands``
        rows are (command code, channel, rank, bankgroup, bank, row, column, rows raised),
        stream s ends before row ``stream_end[s]``, phase p before stream ``phase_end[p]``.
        Each stream issues in order, every command as soon as the timing allows and no
        earlier than ``not_before``; a phase starts ``nrp`` ticks after the last PRE of the
        one before. In the job's banks, requests sent before it go first and requests sent
        after it wait for its end; run() returns JOB_DONE when its last command issued
        (job_log() then tells when each did). With ``by_rows`` an activation takes one tFAW
        slot per raised row. Up to MAX_JOBS jobs run at once: jobs and requests take each
        bank in the order they were made, so jobs on disjoint banks overlap. Returns the
        job's number (``last_job``)."""
        return job_load(self, commands, stream_end, phase_end, not_before, nrp, by_rows)

    def job_log(self, int job=-1):
        """Job ``job`` (default: the one run() last returned JOB_DONE for): command indices
        in issue order, the tick each command issued, its first command's tick, its last
        PRE's tick (-1: none) and the PREs it added to close rows the host had left open."""
        return job_record(self, self.j_reported if job < 0 else job)

    def job_span(self, int job=-1):
        """Job ``job`` (default: as job_log): the last three of job_log (its first command's
        tick, its last PRE's tick, the PREs it added), without copying its log."""
        return job_span_of(self, self.j_reported if job < 0 else job)

    def job_counters(self, int job=-1):
        """Job ``job`` (default: as job_log), counted as its commands issued: the commands
        per kind (an int64 array by command code), the wordlines its ACTs and AACTs raised,
        the banks (flat indices, ascending) where it issued an ACT or PRE and, per bank,
        the ticks it kept the bank busy: the sum of its PREs' ticks plus nRP minus the sum
        of its ACTs' ticks. The PREs closing rows the host left open are not in them (see
        job_log)."""
        return job_counts(self, self.j_reported if job < 0 else job)

    @property
    def job_active(self):
        """A job is loaded and has commands left."""
        return self.j_live > 0

    @property
    def last_job(self):
        """The number of the job loaded last (-1: none)."""
        return self.j_loaded

    @property
    def finished_job(self):
        """The number of the job run() last returned JOB_DONE for (-1: none)."""
        return self.j_reported

    # -- driving -------------------------------------------------------------------------------

    def load(self, const int64_t[::1] cycles, const uint8_t[::1] is_write,
             const int32_t[:, ::1] fields, const uint64_t[::1] addresses):
        """Make a chunk of trace requests the next ones to send (the previous one is done)."""
        trace_load(self, cycles, is_write, fields, addresses)

    def load_host(self, const int64_t[::1] cycles, const uint8_t[::1] is_write,
                  const int32_t[:, ::1] fields, const uint64_t[::1] addresses,
                  const int32_t[::1] deps, int misses_in_flight, double compute_ticks):
        """Make a host program the next requests: a CPU that keeps at most
        ``misses_in_flight`` reads in flight and holds each write until the ``deps[k]``
        requests right before it have returned their data and ``compute_ticks`` more ticks
        of its (sequential) compute unit have passed; writes wait in a store buffer of
        ``misses_in_flight`` entries. Needs an idle engine (call after a final run)."""
        host_load(self, cycles, is_write, fields, addresses, deps, misses_in_flight,
                  compute_ticks)

    def submit(self, int32_t tag, uint64_t addr, int ch, int rank, int bg, int bank, int row,
               int col, bint write):
        """An agent's read or write of the burst at ``addr`` (its decoded fields given), made
        at ``now``: it enters its queue from this cycle on, after the agents' requests
        submitted before it, at most one of them per cycle. ``tag`` (a nonzero int32, unique
        among the requests in flight) is reported by completions() when the read's data
        returns or the write issues."""
        if tag == 0:
            raise ValueError("an agent's request needs a nonzero tag")
        agent_submit(self, tag, addr, ch, rank, bg, bank, row, col, write)

    def completions(self):
        """Tags of the agents' requests completed in cycle ``now`` (run() returned
        COMPLETED), as an int64 array; the engine forgets them."""
        return take_completions(self)

    def run(self, int64_t until, bint final, bint hold=False, int64_t budget=-1):
        """Simulate from ``now`` until tick ``until``, the chunk running out, or the end.

        Returns NEED_INPUT (the chunk is sent; load the next, or call with final=True),
        REACHED (``now`` reached ``until``, or ``budget`` steps were taken: a step is one
        cycle simulated or one jump over idle time, so a call takes bounded work),
        DONE (final, every request served and no job left), JOB_DONE (the job's last
        command issued) or COMPLETED (agents' requests completed in cycle ``now``: take them
        with completions() before running on). With ``hold`` only ``until``, the budget,
        JOB_DONE or COMPLETED stops it (controllers keep refreshing an idle memory).
        ``budget`` < 0: no limit.
        """
        cdef int result
        with nogil:
            if self.j_finished or self.done_n:  # news of the step before the last return
                result = self._report()
            else:
                result = self._loop(until, final, hold, budget)
        if self.error:
            raise RuntimeError(f"replay engine issued an illegal command (core status "
                               f"{self.error}) at cycle {self.now}")
        return result

    cdef int _loop(self, int64_t until, bint final, bint hold, int64_t budget) except -1 nogil:
        """run()'s loop over cycles (see run); returns its result."""
        cdef int ch, acted
        cdef int64_t nxt, t, horizon
        cdef int result = REACHED
        while self.now < until:
            if budget == 0:
                break
            budget -= 1
            if self.stepped != self.now:
                self.stepped = self.now
                self.acted = 0
                for ch in range(self.n_channels):
                    self.acted |= self.step(ch)
                if self.error:
                    break
                if unlikely(self.j_finished or self.done_n):
                    result = self._report()
                    break
            acted = self.acted
            if unlikely(self.in_n and self.in_sent != self.now):
                if agent_send(self):
                    acted = self.acted = 1
                    self.in_blocked = False
                else:
                    self.in_blocked = True
            if self.host_mlp and drain_store(self):
                acted = self.acted = 1
            if self.t_next < self.t_n:
                if self.t_cycle[self.t_next] * self.tick <= self.now:
                    if send(self):
                        self.t_next += 1
                        self.blocked = False
                        acted = self.acted = 1
                    else:
                        self.blocked = True
            elif hold:
                pass
            elif not final:
                result = NEED_INPUT
                break
            elif self._idle():
                result = DONE
                break
            if acted:
                self.now += self.tick
                continue
            if self.refresh_interval > 0 and not self.core.recording and self._idle():
                horizon = until
                if self.t_next < self.t_n and self.t_cycle[self.t_next] * self.tick < horizon:
                    horizon = self.t_cycle[self.t_next] * self.tick
                _skip_refreshes(self, horizon)
            nxt = FOREVER
            for ch in range(self.n_channels):
                t = self.next_event(ch)
                if t < nxt:
                    nxt = t
            if self.t_next < self.t_n and not self.blocked:
                t = self.t_cycle[self.t_next] * self.tick
                if t <= self.now:
                    t = self.now + self.tick
                if t < nxt:
                    nxt = t
            if unlikely(self.in_n and not self.in_blocked and self.now + self.tick < nxt):
                nxt = self.now + self.tick
            if self.sb_n and self.now < self.sb_ready < nxt:
                nxt = self.sb_ready
            self.now = nxt if nxt < until else until
        return result

    cdef int _report(self) noexcept nogil:
        """What run() returns for the step's news: JOB_DONE for a finished job (the lowest
        numbered, ``finished_job``), else COMPLETED for agents' requests."""
        if not self.j_finished:
            return COMPLETED
        self.j_reported = 0
        while not self.j_finished >> self.j_reported & 1:
            self.j_reported += 1
        self.j_finished &= ~(1 << self.j_reported)
        return JOB_DONE

    cdef bint _idle(self) noexcept nogil:
        cdef int ch
        cdef Channel* c
        if self.j_live or self.sb_n or self.in_n:
            return False
        for ch in range(self.n_channels):
            c = &self.chans[ch]
            if c.readq.n or c.writeq.n or c.active.n or c.pend_n:
                return False
        return True

    def channel_stats(self, int ch):
        """Counters of channel ``ch`` and its read latencies (ticks): ``latency_histogram``
        counts each latency below LATENCY_EXACT_TICKS, ``latency_tail`` the reads per
        latency_buckets() bucket above; ``latency_max`` (ticks) and ``latency_sum`` (cycles,
        each read rounded up) are exact."""
        return channel_counters(self, ch)

    @property
    def requests_sent(self):
        """Requests of the current chunk sent so far."""
        return self.t_next
