"""The naive peer of `command-center bench http` (issue 13): each data page's main question answered the
way Dash sample apps answer it, so the bench can say how much the house's way buys.

BENCH-ONLY. Registered only when CC_BENCH_FLOOR=1 (the bench's own gunicorn), like the floor callback,
and never reached by a page. It breaks the house rules on purpose, because that is what is measured:
SQL lives here (in `dashboard/`, not `queries/`), every request runs it on the fact table(s) (`record`,
`case_item`, `price_obs`, `divide_indicator`, the `lists_*` tables), with no rollup and no cache, rows come
back as Python lists and the plotly figures are built from those lists. The SQL itself is honest: a
GROUP BY on the fact table over the same window and the same aggregates as the page's main figure(s)
(not every row fetched into Python). The peer ignores the viewer's scope: the bench logs in as the
county-wide administrator, whose scope is everything, so the question answered is the same.

One callback per page: Output(`bench-naive-<page>`, "children"), Input(`bench-naive-<page>-in`, "data");
the bench posts `naive_body(page)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html
from sqlalchemy import Engine, create_engine, text

TZ_SECONDS = 8 * 3600  # local time is UTC+8 (the SQL writes the local day as (ts + 28800) / 86400)
DAY = 86400
LATE_SECONDS = 24 * 3600

_engine: Engine | None = None


def _db() -> Engine:
    """One engine per worker process, from the same settings the app reads (as a sample app's global)."""
    global _engine
    if _engine is None:
        from dashboard.settings import load

        _engine = create_engine(load().database_url)
    return _engine


def _rows(sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with _db().connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).fetchall()]


def _as_of() -> int:
    got = _rows("SELECT value FROM pool_meta WHERE key = 'as_of'")
    return int(got[0][0]) if got else 0


def _split(rows: list[tuple[Any, ...]]) -> dict[Any, tuple[list[Any], list[Any]]]:
    """(series, x, y) rows into one (xs, ys) pair of lists per series, in row order."""
    out: dict[Any, tuple[list[Any], list[Any]]] = {}
    for key, x, y in rows:
        xs, ys = out.setdefault(key, ([], []))
        xs.append(x)
        ys.append(y)
    return out


def _module_days(lo: int, hi: int) -> list[tuple[Any, ...]]:
    """Records per module and local day, occurred in [lo, hi)."""
    return _rows(
        "SELECT module_id, (occurred_at + 28800) / 86400 AS d, COUNT(*) FROM record"
        " WHERE occurred_at >= :lo AND occurred_at < :hi"
        " GROUP BY module_id, (occurred_at + 28800) / 86400 ORDER BY module_id, d",
        lo=lo,
        hi=hi,
    )


def _graph(fig: go.Figure) -> dcc.Graph:
    return dcc.Graph(figure=fig)


def _day(ts: int) -> int:
    return (ts + TZ_SECONDS) // DAY


# --- the pages ------------------------------------------------------------------------------------


def overview() -> list[Any]:
    """Townships ranked on the quality index (30 days), urban vs rural activity per module (30 days),
    records per day (90 days) and one sparkline per module (30 days): GROUP BYs on `record`."""
    day = _day(_as_of())
    lo30, lo90, hi = (
        (day - 29) * DAY - TZ_SECONDS,
        (day - 90) * DAY - TZ_SECONDS,
        (day + 1) * DAY - TZ_SECONDS,
    )
    towns = _rows(
        "SELECT t.name_zh, COUNT(*),"
        " SUM(CASE WHEN r.received_at - r.occurred_at > :late THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.community_code IS NULL OR r.amount IS NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.area_code_raw <> CAST(r.township_code AS VARCHAR(16)) THEN 1 ELSE 0 END),"
        " COUNT(DISTINCT r.record_key)"
        " FROM record r JOIN township t ON t.code = r.township_code"
        " WHERE r.occurred_at >= :lo AND r.occurred_at < :hi GROUP BY t.name_zh",
        late=LATE_SECONDS,
        lo=lo30,
        hi=hi,
    )
    index = []
    for name, n, late, missing, badcode, distinct in towns:
        rates = [1 - late / n, 1 - missing / n, 1 - badcode / n, distinct / n]
        index.append((100 * sum(rates) / 4, name))
    index.sort(reverse=True)
    ranking = go.Figure(go.Bar(x=[v for v, _ in index], y=[n for _, n in index], orientation="h"))
    ranking.update_layout(title="哪个乡镇(街道)数据质量指数最高?")

    urban = _rows(
        "SELECT m.name_zh, t.urban, COUNT(*) FROM record r"
        " JOIN township t ON t.code = r.township_code JOIN module m ON m.id = r.module_id"
        " WHERE r.occurred_at >= :lo AND r.occurred_at < :hi GROUP BY m.name_zh, t.urban",
        lo=lo30,
        hi=hi,
    )
    pops = dict(_rows("SELECT urban, SUM(population) FROM township GROUP BY urban"))
    sides = _split([(is_urban, name, n / pops[is_urban] * 1000 / 30) for name, is_urban, n in urban])
    ur = go.Figure([go.Bar(x=xs, y=ys, name="城镇" if k else "农村") for k, (xs, ys) in sides.items()])
    ur.update_layout(title="城乡居民的数据活跃度差多少?", barmode="group")

    daily = _rows(
        "SELECT (occurred_at + 28800) / 86400 AS d, COUNT(*) FROM record"
        " WHERE occurred_at >= :lo AND occurred_at < :hi GROUP BY (occurred_at + 28800) / 86400 ORDER BY d",
        lo=lo90,
        hi=day * DAY - TZ_SECONDS,
    )
    trend = go.Figure(go.Scatter(x=[r[0] for r in daily], y=[r[1] for r in daily], mode="lines"))
    trend.update_layout(title="数据池每天进来多少条?")

    lines = _split(_module_days(lo30, hi))
    sparks = [_graph(go.Figure(go.Scatter(x=xs, y=ys, mode="lines"))) for xs, ys in lines.values()]
    return [*sparks, _graph(ranking), _graph(ur), _graph(trend)]


