"""Pieces of the compiled replay engine, one job per file, included by pimsim/_replay.pyx.

``_replay.pyx`` keeps the engine's core: the channel controllers (queues, scheduler and row
policy hooks, command issue, read returns) and the run loop. The pieces here are module-level
C functions taking the Engine (as the policies in pimsim/policies are):

- ``frontend.pxi``: the current trace chunk and the request it offers each cycle, and the
  door every request enters its queue by;
- ``agents.pxi``: single tagged requests of SimPy agents (pimsim.agents), and the tags of
  those completed;
- ``host.pxi``: the CPU host model (reads in flight, store buffer, compute rate);
- ``jobs.pxi``: in-DRAM jobs (command streams in phases scheduled with the requests), up
  to MAX_JOBS at once: jobs on disjoint banks overlap;
- ``refresh.pxi``: idle refresh intervals counted in closed form;
- ``latency.pxi``: the read-latency histogram of each channel;
- ``queues.pxi``: a channel's queues (arrival order, removal, insertion by age).
"""
