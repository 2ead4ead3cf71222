# Closed row with a cap: a column command closes its row (RDA/WRA) unless another queued
# request still wants that row, and once the row has served row_cap column commands even
# then -- but never while a request that opened the row (the active buffer) still needs it.

cdef bint close_closed(Engine eng, int ch, Req* r) noexcept nogil:
    cdef Channel* c = &eng.chans[ch]
    if wants_row(eng, &c.active, r):
        return False
    if eng.row_accesses[r.bank_flat] + 1 >= eng.row_cap:
        return True
    return not (wants_row(eng, &c.active, r) or wants_row(eng, &c.readq, r)
                or wants_row(eng, &c.writeq, r))


cdef bint wants_row(Engine eng, Queue* q, Req* r) noexcept nogil:
    """Another request of ``q`` targets the same row of the same bank as ``r``."""
    cdef int i
    cdef Req* o
    for i in range(q.n):
        o = &q.items[i]
        if o != r and o.kind != K_REFRESH and o.rank == r.rank and o.bg == r.bg \
                and o.bank == r.bank and o.row == r.row:
            return True
    return False
