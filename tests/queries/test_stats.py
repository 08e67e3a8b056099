"""queries/stats.py against published values (NIST's certified Longley results, the second source
paper's own tables), an exact rational computation, and statsmodels/scipy as independent references."""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.outliers_influence import variance_inflation_factor

from queries import stats as S

LONGLEY = """TOTEMP,GNPDEFL,GNP,UNEMP,ARMED,POP,YEAR
60323,83.0,234289,2356,1590,107608,1947
61122,88.5,259426,2325,1456,108632,1948
60171,88.2,258054,3682,1616,109773,1949
61187,89.5,284599,3351,1650,110929,1950
63221,96.2,328975,2099,3099,112075,1951
63639,98.1,346999,1932,3594,113270,1952
64989,99.0,365385,1870,3547,115094,1953
63761,100.0,363112,3578,3350,116219,1954
66019,101.2,397469,2904,3048,117388,1955
67857,104.6,419180,2822,2857,118734,1956
68169,108.4,442769,2936,2798,120445,1957
66513,110.8,444546,4681,2637,121950,1958
68655,112.6,482704,3813,2552,123366,1959
69564,114.2,502601,3931,2514,125368,1960
69331,115.7,518173,4806,2572,127852,1961
70551,116.9,554894,4007,2827,130081,1962
"""
LONGLEY_X = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]
# NIST StRD, Longley: certified coefficients and standard errors (x1..x6, then the constant).
NIST = [
    (15.0618722713733, 84.9149257747669),
    (-0.358191792925910e-01, 0.334910077722432e-01),
    (-2.02022980381683, 0.488399681651699),
    (-1.03322686717359, 0.214274163161675),
    (-0.511041056535807e-01, 0.226073200069370),
    (1829.15146461355, 455.478499142212),
    (-3482258.63459582, 890420.383607373),
]
NIST_SIGMA, NIST_R2 = 304.854073561965, 0.995479004577296
REL = 1e-8


def longley() -> S.Prepared:
    return S.prepare(pl.read_csv(io.StringIO(LONGLEY)), y="TOTEMP", xs=LONGLEY_X, label="YEAR")


def rel(a: object, b: object) -> float:
    a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a_ - b_) / np.maximum(np.abs(b_), 1e-300)))


def test_ols_matches_nist_certified_longley() -> None:
    p = longley()
    m = S.ols(p.y, p.x)
    assert m.names == [*LONGLEY_X, "_cons"]
    assert rel(m.coef, [c for c, _ in NIST]) < REL
    assert rel(m.se, [s for _, s in NIST]) < REL
    assert rel(m.sigma, NIST_SIGMA) < REL
    assert rel(m.r2, NIST_R2) < REL
    assert m.n == 16 and m.df_model == 6 and m.df_resid == 9
    assert m.condition > 1000  # Longley is the classic ill-conditioned case


def exact_ols(rows: list[list[Fraction]], y: list[Fraction]) -> tuple[list[Fraction], list[Fraction]]:
    """OLS in exact rational arithmetic: normal equations by Gauss-Jordan; returns (b, var(b))."""
    k, n = len(rows[0]), len(rows)
    xtx = [
        [sum((rows[i][a] * rows[i][b] for i in range(n)), Fraction(0)) for b in range(k)] for a in range(k)
    ]
    aug = [[*xtx[a], *[Fraction(int(a == c)) for c in range(k)]] for a in range(k)]
    for col in range(k):
        piv = next(r for r in range(col, k) if aug[r][col] != 0)
        aug[col], aug[piv] = aug[piv], aug[col]
        lead = aug[col][col]
        aug[col] = [v / lead for v in aug[col]]
        for r in range(k):
            if r != col and aug[r][col] != 0:
                fac = aug[r][col]
                aug[r] = [v - fac * w for v, w in zip(aug[r], aug[col], strict=True)]
    inv = [row[k:] for row in aug]
    xty = [sum((rows[i][a] * y[i] for i in range(n)), Fraction(0)) for a in range(k)]
    b = [sum((inv[a][c] * xty[c] for c in range(k)), Fraction(0)) for a in range(k)]
    resid = [y[i] - sum((rows[i][a] * b[a] for a in range(k)), Fraction(0)) for i in range(n)]
    s2 = sum((r * r for r in resid), Fraction(0)) / (n - k)
    return b, [inv[a][a] * s2 for a in range(k)]


