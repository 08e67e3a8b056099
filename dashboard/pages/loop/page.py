"""Closed loop: where cases stop between monitoring and feedback, the two SLA clocks with their overdue
lists, the KPIs with their exact formulas, rankings with a minimum sample, hotspots and a map of open cases.

Every figure comes from queries/loop.py (the maintained rollups and the open cases); this module parses the
filters, calls those reads and lays out what they return."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import inputs, wall, warmup
from dashboard.app import settings
from dashboard.components import empty_state, graph, notice
from dashboard.i18n import bi_text, pick
from dashboard.pages.loop import charts
from dashboard.pages.loop import components as lc
from dashboard.view import PageParams, as_of_text, page_params, reads, remembered, warm
from queries import geo, loop, meta
from queries.errors import PoolError
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/loop",
    name="loop",
    title="闭环跟踪 · Closed loop",
    order=3,
    ready="#loop-funnel-graph .main-svg",
    roles=("operator", "leader", "department_head", "admin"),
)

OVERDUE_RED = 50  # open cases past their closure due time that turn the wall red
ALL = "all"
DESK_MONTHS = 12  # default period: the last 12 open months


class ids:
    root = "loop-root"
    params = "loop-params-store"
    content = "loop-content"
    month_from = "loop-from-dropdown"
    month_to = "loop-to-dropdown"
    township = "loop-township-dropdown"
    notice = "loop-notice"
    kpis = "loop-kpis"
    funnel = "loop-funnel-graph"
    stops = "loop-stops"
    durations = "loop-durations-graph"
    sign = "loop-overdue-sign"
    close = "loop-overdue-close"
    dept_rank = "loop-rank-dept"
    town_rank = "loop-rank-township"
    hotspots = "loop-hotspots"
    map = "loop-map"
    points = "loop-map-points"


def _alert(v: Viewer) -> str | None:
    """Red when more than OVERDUE_RED open cases in the viewer's scope are past their closure due time."""
    counts = loop.overdue_counts(scope=v.scope(), as_of=meta.pool_status().case_clock)
    return "red" if counts["close"] > OVERDUE_RED else ("amber" if counts["sign"] else None)


wall.register(__name__, _alert)


def _warm(v: Viewer, p: PageParams) -> None:
    ch = choose({}, loop.months(), _scope_towns(v))
    warm(v, render, p, ch.month_from, ch.month_to, ch.township)


warmup.register(__name__, _warm)


def month_label(m: int) -> str:
    return f"{m // 100}-{m % 100:02d}"


def choose(flat: dict[str, str], months: list[int], towns: list[int]) -> lc.Choice:
    """The period and township from the URL (?from=2026-07&to=2026-11&township=532503001); a value that
    does not exist is named in a message and replaced by the default, never an error."""
    ch = lc.Choice(
        months[max(0, len(months) - DESK_MONTHS)] if months else None, months[-1] if months else None, None
    )
    for key in ("from", "to"):
        raw = flat.get(key)
        if raw is None:
            continue
        digits = raw.replace("-", "")
        m = int(digits) if digits.isdigit() and len(digits) == 6 else None
        if m is None or m not in months:
            ch.messages.append(
                (
                    f"没有 {inputs.quoted(raw)} 月份的案件, 已用默认期间",
                    f"No cases in month {inputs.quoted(raw)}; showing the default period",
                )
            )
        elif key == "from":
            ch.month_from = m
        else:
            ch.month_to = m
    if ch.month_from is not None and ch.month_to is not None and ch.month_from > ch.month_to:
        ch.month_from, ch.month_to = ch.month_to, ch.month_from
    raw = flat.get("township")
    if raw is not None and raw != ALL:
        if raw.isdigit() and len(raw) <= 12 and int(raw) in towns:
            ch.township = int(raw)
        else:
            ch.messages.append(
                (
                    f"没有乡镇 {inputs.quoted(raw)} (或不在您的范围内), 已显示全部",
                    f"No township {inputs.quoted(raw)} in your scope; showing all",
                )
            )
    return ch


def _town_names() -> dict[int, tuple[str, str]]:
    t = meta.townships()
    return {int(c): (z, e) for c, z, e in t.select("code", "name_zh", "name_en").iter_rows()}


def _scope_towns(v: Viewer | None) -> list[int]:
    codes = sorted(_town_names())
    sc = v.scope() if v is not None else None
    if sc is not None and sc.township_code is not None:
        return [c for c in codes if c == sc.township_code]
    return codes


