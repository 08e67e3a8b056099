"""Pure builders of the factor-analysis page: Analysis -> tables, figures and the plain-language summary.
No queries and no callbacks here."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import html

from dashboard import figures
from dashboard.i18n import both, pick
from queries import stats
from queries.factors import VARIABLES, Analysis


def var_label(name: str, lang: str) -> str:
    v = VARIABLES.get(name)
    if name == stats.CONST:
        return pick("常数项", "Constant", lang)
    return pick(*v.label, lang) if v else name


def var_title(name: str, lang: str) -> str:
    """Hover text of a variable: formula, unit and source in both languages."""
    v = VARIABLES.get(name)
    if v is None:
        return name
    return (
        f"{v.label[0]} / {v.label[1]}\n{both(*v.formula, lang, ' / ')}\n"
        f"{both(*v.unit, lang, ' / ')}\n{both(*v.source, lang, ' / ')}"
    )


def _num(v: float | None, digits: int = 4) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.2f}"
    if 0 < abs(v) < 0.001:  # per-resident or per-yuan coefficients: significant digits, not 0.0000
        return f"{v:.3e}"
    return f"{v:.{digits}f}"


def _head(cells: list[tuple[str, str]], lang: str) -> html.Thead:
    return html.Thead(html.Tr([html.Th(pick(*c, lang)) for c in cells]))


def describe_table(a: Analysis, lang: str, tid: str) -> html.Table:
    """Table 2: the paper's layout (mean, SD, minimum, maximum) plus N."""
    rows = [
        html.Tr(
            [
                html.Td(var_label(r["variable"], lang), title=var_title(r["variable"], lang)),
                *[html.Td(_num(r[k]), className="num") for k in ("mean", "sd", "min", "max")],
                html.Td(str(r["n"]), className="num"),
            ]
        )
        for r in a.describe.iter_rows(named=True)
    ]
    head = [
        ("变量", "Variable"),
        ("均值", "Mean"),
        ("标准差", "SD"),
        ("最小值", "Min"),
        ("最大值", "Max"),
        ("N", "N"),
    ]
    return html.Table([_head(head, lang), html.Tbody(rows)], id=tid, className="stat-table")


def corr_figure(a: Analysis, *, theme: str, lang: str, as_of: str) -> go.Figure:
    """Table 3 as a heatmap: r in each cell with its stars, lower triangle only."""
    names = a.corr.names
    labels = [var_label(n, lang) for n in names]
    k = len(names)
    z = np.where(np.tril(np.ones((k, k), dtype=bool)), a.corr.r, np.nan)
    text = [
        [
            f"{a.corr.r[i, j]:.3f}{'' if i == j else stats.stars(float(a.corr.p[i, j]))}" if j <= i else ""
            for j in range(k)
        ]
        for i in range(k)
    ]
    hover = [
        [f"r = {a.corr.r[i, j]:.3f}, p = {a.corr.p[i, j]:.4f}" if j <= i else "" for j in range(k)]
        for i in range(k)
    ]
    trace = {
        "type": "heatmap",
        "x": labels,
        "y": labels,
        "z": z,
        "zmin": -1,
        "zmax": 1,
        "colorscale": "RdBu",
        "reversescale": True,
        "text": text,
        "texttemplate": "%{text}",
        "customdata": hover,
        "hovertemplate": "%{y} × %{x}: %{customdata}<extra></extra>",
        "colorbar": {"title": {"text": "r"}, "thickness": 12},
    }
    title = pick("哪些因素与治理指数同升同降?", "Which factors move with the governance index?", lang)
    sub = both(
        f"皮尔逊相关系数 r (无单位) · *** p<1% ** p<5% * p<10% · N = {a.n_units} · 数据截至 {as_of}",
        f"Pearson r (unitless) · *** p<1% ** p<5% * p<10% · N = {a.n_units} · data as of {as_of}",
        lang,
        "<br>",
    )
    return figures.chart([trace], title=title, subtitle=sub, theme=theme, yaxis={"autorange": "reversed"})


