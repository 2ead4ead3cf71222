"""Controller policies: one implementation per .pxi file, compiled into pimsim._replay.

Schedulers pick the request to serve from one queue; row policies decide whether a column
command closes its row (auto-precharge). They are chosen by name in the config's
``controller`` section (``scheduler: frfcfs|fcfs``, ``row_policy: open|closed``).
"""

SCHEDULERS = ("frfcfs", "fcfs")
ROW_POLICIES = ("open", "closed")
