# Agents' requests (included by pimsim/_replay.pyx): single tagged requests submitted at the
# current tick (agent_submit) wait in an inbox ring and enter, oldest first, at most one per
# cycle (agent_send); a read's tag is reported when its data returns, a write's when it
# issues (push_done), and run() stops with COMPLETED at the end of the cycle, so a SimPy
# process per agent costs one Python event per request, none per DRAM command.


cdef int agent_submit(Engine eng, int32_t tag, uint64_t addr, int ch, int rank, int bg,
                      int bank, int row, int col, bint write) except -1:
    """Engine.submit: queue an agent's request in the inbox (see its docstring)."""
    cdef int64_t k, cap
    cdef Req* grown
    cdef Req* r
    if eng.in_n == eng.in_cap:
        cap = 2 * eng.in_cap if eng.in_cap else 16
        grown = <Req*>malloc(cap * sizeof(Req))
        if grown == NULL:
            raise MemoryError()
        for k in range(eng.in_n):
            grown[k] = eng.in_items[(eng.in_head + k) % eng.in_cap]
        free(eng.in_items)
        eng.in_items = grown
        eng.in_head = 0
        eng.in_cap = cap
    r = &eng.in_items[(eng.in_head + eng.in_n) % eng.in_cap]
    memset(r, 0, sizeof(Req))
    r.addr = addr
    r.rank, r.bg, r.bank, r.row, r.col = rank, bg, bank, row, col
    r.kind = K_WRITE if write else K_READ
    r.depart = -1
    r.seen_row = -2
    r.index = -1
    r.tag = tag
    eng.set_nodes(ch, r)
    eng.in_n += 1
    eng.in_blocked = False
    return 0


cdef int agent_send(Engine eng) except -1 nogil:
    """Offer the inbox's oldest request at ``now``: 1 if it entered its queue, 0 if full."""
    cdef Req r = eng.in_items[eng.in_head]
    r.arrive = eng.now
    r.seq = eng.sent
    if not enqueue(eng, r.nodes[0], &r):
        return 0
    eng.sent += 1
    eng.in_head = (eng.in_head + 1) % eng.in_cap
    eng.in_n -= 1
    eng.in_sent = eng.now
    return 1


cdef int push_done(Engine eng, int32_t tag) except -1 nogil:
    """Report ``tag`` as completed in cycle ``now``."""
    cdef int64_t cap
    cdef int64_t* grown
    if eng.done_n == eng.done_cap:
        cap = 2 * eng.done_cap if eng.done_cap else 16
        grown = <int64_t*>realloc(eng.done_tags, cap * sizeof(int64_t))
        if grown == NULL:
            with gil:
                raise MemoryError()
        eng.done_tags = grown
        eng.done_cap = cap
    eng.done_tags[eng.done_n] = tag
    eng.done_n += 1
    return 0


cdef object take_completions(Engine eng):
    """Engine.completions: the tags completed in cycle ``now``, forgotten by the engine."""
    tags = np.empty(eng.done_n, dtype=np.int64)
    cdef int64_t[::1] view = tags
    if eng.done_n:
        memcpy(&view[0], eng.done_tags, eng.done_n * sizeof(int64_t))
    eng.done_n = 0
    return tags