def pool() -> list[Any]:
    """Delivery and quality per source system, classification per module and the module x day heatmap,
    over 30 days: GROUP BYs on `record`."""
    as_of = _as_of()
    day = _day(as_of)
    lo, hi = (day - 29) * DAY - TZ_SECONDS, (day + 1) * DAY - TZ_SECONDS
    sources = _rows(
        "SELECT s.name_zh, COUNT(*),"
        " SUM(CASE WHEN r.received_at - r.occurred_at > :late THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.community_code IS NULL OR r.amount IS NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.area_code_raw <> CAST(r.township_code AS VARCHAR(16)) THEN 1 ELSE 0 END),"
        " COUNT(*) - COUNT(DISTINCT r.record_key), MAX(r.received_at)"
        " FROM record r JOIN source_system s ON s.id = r.source_id"
        " WHERE r.occurred_at >= :lo AND r.occurred_at < :hi GROUP BY s.name_zh",
        late=LATE_SECONDS,
        lo=lo,
        hi=hi,
    )
    head = html.Tr([html.Th(h) for h in ("来源", "记录", "迟到", "缺失", "编码", "重复", "静默小时")])
    body = [
        html.Tr(
            [
                html.Td(name),
                html.Td(f"{n:,}"),
                *(html.Td(f"{k / n:.2%}") for k in (late, missing, badcode, dup)),
                html.Td(f"{(as_of - newest) / 3600:.1f}"),
            ]
        )
        for name, n, late, missing, badcode, dup, newest in sources
    ]
    classes = _rows(
        "SELECT m.name_zh, r.classification, COUNT(*) FROM record r JOIN module m ON m.id = r.module_id"
        " WHERE r.occurred_at >= :lo AND r.occurred_at < :hi GROUP BY m.name_zh, r.classification",
        lo=lo,
        hi=hi,
    )
    stacks = _split([(klass, name, n) for name, klass, n in classes])
    split = go.Figure([go.Bar(x=xs, y=ys, name=str(k)) for k, (xs, ys) in sorted(stacks.items())])
    split.update_layout(barmode="stack", title="各模块数据分级")
    cells = _module_days(lo, hi)
    days = sorted({d for _, d, _ in cells})
    mods = sorted({m for m, _, _ in cells})
    z = [[0.0] * len(days) for _ in mods]
    for m, d, n in cells:
        z[mods.index(m)][days.index(d)] = n
    for row in z:  # each module against its own mean, as the page's heatmap
        mean = sum(row) / len(row) if row else 0
        row[:] = [v / mean if mean else 0 for v in row]
    heat = go.Figure(go.Heatmap(z=z, x=days, y=mods))
    heat.update_layout(title="各模块每日上报量 (相对本模块均值)")
    return [html.Table([head, *body]), _graph(split), _graph(heat)]


