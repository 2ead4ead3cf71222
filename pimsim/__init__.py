"""pimsim: a cycle-level simulator of DRAM processing-in-memory (Ambit, RowClone).

Entry points: the ``pimsim`` command line (pimsim.cli), :func:`pimsim.config.load_config`,
:class:`pimsim.device.Device` (the DRAM core) and :class:`pimsim.sim.Replay` (trace replay).
"""

__version__ = "0.1.0"
