"""Chinese first, English beside it. One table of UI strings; data labels come from the pool."""

from __future__ import annotations

from dash import html

LANGS = ("zh", "en")

T: dict[str, tuple[str, str]] = {
    "brand": ("蒙自市数字治理指挥中心", "Mengzi Digital Governance Command Center"),
    "overview": ("总览", "Overview"),
    "pool": ("数据池", "Data pool"),
    "lists": ("三单融合", "Three lists in one"),
    "audit": ("责任日志", "Responsibility log"),
    "browser": ("记录浏览", "Record browser"),
    "prices": ("农产品价格", "Agricultural prices"),
    "divide": ("数字鸿沟", "Digital divide"),
    "twin": ("社区三维", "3D community"),
    "loop": ("闭环跟踪", "Closed loop"),
    "factors": ("治理因素", "Governance factors"),
    "case": ("案件", "Case"),
    "appeals": ("申诉与优化", "Appeals & optimization"),
    "as_of": ("数据截至", "Data as of"),
    "stale": ("数据已滞后", "Data is stale"),
    "scope": ("范围", "Scope"),
    "whole_city": ("全市", "Whole city"),
    "logout": ("退出", "Log out"),
    "loading": ("加载中…", "Loading…"),
    "no_data": ("所选范围内暂无数据", "No data for this selection"),
    "no_alerts": ("运行正常 · 无告警", "All normal · no alerts"),
    "pool_error": ("数据池暂不可用", "The data pool is unavailable"),
    "today": ("今日", "Today"),
    "vs_last_week": ("较上周同期", "vs same time last week"),
    "last_7d": ("近7日", "Last 7 days"),
    "records": ("条", "records"),
    "wall_paused": ("已暂停 · 空格键继续", "Paused · Space to resume"),
    "wall_next": ("下一页", "Next"),
    "wall_takeover": ("告警接管", "Alert takeover"),
    "unknown_lang": ("未知语言参数, 已显示中文", "Unknown language parameter; showing Chinese"),
    "per_1k_day": ("条/千人/日", "records per 1,000 residents per day"),
    "urban": ("城镇街道", "Urban sub-districts"),
    "rural": ("农村乡镇", "Rural townships"),
    "red": ("红色告警", "Red alert"),
    "amber": ("黄色预警", "Amber warning"),
    "retry": ("重试", "Retry"),
}


def norm_lang(value: object, default: str = "zh") -> str:
    return value if isinstance(value, str) and value in LANGS else default


def t(key: str, lang: str) -> str:
    zh, en = T[key]
    return zh if lang == "zh" else en


def other(key: str, lang: str) -> str:
    zh, en = T[key]
    return en if lang == "zh" else zh


def pick(zh: str, en: str, lang: str) -> str:
    return zh if lang == "zh" else en


def both(zh: str, en: str, lang: str, sep: str = " · ") -> str:
    """One line with both languages, the chosen one first (chart titles, tooltips)."""
    return f"{zh}{sep}{en}" if lang == "zh" else f"{en}{sep}{zh}"


def bi(key: str, lang: str, cls: str = "") -> html.Span:
    """The chosen language, with the other one beside it, smaller."""
    return bi_text(*T[key], lang, cls)


def bi_text(zh: str, en: str, lang: str, cls: str = "") -> html.Span:
    main, sub = (zh, en) if lang == "zh" else (en, zh)
    return html.Span(
        [html.Span(main, className="bi-main"), html.Span(sub, className="bi-sub")],
        className=f"bi {cls}".strip(),
    )


def titles(q: tuple[str, str], detail: tuple[str, str], lang: str) -> tuple[str, str]:
    """A chart's (title, subtitle): the question in the chosen language; the other language's question and
    the chosen language's units / period / as-of on two subtitle lines."""
    main, other_ = (q[0], q[1]) if lang == "zh" else (q[1], q[0])
    return main, f"{other_}<br>{detail[0] if lang == 'zh' else detail[1]}"