def _viewer_or_none() -> Viewer | None:
    from dashboard.view import viewer

    try:
        return viewer()
    except (PermissionError, PoolError):
        return None


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    flat = inputs.query_flat(query)
    try:
        months = loop.months()
        v = _viewer_or_none()
        towns = _scope_towns(v)
        names = _town_names()
    except PoolError:
        months, towns, names = [], [], {}
    ch = choose(flat, months, towns)
    mopts = [{"label": month_label(m), "value": m} for m in months]
    topts = [{"label": pick("全部乡镇(街道)", "All townships", p.lang), "value": ALL}] + [
        {"label": pick(*names[c], p.lang), "value": c} for c in towns
    ]
    controls = html.Div(
        [
            bi_text("闭环跟踪", "Closed loop", p.lang, "loop-title"),
            html.Span(pick("受理月份", "Opened", p.lang), className="loop-lbl"),
            dcc.Dropdown(
                id=ids.month_from,
                options=mopts,
                value=ch.month_from,
                clearable=False,
                className="loop-dd-month",
            ),
            html.Span("–", className="loop-dash"),
            dcc.Dropdown(
                id=ids.month_to, options=mopts, value=ch.month_to, clearable=False, className="loop-dd-month"
            ),
            dcc.Dropdown(
                id=ids.township,
                options=topts,
                value=ch.township if ch.township is not None else ALL,
                clearable=False,
                className="loop-dd-town",
            ),
        ],
        className="loop-controls card-tools-row",
    )
    return html.Div(
        [
            dcc.Store(id=ids.params, data=p.store()),
            controls,
            html.Div(notice(ch.messages, p.lang), id=ids.notice),
            html.Div(
                remembered(render, p.lang, p, ch.month_from, ch.month_to, ch.township),
                id=ids.content,
                className="loop-body",
            ),
        ],
        id=ids.root,
        className="loop",
    )


