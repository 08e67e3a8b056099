"""The statistics of the factor analysis (issue 12), as pure functions on numpy arrays.

Descriptive statistics, Pearson correlations with two-sided p-values, VIF, OLS (classical or HC1
standard errors, t, p, R², adjusted R², F and its p-value, standardised coefficients), nested models,
leave-one-out sensitivity and the arrays of residual and partial-regression plots.

Numerics: the design matrix is solved by LAPACK's Householder QR (numpy) on unit-norm columns, with one
step of iterative refinement, never by inverting X'X (which squares the condition number: on the NIST
Longley data that alone costs seven digits). Distribution tails come from scipy.special (stdtr, fdtrc). Tests check the
results against NIST's certified Longley values, an exact rational computation and statsmodels.
No Dash and no database here: the page, the CLI and the tests call the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.10, "*"))
VIF_WARN = 5.0  # the usual thresholds: above 5 worth a look, above 10 serious
VIF_SERIOUS = 10.0
MIN_DF_TRUSTED = 10  # fewer residual degrees of freedom than this: the model gets a warning
COLLINEAR_R2 = 1 - 1e-10  # a regressor explained this well by the others is (numerically) a copy


def t_sf2(t: np.ndarray | float, df: float) -> np.ndarray:
    """Two-sided tail of Student's t: P(|T| > |t|). scipy is imported on first use: scipy.stats alone
    takes seconds to import on a loaded host, and every gunicorn worker would pay it at boot."""
    from scipy import special

    return np.asarray(2 * special.stdtr(df, -np.abs(t)))


def f_sf(f: float, df1: float, df2: float) -> float:
    """Upper tail of the F distribution."""
    from scipy import special

    return float(special.fdtrc(df1, df2, f))


def _tri(r: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    return np.asarray(solve_triangular(r, b))


class StatsInputError(ValueError):
    """Input the analysis cannot take, with a message for people in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


def stars(p: float | None) -> str:
    """Significance stars from a p-value: *** below 1%, ** below 5%, * below 10%."""
    if p is None or not np.isfinite(p):
        return ""
    for level, mark in STAR_LEVELS:
        if p < level:
            return mark
    return ""


# --- input checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """Complete cases of y and the regressors, with what was left out and why."""

    y: np.ndarray
    x: dict[str, np.ndarray]
    labels: list[str]
    dropped: list[str] = field(default_factory=list)  # unit labels left out for a missing value


