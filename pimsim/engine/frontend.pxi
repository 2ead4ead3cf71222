# The trace frontend of the replay engine (included by pimsim/_replay.pyx): the current
# chunk of trace requests (trace_load), the request it offers each cycle (send), and the
# door every request (trace, host model, agents) enters its channel's queues by (enqueue).


cdef int trace_load(Engine eng, const int64_t[::1] cycles, const uint8_t[::1] is_write,
                    const int32_t[:, ::1] fields, const uint64_t[::1] addresses) except -1:
    """Engine.load: make a chunk the next requests to send (see its docstring)."""
    cdef Py_ssize_t n
    if eng.t_next < eng.t_n:
        raise RuntimeError("the previous chunk has unsent requests")
    n = cycles.shape[0]
    if is_write.shape[0] != n or fields.shape[0] != n or addresses.shape[0] != n \
            or fields.shape[1] != 6:
        raise ValueError("chunk arrays differ in length")
    eng.t_cycle, eng.t_write, eng.t_fields, eng.t_addr = cycles, is_write, fields, \
        addresses
    eng.t_n = n
    eng.t_next = 0
    eng.blocked = False
    eng.host_mlp = 0
    return 0


cdef void make_req(Engine eng, Py_ssize_t k, Req* r) noexcept nogil:
    """Request ``k`` of the chunk, arriving now."""
    memset(r, 0, sizeof(Req))
    r.addr = eng.t_addr[k]
    r.rank = eng.t_fields[k, 1]
    r.bg = eng.t_fields[k, 2]
    r.bank = eng.t_fields[k, 3]
    r.row = eng.t_fields[k, 4]
    r.col = eng.t_fields[k, 5]
    r.kind = K_WRITE if eng.t_write[k] else K_READ
    r.arrive = eng.now
    r.depart = -1
    r.seen_row = -2
    r.index = k if eng.host_mlp else -1
    r.seq = eng.sent
    eng.sent += 1
    eng.set_nodes(eng.t_fields[k, 0], r)


cdef int send(Engine eng) except -1 nogil:
    """Offer the next trace request at ``now``: 1 if it entered, 0 if it must wait (its
    queue is full; in host mode, too many reads in flight or the store buffer full)."""
    cdef Py_ssize_t k = eng.t_next
    cdef Req r
    if eng.host_mlp:
        if eng.t_write[k]:
            if eng.sb_n == eng.sb_cap:
                return 0
            eng.sb[(eng.sb_head + eng.sb_n) % eng.sb_cap] = k
            eng.sb_n += 1
            return 1
        if eng.inflight >= eng.host_mlp:
            return 0
    make_req(eng, k, &r)
    if not enqueue(eng, eng.t_fields[k, 0], &r):
        return 0
    if r.kind == K_READ and eng.host_mlp:
        eng.inflight += 1
    return 1


cdef int enqueue(Engine eng, int ch, Req* rp) except -1 nogil:
    """Put a request into channel ``ch``'s queue: 1, or 0 if the queue is full."""
    cdef Channel* c = &eng.chans[ch]
    cdef Queue* q
    cdef int i
    if rp.kind == K_READ:
        for i in range(c.writeq.n):
            if (c.writeq.items[i].addr & LINE_MASK) == (rp.addr & LINE_MASK):
                rp.depart = eng.now + eng.tick
                eng._push_pending(c, rp)
                c.forwarded += 1
                return 1
    q = &c.readq if rp.kind == K_READ else &c.writeq
    if q.n >= q.cap:
        return 0
    q.items[q.n] = rp[0]
    q.n += 1
    return 1