@reads("cases")
def render(
    v: Viewer, p: PageParams, month_from: int | None, month_to: int | None, township: int | None
) -> Any:
    if month_from is None or month_to is None:
        return empty_state(p.lang, ("数据池中还没有案件", "The pool holds no cases yet"))
    scope = v.scope()
    if township is not None and scope.township_code is not None and township != scope.township_code:
        return empty_state(p.lang, ("该乡镇不在您的范围内", "This township is outside your scope"))
    # the overdue clocks' time: the as-of time rounded down to CC_CASE_CLOCK_SECONDS (meta.case_clock),
    # so a record batch, which moves the as-of time, leaves this answer valid until the clock turns
    as_of = meta.pool_status().case_clock
    asof = as_of_text(as_of)
    a, b = sorted((month_from, month_to))
    per = (f"{month_label(a)} 至 {month_label(b)}", f"{month_label(a)} to {month_label(b)}")
    kw: dict[str, Any] = {"scope": scope, "month_from": a, "month_to": b, "township_code": township}
    kpis = loop.kpis(**kw)
    if kpis[0].denominator == 0 and kpis[2].denominator == 0:
        return empty_state(p.lang, ("所选期间和范围内没有案件", "No cases in this period and scope"))
    wall_ = p.theme == "wall"
    rows = 8 if wall_ else 30
    frame, stops = loop.funnel(as_of=as_of, **kw)
    examples = {
        k: loop.stopped(as_of=as_of, kind=k, **kw)["id"].head(6).to_list() for k, _, _, _ in loop.STOPS
    }
    hs = loop.hotspots(**kw)
    examples["never_optimized"] = loop.unoptimized_examples(hotspots_frame=hs)
    durs = loop.stage_durations(**kw)
    depts = {int(i): (z, e) for i, z, e in meta.departments().select("id", "name_zh", "name_en").iter_rows()}
    towns = _town_names()
    open_kw: dict[str, Any] = {"scope": scope, "as_of": as_of, "township_code": township}
    sign = loop.overdue(clock="sign", **open_kw)
    close = loop.overdue(clock="close", **open_kw)
    counts = loop.overdue_counts(**open_kw)
    layer = loop.map_layer(as_of=as_of, **kw)
    state_n, clustered = layer.counts, layer.clustered
    features = lc.points_geojson(layer.frame) if clustered else lc.cells_geojson(layer.frame)
    # the overdue figures are reckoned at the clock, which turns every CC_CASE_CLOCK_SECONDS: say so, so
    # that a time a few minutes behind the shell's "data as of" badge reads as what it is
    step = max(1, meta.CASE_CLOCK_SECONDS // 60)
    clock = pick(f"逾期按 {asof} 计 (每 {step} 分钟)", f"overdue as of {asof} ({step}-minute clock)", p.lang)
    foot_open = pick(f" · 未办结案件 · {clock}", f" · open cases · {clock}", p.lang)
    foot_map = pick(
        f" · {per[0]} 受理的未办结案件 · {clock}", f" · open cases opened {per[1]} · {clock}", p.lang
    )
    foot_per = pick(f" · {per[0]} 受理 · 数据截至 {asof}", f" · opened {per[1]} · as of {asof}", p.lang)

    def card(cid: str, q: tuple[str, str], foot: str, body: Any, cls: str = "") -> html.Div:
        return html.Div(
            [lc.title(q, foot, p.lang), html.Div(body, id=cid, className="loop-card-body")],
            className=f"card {cls}".strip(),
        )

    clock_foot = {
        "sign": pick(
            f" · 期限2个工作小时 · {counts['sign']:,} 件超时{foot_open}",
            f" · limit 2 working hours · {counts['sign']:,} late{foot_open}",
            p.lang,
        ),
        "close": pick(
            f" · 咨询1/求助5/投诉10个工作日 · {counts['close']:,} 件超期{foot_open}",
            f" · enquiry 1 / help 5 / complaint 10 working days · {counts['close']:,} overdue{foot_open}",
            p.lang,
        ),
    }
    ranks_foot = pick(
        f" · 少于 {loop.MIN_SAMPLE} 件不排名{foot_per}",
        f" · fewer than {loop.MIN_SAMPLE} cases not ranked{foot_per}",
        p.lang,
    )
    return [
        html.Div(lc.kpi_cards(kpis, per, p.lang), id=ids.kpis, className="ov-kpis loop-kpis"),
        html.Div(
            [
                html.Div(
                    [
                        graph(
                            ids.funnel,
                            charts.funnel_figure(frame, per, asof, p.lang, p.theme),
                            "chart loop-funnel",
                        ),
                        html.Div(
                            [
                                bi_text(
                                    "案件停在哪里 (超过30天未进入下一环节)",
                                    "Where cases stopped (30+ days without the next stage)",
                                    p.lang,
                                    "loop-sub",
                                ),
                                html.Div(lc.stops_list(stops, examples, p.lang), id=ids.stops),
                            ]
                        ),
                    ],
                    className="card chart-card loop-funnel-card",
                ),
                html.Div(
                    graph(
                        ids.durations,
                        charts.durations_figure(durs, per, asof, p.lang, p.theme),
                        "chart loop-dur",
                    ),
                    className="card chart-card loop-dur-card",
                ),
                html.Div(
                    [
                        lc.title(
                            (
                                "未办结案件在哪里? 按超期状态着色",
                                "Where are the open cases? Coloured by overdue state",
                            ),
                            foot_map,
                            p.lang,
                        ),
                        html.Div(
                            lc.leaflet_map(
                                ids.points,
                                features,
                                geo.township_outlines(),
                                settings().basemap_url,
                                p.lang,
                                clustered=clustered,
                            ),
                            id=ids.map,
                            className="loop-mapbox",
                        ),
                        lc.map_legend(state_n, p.lang),
                    ],
                    className="card loop-map-card",
                ),
            ],
            className="loop-grid",
        ),
        html.Div(
            [
                card(
                    ids.sign,
                    lc.CLOCK_TITLES["sign"],
                    clock_foot["sign"],
                    lc.overdue_table(sign, depts, p.lang, rows),
                ),
                card(
                    ids.close,
                    lc.CLOCK_TITLES["close"],
                    clock_foot["close"],
                    lc.overdue_table(close, depts, p.lang, rows),
                ),
            ],
            className="loop-grid2",
        ),
        html.Div(
            [
                card(
                    ids.dept_rank,
                    ("哪些部门按时办结最好?", "Which departments close on time best?"),
                    ranks_foot,
                    lc.ranking_table(loop.rankings(by="dept", **kw), p.lang, rows, loop.MIN_SAMPLE),
                ),
                card(
                    ids.town_rank,
                    ("哪些乡镇(街道)按时办结最好?", "Which townships close on time best?"),
                    ranks_foot,
                    lc.ranking_table(loop.rankings(by="township", **kw), p.lang, rows, loop.MIN_SAMPLE),
                ),
                card(
                    ids.hotspots,
                    ("哪些问题在同一地点反复发生?", "Which problems keep recurring in one place?"),
                    pick(
                        f" · 同一社区同类问题 {loop.HOTSPOT_DAYS} 天内 ≥ {loop.HOTSPOT_MIN} 件{foot_per}",
                        f" · same problem, same community, >= {loop.HOTSPOT_MIN} in {loop.HOTSPOT_DAYS} days{foot_per}",
                        p.lang,
                    ),
                    lc.hotspot_table(hs, towns, p.lang, rows),
                ),
            ],
            className="loop-grid3",
        ),
    ]


def _month(value: object, months: list[int]) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value in months else None


@callback(
    Output(ids.content, "children"),
    Output(ids.notice, "children"),
    Input("app-refresh-interval", "n_intervals"),
    Input(ids.month_from, "value"),
    Input(ids.month_to, "value"),
    Input(ids.township, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def refresh(_: int | None, month_from: object, month_to: object, township: object, params: object) -> Any:
    """Re-render for the chosen period and township (and on the live refresh); values the browser sends
    that are not on offer are named and replaced by the default."""
    p = PageParams.from_store(params)
    try:
        months = loop.months()
    except PoolError:
        months = []
    messages: list[tuple[str, str]] = []
    a, b = _month(month_from, months), _month(month_to, months)
    if (month_from is not None and a is None) or (month_to is not None and b is None):
        messages.append(
            ("所选月份没有案件, 已用默认期间", "No cases in the chosen month; showing the default period")
        )
    if months:
        a = a if a is not None else months[max(0, len(months) - DESK_MONTHS)]
        b = b if b is not None else months[-1]
    town: int | None = None
    if township not in (None, ALL):
        if isinstance(township, int) and not isinstance(township, bool) and township in _town_names():
            town = township
        else:
            messages.append(("没有这个乡镇, 已显示全部", "No such township; showing all"))
    return remembered(render, p.lang, p, a, b, town), notice(messages, p.lang)
