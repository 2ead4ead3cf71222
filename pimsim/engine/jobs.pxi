# In-DRAM jobs of the replay engine (included by pimsim/_replay.pyx): command streams in
# phases (load_job), scheduled with the requests by every channel step (job_pick, job_issue).
# Up to MAX_JOBS jobs run at once; in a bank, requests and jobs go in the order they were
# made (a job waits for the requests and jobs made before it that use its banks, and the
# requests made after it wait for it), so jobs on disjoint banks overlap.


cdef bint _older_pending(Engine eng, Job* job, int ch, int64_t bank) noexcept nogil:
    """A request sent before ``job`` still waits for ``bank`` (it goes first there)."""
    cdef Channel* c = &eng.chans[ch]
    cdef Queue* qs[3]
    cdef int k, i
    cdef Req* o
    qs[0], qs[1], qs[2] = &c.readq, &c.writeq, &c.active
    for k in range(3):
        for i in range(qs[k].n):
            o = &qs[k].items[i]
            if o.seq < job.seq and o.bank_flat == bank and o.kind != K_REFRESH:
                return True
    return False


cdef bint _refresh_pending(Engine eng, int ch, int rank) noexcept nogil:
    """Rank ``rank`` of ``ch`` has a refresh due: the job starts no activation there."""
    cdef Channel* c = &eng.chans[ch]
    cdef int i
    for i in range(c.priority.n):
        if c.priority.items[i].kind == K_REFRESH and c.priority.items[i].rank == rank:
            return True
    return False


cdef bint job_blocks(Engine eng, int64_t bank, int64_t seq) noexcept nogil:
    """A job made before the request of order ``seq`` still runs in ``bank``."""
    cdef int k
    cdef uint8_t mask = eng.j_bank[bank]
    for k in range(MAX_JOBS):
        if mask >> k & 1 and eng.jobs[k].seq <= seq:
            return True
    return False


cdef int job_pick(Engine eng, int ch, int64_t* soonest) except -2 nogil:
    """The stream of a running job's current phase whose next command on ``ch`` can issue
    first, if by ``now`` (ties: the oldest job, then its first stream; the job is
    j_pick_job), else -1 with ``soonest`` lowered. A command waits while requests or jobs
    made before its job still need its bank, and a new activation while its rank's refresh
    is due; an ACT to a bank the host left open closes it first (j_pick_close)."""
    cdef int a, k, s, i, cmd, rk, bg, ba, close, best = -1, best_close = 0, best_job = -1
    cdef int64_t when, best_when = FOREVER, bank
    cdef uint8_t older = 0
    cdef const int32_t* t
    cdef Job* job
    for a in range(eng.j_live):
        k = eng.j_age[a]
        job = &eng.jobs[k]
        t = job.cmd
        for s in range(job.stream0, job.phase_end[job.phase]):
            i = job.next[s]
            if i >= job.stream_end[s] or t[i * J_FIELDS + J_CH] != ch:
                continue
            i *= J_FIELDS
            cmd, rk, bg, ba = t[i + J_CMD], t[i + J_RK], t[i + J_BG], t[i + J_BA]
            close = 0
            if eng.core.scope[cmd] == L_BANK:
                bank = ((<int64_t>ch * eng.ranks + rk) * eng.bankgroups + bg) * eng.banks + ba
                if eng.j_bank[bank] & older or _older_pending(eng, job, ch, bank):
                    continue
                close = cmd == C_ACT and eng.core.open_rows[bank] >= 0
            if cmd == C_ACT and job.hold[s] == 0 and _refresh_pending(eng, ch, rk):
                continue
            if close:
                when = eng.core.c_earliest(C_PRE, ch, rk, bg, ba, 0, 0)
            else:
                if cmd == C_ACT or cmd == C_AACT:
                    eng.core.act_rows = t[i + J_RAISED]
                    eng.core.act_weight = t[i + J_RAISED] if job.by_rows else 1
                when = eng.core.c_earliest(cmd, ch, rk, bg, ba, t[i + J_ROW], t[i + J_COL])
                eng.core.act_rows = eng.core.act_weight = 1
            if when < 0:
                eng.error = -when
                return -1
            if when < job.from_tick:
                when = job.from_tick
            if when <= eng.now:
                if when < best_when:
                    best, best_when, best_close, best_job = s, when, close, k
            elif when < soonest[0]:
                soonest[0] = when
        older |= 1 << k
    eng.j_pick_when = best_when
    eng.j_pick_close = best_close
    eng.j_pick_job = best_job
    return best


