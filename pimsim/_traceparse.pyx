# cython: language_level=3
"""Parse blocks of trace text in C: one pass over the bytes, no Python object per line.

``parse_block`` fills numpy arrays with the requests of a block of complete lines and stops
at the first malformed line, reporting which line and field and the offending token; the
messages are written by pimsim.tracefile, the only caller.

Grammar (the same as pimsim.tracefile's BBOP/COPY parser): tokens are separated by ASCII
space, tab, CR, VT or FF; a token starting with '#' starts a comment to the end of the line;
a cycle is 1 to 18 ASCII decimal digits, an address 1 to 16 hex digits with an optional 0x.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int64_t, uint8_t, uint64_t

cnp.import_array()

cdef enum:
    F_PIMSIM = 0
    F_DRAMSIM3 = 1
    F_RAMULATOR = 2

FORMAT_CODES = {"pimsim": F_PIMSIM, "dramsim3": F_DRAMSIM3, "ramulator": F_RAMULATOR}

# error fields reported back
cdef enum:
    E_NONE = 0
    E_LINE = 1
    E_OP = 2
    E_CYCLE = 3
    E_ADDRESS = 4
    E_PIM = 5  # not an error: a BBOP/COPY line, which pimsim.tracefile parses itself
    E_LONG = 6  # a line longer than the caller's bound

ERROR_FIELDS = {E_LINE: "line", E_OP: "op", E_CYCLE: "cycle", E_ADDRESS: "address",
                E_PIM: "pim", E_LONG: "length"}

cdef enum:
    MAX_TOKENS = 4


cdef inline bint is_space(unsigned char ch) noexcept nogil:
    return ch == 32 or ch == 9 or ch == 13 or ch == 11 or ch == 12


cdef inline unsigned char upper(unsigned char ch) noexcept nogil:
    return ch - 32 if 97 <= ch <= 122 else ch


cdef bint parse_dec(const unsigned char* p, Py_ssize_t n, int64_t* out) noexcept nogil:
    cdef int64_t v = 0
    cdef Py_ssize_t i
    if n == 0 or n > 18:
        return False
    for i in range(n):
        if p[i] < 48 or p[i] > 57:
            return False
        v = v * 10 + (p[i] - 48)
    out[0] = v
    return True


cdef bint parse_hex(const unsigned char* p, Py_ssize_t n, uint64_t* out) noexcept nogil:
    cdef uint64_t v = 0
    cdef Py_ssize_t i
    cdef unsigned char ch
    if n >= 2 and p[0] == 48 and (p[1] == 120 or p[1] == 88):  # 0x / 0X
        p += 2
        n -= 2
    if n == 0 or n > 16:
        return False
    for i in range(n):
        ch = p[i]
        if 48 <= ch <= 57:
            v = (v << 4) | (ch - 48)
        elif 97 <= ch <= 102:
            v = (v << 4) | (ch - 87)
        elif 65 <= ch <= 70:
            v = (v << 4) | (ch - 55)
        else:
            return False
    out[0] = v
    return True


cdef bint token_is(const unsigned char* p, Py_ssize_t n, const char* word) noexcept nogil:
    """Case-insensitive comparison of a token with an upper-case word."""
    cdef Py_ssize_t i = 0
    while i < n and word[i] != 0:
        if upper(p[i]) != <unsigned char>word[i]:
            return False
        i += 1
    return i == n and word[i] == 0


def parse_block(const unsigned char[::1] data, int fmt, Py_ssize_t begin, Py_ssize_t max_line):
    """Parse ``data[begin:]`` (complete lines) in format ``fmt`` (a FORMAT_CODES value);
    a line of more than ``max_line`` bytes is an error (field "length").

    Returns (cycle, is_write, address, line, error) where the arrays hold the requests in
    order, ``line`` the 0-based index of each request's line counted from ``begin``, and
    ``error`` is None or (line index, field name, the offending token as bytes or the field
    count or line length as text, byte offsets of the line's start and end in ``data``).
    A native-format BBOP or COPY line stops the parse like an error, with the field "pim":
    the caller parses that line and resumes after it.
    """
    cdef Py_ssize_t n = data.shape[0], pos = begin, start = begin, end = begin, k, ntok = 0
    cdef Py_ssize_t count = 0, line_no = 0, capacity
    cdef Py_ssize_t tok_start[MAX_TOKENS]
    cdef Py_ssize_t tok_len[MAX_TOKENS]
    cdef const unsigned char* base = &data[0] if n > 0 else NULL
    cdef int err = E_NONE, err_tok = -1
    cdef int64_t cyc
    cdef uint64_t addr
    cdef bint wr
    # a request line takes at least 5 bytes with its newline ("LD 0\n"), the last one 4:
    # a bound on the requests without a pass over the bytes (the caller resumes after each
    # BBOP/COPY line, so a count would make a block of them quadratic)
    capacity = (n - begin) // 5 + 1
    cycles = np.empty(capacity, dtype=np.int64)
    writes = np.empty(capacity, dtype=np.uint8)
    addresses = np.empty(capacity, dtype=np.uint64)
    lines = np.empty(capacity, dtype=np.int64)
    cdef int64_t[::1] c_out = cycles
    cdef uint8_t[::1] w_out = writes
    cdef uint64_t[::1] a_out = addresses
    cdef int64_t[::1] l_out = lines
    with nogil:
        while pos < n:
            start = pos
            while pos < n and base[pos] != 10:
                pos += 1
            end = pos
            pos += 1
            if end - start > max_line:
                err = E_LONG
                break
            # tokenize, up to a token that starts a comment
            ntok = 0
            k = start
            while k < end:
                while k < end and is_space(base[k]):
                    k += 1
                if k >= end or base[k] == 35:  # '#'
                    break
                if ntok < MAX_TOKENS:
                    tok_start[ntok] = k
                while k < end and not is_space(base[k]):
                    k += 1
                if ntok < MAX_TOKENS:
                    tok_len[ntok] = k - tok_start[ntok]
                ntok += 1
            if ntok == 0:  # blank or a comment
                line_no += 1
                continue
            if fmt == F_RAMULATOR:
                if ntok != 2:
                    err = E_LINE
                elif token_is(base + tok_start[0], tok_len[0], b"LD"):
                    wr = False
                elif token_is(base + tok_start[0], tok_len[0], b"ST"):
                    wr = True
                else:
                    err, err_tok = E_OP, 0
                if err == E_NONE:
                    cyc = 0
                    if not parse_hex(base + tok_start[1], tok_len[1], &addr):
                        err, err_tok = E_ADDRESS, 1
            elif fmt == F_PIMSIM and ntok >= 2 and (
                    token_is(base + tok_start[1], tok_len[1], b"BBOP")
                    or token_is(base + tok_start[1], tok_len[1], b"COPY")):
                err = E_PIM
            elif ntok != 3:
                err = E_LINE
            elif fmt == F_PIMSIM:
                if token_is(base + tok_start[1], tok_len[1], b"R"):
                    wr = False
                elif token_is(base + tok_start[1], tok_len[1], b"W"):
                    wr = True
                else:
                    err, err_tok = E_OP, 1
                if err == E_NONE and not parse_dec(base + tok_start[0], tok_len[0], &cyc):
                    err, err_tok = E_CYCLE, 0
                if err == E_NONE and not parse_hex(base + tok_start[2], tok_len[2], &addr):
                    err, err_tok = E_ADDRESS, 2
            else:  # DRAMSim3
                if token_is(base + tok_start[1], tok_len[1], b"READ"):
                    wr = False
                elif token_is(base + tok_start[1], tok_len[1], b"WRITE"):
                    wr = True
                else:
                    err, err_tok = E_OP, 1
                if err == E_NONE and not parse_hex(base + tok_start[0], tok_len[0], &addr):
                    err, err_tok = E_ADDRESS, 0
                if err == E_NONE and not parse_dec(base + tok_start[2], tok_len[2], &cyc):
                    err, err_tok = E_CYCLE, 2
            if err != E_NONE:
                break
            c_out[count] = cyc
            w_out[count] = wr
            a_out[count] = addr
            l_out[count] = line_no
            count += 1
            line_no += 1
    error = None
    if err != E_NONE:
        if err_tok >= 0:
            detail = bytes(data[tok_start[err_tok]:tok_start[err_tok] + tok_len[err_tok]])
        elif err == E_LONG:
            detail = str(end - start)
        else:
            detail = str(ntok)
        error = (line_no, ERROR_FIELDS[err], detail, start, end)
    return cycles[:count], writes[:count].view(bool), addresses[:count], lines[:count], error