def test_ols_matches_exact_rational_computation_on_ill_conditioned_polynomial() -> None:
    # Wampler-style degree-5 polynomial in x = 0..20 (condition number ~1e7 on scaled columns),
    # with a fixed rational disturbance so the residual variance is not zero.
    xs = list(range(21))
    noise = [Fraction((i * 37) % 11 - 5, 3) for i in xs]
    y = [sum(Fraction(x) ** p for p in range(6)) + e for x, e in zip(xs, noise, strict=True)]
    rows = [[Fraction(x) ** p for p in range(1, 6)] + [Fraction(1)] for x in xs]
    b, var = exact_ols(rows, y)
    m = S.ols(
        np.array([float(v) for v in y]),
        {f"x{p}": np.array([float(x) ** p for x in xs]) for p in range(1, 6)},
    )
    assert rel(m.coef, [float(v) for v in b]) < REL
    assert rel(m.se, [float(v) ** 0.5 for v in var]) < REL


@pytest.mark.parametrize("robust", [False, True])
def test_ols_matches_statsmodels(robust: bool) -> None:
    rng = np.random.default_rng(7)
    x = {"a": rng.normal(0, 1, 40), "b": rng.normal(5, 2, 40), "c": rng.lognormal(0, 1, 40)}
    y = 1.5 + 2 * x["a"] - 0.3 * x["b"] + rng.normal(0, 1 + x["c"], 40)
    m = S.ols(y, x, robust=robust)
    exog = np.column_stack([x["a"], x["b"], x["c"], np.ones(40)])
    ref = sm.OLS(y, exog).fit(cov_type="HC1") if robust else sm.OLS(y, exog).fit()
    assert m.cov_type == ("HC1" if robust else "classical")
    assert rel(m.coef, ref.params) < REL
    assert rel(m.se, ref.bse) < REL
    assert rel(m.t, ref.tvalues) < REL
    assert rel(m.r2, ref.rsquared) < REL
    assert rel(m.adj_r2, ref.rsquared_adj) < REL
    assert rel(m.f, ref.fvalue) < 1e-7
    # statsmodels uses the normal for robust p-values; ours keep Student's t with n − k df
    p_ref = 2 * sps.t.sf(np.abs(ref.tvalues), 36)
    assert rel(m.p, p_ref) < 1e-7
    assert rel(m.f_p, sps.f.sf(ref.fvalue, 3, 36)) < 1e-6


def test_robust_and_classical_differ_on_heteroskedastic_data() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, 60)
    y = x + rng.normal(0, 0.1 + x, 60)
    a, b = S.ols(y, {"x": x}), S.ols(y, {"x": x}, robust=True)
    assert np.allclose(a.coef, b.coef) and not np.allclose(a.se, b.se)


def test_standardised_coefficients_are_the_coefficients_on_z_scores() -> None:
    p = longley()
    m = S.ols(p.y, p.x)

    def z(v: np.ndarray) -> np.ndarray:
        return (v - v.mean()) / v.std(ddof=1)

    mz = S.ols(z(p.y), {k: z(v) for k, v in p.x.items()})
    assert rel(m.std_coef[:-1], mz.coef[:-1]) < 1e-7
    assert np.isnan(m.std_coef[-1])


def test_describe_by_hand() -> None:
    got = S.describe({"v": np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])})
    row = got.row(0, named=True)
    assert row == {
        "variable": "v",
        "mean": 5.0,
        "sd": pytest.approx((32 / 7) ** 0.5),
        "min": 2.0,
        "max": 9.0,
        "n": 8,
    }


def test_correlations_match_scipy_and_hand_values() -> None:
    rng = np.random.default_rng(11)
    cols = {"a": rng.normal(size=25), "b": rng.normal(size=25)}
    cols["c"] = cols["a"] * 0.5 + rng.normal(size=25)
    c = S.correlations(cols)
    for i, a in enumerate(c.names):
        for j, b in enumerate(c.names):
            if i != j:
                ref = sps.pearsonr(cols[a], cols[b])
                assert c.r[i, j] == pytest.approx(ref.statistic, rel=1e-12)
                assert c.p[i, j] == pytest.approx(ref.pvalue, rel=1e-9)
    # hand value: r = 0.5 over n = 12 gives t = 0.5·√10/√0.75 = 1.8257 on 10 df, p = 0.0979 (*)
    assert S.r_pvalue(0.5, 12) == pytest.approx(0.09785, abs=5e-5)
    assert S.stars(S.r_pvalue(0.5, 12)) == "*"
    long = c.long()
    assert long.height == 6 and set(long.columns) == {"row", "col", "r", "p", "stars"}