cdef int job_issue(Engine eng, int ch, int s) except -1 nogil:
    """Issue the command job_pick chose, at its earliest tick if that lies within this
    cycle (an overlapped AACT lands tWLOV after its ACT), else now."""
    cdef Job* job = &eng.jobs[eng.j_pick_job]
    cdef int i = job.next[s], cmd, rank, p, status
    cdef const int32_t* t = job.cmd + i * J_FIELDS
    cdef int64_t when = eng.j_pick_when
    if when <= eng.now - eng.tick:
        when = eng.now
    if eng.j_pick_close:
        status = eng.core.c_issue(C_PRE, ch, t[J_RK], t[J_BG], t[J_BA], 0, 0, when)
        job.closes += 1
        if status:
            eng.error = status
        return 0
    cmd = t[J_CMD]
    if cmd == C_ACT or cmd == C_AACT:
        eng.core.act_rows = t[J_RAISED]
        eng.core.act_weight = t[J_RAISED] if job.by_rows else 1
    status = eng.core.c_issue(cmd, ch, t[J_RK], t[J_BG], t[J_BA], t[J_ROW], t[J_COL], when)
    eng.core.act_rows = eng.core.act_weight = 1
    if status:
        eng.error = status
        return 0
    job.when[i] = when
    job.order[job.issued] = i
    job.issued += 1
    job.next[s] += 1
    if job.first < 0:
        job.first = when
    rank = ch * eng.ranks + t[J_RK]
    if cmd == C_ACT:
        job.hold[s] += 1
        eng.j_rank_hold[rank] += 1
    elif cmd == C_PRE:
        job.hold[s] -= 1
        eng.j_rank_hold[rank] -= 1
        if when > job.last_pre:
            job.last_pre = when
    # the phase ends when its streams have; the next starts tRP after its last PRE
    p = job.phase
    for s in range(job.stream0, job.phase_end[p]):
        if job.next[s] < job.stream_end[s]:
            return 0
    while True:
        job.stream0 = job.phase_end[job.phase]
        job.phase += 1
        if job.last_pre >= 0 and job.last_pre + job.nrp > job.from_tick:
            job.from_tick = job.last_pre + job.nrp
        if job.phase == job.n_phases:
            _job_ended(eng, eng.j_pick_job)
            return 0
        for s in range(job.stream0, job.phase_end[job.phase]):
            if job.next[s] < job.stream_end[s]:
                return 0


cdef void _job_ended(Engine eng, int k) noexcept nogil:
    """Job ``k`` issued its last command: its banks are free, run() reports it."""
    cdef int a, b = 0
    cdef int64_t bank, n_banks = eng.n_channels * eng.ranks * eng.bankgroups * eng.banks
    eng.jobs[k].active = False
    for bank in range(n_banks):
        eng.j_bank[bank] &= ~(1 << k)
    for a in range(eng.j_live):
        if eng.j_age[a] != k:
            eng.j_age[b] = eng.j_age[a]
            b += 1
    eng.j_live = b
    eng.j_finished |= 1 << k


cdef int job_load(Engine eng, const int32_t[:, ::1] commands, const int32_t[::1] stream_end,
                  const int32_t[::1] phase_end, int64_t not_before, int64_t nrp,
                  bint by_rows) except -1:
    """Engine.load_job: load a job (see its docstring); returns its slot."""
    cdef int s, k = 0, n = commands.shape[0]
    cdef int64_t i
    cdef Job* job
    while k < MAX_JOBS and (eng.jobs[k].active or eng.j_finished >> k & 1):
        k += 1
    if k == MAX_JOBS:
        raise RuntimeError(f"{MAX_JOBS} jobs are still running")
    if commands.shape[1] != J_FIELDS:
        raise ValueError(f"job commands need {J_FIELDS} fields")
    if phase_end.shape[0] == 0 or phase_end[phase_end.shape[0] - 1] != stream_end.shape[0] \
            or (stream_end.shape[0] and stream_end[stream_end.shape[0] - 1] != n):
        raise ValueError("stream_end/phase_end do not cover the commands")
    when = np.full(n, -1, dtype=np.int64)
    order = np.full(n, -1, dtype=np.int64)
    eng.job_refs[k] = (commands, stream_end, phase_end, when, order)  # keeps them alive
    job = &eng.jobs[k]
    free(job.next)
    free(job.hold)
    job.next = <int32_t*>calloc(stream_end.shape[0] + 1, sizeof(int32_t))
    job.hold = <int32_t*>calloc(stream_end.shape[0] + 1, sizeof(int32_t))
    if job.next == NULL or job.hold == NULL:
        raise MemoryError()
    cdef int64_t[::1] when_view = when, order_view = order
    job.cmd = &commands[0, 0] if n else NULL
    job.stream_end = &stream_end[0] if stream_end.shape[0] else NULL
    job.phase_end = &phase_end[0]
    job.n_phases = phase_end.shape[0]
    job.when = &when_view[0] if n else NULL
    job.order = &order_view[0] if n else NULL
    job.issued = 0
    for s in range(stream_end.shape[0]):
        job.next[s] = stream_end[s - 1] if s else 0
    for i in range(n):
        if eng.core.scope[commands[i, J_CMD]] == L_BANK:
            eng.j_bank[((commands[i, J_CH] * eng.ranks + commands[i, J_RK])
                        * eng.bankgroups + commands[i, J_BG]) * eng.banks
                       + commands[i, J_BA]] |= 1 << k
    job.phase = 0
    job.stream0 = 0
    job.from_tick = not_before
    job.first = job.last_pre = -1
    job.seq = eng.sent
    job.closes = 0
    job.by_rows = by_rows
    job.nrp = nrp
    job.active = True
    eng.j_age[eng.j_live] = k
    eng.j_live += 1
    eng.j_loaded = k
    eng.stepped = -1  # step the current cycle again: the job may act in it
    # skip empty phases (a job without commands is done at once)
    while job.phase < job.n_phases:
        for s in range(job.stream0, phase_end[job.phase]):
            if job.next[s] < stream_end[s]:
                return k
        job.stream0 = phase_end[job.phase]
        job.phase += 1
    _job_ended(eng, k)
    return k


cdef object job_record(Engine eng, int job):
    """Engine.job_log of job ``job`` (-1: none yet, empty)."""
    cdef Job* j
    if job < 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), -1, -1, 0
    j = &eng.jobs[job]
    when, order = eng.job_refs[job][3:]
    return order[: j.issued].copy(), when.copy(), j.first, j.last_pre, j.closes
