"""SimPy agents over the compiled DRAM engine: a closed-loop core in a few lines of Python.

An agent is a generator run as a SimPy process; it yields the events of a
:class:`~pimsim.agents.system.System` and resumes when the memory answers::

    from pimsim.agents import System
    from pimsim.config import load_config

    sim = System(load_config("ddr4-2400"), with_data=False)

    def chase(sim, addrs):            # a dependent load chain: one miss at a time
        for a in addrs:
            yield sim.read(a)         # fires when the data is back (value: that cycle)

    def offload(sim):                 # a CPU that issues a bulk op and waits for it
        report = yield sim.bbop("and", 0x0, 0x4000000, 0x8000000, size=1 << 16)
        yield sim.timeout(100)        # memory-clock cycles

    sim.process(chase(sim, [i << 20 for i in range(100)]))
    sim.process(offload(sim))
    doc = sim.run()                   # the stats document, as ``pimsim run`` gives

``read(addr)`` and ``write(addr)`` move one 64-byte burst (a read fires when its data is back,
a write when it issues); ``bbop(op, dst, *sources, size=...)`` runs a bulk operation in DRAM
as a job of the controller (fires with its OpReport when done; bulk operations on disjoint
banks run at once); ``timeout(cycles)`` waits.
Trace replay (pimsim.sim.Replay) is an agent of the same kind that feeds the engine whole
trace chunks, so it keeps the compiled path's speed.
"""

from pimsim.agents.system import QUANTUM, SimulationError, System

__all__ = ["QUANTUM", "SimulationError", "System"]
