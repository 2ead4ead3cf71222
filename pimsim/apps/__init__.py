"""End-to-end workloads (``pimsim workload NAME``): an application done in DRAM and by the
CPU over the bus, on the same controller, timing and energy model.

Each workload is one module with a :class:`pimsim.apps.sweep.Workload`; the sweep over its
sizes, the document, table, CSV and plot are shared (pimsim.apps.sweep, pimsim.apps.output).
(``pimsim.workloads`` is something else: the synthetic request streams of the cross-check.)
"""

from __future__ import annotations

from pimsim.apps.bitmap import BITMAP_INDEX
from pimsim.apps.bitweaving import BITWEAVING
from pimsim.apps.gemv import GEMV
from pimsim.apps.sets import SETS
from pimsim.apps.sweep import Workload

#: The workloads by name, in ``--help`` order (bnn is built per dataset by its command).
WORKLOADS: dict[str, Workload] = {w.name: w for w in (BITMAP_INDEX, BITWEAVING, SETS, GEMV)}
