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


class CalendarYearUnknown(ValueError):
    """A date in a year the official calendar (chinese-calendar) does not cover: no deadline is guessed."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.zh = f"官方日历未覆盖 {year} 年的节假日安排, 无法计算工作日期限"
        self.en = f"The official calendar does not cover {year}; the working-day deadline cannot be computed"
        super().__init__(f"{self.zh} / {self.en}")


def is_working_day(d: dt.date) -> bool:
    """A working day on the official calendar: make-up weekend workdays count, holidays do not."""
    if cc is None:  # pragma: no cover - a declared dependency
        raise CalendarYearUnknown(d.year)
    try:
        return bool(cc.is_workday(d))
    except NotImplementedError:
        raise CalendarYearUnknown(d.year) from None


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date N official working days after `start`; the start day itself never counts (a case or an
    appeal filed on a working day starts its clock the next one). Weekends and official holidays are
    skipped, make-up workdays (调休上班) count. A year the calendar does not know raises
    CalendarYearUnknown: a deadline guessed from weekends alone would be wrong around every holiday."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if isinstance(start, dt.datetime):
        start = start.date()
    if n == 0:
        is_working_day(start)  # still refuse a year nobody can vouch for
        return start
    d, left = start, n
    while left:
        d += dt.timedelta(days=1)
        if is_working_day(d):
            left -= 1
    return d
