# In-DRAM jobs of the replay engine (included by pimsim/_replay.pyx): command streams in
# phases (load_job), scheduled with the requests by every channel step (job_pick, job_issue).
# Up to MAX_JOBS jobs run at once; in a bank, requests and jobs go in the order they were
# made (a job waits for the requests and jobs made before it that use its banks, and the
# requests made after it wait for it), so jobs on disjoint banks overlap.


cdef int64_t ZERO_TICK = 0  # a node's next tick past a command's level (JStream.fut)


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


cdef void _windows_of(Core core, JStream* js) noexcept nogil:
    """Find the windowed rules (tFAW) that constrain the stream's computed command at its
    nodes (js.cmd_windows: how many) and, when it is one, where _window_floor reads it."""
    cdef int w, level, node, size
    js.cmd_windows = 0
    js.win_row = NULL
    for w in range(core.n_windows):
        level = core.win_level[w]
        if level <= core.scope[js.cmd] and core.win_next[w, js.cmd]:
            js.cmd_windows += 1
            node = js.nodes[level] - core.level_offset[level]
            size = core.win_size[w]
            js.win_row = &core.win_hist[core.win_base[w] + node * size]
            js.win_head = &core.win_head[w * core.n_nodes + node]
            js.win_size = size
            js.win_slot = (js.weight if js.weight < size else size) - 1
            js.win_lat = core.win_lat[w]
    if js.cmd_windows != 1:
        js.win_row = NULL


cdef inline int64_t _window_floor(Core core, JStream* js) noexcept nogil:
    """The earliest tick the windowed rules (tFAW) allow the stream's computed command: a
    lower bound on its tick, read without computing the rest (as Core.earliest_at does:
    an activation taking ``weight`` entries needs the weight-th oldest entry a window
    ago)."""
    cdef int w, level, node, size, slot
    cdef int64_t when = 0, value
    if js.win_row != NULL:  # the one rule, found by _windows_of
        slot = js.win_head[0] + js.win_slot
        if slot >= js.win_size:
            slot -= js.win_size
        return js.win_row[slot] + js.win_lat
    for w in range(core.n_windows):
        level = core.win_level[w]
        if level <= core.scope[js.cmd] and core.win_next[w, js.cmd]:
            node = js.nodes[level] - core.level_offset[level]
            size = core.win_size[w]
            slot = core.win_head[w * core.n_nodes + node] - 1 \
                + (js.weight if js.weight < size else size)
            if slot >= size:  # head < size
                slot -= size
            value = core.win_hist[core.win_base[w] + node * size + slot] + core.win_lat[w]
            if value > when:
                when = value
    return when


cdef inline int64_t _tick(Core core, JStream* js) noexcept nogil:
    """Core.earliest_at of the stream's prepared command at its weight, inline, no earlier
    than its phase's start: the latest of its nodes' next ticks for it (Core.future, read
    through js.fut), its tFAW floor and js.from_tick."""
    cdef int64_t when = js.fut[0][0], value
    value = js.fut[1][0]
    if value > when:
        when = value
    value = js.fut[2][0]
    if value > when:
        when = value
    value = js.fut[3][0]
    if value > when:
        when = value
    if js.cmd_windows:
        value = _window_floor(core, js)
        if value > when:
            when = value
    return when if when > js.from_tick else js.from_tick


cdef inline bint _waits(Engine eng, int ch, int k, int s, int cmd, int rank,
                        int64_t bank) noexcept nogil:
    """Stream ``s`` of job ``k`` waits to issue ``cmd`` to ``bank`` (-1: a rank command) of
    ``rank``: while requests or jobs made before the job still need the bank, and with an
    activation while the rank's refresh is due (unless the stream holds a bank open)."""
    cdef Channel* c = &eng.chans[ch]
    cdef Job* job = &eng.jobs[k]
    if bank >= 0:
        if eng.j_bank[bank] & eng.j_older[k]:
            return True
        if (c.readq.n or c.writeq.n or c.active.n) and _older_pending(eng, job, ch, bank):
            return True
    return cmd == C_ACT and job.hold[s] == 0 and c.priority.n \
        and _refresh_pending(eng, ch, rank)


