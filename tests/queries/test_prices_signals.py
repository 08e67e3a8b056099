"""The price warnings against hand-worked examples and their published definitions (pure functions, no pool)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from queries import price_signals as sig

# --- FAO IFPA -------------------------------------------------------------------------------------


def test_compound_growth_is_the_geometric_rate() -> None:
    prices = {0: 1.0, 3: 1.331, 12: 2.0}
    assert sig.compound_growth(prices, 3, 3) == pytest.approx(0.1)  # 1.331^(1/3) - 1
    assert sig.compound_growth(prices, 12, 12) == pytest.approx(2 ** (1 / 12) - 1)
    assert sig.compound_growth(prices, 5, 3) is None  # no price 3 months earlier
    assert sig.compound_growth({0: 0.0, 3: 1.0}, 3, 3) is None  # a zero price has no growth rate


def test_weighted_stats_weigh_recent_years_more() -> None:
    # weights 1/6, 2/6, 3/6: mean 14/6; variance (1*(4/3)^2 + 2*(1/3)^2 + 3*(2/3)^2) / 6 = 5/9
    mean, sd = sig.weighted_stats(np.array([1.0, 2.0, 3.0]))
    assert mean == pytest.approx(14 / 6)
    assert sd == pytest.approx(math.sqrt(5 / 9))


def _flat_then(last: float, n: int = 37) -> tuple[np.ndarray, np.ndarray]:
    prices = np.ones(n)
    prices[-1] = last
    return np.arange(100, 100 + n), prices


def test_ifpa_of_a_spike_after_three_flat_years_is_exactly_one() -> None:
    # same calendar month's rates: [0, 0, g] -> weighted mean g/2, weighted sd g/2, z = 1 for both parts,
    # so IFPA = 0.4 * 1 + 0.6 * 1 = 1: the edge of "abnormally high"
    months, prices = _flat_then(1.21)
    out = sig.ifpa(months, prices)
    last = out.row(-1, named=True)
    assert last["cqgr"] == pytest.approx(1.21 ** (1 / 3) - 1)
    assert last["cagr"] == pytest.approx(1.21 ** (1 / 12) - 1)
    assert last["cqgr_z"] == pytest.approx(1.0) and last["cagr_z"] == pytest.approx(1.0)
    assert last["ifpa"] == pytest.approx(1.0) and last["ifpa_band"] == "abnormal_high"
    low = sig.ifpa(*_flat_then(0.8)).row(-1, named=True)
    assert low["ifpa"] == pytest.approx(-1.0) and low["ifpa_band"] == "abnormal_low"


def test_ifpa_needs_its_minimum_history() -> None:
    # 36 months: the last month's annual rate exists in only 2 years -> no IFPA anywhere
    months, prices = _flat_then(1.21, n=36)
    assert sig.ifpa(months, prices)["ifpa"].null_count() == 36
    assert sig.IFPA_MIN_MONTHS == 37
    one_more = sig.ifpa(*_flat_then(1.21, n=37))
    assert one_more["ifpa"].null_count() == 36 and one_more["ifpa"][-1] is not None


def test_ifpa_flat_series_has_no_anomaly_and_gaps_stay_gaps() -> None:
    months = np.arange(0, 60)
    flat = sig.ifpa(months, np.full(60, 5.0))
    assert flat["ifpa"].null_count() == 60 and flat["ifpa_band"].null_count() == 60
    rng = np.random.default_rng(1)
    prices = 5 + rng.normal(0, 0.3, 60)
    keep = np.ones(60, bool)
    keep[50] = False  # month 53's quarterly rate needs month 50
    out = sig.ifpa(months[keep], prices[keep])
    row = out.filter(pl.col("month") == 53).row(0, named=True)
    assert row["cqgr"] is None and row["ifpa"] is None
    assert out.filter(pl.col("month") == 54)["ifpa"][0] is not None


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.49, "normal"),
        (-0.49, "normal"),
        (0.5, "moderate_high"),
        (0.99, "moderate_high"),
        (1.0, "abnormal_high"),
        (-0.5, "moderate_low"),
        (-1.0, "abnormal_low"),
        (None, None),
    ],
)
def test_ifpa_bands(value: float | None, band: str | None) -> None:
    assert sig.ifpa_band(value) == band


# --- WFP ALPS -------------------------------------------------------------------------------------


def _seasonal(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    months = np.arange(24_000, 24_000 + n)
    season = np.array([0.0, 0.5, 1.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -1.5, -1.0, -0.5])
    return months, 10 + 0.05 * (months - months[0]) + season[months % 12]


def test_alps_of_a_perfect_seasonal_trend_is_null_not_zero_division() -> None:
    months, prices = _seasonal()
    q, out = sig.alps(months, prices, int(months[-1]))
    assert q.ok
    assert out["trend"].to_numpy() == pytest.approx(prices)
    assert out["alps"].null_count() == len(months)


def test_alps_hand_worked_residuals() -> None:
    # residuals +d, -d, -d, +d over the 4 years of every calendar month are orthogonal to the constant,
    # the trend and the month dummies, so OLS gives them back exactly: SSR = 48 d^2, 48 - 13 = 35 degrees
    # of freedom, sd = d * sqrt(48/35), ALPS = +-sqrt(35/48) = +-0.854 ("stress")
    months, prices = _seasonal()
    d = 0.2
    pattern = np.array([1, -1, -1, 1])[(months - months[0]) // 12]
    _, out = sig.alps(months, prices + d * pattern, int(months[-1]))
    assert out["resid_sd"][0] == pytest.approx(d * math.sqrt(48 / 35))
    assert out["alps"].to_numpy() == pytest.approx(pattern * math.sqrt(35 / 48))
    assert set(out["alps_band"]) == {"stress"}
    # the same pattern x3 in January only: SSR = 36 d^2 -> sd = d*sqrt(36/35); January reads 3/sqrt(36/35)
    jan = np.where(months % 12 == 0, 3 * pattern, 0)
    _, out = sig.alps(months, prices + d * jan, int(months[-1]))
    first = out.row(0, named=True)
    assert first["alps"] == pytest.approx(3 / math.sqrt(36 / 35)) and first["alps_band"] == "crisis"


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.24, "normal"),
        (0.25, "stress"),
        (-0.99, "stress"),
        (1.0, "alert"),
        (-1.99, "alert"),
        (2.0, "crisis"),
    ],
)
def test_alps_bands(value: float, band: str) -> None:
    assert sig.alps_band(value) == band


def test_alps_qualification_rules() -> None:
    full = np.arange(0, 36)
    assert sig.alps_qualifies(full, 35).ok
    short = sig.alps_qualifies(np.arange(0, 35), 34)
    assert not short.ok and "less than 3 years" in short.reasons[0][1]
    sparse_months = np.array([m for m in range(48) if m % 10 not in (1, 2, 3, 4)])  # 28 of 48 = 58%
    sparse = sig.alps_qualifies(sparse_months, 47)
    assert not sparse.ok and "70%" in sparse.reasons[0][1]
    assert sig.alps_qualifies(full, 35 + 5).ok  # last price 5 months ago: still recent
    stale = sig.alps_qualifies(full, 35 + 6)
    assert not stale.ok and "last 6 months" in stale.reasons[0][1]
    q, out = sig.alps(np.arange(0, 30).astype(np.int64), np.arange(30, dtype=float) + 1, 29)
    assert not q.ok and out["alps"].null_count() == 30  # no made-up figure for a series that fails


# --- hog-grain ratio ------------------------------------------------------------------------------


def test_hog_grain_falling_side_levels() -> None:
    ratios = [6.5, 5.5, 5.5, 5.5, 4.9, 5.9]
    weeks = np.arange(10, 16)
    out = sig.hog_grain(weeks, np.array(ratios) * 2.0, np.full(6, 2.0), np.full(6, np.nan))
    assert out["ratio"].to_list() == pytest.approx(ratios)
    # below 6: level 3; 5-6 for 3 weeks running: level 2; below 5: level 1; a run broken by 4.9 restarts
    assert out["fall_level"].to_list() == [None, 3, 3, 2, 1, 3]


def test_hog_grain_a_missing_week_breaks_the_run() -> None:
    weeks = np.array([1, 2, 4])  # week 3 missing
    out = sig.hog_grain(weeks, np.array([11.0, 11.0, 11.0]), np.full(3, 2.0), np.full(3, np.nan))
    assert out["fall_level"].to_list() == [3, 3, 3]


def test_hog_grain_rising_side_levels() -> None:
    weeks = np.array([1, 2, 3, 4, 53, 54, 55, 56])
    pork = np.array([10.0, 10.0, 10.0, 10.0, 13.5, 14.5, 13.0, 12.9])
    hog = np.array([14.0] * 7 + [19.0])
    out = sig.hog_grain(weeks, hog, np.full(8, 2.0), pork)
    assert out["pork_yoy"][4:].to_list() == pytest.approx([0.35, 0.45, 0.30, 0.29])
    # 30-40%: level 2 (30% inclusive); over 40%: level 1; under 30% with a ratio of 9.5 > 9: no level
    # (the 2021 plan's rising side reads the pork price only; 9:1 was the 2015 plan's bound)
    assert out["rise_level"].to_list() == [None, None, None, None, 2, 1, 2, None]
    assert out["fall_level"].null_count() == 8


# --- cost, agreement, explanation --------------------------------------------------------------------


def test_below_cost() -> None:
    assert sig.below_cost(1.8, 2.0) == pytest.approx(0.1)
    assert sig.below_cost(2.2, 2.0) == 0.0
    assert sig.below_cost(1.0, None) is None and sig.below_cost(None, 2.0) is None


def test_combined_level_escalates_when_both_agree() -> None:
    assert sig.combined_level(1.2, 1.5) == (3, "high", True)
    assert sig.combined_level(-1.2, -2.5) == (3, "low", True)
    assert sig.combined_level(1.2, -1.5)[0:2] == (2, "high") and not sig.combined_level(1.2, -1.5)[2]
    assert sig.combined_level(0.6, 0.1) == (1, "high", False)  # moderate IFPA, ALPS only "normal"
    assert sig.combined_level(0.2, 0.6) == (0, None, False)  # ALPS "stress" alone does not raise it
    assert sig.combined_level(None, 2.3) == (2, "high", False)
    assert sig.combined_level(None, None) == (0, None, False)


def test_indicators_raise_the_subsidy_trigger_under_cost() -> None:
    # 20 months: too short for IFPA and ALPS, so the cost rule alone sets the level
    months = np.arange(24_000, 24_020)
    frame = pl.DataFrame({"month": months.astype(np.int32), "price": np.full(20, 0.8)})
    cost = {int(m) // 12: c for m, c in zip(months, [0.9] * 12 + [0.7] * 8, strict=True)}
    q, out = sig.indicators(frame, int(months[-1]), cost)
    assert not q.ok and out["ifpa"].null_count() == 20 and out["alps"].null_count() == 20
    first, last = out.row(0, named=True), out.row(-1, named=True)
    assert first["below_cost"] == pytest.approx(1 - 0.8 / 0.9)
    assert (first["level"], first["side"]) == (2, "low")
    assert (last["below_cost"], last["level"], last["side"]) == (0.0, 0, None)


def test_explanation_names_the_figures() -> None:
    row = {
        "month": sig.month_of(2026, 11),
        "price": 12.8,
        "trend": 10.0,
        "ifpa": 1.4,
        "alps": 2.1,
        "agreed": True,
        "below_cost": None,
        "cost": None,
    }
    zh, en = sig.explain(("猪肉", "pork"), ("县批发市场", "county market"), row, 3)
    assert en == (
        "pork, county market, 2026-11: 12.80 yuan/kg; 28% above the month's usual level; "
        "after 3 months of rises; IFPA 1.4 (abnormally high); ALPS 2.1 (crisis): both abnormal, escalated."
    )
    assert "高 28%" in zh and "连续 3 个月上涨" in zh and "两种方法均判异常" in zh


def test_run_of_moves() -> None:
    assert sig.run_of_moves([1, 2, 3, 4]) == 3
    assert sig.run_of_moves([5, 4, 3]) == -2
    assert sig.run_of_moves([1, 3, 2, 2]) == 0
    assert sig.run_of_moves([3, 1, 2, 3]) == 2


def test_outliers_catch_a_decimal_slip_even_in_a_thin_month() -> None:
    months = np.array([0, 0, 0, 1, 2, 2])
    prices = np.array([10.0, 10.5, 9.8, 101.0, 10.2, 0.9])
    assert sig.outliers(months, prices).tolist() == [False, False, False, True, False, True]
    m = sig.monthly(months, prices, sig.outliers(months, prices))
    assert (
        m["month"].to_list() == [0, 2]
        and m["n_obs"].to_list() == [3, 1]
        and m["n_outlier"].to_list() == [0, 1]
    )
    assert m["price"][0] == pytest.approx(10.1)


def test_months_and_weeks() -> None:
    days = np.array([0, 31, 20_000])  # 1970-01-01, 1970-02-01, 2024-10-04
    assert sig.month_of_day(days).tolist() == [1970 * 12, 1970 * 12 + 1, 2024 * 12 + 9]
    assert sig.month_label(sig.month_of(2026, 11)) == "2026-11"
    assert sig.week_of_day(4) == 1 and sig.week_of_day(3) == 0  # 1970-01-05 was a Monday