def loop() -> list[Any]:
    """The loop funnel, the stage durations, the late cases now and the departments ranked, over the
    last 12 months of cases: GROUP BYs on `case_item`."""
    as_of = _as_of()
    newest = _rows("SELECT MAX(opened_at) FROM case_item")[0][0] or as_of
    lo = newest - 365 * DAY
    funnel = _rows(
        "SELECT COUNT(*), COUNT(analysis_at), COUNT(response_at), COUNT(evaluation_at),"
        " COUNT(feedback_at), COUNT(optimization_at), COUNT(closed_at)"
        " FROM case_item WHERE opened_at >= :lo",
        lo=lo,
    )[0]
    stages = ["监测", "分析", "响应", "评价", "反馈", "优化", "办结"]
    fun = go.Figure(go.Funnel(y=stages, x=list(funnel)))
    durs = _rows(
        "SELECT AVG(analysis_at - opened_at), AVG(response_at - analysis_at),"
        " AVG(evaluation_at - response_at), AVG(feedback_at - evaluation_at),"
        " AVG(optimization_at - feedback_at), AVG(closed_at - opened_at)"
        " FROM case_item WHERE opened_at >= :lo",
        lo=lo,
    )[0]
    dur = go.Figure(go.Bar(x=stages[1:], y=[(v or 0) / 3600 for v in durs]))
    dur.update_layout(title="各环节平均用时 (小时)")
    ranking = _rows(
        "SELECT d.name_zh, COUNT(*),"
        " SUM(CASE WHEN c.closed_at IS NOT NULL AND c.closed_at <= c.close_due_at THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN c.closed_at IS NULL AND c.close_due_at < :now THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN c.satisfaction = 'satisfied' THEN 1 ELSE 0 END)"
        " FROM case_item c JOIN department d ON d.id = c.dept_id WHERE c.opened_at >= :lo"
        " GROUP BY d.name_zh",
        lo=lo,
        now=as_of,
    )
    ranking.sort(key=lambda r: r[2] / r[1], reverse=True)
    rank = go.Figure(go.Bar(x=[r[0] for r in ranking], y=[r[2] / r[1] for r in ranking]))
    rank.update_layout(title="各部门按时办结率")
    late = [html.Li(f"{r[0]}: 超期未办结 {r[3]:,}") for r in ranking]
    return [_graph(fun), _graph(dur), _graph(rank), html.Ul(late)]


def prices() -> list[Any]:
    """The price board (this month's mean price of every product x market and its change on last month)
    and each product's monthly mean over two years: GROUP BYs on `price_obs`."""
    day = _rows("SELECT MAX(day) FROM price_obs")[0][0] or 0
    lo = day - 730
    months = _rows(
        "SELECT p.name_zh, m.name_zh, o.day / 30 AS mo, AVG(o.price) FROM price_obs o"
        " JOIN price_series s ON s.id = o.series_id JOIN price_product p ON p.id = s.product_id"
        " JOIN price_market m ON m.id = s.market_id"
        " WHERE o.day >= :lo AND o.outlier = :no GROUP BY p.name_zh, m.name_zh, o.day / 30",
        lo=lo,
        no=False,
    )
    last = day // 30
    now = {(p, m): v for p, m, mo, v in months if mo == last}
    before = {(p, m): v for p, m, mo, v in months if mo == last - 1}
    products = sorted({p for p, _ in now})
    markets = sorted({m for _, m in now})
    z = [
        [
            (now[(p, m)] / before[(p, m)] - 1) * 100 if (p, m) in now and before.get((p, m)) else None
            for m in markets
        ]
        for p in products
    ]
    board = go.Figure(go.Heatmap(z=z, x=markets, y=products))
    board.update_layout(title="本月价格环比 (%)")
    series: dict[str, dict[int, list[float]]] = {}
    for p, _, mo, v in months:
        series.setdefault(p, {}).setdefault(mo, []).append(v)
    lines = go.Figure(
        [
            go.Scatter(x=sorted(by), y=[sum(by[k]) / len(by[k]) for k in sorted(by)], name=p, mode="lines")
            for p, by in series.items()
        ]
    )
    lines.update_layout(title="各品种月均价")
    return [_graph(board), _graph(lines)]