cdef int _evaluate(Engine eng, int ch, JStream* js) noexcept nogil:
    """Compute when the next command of stream ``js`` may issue, into js.bound (js.close:
    it is a PRE closing a bank the host left open), or js.bound = -1 while it waits (see
    _waits). 0, or -1 (eng.error set) if the command is illegal. The command, its checks
    and its nodes are worked out once per command and state (js.nodes[0] < 0: not yet);
    after that only the waits and the timing are read again."""
    cdef int k = js.job, s = js.s, cmd, rk, level
    cdef Job* job = &eng.jobs[k]
    cdef const int32_t* t
    cdef int64_t bank, w
    js.bound = -1
    js.checked = eng.chans[ch].moves
    js.from_tick = job.from_tick
    if js.nodes[0] >= 0 and js.watch[0] == js.seen:  # prepared: the waits and the timing
        if _waits(eng, ch, k, s, js.tcmd, js.rank, js.bank):
            return 0
        js.bound = _tick(eng.core, js)
        return 0
    js.nodes[0] = -1
    t = job.cmd + <int64_t>job.next[s] * J_FIELDS
    __builtin_prefetch(t + 2 * J_FIELDS)  # the stream's command after next: soon needed
    cmd, rk = t[J_CMD], t[J_RK]
    bank = -1
    if eng.core.scope[cmd] == L_BANK:
        bank = ((<int64_t>ch * eng.ranks + rk) * eng.bankgroups + t[J_BG]) * eng.banks + t[J_BA]
    if _waits(eng, ch, k, s, cmd, rk, bank):
        return 0
    js.tcmd, js.rank, js.bank = cmd, rk, bank
    js.watch = &eng.core.open_rows[bank] if bank >= 0 \
        else &eng.core.open_banks[ch * eng.ranks + rk]
    js.seen = js.watch[0]
    js.close = cmd == C_ACT and bank >= 0 and js.seen >= 0
    js.cmd = C_PRE if js.close else cmd
    js.weight = 1
    if js.cmd == C_ACT or js.cmd == C_AACT:
        eng.core.act_rows = t[J_RAISED]
        js.weight = t[J_RAISED] if job.by_rows else 1
    eng.core.act_weight = js.weight
    if js.close:
        w = eng.core.check(C_PRE, ch, rk, t[J_BG], t[J_BA], 0, 0, js.nodes)
    else:
        w = eng.core.check(cmd, ch, rk, t[J_BG], t[J_BA], t[J_ROW], t[J_COL], js.nodes)
    eng.core.act_rows = eng.core.act_weight = 1
    if w < 0:
        js.nodes[0] = -1
        eng.error = -w
        return -1
    for level in range(4):
        js.fut[level] = &eng.core.future[js.nodes[level] * eng.core.n_cmds + js.cmd] \
            if level <= eng.core.scope[js.cmd] else &ZERO_TICK
    _windows_of(eng.core, js)
    js.bound = w if w > js.from_tick else js.from_tick
    return 0


