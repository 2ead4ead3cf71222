"""Results of a run, computed after it from what it counted (DESIGN.md, "Data flow").

``counters`` is the frozen snapshot taken once from the core (pimsim.device.Device.snapshot);
``stats`` (the stats document) and ``energy`` are pure functions of it, the config and the
energy profile; ``report`` prints, writes CSV and plots a comparison; ``drampower`` writes the
command stream as a DRAMPower trace. Nothing here imports the device or the compiled core.
"""
