"""Trace replay on SimPy: a frontend process feeds one controller process per channel.

SimPy's clock counts memory cycles. The frontend takes requests in trace order; a request may
not enter before its trace cycle, at most one enters per cycle, and when its queue is full the
frontend retries the next cycle. Each controller process runs one controller step per cycle in
which something can happen and sleeps through the idle cycles in between (woken early when
a request arrives), so there is no SimPy event per DRAM command when nothing interleaves.
The run ends when every read has returned its data and every write has been issued;
``cycles`` is the cycle of that last event plus one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import simpy

from pimsim.addrmap import AddressError, AddressMapper
from pimsim.config import Config
from pimsim.controller import READ, WRITE, ChannelController, ControllerParams, Request
from pimsim.device import Device
from pimsim.errors import TraceError
from pimsim.stats import build_stats
from pimsim.tracefile import read_trace


class Replay:
    """One replay of one trace on one configuration."""

    def __init__(
        self,
        config: Config,
        trace: str | Path,
        fmt: str = "auto",
        limit: int | None = None,
        with_data: bool = True,
        params: ControllerParams | None = None,
        on_progress: Callable[[int], None] | None = None,
    ):
        self.config = config
        self.trace = Path(trace)
        self.fmt, self.limit = fmt, limit
        self.device = Device(config)
        self.mapper = AddressMapper(config.organisation, config.address_scheme)
        self.params = params or ControllerParams()
        self.controllers = [
            ChannelController(self.device, ch, self.params, with_data)
            for ch in range(config.organisation.channels)
        ]
        self.env = simpy.Environment()
        self.wake = [self.env.event() for _ in self.controllers]
        self.frontend_done = False
        self.on_progress = on_progress
        self.interrupted = False

    def _frontend(self):
        env = self.env
        sent = 0
        for chunk in read_trace(self.trace, self.fmt, self.limit):
            fields = self._decode(chunk)
            for i in range(len(chunk)):
                ch, rank, bg, bank, row, col = (int(v) for v in fields[i])
                if chunk.cycle[i] > env.now:
                    yield env.timeout(int(chunk.cycle[i]) - env.now)
                req = Request(
                    WRITE if chunk.is_write[i] else READ,
                    int(chunk.address[i]),
                    rank,
                    bg,
                    bank,
                    row,
                    col,
                )
                while not self.controllers[ch].send(req, env.now):
                    yield env.timeout(1)
                self._poke(ch)
                sent += 1
                yield env.timeout(1)
            if self.on_progress:
                self.on_progress(sent)
        self.frontend_done = True
        for ch in range(len(self.controllers)):
            self._poke(ch)

    def _decode(self, chunk) -> np.ndarray:
        """Address fields of a chunk; an address outside the memory names its trace line."""
        try:
            return self.mapper.decode_array(chunk.address)
        except AddressError as exc:
            bad = int(np.argmax(chunk.address >= np.uint64(self.mapper.capacity_bytes)))
            raise TraceError(
                str(self.trace), int(chunk.first_line[bad]), "address", str(exc)
            ) from None

    def _poke(self, ch: int) -> None:
        if not self.wake[ch].triggered:
            self.wake[ch].succeed()

    def _controller(self, ch: int):
        env, ctrl = self.env, self.controllers[ch]
        last_step = -1
        while True:
            if env.now == last_step:  # woken in a cycle already stepped: one step per cycle
                yield env.timeout(1)
            last_step = env.now
            acted = ctrl.step(env.now)
            if self.frontend_done and ctrl.idle():
                return
            nxt = env.now + 1 if acted else ctrl.next_event(env.now)
            self.wake[ch] = env.event()
            if nxt < 0:
                yield self.wake[ch]
            else:
                yield env.timeout(nxt - env.now) | self.wake[ch]

    def run(self) -> dict:
        """Replay the whole trace (Ctrl-C stops early) and return the stats document."""
        self.env.process(self._frontend())
        for ch in range(len(self.controllers)):
            self.env.process(self._controller(ch))
        try:
            self.env.run()
        except KeyboardInterrupt:
            self.interrupted = True
        return self.stats()

    def stats(self) -> dict:
        """The stats document of what ran so far."""
        channel_stats = [c.stats for c in self.controllers]
        cycles = max((s.last_event for s in channel_stats), default=0) + 1
        return build_stats(
            self.config,
            self.device.command_counts_per_channel(),
            channel_stats,
            cycles,
            trace=str(self.trace),
            interrupted=self.interrupted,
        )