cdef int job_pick(Engine eng, int ch, int64_t* soonest) except -2 nogil:
    """The entry of ``ch``'s job streams whose next command can issue first, if by ``now``
    (ties: the oldest job, then its first stream), else -1 with ``soonest`` lowered to the
    first tick one can (see _evaluate for what a stream waits for).

    Every stream's tick is computed at every call, from the timing the core keeps (a few
    loads: see _tick); what else it depends on is worked out again only when it may have
    changed: its command and nodes when its own command issued or the state it watches
    (its bank's open row) changed (only commands that mark the channel dirty change it),
    its waits when a host command issued or a refresh came due (Channel.moves). When none
    can issue, the answer holds until something moves on the channel (c.pick_stamp): the
    cycles the engine skips to it take no look at the streams. ``exhaustive_jobs`` works
    every stream out afresh at every call (the reference)."""
    cdef Channel* c = &eng.chans[ch]
    cdef JStream* jobs = c.jobs
    cdef JStream* js
    cdef JStream* first = NULL
    cdef int e, n = c.jobs_n, pick = -1
    cdef int64_t b, w, best = FOREVER, moves = c.moves
    cdef bint fast = not eng.exhaustive_jobs, dirty = c.jobs_dirty, waiting = False
    if fast and not dirty and c.pick_stamp == moves:  # the last call's answer holds
        if c.pick_when > eng.now:
            if c.pick_when < soonest[0]:
                soonest[0] = c.pick_when
            eng.j_pick_entry = -1
            return -1
        eng.j_pick_when = c.pick_when
        eng.j_pick_close = jobs[c.pick_entry].close
        eng.j_pick_entry = c.pick_entry
        return c.pick_entry
    c.jobs_dirty = False
    c.pick_stamp = -1
    for e in range(n):
        js = &jobs[e]
        b = js.bound
        if fast:
            if b > best or (b == best and first != NULL and js.key > first.key):
                if not dirty or js.watch[0] == js.seen:
                    continue  # its tick only grows from b (>= 0): it cannot go first
            elif b >= 0 and js.checked == moves and (not dirty or js.watch[0] == js.seen):
                if js.win_row != NULL:  # its tFAW floor first: a cheaper bound, often enough
                    w = _window_floor(eng.core, js)
                    if w > best or (w == best and first != NULL and js.key > first.key):
                        js.bound = w
                        continue
                b = js.bound = _tick(eng.core, js)
                if b < best or (b == best and (first == NULL or js.key < first.key)):
                    first, best = js, b
                continue
        if _evaluate(eng, ch, js) < 0:
            return -1
        b = js.bound
        if b < 0:
            waiting = True
        elif b < best or (b == best and (first == NULL or js.key < first.key)):
            first, best = js, b
    if first != NULL:
        if first.bound <= eng.now:
            pick = first - jobs
            eng.j_pick_when = first.bound
            eng.j_pick_close = first.close
        else:
            if first.bound < soonest[0]:
                soonest[0] = first.bound
            if fast and not waiting:
                c.pick_stamp, c.pick_entry, c.pick_when = moves, first - jobs, first.bound
    eng.j_pick_entry = pick
    return pick


