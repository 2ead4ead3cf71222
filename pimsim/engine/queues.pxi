# The queues of a channel controller (included by pimsim/_replay.pyx): requests in arrival
# order, removal and insertion by age, and a channel's allocation and release.


cdef int queue_init(Queue* q, int cap) except -1:
    q.items = <Req*>calloc(cap, sizeof(Req))
    if q.items == NULL:
        raise MemoryError()
    q.n = 0
    q.cap = cap
    return 0


cdef inline void queue_remove(Queue* q, int i) noexcept nogil:
    memmove(&q.items[i], &q.items[i + 1], (q.n - i - 1) * sizeof(Req))
    q.n -= 1


cdef inline void queue_insert_by_age(Queue* q, Req* r) noexcept nogil:
    """Insert keeping arrival order (the caller checked there is room)."""
    cdef int i = q.n
    while i > 0 and q.items[i - 1].arrive > r.arrive:
        i -= 1
    memmove(&q.items[i + 1], &q.items[i], (q.n - i) * sizeof(Req))
    q.items[i] = r[0]
    q.n += 1


cdef int channel_init(Channel* c, int read_queue, int write_queue, int banks, int refreshes,
                      int64_t refresh_interval) except -1:
    """Allocate a channel's queues (``banks`` entries in the active buffer, ``refreshes`` in
    the priority queue), its read-return ring and latency histogram; zeroed counters."""
    queue_init(&c.readq, read_queue)
    queue_init(&c.writeq, write_queue)
    queue_init(&c.active, banks)
    queue_init(&c.priority, refreshes)
    c.pend_cap = 64
    c.pending = <Req*>malloc(c.pend_cap * sizeof(Req))
    c.lat_hist = <int64_t*>calloc(1 << LAT_EXACT_BITS, sizeof(int64_t))
    c.lat_tail = <int64_t*>calloc(LAT_TAIL, sizeof(int64_t))
    if c.pending == NULL or c.lat_hist == NULL or c.lat_tail == NULL:
        raise MemoryError()
    c.next_refresh = refresh_interval if refresh_interval > 0 else -1
    c.pick_stamp = -1
    return 0


cdef void channel_free(Channel* c) noexcept:
    """Release what channel_init allocated."""
    free(c.readq.items)
    free(c.writeq.items)
    free(c.active.items)
    free(c.priority.items)
    free(c.pending)
    free(c.lat_hist)
    free(c.lat_tail)
    free(c.jobs)
