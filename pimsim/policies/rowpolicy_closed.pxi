# Closed row with a cap: a column command closes its row (RDA/WRA) unless another queued
# request still wants that row, and once the row has served row_cap column commands even
# then -- but never while a request that opened the row (the active buffer) still needs it.

cdef bint close_closed(Engine eng, int ch, Req* r) noexcept nogil:
    cdef Channel* c = &eng.chans[ch]
    if eng.wants_row(&c.active, r):
        return False
    if eng.row_accesses[r.bank_flat] + 1 >= eng.row_cap:
        return True
    return not (eng.wants_row(&c.active, r) or eng.wants_row(&c.readq, r)
                or eng.wants_row(&c.writeq, r))
