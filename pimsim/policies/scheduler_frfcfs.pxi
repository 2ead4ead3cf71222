# FR-FCFS (Rixner et al., ISCA 2000): the oldest request whose next command is ready now.
# Queues are kept in arrival order, so the first ready one is the oldest ready one. When none
# is ready, *soonest is lowered to the earliest cycle one will be.

cdef int pick_frfcfs(Engine eng, Queue* q, int ch, int64_t now,
                     int64_t* soonest) noexcept nogil:
    cdef int i
    cdef int64_t when
    for i in range(q.n):
        when = eng.ready_at(ch, &q.items[i])
        if when <= now:
            return i
        if when < soonest[0]:
            soonest[0] = when
    return -1
