"""add_working_days against the State Council's holiday notices (dates worked out by hand below)."""

from __future__ import annotations

import datetime as dt

import pytest

from queries.calendar import CalendarYearUnknown, add_working_days, is_working_day

D = dt.date


@pytest.mark.parametrize(
    ("start", "n", "due", "why"),
    [
        # 2024 Spring Festival: off Sat 10 - Sat 17 Feb; make-up workdays Sun 4 Feb and Sun 18 Feb.
        (D(2024, 2, 8), 7, D(2024, 2, 23), "Fri 9 (1), Sun 18 make-up (2), Mon 19 .. Fri 23 (3-7)"),
        (D(2024, 2, 2), 7, D(2024, 2, 18), "Sun 4 make-up (1), Mon 5 .. Fri 9 (2-6), Sun 18 make-up (7)"),
        # 2024 National Day: off 1-7 Oct; make-up Sun 29 Sep and Sat 12 Oct.
        (D(2024, 9, 27), 7, D(2024, 10, 12), "Sun 29 (1), Mon 30 (2), Tue 8 .. Fri 11 (3-6), Sat 12 (7)"),
        # 2025 Spring Festival: off Tue 28 Jan - Tue 4 Feb; make-up Sun 26 Jan and Sat 8 Feb.
        (
            D(2025, 1, 24),
            7,
            D(2025, 2, 10),
            "Sun 26 (1), Mon 27 (2), Wed 5 .. Fri 7 (3-5), Sat 8 (6), Mon 10 (7)",
        ),
        # 2025 National Day + Mid-Autumn: off 1-8 Oct; make-up Sun 28 Sep and Sat 11 Oct.
        (D(2025, 9, 30), 7, D(2025, 10, 16), "Thu 9 (1), Fri 10 (2), Sat 11 (3), Mon 13 .. Thu 16 (4-7)"),
        (D(2025, 9, 26), 1, D(2025, 9, 28), "filed Fri: Sat 27 rest, Sun 28 make-up is the first"),
        # Year boundaries: 1 Jan 2025 off; 2026 New Year off 1-3 Jan with make-up Sun 4 Jan.
        (D(2024, 12, 27), 7, D(2025, 1, 8), "Mon 30 (1), Tue 31 (2), Thu 2 (3), Fri 3 (4), Mon 6 .. Wed 8"),
        (D(2025, 12, 29), 7, D(2026, 1, 8), "Tue 30 (1), Wed 31 (2), Sun 4 make-up (3), Mon 5 .. Thu 8"),
        # A plain week: the filing day does not count, the weekend does not either.
        (D(2026, 11, 20), 7, D(2026, 12, 1), "filed Fri 20 Nov: Mon 23 .. Fri 27 (1-5), Mon 30 (6), Tue 1"),
        (D(2026, 11, 20), 0, D(2026, 11, 20), "zero days is the day itself"),
    ],
)
def test_add_working_days_matches_the_official_notices(
    start: dt.date, n: int, due: dt.date, why: str
) -> None:
    assert add_working_days(start, n) == due, why


def test_make_up_day_counts_and_holiday_does_not() -> None:
    assert is_working_day(D(2024, 2, 18))  # a Sunday, make-up workday
    assert not is_working_day(D(2024, 2, 14))  # a Wednesday in the Spring Festival
    assert not is_working_day(D(2025, 10, 8))  # Wednesday, National Day + Mid-Autumn


def test_a_year_the_calendar_does_not_cover_is_an_error_never_a_guess() -> None:
    last = D(2026, 12, 31)
    with pytest.raises(CalendarYearUnknown) as err:
        add_working_days(last, 1)
    assert err.value.year == 2027
    assert "2027" in err.value.zh and "2027" in err.value.en
    with pytest.raises(CalendarYearUnknown):
        add_working_days(D(2031, 3, 3), 0)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="n must be"):
        add_working_days(D(2025, 3, 3), -1)