# The paper's Table 3 (12 western provinces, 2020): lower triangle as printed, stars included.
PAPER_T3 = """-0.098
0.845*** -0.063
0.826*** 0.071 0.965***
0.835*** -0.179 0.988*** 0.927***
0.458 -0.269 0.689** 0.626** 0.721***
0.588** -0.033 0.843*** 0.846*** 0.812*** 0.478
0.599** -0.127 0.879*** 0.861*** 0.855*** 0.627** 0.956***"""


def paper_t3() -> tuple[np.ndarray, list[tuple[float, str]]]:
    r, cells = np.eye(8), []
    for i, line in enumerate(PAPER_T3.splitlines()):
        for j, cell in enumerate(line.split()):
            value = float(cell.rstrip("*"))
            r[i + 1, j] = r[j, i + 1] = value
            cells.append((value, cell[len(cell.rstrip("*")) :]))
    return r, cells


def test_paper_table3_stars_follow_from_r_and_n() -> None:
    _, cells = paper_t3()
    assert len(cells) == 28
    assert [S.stars(S.r_pvalue(r, 12)) for r, _ in cells] == [s for _, s in cells]


def test_paper_table3_implies_far_larger_vifs_than_the_paper_reports() -> None:
    r, _ = paper_t3()
    implied = S.vif_from_correlations(r[1:, 1:])  # Var2..Var8, the regressors of M4
    assert implied.max() > 250 and implied.mean() > 80  # the paper: "all VIF < 7, mean 4.320"


def test_paper_table4_f_pvalues_and_r2_follow_from_f() -> None:
    # (F, regressors) of M1..M4 with n = 12; the paper prints p = 0.0035, 0.0083, 0.0690, 0.0960
    for (f, k), printed_p, printed_r2 in zip(
        [(11.30, 2), (8.08, 3), (3.76, 5), (4.08, 7)],
        [0.0035, 0.0083, 0.0690, 0.0960],
        [0.7151, 0.7519, 0.7580, 0.8773],
        strict=True,
    ):
        assert S.f_pvalue(f, k, 12 - k - 1) == pytest.approx(printed_p, abs=3e-4)
        assert f * k / (f * k + 12 - k - 1) == pytest.approx(printed_r2, abs=3e-4)


def test_paper_table4_stars_that_do_not_match_their_standard_errors() -> None:
    m3 = [
        ("Var2", -5.4334, 14.5226, ""),
        ("Var3", 0.3445, 3.1354, "*"),
        ("Var4", 0.3645, 1.0667, "*"),
        ("Var5", 1.7509, 2.9066, ""),
        ("Var6", 1.9202, 2.0072, "*"),
    ]
    bad = S.check_published(m3, n=12, k=5)
    assert [b.variable for b in bad] == ["Var3", "Var4", "Var6"]
    assert all(b.implied == "" for b in bad)
    m1 = [("Var2", -2.0715, 8.2098, ""), ("Var3", 0.8416, 0.1783, "***")]
    assert S.check_published(m1, n=12, k=2) == []


def test_vif_matches_statsmodels_and_known_longley_values() -> None:
    p = longley()
    got = S.vif(p.x)
    exog = np.column_stack([np.ones(16), *p.x.values()])
    ref = [variance_inflation_factor(exog, i + 1) for i in range(6)]
    assert rel(got["vif"].to_numpy(), ref) < 1e-8
    assert got["vif"].round(2).to_list() == [135.53, 1788.51, 33.62, 3.59, 399.15, 758.98]
    assert got["level"].to_list() == ["serious", "serious", "serious", "ok", "serious", "serious"]
    corr = S.correlations(p.x).r
    assert rel(got["vif"].to_numpy(), S.vif_from_correlations(corr)) < 1e-6
    assert S.vif({"only": p.x["GNP"]})["vif"].to_list() == [1.0]


