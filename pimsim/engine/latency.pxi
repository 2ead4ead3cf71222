# The read-latency histogram of each channel (included by pimsim/_replay.pyx): exact
# below 2**LAT_EXACT_BITS ticks, log-spaced buckets above.

cdef enum:  # the read-latency histogram (see lat_bucket)
    LAT_EXACT_BITS = 14   # latencies below 2**14 ticks are counted exactly
    LAT_SUB_BITS = 6      # above, 2**6 buckets per octave (each at most 1/64 of its low edge)
    LAT_TAIL = (63 - LAT_EXACT_BITS) << LAT_SUB_BITS

LATENCY_EXACT_TICKS = 1 << LAT_EXACT_BITS


cdef inline int64_t lat_bucket(int64_t lat) noexcept nogil:
    """Tail bucket of a latency of at least 2**LAT_EXACT_BITS ticks: its octave, then the
    next LAT_SUB_BITS bits below the leading one."""
    cdef int e = LAT_EXACT_BITS
    while lat >> (e + 1):
        e += 1
    return ((e - LAT_EXACT_BITS) << LAT_SUB_BITS) | ((lat >> (e - LAT_SUB_BITS))
                                                     & ((1 << LAT_SUB_BITS) - 1))


def latency_buckets():
    """Inclusive (low, high) tick bounds of the histogram's tail buckets, as int64 arrays."""
    b = np.arange(LAT_TAIL, dtype=np.int64)
    shift = (b >> LAT_SUB_BITS) + LAT_EXACT_BITS - LAT_SUB_BITS
    low = ((1 << LAT_SUB_BITS) + (b & ((1 << LAT_SUB_BITS) - 1))) << shift
    return low, low + (np.int64(1) << shift) - 1


cdef void count_latency(Engine eng, Channel* c, int64_t lat) noexcept nogil:
    """Add a read latency (ticks) to the histogram: exact below 2**LAT_EXACT_BITS ticks,
    a log-spaced bucket above, so its memory does not grow with the latency."""
    if lat < (1 << LAT_EXACT_BITS):
        c.lat_hist[lat] += 1
    else:
        c.lat_tail[lat_bucket(lat)] += 1
    if lat > c.lat_max:
        c.lat_max = lat
    c.lat_sum += (lat + eng.tick - 1) // eng.tick


cdef object channel_counters(Engine eng, int ch):
    """Engine.channel_stats (see its docstring)."""
    cdef Channel* c = &eng.chans[ch]
    hist = np.zeros(1 << LAT_EXACT_BITS, dtype=np.int64)
    tail = np.zeros(LAT_TAIL, dtype=np.int64)
    cdef int64_t[::1] view = hist
    memcpy(&view[0], c.lat_hist, (1 << LAT_EXACT_BITS) * sizeof(int64_t))
    view = tail
    memcpy(&view[0], c.lat_tail, LAT_TAIL * sizeof(int64_t))
    return {
        "reads": c.reads, "writes": c.writes, "forwarded_reads": c.forwarded,
        "row_hits": c.hits, "row_misses": c.misses, "row_conflicts": c.conflicts,
        "refreshes": c.refreshes, "last_event": c.last_event,
        "latency_histogram": np.trim_zeros(hist, "b"),
        "latency_tail": tail, "latency_max": c.lat_max, "latency_sum": c.lat_sum,
    }