def vif_figure(a: Analysis, *, theme: str, lang: str, as_of: str) -> go.Figure:
    """VIF of every regressor with the thresholds 5 and 10 and the mean marked."""
    names = a.vif["variable"].to_list()
    vals = a.vif["vif"].to_numpy()
    colors = [
        "#dc2626" if v > stats.VIF_SERIOUS else "#f59e0b" if v > stats.VIF_WARN else "#16a34a" for v in vals
    ]
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": [var_label(n, lang) for n in names],
        "x": vals,
        "marker": {"color": colors},
        "text": [f"{v:.2f}" for v in vals],
        "textposition": "outside",
        "hovertemplate": "%{y}: VIF %{x:.2f}<extra></extra>",
        "showlegend": False,
    }
    lines = [
        {
            "type": "line",
            "x0": t,
            "x1": t,
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "line": {"dash": "dot", "color": c},
        }
        for t, c in ((stats.VIF_WARN, "#f59e0b"), (stats.VIF_SERIOUS, "#dc2626"))
    ]
    mean = float(vals.mean())
    title = pick("自变量之间是否共线?", "Are the regressors collinear?", lang)
    sub = both(
        f"方差膨胀因子 VIF (无单位) · 均值 {mean:.2f} · 虚线: 5 需关注, 10 严重 · 数据截至 {as_of}",
        f"variance inflation factor (unitless) · mean {mean:.2f} · dotted: 5 worth a look, 10 serious · as of {as_of}",
        lang,
        "<br>",
    )
    return figures.chart(
        [trace], title=title, subtitle=sub, theme=theme, shapes=lines, yaxis={"autorange": "reversed"}
    )


def model_table(a: Analysis, lang: str, tid: str) -> html.Table:
    """Table 4: models side by side; coefficient with stars over its standard error in brackets."""
    k = len(a.models)
    head = [("变量", "Variable"), *[(f"M{i + 1}", f"M{i + 1}") for i in range(k)]]
    order = [*dict.fromkeys(v for m in a.model_xs for v in m), stats.CONST]
    rows = []
    for name in order:
        cells: list[Any] = [html.Td(var_label(name, lang), title=var_title(name, lang))]
        for m in a.models:
            if name not in m.names:
                cells.append(html.Td("—", className="num"))
                continue
            i = m.names.index(name)
            std = "" if name == stats.CONST else f" β*={m.std_coef[i]:.3f}"
            cells.append(
                html.Td(
                    [
                        html.Div(f"{_num(m.coef[i])}{stats.stars(float(m.p[i]))}"),
                        html.Div(f"({_num(m.se[i])})", className="se"),
                    ],
                    className="num",
                    title=f"t = {m.t[i]:.3f}, p = {m.p[i]:.4f}{std}",
                )
            )
        rows.append(html.Tr(cells))

    def stat_row(label: tuple[str, str], fmt: Any) -> html.Tr:
        return html.Tr(
            [html.Td(pick(*label, lang), className="stat-label")]
            + [html.Td(fmt(m), className="num") for m in a.models]
        )

    rows += [
        stat_row(("样本量 N", "N"), lambda m: str(m.n)),
        stat_row(("F (p 值)", "F (p-value)"), lambda m: f"{m.f:.2f} ({m.f_p:.4f})"),
        stat_row(("R²", "R²"), lambda m: f"{m.r2:.4f}"),
        stat_row(("调整后 R²", "Adjusted R²"), lambda m: f"{m.adj_r2:.4f}"),
        stat_row(("残差自由度", "Residual df"), lambda m: f"{m.df_resid}{' ⚠' if m.few_df else ''}"),
    ]
    return html.Table([_head(head, lang), html.Tbody(rows)], id=tid, className="stat-table model-table")


def loo_table(a: Analysis, lang: str, tid: str) -> html.Div | html.P:
    """Leave-one-out: the units whose removal flips a sign or changes the stars of the full model."""
    hits = a.loo_hits
    if hits.height == 0:
        return html.P(
            pick(
                "去掉任何一个观测, 完整模型的系数符号和显著性星号都不变.",
                "Leaving out any one observation changes no sign and no stars of the full model.",
                lang,
            ),
            id=tid,
        )
    rows = [
        html.Tr(
            [
                html.Td(r["unit"]),
                html.Td(var_label(r["variable"], lang)),
                html.Td(f"{_num(r['coef'])}{r['stars']}", className="num"),
                html.Td(
                    pick("符号翻转", "sign flips", lang)
                    if r["sign_flip"]
                    else pick("星号变化", "stars change", lang)
                ),
            ]
        )
        for r in hits.head(40).iter_rows(named=True)
    ]
    head = [
        ("去掉的观测", "Left out"),
        ("变量", "Variable"),
        ("系数", "Coefficient"),
        ("变化", "Change"),
    ]
    return html.Div(html.Table([_head(head, lang), html.Tbody(rows)], className="stat-table"), id=tid)