def prepare(
    frame: pl.DataFrame, *, y: str, xs: Sequence[str], label: str | None = None, min_extra: int = 1
) -> Prepared:
    """Check a frame for an analysis of `y` on `xs` and return its complete cases.

    Refused with a message (never silently): an unknown or non-numeric column, a column named twice, a
    column with no variance, perfectly collinear regressors, and fewer observations than the model has
    parameters plus `min_extra`. Rows with a missing value are left out listwise and named in `dropped`.
    """
    if not xs:
        raise StatsInputError("请至少选择一个自变量", "Choose at least one regressor")
    names = [y, *xs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise StatsInputError(
            f"变量重复: {', '.join(twice)}", f"A variable is chosen twice: {', '.join(twice)}"
        )
    unknown = [n for n in names if n not in frame.columns]
    if unknown:
        raise StatsInputError(
            f"数据中没有这些列: {', '.join(unknown)}", f"No such column: {', '.join(unknown)}"
        )
    text = [n for n in names if not frame.schema[n].is_numeric()]
    if text:
        raise StatsInputError(
            f"这些列不是数值: {', '.join(text)}", f"These columns are not numeric: {', '.join(text)}"
        )
    labels = frame[label].cast(pl.String).to_list() if label else [str(i + 1) for i in range(frame.height)]
    data = frame.select([pl.col(n).cast(pl.Float64) for n in names])
    ok = data.select(pl.all_horizontal([pl.col(n).is_not_null() & pl.col(n).is_finite() for n in names]))
    keep = ok.to_series().to_numpy()
    dropped = [lab for lab, k in zip(labels, keep, strict=True) if not k]
    data = data.filter(pl.Series(keep))
    labels = [lab for lab, k in zip(labels, keep, strict=True) if k]
    n, k = data.height, len(xs)
    if n < k + 1 + min_extra:
        raise StatsInputError(
            f"观测数 {n} 太少: {k} 个自变量加常数项至少需要 {k + 1 + min_extra} 个完整观测",
            f"{n} complete observations are too few: {k} regressors and a constant need at least "
            f"{k + 1 + min_extra}",
        )
    cols = {c: data[c].to_numpy().astype(float) for c in names}
    flat = [c for c in names if np.ptp(cols[c]) == 0]
    if flat:
        raise StatsInputError(
            f"这些变量没有变化 (方差为零): {', '.join(flat)}",
            f"These variables do not vary (zero variance): {', '.join(flat)}",
        )
    x = {c: cols[c] for c in xs}
    copies = collinear(x)
    if copies:
        raise StatsInputError(
            f"自变量完全共线 (可由其他自变量精确表示): {', '.join(copies)}, 请去掉其中之一",
            f"Perfectly collinear regressors (exactly explained by the others): {', '.join(copies)}; "
            "drop one of them",
        )
    return Prepared(cols[y], x, labels, dropped)


def collinear(x: Mapping[str, np.ndarray]) -> list[str]:
    """Regressors that the others (with a constant) explain exactly."""
    names = list(x)
    if len(names) < 2:
        return []
    return [n for n in names if _r2_on_others(x, n) >= COLLINEAR_R2]


def _r2_on_others(x: Mapping[str, np.ndarray], name: str) -> float:
    target = x[name]
    others = np.column_stack([np.ones_like(target)] + [v for k, v in x.items() if k != name])
    beta = _solve(others, target)
    resid = target - others @ beta
    tss = float(np.sum((target - target.mean()) ** 2))
    return 1.0 - float(resid @ resid) / tss


# --- descriptive statistics and correlations ---------------------------------------------------


def describe(columns: Mapping[str, np.ndarray]) -> pl.DataFrame:
    """Table 2: mean, sample standard deviation (n − 1), minimum, maximum and N of each variable."""
    rows = []
    for name, v in columns.items():
        v = np.asarray(v, dtype=float)
        v = v[np.isfinite(v)]
        n = v.size
        rows.append(
            {
                "variable": name,
                "mean": float(v.mean()) if n else None,
                "sd": float(v.std(ddof=1)) if n > 1 else None,
                "min": float(v.min()) if n else None,
                "max": float(v.max()) if n else None,
                "n": n,
            }
        )
    schema = {"variable": pl.String, **dict.fromkeys(("mean", "sd", "min", "max"), pl.Float64), "n": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def r_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a Pearson correlation r over n pairs (t = r√(n−2)/√(1−r²), n−2 df)."""
    if n < 3:
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    t = r * np.sqrt((n - 2) / (1.0 - r * r))
    return float(t_sf2(t, n - 2))


@dataclass(frozen=True)
class Correlations:
    names: list[str]
    r: np.ndarray
    p: np.ndarray
    n: int

    def long(self) -> pl.DataFrame:
        """One row per pair of the lower triangle (diagonal included): row, col, r, p, stars."""
        rows = []
        for i, a in enumerate(self.names):
            for j in range(i + 1):
                p = float(self.p[i, j])
                rows.append(
                    {
                        "row": a,
                        "col": self.names[j],
                        "r": float(self.r[i, j]),
                        "p": p,
                        "stars": "" if i == j else stars(p),
                    }
                )
        return pl.DataFrame(rows)


def correlations(columns: Mapping[str, np.ndarray]) -> Correlations:
    """Table 3: Pearson r of every pair with its two-sided p-value (complete cases only)."""
    names = list(columns)
    mat = np.column_stack([np.asarray(columns[c], dtype=float) for c in names])
    mat = mat[np.all(np.isfinite(mat), axis=1)]
    n = mat.shape[0]
    centred = mat - mat.mean(axis=0)
    norms = np.sqrt(np.sum(centred**2, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (centred.T @ centred) / np.outer(norms, norms)
    r = np.clip(r, -1.0, 1.0)
    np.fill_diagonal(r, 1.0)
    p = np.vectorize(lambda v: r_pvalue(float(v), n))(r)
    np.fill_diagonal(p, 0.0)
    return Correlations(names, r, p, n)


# --- VIF ---------------------------------------------------------------------------------------


def vif(x: Mapping[str, np.ndarray]) -> pl.DataFrame:
    """Variance inflation factor of every regressor: 1 / (1 − R²) of it on the others with a constant.
    With one regressor every VIF is 1."""
    rows = []
    for name in x:
        value = 1.0 if len(x) == 1 else 1.0 / max(1.0 - _r2_on_others(x, name), np.finfo(float).tiny)
        level = "serious" if value > VIF_SERIOUS else "warn" if value > VIF_WARN else "ok"
        rows.append({"variable": name, "vif": value, "level": level})
    return pl.DataFrame(rows, schema={"variable": pl.String, "vif": pl.Float64, "level": pl.String})


# --- OLS ---------------------------------------------------------------------------------------


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares by Householder QR on unit-norm columns plus one refinement step."""
    scale = np.sqrt(np.sum(a * a, axis=0))
    scale[scale == 0] = 1.0
    q, r = np.linalg.qr(a / scale)
    beta = _tri(r, q.T @ b)
    resid = b - (a / scale) @ beta
    beta = beta + _tri(r, q.T @ resid)
    return np.asarray(beta / scale)


CONST = "_cons"


@dataclass(frozen=True)
class Ols:
    """One fitted model. Arrays are in `names` order, the constant last (as the paper prints it)."""

    y_name: str
    names: list[str]
    coef: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p: np.ndarray
    std_coef: np.ndarray  # b·sd(x)/sd(y); NaN for the constant
    n: int
    df_model: int
    df_resid: int
    r2: float
    adj_r2: float
    f: float
    f_p: float
    sigma: float  # residual standard error
    fitted: np.ndarray
    resid: np.ndarray
    cov_type: str  # "classical" | "HC1"
    condition: float  # condition number of the regressors on unit-norm columns

    @property
    def few_df(self) -> bool:
        return self.df_resid < MIN_DF_TRUSTED

    def table(self) -> pl.DataFrame:
        """One row per coefficient: variable, coef, se, t, p, stars, std_coef."""
        return pl.DataFrame(
            {
                "variable": self.names,
                "coef": self.coef,
                "se": self.se,
                "t": self.t,
                "p": self.p,
                "stars": [stars(float(v)) for v in self.p],
                "std_coef": self.std_coef,
            }
        )


def ols(y: np.ndarray, x: Mapping[str, np.ndarray], *, robust: bool = False, y_name: str = "y") -> Ols:
    """y on the regressors with a constant. `robust`: HC1 (White, n/(n−k) corrected) standard errors,
    and the F test becomes the Wald test with that covariance, as statsmodels and Stata do."""
    y = np.asarray(y, dtype=float)
    names = [*x, CONST]
    xs = [np.asarray(v, dtype=float) for v in x.values()]
    design = np.column_stack([*xs, np.ones_like(y)])
    n, k = design.shape
    df_resid = n - k
    if df_resid < 1:
        raise StatsInputError(
            f"观测数 {n} 不足以估计 {k} 个参数", f"{n} observations cannot estimate {k} parameters"
        )
    beta = _solve(design, y)
    fitted = design @ beta
    resid = y - fitted
    rss = float(resid @ resid)
    tss = float(np.sum((y - y.mean()) ** 2))
    sigma2 = rss / df_resid
    scale = np.sqrt(np.sum(design * design, axis=0))
    q, r = np.linalg.qr(design / scale)
    r_inv = _tri(r, np.eye(k))  # (X'X)^-1 = R^-1 R^-T on the scaled columns
    if robust:
        meat = (q * resid[:, None]).T @ (q * resid[:, None])
        cov_s = r_inv @ meat @ r_inv.T * n / df_resid
    else:
        cov_s = r_inv @ r_inv.T * sigma2
    cov = cov_s / np.outer(scale, scale)
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = beta / se
    p = t_sf2(t, df_resid)
    df_model = k - 1
    r2 = 1.0 - rss / tss
    adj = 1.0 - (1.0 - r2) * (n - 1) / df_resid
    if robust:
        b = beta[:-1]
        f = float(b @ np.linalg.solve(cov[:-1, :-1], b)) / df_model
    else:
        f = ((tss - rss) / df_model) / sigma2
    f_p = f_sf(f, df_model, df_resid)
    sd_y = float(y.std(ddof=1))
    std = np.array([*(beta[i] * float(xs[i].std(ddof=1)) / sd_y for i in range(k - 1)), np.nan])
    sv = np.linalg.svd(design[:, :-1] / scale[:-1], compute_uv=False)
    return Ols(
        y_name=y_name,
        names=names,
        coef=beta,
        se=se,
        t=t,
        p=p,
        std_coef=std,
        n=n,
        df_model=df_model,
        df_resid=df_resid,
        r2=r2,
        adj_r2=adj,
        f=f,
        f_p=f_p,
        sigma=float(np.sqrt(sigma2)),
        fitted=fitted,
        resid=resid,
        cov_type="HC1" if robust else "classical",
        condition=float(sv[0] / sv[-1]),
    )


def f_pvalue(f: float, df_model: int, df_resid: int) -> float:
    """p-value of an F statistic (for checking a published table that prints F but not its p)."""
    return f_sf(f, df_model, df_resid)


def coef_pvalue(coef: float, se: float, df_resid: int) -> float:
    """Two-sided p-value of a coefficient from its standard error."""
    return float(t_sf2(coef / se, df_resid))


def nested(
    y: np.ndarray, x: Mapping[str, np.ndarray], models: Sequence[Sequence[str]], *, robust: bool = False
) -> list[Ols]:
    """Table 4: one model per list of regressor names (M1..Mk), each on the same observations."""
    out = []
    for i, names in enumerate(models):
        missing = [n for n in names if n not in x]
        if not names or missing:
            raise StatsInputError(
                f"模型 M{i + 1} 的自变量无效: {', '.join(missing) or '无'}",
                f"Model M{i + 1} has invalid regressors: {', '.join(missing) or 'none'}",
            )
        out.append(ols(y, {n: x[n] for n in names}, robust=robust))
    return out


# --- what the paper lacks: sensitivity and diagnostics ------------------------------------------


def leave_one_out(
    y: np.ndarray, x: Mapping[str, np.ndarray], labels: Sequence[str], *, robust: bool = False
) -> pl.DataFrame:
    """Refit without each observation in turn. One row per (left-out unit, regressor): the coefficient,
    its p-value and stars, and whether the sign flipped or the stars changed against the full model.
    Units whose removal leaves no residual degree of freedom are skipped (named with `skipped`)."""
    full = ols(y, x, robust=robust)
    base_stars = [stars(float(v)) for v in full.p[:-1]]
    rows: list[dict[str, object]] = []
    for i, lab in enumerate(labels):
        keep = np.ones(len(y), dtype=bool)
        keep[i] = False
        sub = {k: v[keep] for k, v in x.items()}
        if keep.sum() - len(x) - 1 < 1 or any(np.ptp(v) == 0 for v in sub.values()) or collinear(sub):
            rows.extend(
                {
                    "unit": lab,
                    "variable": name,
                    "coef": None,
                    "p": None,
                    "stars": "",
                    "sign_flip": False,
                    "star_change": False,
                    "skipped": True,
                }
                for name in x
            )
            continue
        fit = ols(y[keep], sub, robust=robust)
        for j, name in enumerate(x):
            s = stars(float(fit.p[j]))
            rows.append(
                {
                    "unit": lab,
                    "variable": name,
                    "coef": float(fit.coef[j]),
                    "p": float(fit.p[j]),
                    "stars": s,
                    "sign_flip": bool(np.sign(fit.coef[j]) != np.sign(full.coef[j])),
                    "star_change": s != base_stars[j],
                    "skipped": False,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "unit": pl.String,
            "variable": pl.String,
            "coef": pl.Float64,
            "p": pl.Float64,
            "stars": pl.String,
            "sign_flip": pl.Boolean,
            "star_change": pl.Boolean,
            "skipped": pl.Boolean,
        },
    )


def partial_regression(
    y: np.ndarray, x: Mapping[str, np.ndarray], name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Added-variable plot of one regressor: (x residual, y residual), each on the other regressors with
    a constant. The slope through these points equals the regressor's coefficient in the full model."""
    others = np.column_stack([np.ones_like(y)] + [v for k, v in x.items() if k != name])
    ex = x[name] - others @ _solve(others, x[name])
    ey = y - others @ _solve(others, y)
    return ex, ey


@dataclass(frozen=True)
class PublishedCheck:
    """A printed coefficient whose stars disagree with its own coefficient / standard error."""

    variable: str
    coef: float
    se: float
    printed: str
    implied: str
    p: float


def check_published(rows: Sequence[tuple[str, float, float, str]], *, n: int, k: int) -> list[PublishedCheck]:
    """Recompute the stars of a published table from coefficient and standard error (df = n − k − 1)
    and return the rows whose printed stars do not match."""
    out = []
    for name, coef, se, printed in rows:
        p = coef_pvalue(coef, se, n - k - 1)
        if stars(p) != printed:
            out.append(PublishedCheck(name, coef, se, printed, stars(p), p))
    return out


def vif_from_correlations(r: np.ndarray) -> np.ndarray:
    """VIFs implied by a correlation matrix of the regressors: the diagonal of its inverse (what a
    published correlation table lets a reader check against the VIFs the paper reports)."""
    return np.diag(np.linalg.inv(np.asarray(r, dtype=float)))
