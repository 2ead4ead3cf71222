# Idle refresh intervals counted in closed form (included by pimsim/_replay.pyx).


cdef bint _quiet(Engine eng, int64_t slot) noexcept nogil:
    """Every channel waits for its refresh at ``slot`` with no refresh queued and every
    bank closed, and no command issued so far holds any command back beyond ``slot``:
    what happens from ``slot`` on depends on nothing before it (the engine is idle)."""
    cdef int ch, r, w
    cdef Py_ssize_t i
    for ch in range(eng.n_channels):
        if eng.chans[ch].next_refresh != slot or eng.chans[ch].priority.n:
            return False
        for r in range(eng.ranks):
            if eng.core.open_banks[ch * eng.ranks + r]:
                return False
    for w in range(eng.core.n_windows):
        if eng.core.win_prev[w, C_REF] or eng.core.win_next[w, C_REF]:
            return False
    for i in range(eng.core.future.shape[0]):
        if eng.core.future[i] > slot:
            return False
    return True


cdef void _skip_refreshes(Engine eng, int64_t horizon) noexcept nogil:
    """Count idle refresh intervals before ``horizon`` in closed form.

    Called when the engine is idle. An interval that starts quiet (see _quiet), runs
    nothing but refreshes and ends quiet repeats unchanged (the controller's behaviour
    does not depend on absolute time) until something else happens. So when the last
    interval did, every further whole interval before ``horizon`` but the last is not
    simulated: its commands and refreshes are added to the counters, ``next_refresh``
    moves on, and the last interval runs normally (its commands set the timing state).
    """
    cdef int ch, cmd, n_cmds = eng.core.n_cmds
    cdef int64_t slot = eng.chans[0].next_refresh, n, k, delta
    cdef int64_t interval = eng.refresh_interval
    if slot <= eng.now or not _quiet(eng, slot):
        eng.skip_slot = -1
        return
    if eng.skip_slot == slot:
        return
    n = (horizon - slot) // interval - 1
    if eng.skip_slot == slot - interval and eng.skip_sent == eng.sent and n > 0:
        for ch in range(eng.n_channels):
            for cmd in range(n_cmds):
                k = ch * n_cmds + cmd
                delta = eng.core.counts[k] - eng.skip_counts[k]
                if delta and (cmd != C_REF or delta != eng.chans[ch].refreshes
                              - eng.skip_refreshes[ch]):
                    n = 0  # the interval ran more than its refreshes
                elif delta and n > (FOREVER - eng.core.counts[k]) // delta:
                    n = (FOREVER - eng.core.counts[k]) // delta  # counters stay int64
        if n > 0:
            for ch in range(eng.n_channels):
                k = ch * n_cmds + C_REF
                eng.core.counts[k] += n * (eng.core.counts[k] - eng.skip_counts[k])
                eng.chans[ch].refreshes += n * (eng.chans[ch].refreshes
                                                 - eng.skip_refreshes[ch])
                eng.chans[ch].next_refresh += n * interval
            eng.skip_slot = -1
            return
    eng.skip_slot = slot
    eng.skip_sent = eng.sent
    for ch in range(eng.n_channels):
        eng.skip_refreshes[ch] = eng.chans[ch].refreshes
        for cmd in range(n_cmds):
            eng.skip_counts[ch * n_cmds + cmd] = eng.core.counts[ch * n_cmds + cmd]