def residual_figure(a: Analysis, *, theme: str, lang: str, as_of: str) -> go.Figure:
    """Residuals against fitted values of the largest model, one point per observation."""
    m = a.models[-1]
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": m.fitted,
        "y": m.resid,
        "text": a.labels,
        "hovertemplate": "%{text}: %{x:.2f} / %{y:.2f}<extra></extra>",
        "showlegend": False,
    }
    unit = both(*VARIABLES[a.y].unit, lang, " / ") if a.y in VARIABLES else ""
    return figures.chart(
        [trace],
        title=pick(
            f"M{len(a.models)} 的残差是否有规律?", f"Do M{len(a.models)}'s residuals show a pattern?", lang
        ),
        subtitle=both(
            f"横轴拟合值, 纵轴残差 · 单位: {unit} · 数据截至 {as_of}",
            f"fitted (x) vs residual (y) · unit: {unit} · as of {as_of}",
            lang,
            "<br>",
        ),
        theme=theme,
        shapes=[
            {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0, "line": {"dash": "dot"}}
        ],
    )


def partial_figure(a: Analysis, name: str, *, theme: str, lang: str, as_of: str) -> go.Figure:
    """Added-variable plot: the slope through the points is the regressor's coefficient in the full model."""
    ex, ey = (np.asarray(v) for v in a.partial[name])
    slope = float(ex @ ey / (ex @ ex))
    xs = np.array([ex.min(), ex.max()])
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "x": ex,
            "y": ey,
            "text": a.labels,
            "hovertemplate": "%{text}<extra></extra>",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": xs,
            "y": slope * xs,
            "showlegend": False,
            "hoverinfo": "skip",
        },
    ]
    label = var_label(name, lang)
    return figures.chart(
        data,
        title=pick(
            f"控制其他因素后, {label}与治理指数的关系",
            f"{label} and the index, the other regressors held fixed",
            lang,
        ),
        subtitle=both(
            f"偏回归图 · 斜率 {slope:.4g} = 完整模型系数 · 残差单位 · 数据截至 {as_of}",
            f"partial regression · slope {slope:.4g} = full-model coefficient · residual units · as of {as_of}",
            lang,
            "<br>",
        ),
        theme=theme,
    )


def summary(a: Analysis, lang: str) -> list[tuple[str, str]]:
    """The plain-language reading: what the largest model supports, what it does not, how far to trust it."""
    m = a.models[-1]
    out: list[tuple[str, str]] = []
    sig = [(n, m.coef[i]) for i, n in enumerate(m.names[:-1]) if m.p[i] < 0.05]
    if sig:
        zh = "、".join(f"{var_label(n, 'zh')}({'正' if c > 0 else '负'})" for n, c in sig)
        en = ", ".join(f"{var_label(n, 'en')} ({'+' if c > 0 else '−'})" for n, c in sig)
        out.append(
            (
                f"M{len(a.models)} 中在 5% 水平显著的因素: {zh}.",
                f"In M{len(a.models)}, significant at 5%: {en}.",
            )
        )
    else:
        out.append(
            (
                f"M{len(a.models)} 中没有在 5% 水平显著的因素.",
                f"In M{len(a.models)}, no factor is significant at 5%.",
            )
        )
    out.append(
        (
            f"模型解释了治理指数变化的 {m.r2:.0%} (调整后 {m.adj_r2:.0%}); 整体 F 检验 p = {m.f_p:.3f}.",
            f"The model explains {m.r2:.0%} of the index's variation ({m.adj_r2:.0%} adjusted); overall F test p = {m.f_p:.3f}.",
        )
    )
    if m.few_df:
        out.append(
            (
                f"⚠ 只有 {m.n} 个观测估计 {m.df_model + 1} 个参数 (残差自由度 {m.df_resid} < {stats.MIN_DF_TRUSTED}): 结论很不稳, 请减少自变量或合并年份.",
                f"⚠ {m.n} observations for {m.df_model + 1} parameters ({m.df_resid} residual df < {stats.MIN_DF_TRUSTED}): the results are fragile; use fewer regressors or pool years.",
            )
        )
    serious = a.vif_serious
    if serious:
        out.append(
            (
                f"⚠ 严重共线 (VIF > 10): {'、'.join(var_label(n, 'zh') for n in serious)}; 单个系数不可单独解读.",
                f"⚠ Serious collinearity (VIF > 10): {', '.join(var_label(n, 'en') for n in serious)}; do not read their coefficients one by one.",
            )
        )
    fragile = a.fragile
    if fragile:
        out.append(
            (
                f"⚠ 去掉 {'、'.join(sorted(fragile)[:5])} 中任何一个都会使某个系数变号.",
                f"⚠ Leaving out any one of {', '.join(sorted(fragile)[:5])} flips a coefficient's sign.",
            )
        )
    out.append(
        (
            "相关不等于因果: 这些是同期关联, 不是投入效果的证明.",
            "Association is not causation: these are same-period associations, not proof that spending works.",
        )
    )
    return out
