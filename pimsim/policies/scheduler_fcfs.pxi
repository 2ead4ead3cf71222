# FCFS: only the oldest request may be served; nothing issues until its command is ready.
# When it is not ready, *soonest is lowered to the cycle it will be.

cdef int pick_fcfs(Engine eng, Queue* q, int ch, int64_t now, int64_t* soonest) noexcept nogil:
    cdef int64_t when
    if q.n == 0:
        return -1
    when = eng.ready_at(ch, &q.items[0])
    if when <= now:
        return 0
    if when < soonest[0]:
        soonest[0] = when
    return -1
