# The CPU host model of the replay engine (included by pimsim/_replay.pyx): a core that
# keeps a bounded number of reads in flight and holds each write in a store buffer until
# the reads it needs are back and its result is computed (host_load, drain_store).


cdef int host_load(Engine eng, const int64_t[::1] cycles, const uint8_t[::1] is_write,
                   const int32_t[:, ::1] fields, const uint64_t[::1] addresses,
                   const int32_t[::1] deps, int misses_in_flight,
                   double compute_ticks) except -1:
    """Engine.load_host: make a host program the next requests (see its docstring)."""
    if not eng._idle():
        raise RuntimeError("load_host needs every earlier request served")
    if misses_in_flight < 1 or compute_ticks < 0:
        raise ValueError("misses_in_flight must be >= 1 and compute_ticks >= 0")
    if deps.shape[0] != cycles.shape[0] or is_write.shape[0] != cycles.shape[0]:
        raise ValueError("chunk arrays differ in length")
    cdef Py_ssize_t k
    for k in range(deps.shape[0]):
        if not 0 <= deps[k] <= k or (deps[k] and not is_write[k]):
            raise ValueError(f"request {k}: deps must count earlier requests, writes only")
    trace_load(eng, cycles, is_write, fields, addresses)
    eng.t_deps = deps
    eng.t_done = np.full(cycles.shape[0], FOREVER, dtype=np.int64)
    free(eng.sb)
    eng.sb = <int64_t*>malloc(misses_in_flight * sizeof(int64_t))
    if eng.sb == NULL:
        raise MemoryError()
    eng.sb_cap = misses_in_flight
    eng.sb_head = eng.sb_n = 0
    eng.sb_ready = -1
    eng.inflight = 0
    eng.host_mlp = misses_in_flight
    eng.compute_ticks = compute_ticks
    eng.compute_free = 0
    return 0


cdef int drain_store(Engine eng) except -1 nogil:
    """Host mode: move the store buffer's oldest write into its write queue once its
    reads are back and its result computed; 1 if one moved."""
    cdef int64_t k, j, dep = 0
    cdef Req r
    if eng.sb_n == 0:
        return 0
    k = eng.sb[eng.sb_head]
    if eng.sb_ready < 0:
        for j in range(k - eng.t_deps[k], k):
            if eng.t_done[j] == FOREVER:
                return 0
            if eng.t_done[j] > dep:
                dep = eng.t_done[j]
        if dep > eng.compute_free:
            eng.compute_free = dep
        eng.compute_free += eng.compute_ticks
        eng.sb_ready = <int64_t>eng.compute_free
        if eng.sb_ready < eng.compute_free:
            eng.sb_ready += 1
        eng.sb_ready = (eng.sb_ready + eng.tick - 1) // eng.tick * eng.tick
    if eng.sb_ready > eng.now:
        return 0
    make_req(eng, k, &r)
    if not enqueue(eng, eng.t_fields[k, 0], &r):
        return 0
    eng.sb_head = (eng.sb_head + 1) % eng.sb_cap
    eng.sb_n -= 1
    eng.sb_ready = -1
    return 1