cdef int job_issue(Engine eng, int ch, int e) except -1 nogil:
    """Issue the command job_pick chose (entry ``e`` of ``ch``'s job streams), at its
    earliest tick if that lies within this cycle (an overlapped AACT lands tWLOV after its
    ACT), else now. job_pick computed it at its nodes in the present state (it is exact):
    it is applied to the core without being checked again."""
    cdef Channel* c = &eng.chans[ch]
    cdef JStream* js = &c.jobs[e]
    cdef int k = js.job, s = js.s
    cdef Job* job = &eng.jobs[k]
    cdef int i = job.next[s], cmd, rank, to
    cdef const int32_t* t = job.cmd + <int64_t>i * J_FIELDS
    cdef int64_t when = eng.j_pick_when
    if when <= eng.now - eng.tick:
        when = eng.now
    c.pick_stamp = -1  # the timing moves on
    if eng.j_pick_close:
        eng.core.apply(C_PRE, ch, 0, 0, js.nodes, when)
        js.bound = js.nodes[0] = -1  # its next command (or state) changes: compute it afresh
        c.jobs_dirty = job.stirs or c.jobs_dirty
        job.closes += 1
        return 0
    cmd = t[J_CMD]
    job.kinds[cmd] += 1
    if cmd == C_ACT or cmd == C_AACT:
        job.raised += t[J_RAISED]
        eng.core.act_rows = t[J_RAISED]
        eng.core.act_weight = t[J_RAISED] if job.by_rows else 1
    eng.core.apply(cmd, ch, t[J_ROW], t[J_COL], js.nodes, when)
    eng.core.act_rows = eng.core.act_weight = 1
    js.bound = js.nodes[0] = -1
    job.when[i] = when
    job.order[job.issued] = i
    job.issued += 1
    job.next[s] += 1
    if job.first < 0:
        job.first = when
    if job.stirs:
        c.jobs_dirty = True
    rank = ch * eng.ranks + t[J_RK]
    if cmd == C_ACT:
        job.hold[s] += 1
        eng.j_rank_hold[rank] += 1
        job.busy[js.bank] -= when
        job.busy_seen[js.bank] = 1
    elif cmd == C_PRE:
        job.hold[s] -= 1
        eng.j_rank_hold[rank] -= 1
        job.busy[js.bank] += when + job.nrp
        job.busy_seen[js.bank] = 1
        if when > job.last_pre:
            job.last_pre = when
    if job.next[s] < job.stream_end[s]:
        to = job.cmd[<int64_t>job.next[s] * J_FIELDS + J_CH]
        if to != ch:  # the stream goes on on another channel
            _stream_enter(eng, to, k, s)
            _stream_leave(c, e)
        return 0
    _stream_leave(c, e)
    job.left -= 1
    # the phase ends when its streams have; the next starts tRP after its last PRE
    while job.left == 0:
        job.stream0 = job.phase_end[job.phase]
        job.phase += 1
        if job.last_pre >= 0 and job.last_pre + job.nrp > job.from_tick:
            job.from_tick = job.last_pre + job.nrp
        if job.phase == job.n_phases:
            _job_ended(eng, k)
            return 0
        _phase_enter(eng, k)
    return 0


cdef void _stream_enter(Engine eng, int ch, int k, int s) noexcept nogil:
    """Stream ``s`` of job ``k`` joins ``ch``'s list (job_load made room)."""
    cdef Channel* c = &eng.chans[ch]
    cdef JStream* js = &c.jobs[c.jobs_n]
    c.jobs_n += 1
    c.pick_stamp = -1
    js.bound = -1
    js.watch = NULL
    js.seen = 0
    js.nodes[0] = -1
    js.job = k
    js.s = s
    js.key = (eng.jobs[k].age << 32) + s


cdef inline void _stream_leave(Channel* c, int e) noexcept nogil:
    """Entry ``e`` leaves ``c``'s list (the last entry takes its place)."""
    c.jobs_n -= 1
    c.jobs[e] = c.jobs[c.jobs_n]


cdef void _phase_enter(Engine eng, int k) noexcept nogil:
    """The streams of job ``k``'s current phase with commands join their channels' lists
    (job.left: how many)."""
    cdef Job* job = &eng.jobs[k]
    cdef int s
    job.left = 0
    for s in range(job.stream0, job.phase_end[job.phase]):
        if job.next[s] < job.stream_end[s]:
            _stream_enter(eng, job.cmd[<int64_t>job.next[s] * J_FIELDS + J_CH], k, s)
            job.left += 1


cdef void _job_ended(Engine eng, int k) noexcept nogil:
    """Job ``k`` issued its last command: its banks are free (the streams of younger jobs
    waiting for them look again), run() reports it."""
    cdef int a, ch
    cdef int64_t bank, n_banks = eng.n_channels * eng.ranks * eng.bankgroups * eng.banks
    eng.jobs[k].active = False
    for bank in range(n_banks):
        eng.j_bank[bank] &= ~(1 << k)
    for a in range(MAX_JOBS):
        eng.j_older[a] &= ~(1 << k)
    for ch in range(eng.n_channels):
        eng.chans[ch].jobs_dirty = True
    eng.j_live -= 1
    eng.j_finished |= 1 << k


