# In-DRAM jobs of the replay engine (included by pimsim/_replay.pyx): command streams in
# phases (load_job), scheduled with the requests by every channel step (job_pick, job_issue).


cdef bint _older_pending(Engine eng, int ch, int64_t bank) noexcept nogil:
    """A request sent before the job still waits for ``bank`` (it goes first there)."""
    cdef Channel* c = &eng.chans[ch]
    cdef Queue* qs[3]
    cdef int k, i
    cdef Req* o
    qs[0], qs[1], qs[2] = &c.readq, &c.writeq, &c.active
    for k in range(3):
        for i in range(qs[k].n):
            o = &qs[k].items[i]
            if o.seq < eng.j_seq and o.bank_flat == bank and o.kind != K_REFRESH:
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


cdef int job_pick(Engine eng, int ch, int64_t* soonest) except -2 nogil:
    """The stream of the current phase whose next command on ``ch`` can issue first, if
    by ``now`` (ties: the first stream), else -1 with ``soonest`` lowered. A command
    waits while requests sent before the job still need its bank, and a new activation
    while its rank's refresh is due; an ACT to a bank the host left open closes it
    first (j_pick_close)."""
    cdef int s, i, cmd, rk, bg, ba, close, best = -1, best_close = 0
    cdef int64_t when, best_when = FOREVER, bank
    cdef const int32_t[:, ::1] t = eng.j_cmd
    for s in range(eng.j_stream0, eng.j_phase_end[eng.j_phase]):
        i = eng.j_next[s]
        if i >= eng.j_stream_end[s] or t[i, J_CH] != ch:
            continue
        cmd, rk, bg, ba = t[i, J_CMD], t[i, J_RK], t[i, J_BG], t[i, J_BA]
        close = 0
        if eng.core.scope[cmd] == BANK_LEVEL:
            bank = ((<int64_t>ch * eng.ranks + rk) * eng.bankgroups + bg) * eng.banks + ba
            if _older_pending(eng, ch, bank):
                continue
            close = cmd == C_ACT and eng.core.open_rows[bank] >= 0
        if cmd == C_ACT and eng.j_hold[s] == 0 and _refresh_pending(eng, ch, rk):
            continue
        if close:
            when = eng.core.c_earliest(C_PRE, ch, rk, bg, ba, 0, 0)
        else:
            if cmd == C_ACT or cmd == C_AACT:
                eng.core.act_rows = t[i, J_RAISED]
                eng.core.act_weight = t[i, J_RAISED] if eng.j_by_rows else 1
            when = eng.core.c_earliest(cmd, ch, rk, bg, ba, t[i, J_ROW], t[i, J_COL])
            eng.core.act_rows = eng.core.act_weight = 1
        if when < 0:
            eng.error = -when
            return -1
        if when < eng.j_from:
            when = eng.j_from
        if when <= eng.now:
            if when < best_when:
                best, best_when, best_close = s, when, close
        elif when < soonest[0]:
            soonest[0] = when
    eng.j_pick_when = best_when
    eng.j_pick_close = best_close
    return best


