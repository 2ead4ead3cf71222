# Open row: a column command leaves its row open; a later request to another row pays PRE.

cdef bint close_open(Engine eng, int ch, Req* r) noexcept nogil:
    return False