cdef int _make_room(Engine eng, int extra) except -1:
    """Room in every channel's list for ``extra`` more streams besides the running jobs'."""
    cdef int ch, a, need = extra
    cdef JStream* grown
    for a in range(MAX_JOBS):
        if eng.jobs[a].active:
            need += eng.jobs[a].n_streams
    for ch in range(eng.n_channels):
        if eng.chans[ch].jobs_cap < need:
            grown = <JStream*>realloc(eng.chans[ch].jobs, need * sizeof(JStream))
            if grown == NULL:
                raise MemoryError()
            eng.chans[ch].jobs = grown
            eng.chans[ch].jobs_cap = need
    return 0


cdef int _scan(Engine eng, int k, const int32_t[:, ::1] commands,
               const int32_t[::1] stream_end, const int32_t[::1] phase_end) except -1:
    """One pass over job ``k``'s commands: a ValueError unless every command names a known
    command and a bank (bank commands) or rank (the others) of the system; marks the job's
    banks (Engine.j_bank); returns Job.stirs: a command may change a state another of its
    streams watches (it has a rank command, or two streams of a phase use one bank)."""
    cdef int64_t n_banks = eng.n_channels * eng.ranks * eng.bankgroups * eng.banks, bank, i
    cdef int32_t* owner = <int32_t*>malloc(n_banks * sizeof(int32_t))  # the last stream
    cdef int p = 0, s = 0, first = 0, cmd                               # that used the bank
    cdef bint stirs = False
    cdef const int32_t* t
    if owner == NULL:
        raise MemoryError()
    for bank in range(n_banks):
        owner[bank] = -1
    for i in range(commands.shape[0]):
        while i >= stream_end[s]:  # s: command i's stream, in phase p from stream first
            s += 1
        while s >= phase_end[p]:
            first = phase_end[p]
            p += 1
        t = &commands[i, 0]
        cmd = t[J_CMD]
        if not 0 <= cmd < eng.core.n_cmds or not 0 <= t[J_CH] < eng.n_channels \
                or not 0 <= t[J_RK] < eng.ranks or (eng.core.scope[cmd] == L_BANK and (
                    not 0 <= t[J_BG] < eng.bankgroups or not 0 <= t[J_BA] < eng.banks)):
            free(owner)
            for bank in range(n_banks):
                eng.j_bank[bank] &= ~(1 << k)
            raise ValueError(f"job command {i} names no command or bank of the system: "
                             f"{np.asarray(commands[i]).tolist()}")
        if eng.core.scope[cmd] != L_BANK:
            stirs = True
            continue
        bank = ((t[J_CH] * eng.ranks + t[J_RK]) * eng.bankgroups + t[J_BG]) * eng.banks \
            + t[J_BA]
        eng.j_bank[bank] |= 1 << k
        if first <= owner[bank] != s:  # another stream of this phase
            stirs = True
        owner[bank] = s
    free(owner)
    return stirs