cdef int job_issue(Engine eng, int ch, int s) except -1 nogil:
    """Issue the command job_pick chose, at its earliest tick if that lies within this
    cycle (an overlapped AACT lands tWLOV after its ACT), else now."""
    cdef int i = eng.j_next[s], cmd, rank, p, status
    cdef const int32_t[:, ::1] t = eng.j_cmd
    cdef int64_t when = eng.j_pick_when
    if when <= eng.now - eng.tick:
        when = eng.now
    if eng.j_pick_close:
        status = eng.core.c_issue(C_PRE, ch, t[i, J_RK], t[i, J_BG], t[i, J_BA], 0, 0, when)
        eng.j_closes += 1
        if status:
            eng.error = status
        return 0
    cmd = t[i, J_CMD]
    if cmd == C_ACT or cmd == C_AACT:
        eng.core.act_rows = t[i, J_RAISED]
        eng.core.act_weight = t[i, J_RAISED] if eng.j_by_rows else 1
    status = eng.core.c_issue(cmd, ch, t[i, J_RK], t[i, J_BG], t[i, J_BA], t[i, J_ROW],
                               t[i, J_COL], when)
    eng.core.act_rows = eng.core.act_weight = 1
    if status:
        eng.error = status
        return 0
    eng.j_when[i] = when
    eng.j_order[eng.j_issued] = i
    eng.j_issued += 1
    eng.j_next[s] += 1
    if eng.j_first < 0:
        eng.j_first = when
    rank = ch * eng.ranks + t[i, J_RK]
    if cmd == C_ACT:
        eng.j_hold[s] += 1
        eng.j_rank_hold[rank] += 1
    elif cmd == C_PRE:
        eng.j_hold[s] -= 1
        eng.j_rank_hold[rank] -= 1
        if when > eng.j_last_pre:
            eng.j_last_pre = when
    # the phase ends when its streams have; the next starts tRP after its last PRE
    p = eng.j_phase
    for s in range(eng.j_stream0, eng.j_phase_end[p]):
        if eng.j_next[s] < eng.j_stream_end[s]:
            return 0
    while True:
        eng.j_stream0 = eng.j_phase_end[eng.j_phase]
        eng.j_phase += 1
        if eng.j_last_pre >= 0 and eng.j_last_pre + eng.j_nrp > eng.j_from:
            eng.j_from = eng.j_last_pre + eng.j_nrp
        if eng.j_phase == eng.j_phase_end.shape[0]:
            eng.j_active = False
            eng.j_finished = True
            return 0
        for s in range(eng.j_stream0, eng.j_phase_end[eng.j_phase]):
            if eng.j_next[s] < eng.j_stream_end[s]:
                return 0


cdef int job_load(Engine eng, const int32_t[:, ::1] commands, const int32_t[::1] stream_end,
                  const int32_t[::1] phase_end, int64_t not_before, int64_t nrp,
                  bint by_rows) except -1:
    """Engine.load_job: load a job (see its docstring)."""
    cdef int s, i, n = commands.shape[0]
    if eng.j_active:
        raise RuntimeError("a job is still running")
    if commands.shape[1] != J_FIELDS:
        raise ValueError(f"job commands need {J_FIELDS} fields")
    if phase_end.shape[0] == 0 or phase_end[phase_end.shape[0] - 1] != stream_end.shape[0] \
            or (stream_end.shape[0] and stream_end[stream_end.shape[0] - 1] != n):
        raise ValueError("stream_end/phase_end do not cover the commands")
    eng.j_cmd, eng.j_stream_end, eng.j_phase_end = commands, stream_end, phase_end
    eng.j_when = np.full(n, -1, dtype=np.int64)
    eng.j_order = np.full(n, -1, dtype=np.int64)
    eng.j_issued = 0
    free(eng.j_next)
    free(eng.j_hold)
    eng.j_next = <int32_t*>calloc(stream_end.shape[0] + 1, sizeof(int32_t))
    eng.j_hold = <int32_t*>calloc(stream_end.shape[0] + 1, sizeof(int32_t))
    if eng.j_next == NULL or eng.j_hold == NULL:
        raise MemoryError()
    for s in range(stream_end.shape[0]):
        eng.j_next[s] = stream_end[s - 1] if s else 0
    memset(eng.j_bank, 0, eng.n_channels * eng.ranks * eng.bankgroups * eng.banks)
    for i in range(n):
        if eng.core.scope[commands[i, J_CMD]] == BANK_LEVEL:
            eng.j_bank[((commands[i, J_CH] * eng.ranks + commands[i, J_RK])
                         * eng.bankgroups + commands[i, J_BG]) * eng.banks
                        + commands[i, J_BA]] = 1
    eng.j_phase = 0
    eng.j_stream0 = 0
    eng.j_from = not_before
    eng.j_first = eng.j_last_pre = -1
    eng.j_seq = eng.sent
    eng.j_closes = 0
    eng.j_by_rows = by_rows
    eng.j_nrp = nrp
    eng.j_finished = False
    eng.j_active = True
    eng.stepped = -1  # step the current cycle again: the job may act in it
    # skip empty phases (a job without commands is done at once)
    while eng.j_phase < phase_end.shape[0]:
        for s in range(eng.j_stream0, phase_end[eng.j_phase]):
            if eng.j_next[s] < stream_end[s]:
                return 0
        eng.j_stream0 = phase_end[eng.j_phase]
        eng.j_phase += 1
    eng.j_active = False
    eng.j_finished = True
    return 0