def test_nested_models_each_match_their_own_fit() -> None:
    p = longley()
    models = [["GNP", "UNEMP"], ["ARMED", "POP", "YEAR"], LONGLEY_X]
    fits = S.nested(p.y, p.x, models)
    assert [f.names[:-1] for f in fits] == models
    for f, names in zip(fits, models, strict=True):
        ref = sm.OLS(p.y, np.column_stack([*(p.x[n] for n in names), np.ones(16)])).fit()
        assert rel(f.coef, ref.params) < REL and rel(f.f, ref.fvalue) < 1e-7
        assert f.f_p == pytest.approx(ref.f_pvalue, rel=1e-6)
    with pytest.raises(S.StatsInputError, match="M2"):
        S.nested(p.y, p.x, [["GNP"], ["nope"]])


def test_partial_regression_slope_is_the_coefficient() -> None:
    p = longley()
    m = S.ols(p.y, p.x)
    ex, ey = S.partial_regression(p.y, p.x, "UNEMP")
    assert float(ex @ ey / (ex @ ex)) == pytest.approx(m.coef[2], rel=1e-8)


def test_leave_one_out_finds_the_one_unit_that_flips_a_sign() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, 15)
    y = -0.2 * x + rng.normal(0, 0.05, 15)
    x[0], y[0] = 6.0, 3.0  # one far point makes the slope positive
    labels = [f"t{i}" for i in range(15)]
    loo = S.leave_one_out(y, {"x": x, "z": rng.normal(size=15)}, labels)
    assert loo.height == 30
    flips = loo.filter(pl.col("sign_flip") & (pl.col("variable") == "x"))["unit"].to_list()
    assert flips == ["t0"]


@pytest.mark.parametrize(
    ("frame", "xs", "message"),
    [
        (
            pl.DataFrame({"y": [1.0, 2, 3, 4, 5], "a": [1.0, 1, 1, 1, 1], "b": [1.0, 3, 2, 5, 4]}),
            ["a", "b"],
            r"zero variance\): a",
        ),
        (
            pl.DataFrame(
                {
                    "y": [1.0, 2, 3, 5, 4],
                    "a": [1.0, 2, 3, 4, 5],
                    "b": [2.0, 4, 6, 8, 10],
                    "c": [1.0, 0, 1, 1, 0],
                }
            ),
            ["a", "b", "c"],
            "collinear regressors .*: a, b",
        ),
        (
            pl.DataFrame({"y": [1.0, 2, 3], "a": [1.0, 3, 2], "b": [0.0, 1, 5]}),
            ["a", "b"],
            "3 complete observations are too few",
        ),
        (pl.DataFrame({"y": [1.0, 2, 3, 4], "a": ["x", "1", "2", "3"]}), ["a"], "not numeric: a"),
        (pl.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.0, 3, 2, 4]}), ["a", "a"], "chosen twice: a"),
        (pl.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.0, 3, 2, 4]}), ["b"], "No such column: b"),
        (pl.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.0, 3, 2, 4]}), [], "at least one regressor"),
    ],
)
def test_bad_input_is_refused_with_a_message(frame: pl.DataFrame, xs: list[str], message: str) -> None:
    with pytest.raises(S.StatsInputError, match=message) as err:
        S.prepare(frame, y="y", xs=xs)
    assert err.value.zh and err.value.en


def test_missing_values_leave_out_named_rows_only() -> None:
    frame = pl.DataFrame(
        {
            "unit": ["a", "b", "c", "d", "e", "f"],
            "y": [1.0, 2.0, None, 4.0, 5.0, 7.0],
            "x": [1.0, 2.5, 3.0, float("nan"), 5.5, 6.0],
        }
    )
    p = S.prepare(frame, y="y", xs=["x"], label="unit")
    assert p.dropped == ["c", "d"] and p.labels == ["a", "b", "e", "f"]
    assert p.y.tolist() == [1.0, 2.0, 5.0, 7.0] and p.x["x"].tolist() == [1.0, 2.5, 5.5, 6.0]


def test_too_few_degrees_of_freedom_is_flagged() -> None:
    p = longley()
    assert S.ols(p.y, p.x).few_df  # 9 residual df
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    assert not S.ols(x + rng.normal(size=40), {"x": x}).few_df


def test_stars_thresholds() -> None:
    assert [S.stars(v) for v in (0.0099, 0.01, 0.049, 0.05, 0.099, 0.1, float("nan"), None)] == [
        "***",
        "**",
        "**",
        "*",
        "*",
        "",
        "",
        "",
    ]