cdef int job_load(Engine eng, const int32_t[:, ::1] commands, const int32_t[::1] stream_end,
                  const int32_t[::1] phase_end, int64_t not_before, int64_t nrp,
                  bint by_rows) except -1:
    """Engine.load_job: load a job (see its docstring); returns its slot."""
    cdef int a, s, k = 0, n = commands.shape[0]
    cdef int64_t n_banks
    cdef bint stirs
    cdef Job* job
    while k < MAX_JOBS and (eng.jobs[k].active or eng.j_finished >> k & 1):
        k += 1
    if k == MAX_JOBS:
        raise RuntimeError(f"{MAX_JOBS} jobs are still running")
    if commands.shape[1] != J_FIELDS:
        raise ValueError(f"job commands need {J_FIELDS} fields")
    if not_before > MAX_TICK:
        raise ValueError(f"a job starts at tick {MAX_TICK} at the latest, not {not_before}")
    if phase_end.shape[0] == 0 or phase_end[phase_end.shape[0] - 1] != stream_end.shape[0] \
            or (stream_end.shape[0] and stream_end[stream_end.shape[0] - 1] != n):
        raise ValueError("stream_end/phase_end do not cover the commands")
    _make_room(eng, stream_end.shape[0])
    stirs = _scan(eng, k, commands, stream_end, phase_end)
    when = np.full(n, -1, dtype=np.int64)
    order = np.full(n, -1, dtype=np.int64)
    n_banks = eng.n_channels * eng.ranks * eng.bankgroups * eng.banks
    kinds = np.zeros(eng.core.n_cmds, dtype=np.int64)
    busy = np.zeros(n_banks, dtype=np.int64)
    busy_seen = np.zeros(n_banks, dtype=np.uint8)
    eng.job_refs[k] = (commands, stream_end, phase_end, when, order, kinds, busy, busy_seen)
    job = &eng.jobs[k]
    free(job.next)
    free(job.hold)
    job.next = <int32_t*>calloc(stream_end.shape[0] + 1, sizeof(int32_t))
    job.hold = <int32_t*>calloc(stream_end.shape[0] + 1, sizeof(int32_t))
    if job.next == NULL or job.hold == NULL:
        raise MemoryError()
    cdef int64_t[::1] when_view = when, order_view = order, busy_view = busy, kinds_view = kinds
    cdef uint8_t[::1] seen_view = busy_seen
    job.cmd = &commands[0, 0] if n else NULL
    job.stream_end = &stream_end[0] if stream_end.shape[0] else NULL
    job.phase_end = &phase_end[0]
    job.n_phases = phase_end.shape[0]
    job.when = &when_view[0] if n else NULL
    job.order = &order_view[0] if n else NULL
    job.kinds = &kinds_view[0]
    job.raised = 0
    job.busy = &busy_view[0]
    job.busy_seen = &seen_view[0]
    job.issued = 0
    for s in range(stream_end.shape[0]):
        job.next[s] = stream_end[s - 1] if s else 0
    job.phase = 0
    job.stream0 = 0
    job.from_tick = not_before
    job.first = job.last_pre = -1
    job.seq = eng.sent
    job.closes = 0
    job.by_rows = by_rows
    job.nrp = nrp
    job.n_streams = stream_end.shape[0]
    job.stirs = stirs
    job.age = eng.j_loads
    eng.j_loads += 1
    eng.j_older[k] = 0
    for a in range(MAX_JOBS):
        if eng.jobs[a].active:
            eng.j_older[k] |= 1 << a
    job.active = True
    eng.j_live += 1
    eng.j_loaded = k
    eng.stepped = -1  # step the current cycle again: the job may act in it
    # skip empty phases (a job without commands is done at once)
    while job.phase < job.n_phases:
        _phase_enter(eng, k)
        if job.left:
            return k
        job.stream0 = phase_end[job.phase]
        job.phase += 1
    _job_ended(eng, k)
    return k


cdef object job_record(Engine eng, int job):
    """Engine.job_log of job ``job`` (-1: none yet, empty)."""
    if job < 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), *job_span_of(eng, job)
    when, order = eng.job_refs[job][3:5]
    return order[: eng.jobs[job].issued].copy(), when.copy(), *job_span_of(eng, job)


cdef tuple job_span_of(Engine eng, int job):
    """Engine.job_span of job ``job`` (-1: none yet)."""
    if job < 0:
        return -1, -1, 0
    return eng.jobs[job].first, eng.jobs[job].last_pre, eng.jobs[job].closes


cdef object job_counts(Engine eng, int job):
    """Engine.job_counters of job ``job`` (-1: none yet, zeros)."""
    if job < 0:
        return (np.zeros(eng.core.n_cmds, dtype=np.int64), 0, np.empty(0, dtype=np.int64),
                np.empty(0, dtype=np.int64))
    kinds, busy, seen = eng.job_refs[job][5:8]
    banks = np.flatnonzero(seen)
    return kinds.copy(), eng.jobs[job].raised, banks, busy[banks]
