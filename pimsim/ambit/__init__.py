"""Processing using DRAM: Ambit's triple-row activation and RowClone, on the simulated device.

``layout``: which rows of a subarray are data, constant and compute rows. ``vectors``: PIM
vectors and where their rows go. ``lowering``: µprograms lowered to arrays and command
templates broadcast over rows. ``copies``: RowClone PSM / PSM twice / LISA-RISC templates.
``staging``: rows that run in DRAM after copies. ``rowdata``: vectorized data effects.
``jobs``: command tables given to the controller, and their counters. ``fallback``: rows done
by the host model. ``bulk``: bulk operations over vectors (the entry point). ``report``: what
an operation did. ``execute``: the slow per-command twin tests check all of this against.
"""
