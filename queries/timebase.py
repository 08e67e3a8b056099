"""Time conventions of the pool: epoch seconds (UTC); local days in Asia/Shanghai (UTC+8, no DST)."""

from __future__ import annotations

import datetime as dt

TZ = 8 * 3600
DAY = 86400
LATE_SECONDS = 48 * 3600  # received more than 48 h after it occurred = a late arrival
LOCAL = dt.timezone(dt.timedelta(hours=8), "CST")


def local_day_of(ts: int) -> int:
    return (int(ts) + TZ) // DAY


def day_start(day: int) -> int:
    """Epoch seconds of local midnight starting `day`."""
    return int(day) * DAY - TZ


def to_local(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ts), LOCAL)


def day_to_date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
