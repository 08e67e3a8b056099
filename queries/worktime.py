"""Working time on the Chinese official calendar, vectorised: a clock that counts working seconds.

A working day has 8 working hours, 09:00-12:00 and 13:00-18:00 local time (Asia/Shanghai), on the days
`chinese-calendar` calls workdays (weekends and official holidays rest, make-up workdays work). Years the
calendar does not know fall back to Monday-Friday and are reported in `WorkClock.gaps`, never hidden.
The SLA clocks of the closed loop (queries/loop.py SLA_LIMITS) count in these seconds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from queries import calendar as cal
from queries.timebase import DAY, TZ

HOUR = 3600
WORK_DAY_S = 8 * HOUR
_AM = (9 * HOUR, 12 * HOUR)
_PM = (13 * HOUR, 18 * HOUR)
_AM_LEN = _AM[1] - _AM[0]


class WorkClock:
    """Working seconds counted from local midnight of `first_day` (local day numbers, inclusive)."""

    def __init__(self, first_day: int, last_day: int) -> None:
        self.first_day = int(first_day)
        days = np.arange(self.first_day, int(last_day) + 1, dtype=np.int64)
        kinds, self.gaps = cal.day_kinds(days)
        self.work = kinds == cal.WORKDAY
        self.cum = np.concatenate([[0], np.cumsum(self.work.astype(np.int64) * WORK_DAY_S)])

    def _index(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        local = np.asarray(ts, dtype=np.int64) + TZ
        i = local // DAY - self.first_day
        if len(i) and (i.min() < 0 or i.max() >= len(self.work)):
            raise ValueError("a time outside the working-time clock's range")
        return i, local % DAY

    def elapsed(self, ts: np.ndarray) -> np.ndarray:
        """Working seconds from the clock's start to each time."""
        i, sec = self._index(ts)
        within = np.clip(sec - _AM[0], 0, _AM_LEN) + np.clip(sec - _PM[0], 0, _PM[1] - _PM[0])
        return self.cum[i] + np.where(self.work[i], within, 0)

    def at(self, w: np.ndarray) -> np.ndarray:
        """The earliest time at which `w` working seconds have passed since the clock's start."""
        w = np.maximum(np.asarray(w, dtype=np.int64), 1)
        i = np.searchsorted(self.cum, w, side="left") - 1
        if len(i) and i.max() >= len(self.work):
            raise ValueError("a due time beyond the working-time clock's range")
        r = w - self.cum[i]
        sec = np.where(r <= _AM_LEN, _AM[0] + r, _PM[0] + (r - _AM_LEN))
        return (self.first_day + i) * DAY + sec - TZ

    def add(self, ts: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """Each time plus that many working seconds."""
        return self.at(self.elapsed(ts) + np.asarray(seconds, dtype=np.int64))

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working seconds from a to b (negative when b is before a)."""
        return self.elapsed(b) - self.elapsed(a)


@lru_cache(maxsize=8)
def clock_for(first_day: int, last_day: int) -> WorkClock:
    return WorkClock(first_day, last_day)


def clock_around(*times: int | None, margin_days: int = 120) -> WorkClock:
    """A clock covering the given times with a margin (years padded so repeated calls share a clock)."""
    known = [int(t) for t in times if t is not None]
    lo = (min(known) + TZ) // DAY - margin_days
    hi = (max(known) + TZ) // DAY + margin_days
    return clock_for(lo - lo % 365, hi + 365 - hi % 365)


def add_working_seconds(ts: int, seconds: int) -> int:
    """One time plus working seconds (the scalar form for a single case)."""
    clock = clock_around(ts, ts + 4 * seconds + 30 * DAY)
    return int(clock.add(np.array([ts]), np.array([seconds]))[0])


def working_seconds_between(a: int, b: int) -> int:
    """Working seconds from a to b."""
    clock = clock_around(a, b)
    return int(clock.between(np.array([a]), np.array([b]))[0])
