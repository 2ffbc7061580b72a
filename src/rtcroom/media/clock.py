"""Real-time pacing for locally generated tracks.

aiortc's sender pulls frames as fast as ``recv()`` returns them, so a track that makes frames
itself must sleep until each frame is due; otherwise it would send minutes of media in seconds.
"""

from __future__ import annotations

import asyncio
import fractions
import time

VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)


class Pacer:
    """Hands out presentation timestamps for frames ``period`` seconds apart, on time.

    If the consumer falls behind by more than ``max_lag`` seconds the schedule restarts from
    now instead of bursting to catch up (a burst would only add latency at the receiver).
    """

    def __init__(self, period: float, clock_rate: int, max_lag: float = 0.5) -> None:
        if period <= 0:
            raise ValueError(f"frame period must be positive, got {period}")
        self.period = period
        self.clock_rate = clock_rate
        self.max_lag = max_lag
        self._start: float | None = None
        self._index = 0
        self._pts_offset = 0

    async def next_pts(self) -> int:
        now = time.monotonic()
        if self._start is None:
            self._start = now
            self._index = 0
        else:
            self._index += 1
            due = self._start + self._index * self.period
            if now - due > self.max_lag:
                # Fell far behind: restart the schedule, keep timestamps increasing.
                self._pts_offset += round(self._index * self.period * self.clock_rate)
                self._start, self._index = now, 0
            elif due > now:
                await asyncio.sleep(due - now)
        return self._pts_offset + round(self._index * self.period * self.clock_rate)
