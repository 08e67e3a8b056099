"""The data owners' scorecards: one card per source system with its owner's name and five quality KPIs
over the last 30 days, each against the 30 days before it."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.components import KpiDef, kpi_card
from dashboard.i18n import bi_text, pick
from dashboard.pages.pool.names import ids
from dashboard.view import PageParams, as_of_text
from queries import meta, owners
from queries.scope import Viewer

SRC = "queries.owners.scorecards"
PERIOD = ("近30日 (对比前30日)", "last 30 days (vs the 30 days before)")
ROLLUP = ("汇总表 rollup_daily 中的记录数", "records in rollup_daily")

# key -> (label, defect numerator, formula); the four rollup scores are 1 - defect / records
SCORES: dict[str, tuple[tuple[str, str], tuple[str, str], tuple[str, str]]] = {
    "completeness": (
        ("完整性", "Completeness"),
        ("缺失字段的记录 (社区或金额为空)", "records with a missing field (community or amount empty)"),
        ("1 − 缺失记录 / 记录数", "1 − missing / records"),
    ),
    "timeliness": (
        ("及时性", "Timeliness"),
        ("迟到记录 (接收晚于发生 48 小时以上)", "late records (received > 48 h after they occurred)"),
        ("1 − 迟到记录 / 记录数", "1 − late / records"),
    ),
    "uniqueness": (
        ("唯一性", "Uniqueness"),
        ("重复记录 (业务主键已被另一条记录占用)", "duplicates (a business key another record carries)"),
        ("1 − 重复记录 / 记录数", "1 − duplicates / records"),
    ),
    "conformity": (
        ("编码规范", "Code conformity"),
        ("区划编码非标准 9 位形式的记录", "records whose area code is not the canonical 9-digit form"),
        ("1 − 编码不规范记录 / 记录数", "1 − bad codes / records"),
    ),
}
QUARANTINE_DEF = KpiDef(
    ("被隔离行 / (接收行 + 被隔离行)", "quarantined / (received + quarantined)"),
    (
        "本期经接口或文件到达、被隔离的行 (quarantine)",
        "rows quarantined on arrival by API or file (quarantine)",
    ),
    (
        "本期批次接收的行 (已入库或重复) + 被隔离行 (ingest_batch)",
        "rows the window's batches received (accepted or replayed) + quarantined (ingest_batch)",
    ),
    PERIOD,
    SRC,
)
DEFS = {k: KpiDef(formula, numerator, ROLLUP, PERIOD, SRC) for k, (_, numerator, formula) in SCORES.items()}
DEFS["quarantine_rate"] = QUARANTINE_DEF
LABELS = {k: v[0] for k, v in SCORES.items()} | {"quarantine_rate": ("隔离率", "Quarantine rate")}
GOOD_ABOVE = 0.97  # a score below this is a warning; a quarantine rate above 1 - this is too


def _delta(now: float | None, before: float | None, lang: str, *, lower_is_better: bool = False) -> str:
    if now is None:
        return pick("本期无数据", "no data this period", lang)
    if before is None:
        return pick("前30日无数据", "no data before", lang)
    pp = (now - before) * 100
    if abs(pp) < 0.05:
        return pick("与前30日持平", "level with the 30 days before", lang)
    better = (pp < 0) if lower_is_better else (pp > 0)
    arrow = "▲" if pp > 0 else "▼"
    word = pick("改善", "better", lang) if better else pick("变差", "worse", lang)
    return pick(
        f"{arrow}{abs(pp):.1f} 个百分点 ({word})", f"{arrow}{abs(pp):.1f} pp vs before ({word})", lang
    )


def _tone(key: str, value: float | None) -> str:
    if value is None:
        return ""
    bad = value > 1 - GOOD_ABOVE if key == "quarantine_rate" else value < GOOD_ABOVE
    return "warn" if bad else "good"


def _owner_line(r: dict[str, Any], lang: str) -> html.Div:
    src = (
        pick(
            f"数据负责人: {r['owner_zh']} ({r['owner_title_zh']})",
            f"Data owner: {r['owner_zh']} ({r['owner_title_zh']})",
            lang,
        )
        if r["owner_zh"]
        else pick("数据负责人: 未指定", "Data owner: none named", lang)
    )
    dept = (
        pick(f"部门负责人: {r['dept_owner_zh']}", f"Department's owner: {r['dept_owner_zh']}", lang)
        if r["dept_owner_zh"]
        else pick("部门负责人: 未指定", "Department's owner: none named", lang)
    )
    return html.Div(
        [html.Span(src, className="score-owner"), html.Span(" · " + dept, className="score-dept-owner")],
        className="score-owners" + ("" if r["owner_zh"] else " score-unowned"),
    )


def card(r: dict[str, Any], lang: str) -> html.Div:
    code = r["code"]
    kpis = []
    for key in (*SCORES, "quarantine_rate"):
        value, before = r[key], r[f"prev_{key}"]
        kpis.append(
            kpi_card(
                f"pool-score-{code}-{key}",
                LABELS[key],
                "—" if value is None else f"{value:.1%}",
                DEFS[key],
                lang,
                sub=_delta(value, before, lang, lower_is_better=key == "quarantine_rate"),
                tone=_tone(key, value),
            )
        )
    return html.Div(
        [
            html.Div(
                [
                    bi_text(r["name_zh"], r["name_en"], lang),
                    html.Span(" · " + pick(r["dept_zh"], r["dept_en"], lang), className="chart-foot"),
                ],
                className="card-title",
            ),
            _owner_line(r, lang),
            html.Div(kpis, className="score-kpis"),
        ],
        className="card score-card" + (" score-home" if r["home"] else ""),
        id=f"pool-score-{code}",
    )


def section(v: Viewer, p: PageParams) -> html.Div:
    """Every source system's scorecard the viewer's scope counts; a department head's own first."""
    st = meta.pool_status()
    day = st.as_of_day
    home = v.department_id if v.role == "department_head" else None
    frame = owners.scorecards(scope=v.scope(), first_day=day - 29, last_day=day, home_department=home)
    lang = p.lang
    return html.Div(
        [
            html.Div(
                [
                    bi_text("数据负责人质量记分卡", "Data owners' quality scorecards", lang),
                    html.Span(
                        pick(
                            f" · 每个来源系统一张 · 近30日对比前30日 · 数据截至 {as_of_text(st.as_of)}",
                            f" · one per source system · last 30 days vs the 30 before · as of {as_of_text(st.as_of)}",
                            lang,
                        ),
                        className="chart-foot",
                    ),
                ],
                className="card-title",
            ),
            html.P(
                pick(
                    "每项质量问题都有名有姓的负责人: 得分最低的来源在前"
                    + ("; 本部门的来源排在最前." if home is not None else "."),
                    "Every quality problem has a named owner: the lowest-scoring sources come first"
                    + ("; your department's sources lead." if home is not None else "."),
                    lang,
                ),
                className="chart-foot",
            ),
            html.Div([card(r, lang) for r in frame.iter_rows(named=True)], className="score-grid"),
        ],
        id=ids.scorecards,
        className="card score-section",
    )