def lists() -> list[Any]:
    """The three-lists mapping: per problem type its steps and the steps with no data or no owner, and the
    department x problem matrix of duties: GROUP BYs over the `lists_*` tables."""
    problems = _rows(
        "SELECT p.name_zh, COUNT(DISTINCT s.id), COUNT(DISTINCT sd.step_id), COUNT(DISTINCT du.step_id)"
        " FROM lists_problem p LEFT JOIN lists_step s ON s.problem_id = p.id"
        " LEFT JOIN lists_step_data sd ON sd.step_id = s.id LEFT JOIN lists_step_duty du ON du.step_id = s.id"
        " GROUP BY p.name_zh"
    )
    names = [r[0] for r in problems]
    gaps = go.Figure(
        [
            go.Bar(x=names, y=[r[1] for r in problems], name="步骤"),
            go.Bar(x=names, y=[r[1] - r[2] for r in problems], name="无数据"),
            go.Bar(x=names, y=[r[1] - r[3] for r in problems], name="无责任人"),
        ]
    )
    gaps.update_layout(barmode="group", title="流程与数据、责任的缺口")
    cells = _rows(
        "SELECT dp.name_zh, p.name_zh, COUNT(*) FROM lists_step_duty x"
        " JOIN lists_duty d ON d.id = x.duty_id JOIN department dp ON dp.id = d.dept_id"
        " JOIN lists_step s ON s.id = x.step_id JOIN lists_problem p ON p.id = s.problem_id"
        " GROUP BY dp.name_zh, p.name_zh"
    )
    depts = sorted({r[0] for r in cells})
    probs = sorted({r[1] for r in cells})
    z = [[0] * len(probs) for _ in depts]
    for dname, pname, n in cells:
        z[depts.index(dname)][probs.index(pname)] = n
    matrix = go.Figure(go.Heatmap(z=z, x=probs, y=depts))
    matrix.update_layout(title="部门 x 问题类型: 责任事项")
    return [_graph(gaps), _graph(matrix)]


def divide() -> list[Any]:
    """Internet penetration per township in the latest quarter, urban vs rural per quarter (population
    weighted) and offline counter visits per township: GROUP BYs on `divide_indicator` and the visits."""
    period = _rows("SELECT MAX(period) FROM divide_indicator")[0][0]
    towns = _rows(
        "SELECT t.name_zh, i.internet_rate, i.smartphone_rate FROM divide_indicator i"
        " JOIN township t ON t.code = i.township_code WHERE i.period = :p ORDER BY i.internet_rate",
        p=period,
    )
    bars = go.Figure(go.Bar(x=[r[1] * 100 for r in towns], y=[r[0] for r in towns], orientation="h"))
    bars.update_layout(title="各乡镇互联网普及率 (%)")
    trend = _rows(
        "SELECT i.period, t.urban, SUM(i.internet_rate * i.population) / SUM(i.population)"
        " FROM divide_indicator i JOIN township t ON t.code = i.township_code"
        " GROUP BY i.period, t.urban ORDER BY i.period",
    )
    sides = _split([(urban, per, rate * 100) for per, urban, rate in trend])
    lines = [go.Scatter(x=xs, y=ys, name="城镇" if k else "农村") for k, (xs, ys) in sides.items()]
    bench = go.Figure([*lines, go.Scatter(x=[period], y=[58.8], name="全国农村")])
    bench.update_layout(title="城乡互联网普及率差距有多大, 与全国比如何?")
    visits = _rows(
        "SELECT t.name_zh, SUM(v.visits), SUM(v.assisted_online) FROM divide_counter_visit v"
        " JOIN divide_counter c ON c.id = v.counter_id JOIN township t ON t.code = c.township_code"
        " WHERE v.period = :p GROUP BY t.name_zh",
        p=period,
    )
    counters = go.Figure(
        [
            go.Bar(x=[r[0] for r in visits], y=[r[1] for r in visits], name="到访"),
            go.Bar(x=[r[0] for r in visits], y=[r[2] for r in visits], name="代办线上"),
        ]
    )
    return [_graph(bars), _graph(bench), _graph(counters)]


PAGES: dict[str, Callable[[], list[Any]]] = {
    "overview": overview,
    "pool": pool,
    "loop": loop,
    "prices": prices,
    "lists": lists,
    "divide": divide,
}


def output_id(page: str) -> str:
    return f"bench-naive-{page}"


def register(app: Any) -> None:
    """One naive callback per page in PAGES (the bench's server only: CC_BENCH_FLOOR=1)."""
    from dash import Input, Output

    for page, build in PAGES.items():

        def naive(_: object, build: Callable[[], list[Any]] = build) -> list[Any]:
            return build()

        app.callback(Output(output_id(page), "children"), Input(f"{output_id(page)}-in", "data"))(naive)


def naive_body(page: str) -> dict[str, Any]:
    """The body the bench posts to run `page`'s naive callback once."""
    out = output_id(page)
    return {
        "output": f"{out}.children",
        "outputs": {"id": out, "property": "children"},
        "inputs": [{"id": f"{out}-in", "property": "data", "value": 1}],
        "changedPropIds": [f"{out}-in.data"],
    }
