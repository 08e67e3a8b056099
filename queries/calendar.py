"""Day kinds and seasonal factors. Chinese working days come from `chinese-calendar` (official
holidays and their make-up workdays); outside the years it knows, weekends are rest days and the
gap is reported, never silently guessed."""

from __future__ import annotations

import datetime as dt

import numpy as np

try:
    import chinese_calendar as cc
except ImportError:  # pragma: no cover - a declared dependency
    cc = None

WORKDAY, RESTDAY, HOLIDAY = 0, 1, 2
EPOCH = dt.date(1970, 1, 1)


def day_to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def date_to_day(d: dt.date) -> int:
    return (d - EPOCH).days


def day_kinds(days: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Kind of each local day number, and the years the calendar did not cover."""
    kinds = np.empty(len(days), dtype=np.int8)
    unknown: set[int] = set()
    for i, day in enumerate(days):
        d = day_to_date(int(day))
        try:
            if cc is None:
                raise NotImplementedError
            on_holiday, name = cc.get_holiday_detail(d)
            if on_holiday and name is not None:
                kinds[i] = HOLIDAY
            elif on_holiday:
                kinds[i] = RESTDAY
            else:
                kinds[i] = WORKDAY  # includes make-up workdays on weekends
        except NotImplementedError:
            unknown.add(d.year)
            kinds[i] = RESTDAY if d.weekday() >= 5 else WORKDAY
    return kinds, sorted(unknown)


_MONTHLY = {
    "flat": [1.0] * 12,
    "festive": [1.25, 1.15, 0.95, 0.95, 1.0, 1.05, 0.95, 0.95, 1.0, 1.05, 1.3, 1.2],
    "harvest": [
        0.6,
        0.6,
        0.7,
        0.8,
        0.9,
        1.2,
        1.3,
        1.6,
        1.7,
        1.1,
        1.0,
        1.0,
    ],  # grapes Jun-Jul, pomegranates Aug-Sep
    "energy": [1.1, 1.0, 0.95, 0.95, 1.05, 1.15, 1.2, 1.2, 1.05, 0.95, 1.0, 1.1],
    "tourism": [1.2, 1.25, 1.0, 0.9, 1.0, 0.9, 1.2, 1.3, 0.9, 1.15, 0.8, 0.9],
    "winter": [1.25, 1.2, 1.05, 0.95, 0.9, 0.9, 0.95, 0.95, 0.95, 1.0, 1.1, 1.2],
    "school": [1.0] * 12,
}


def season_factor(kind: str, days: np.ndarray) -> np.ndarray:
    dates = [day_to_date(int(d)) for d in days]
    out = np.array([_MONTHLY[kind][d.month - 1] for d in dates], dtype=float)
    if kind == "school":
        for i, d in enumerate(dates):
            md = (d.month, d.day)
            if (1, 15) <= md <= (2, 25) or (7, 10) <= md <= (8, 31):
                out[i] = 0.12  # winter and summer vacations
    return out
