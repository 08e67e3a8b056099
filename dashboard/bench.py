"""`command-center bench`: time each page's queries and full renders against the configured pool.

Cold = the diskcache emptied first (what the first viewer after a load waits for); warm = served
from the cache (every later viewer and every other worker). Prints figures; asserts nothing.
"""

from __future__ import annotations

import math
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import g

from dashboard.settings import Settings, child_env, load


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    fn()
    cold = (time.perf_counter() - t0) * 1000
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - t0) * 1000)
    return cold, statistics.median(warm)


def run(settings: Settings, *, repeat: int = 5) -> int:
    from dashboard.app import create_app
    from queries import activity, audit, cache, lists, meta, overview, owners, pool, quarantine
    from queries.scope import Viewer

    tmp = tempfile.mkdtemp(prefix="cc-bench-cache-")
    # its own empty diskcache even where CC_CACHE_URL names a Redis: the cold column must be cold
    app = create_app({"CC_DATABASE_URL": settings.database_url, "CC_CACHE_DIR": tmp, "CC_CACHE_URL": ""})
    # page modules register themselves with Dash, so they are imported after the app exists
    from dashboard.pages import audit as audit_page
    from dashboard.pages import overview as overview_page
    from dashboard.pages import records as records_page
    from dashboard.pages.lists import callbacks as lists_page
    from dashboard.pages.pool import page as pool_page
    from dashboard.pages.pool import quarantine as pool_quarantine
    from dashboard.pages.prices import page as prices_page
    from dashboard.view import PageParams

    st = meta.pool_status()
    day = st.as_of_day
    admin = Viewer(0, "bench", "bench", "admin")
    operator = Viewer(0, "bench", "bench", "operator")
    rules = activity.AlertRules()
    print(f"pool: {settings.database_url.split('@')[-1]}  scale={st.scale}  records={st.records:,}")
    print(f"{'what':<58}{'cold ms':>10}{'warm ms':>10}")
    rows: list[tuple[str, Callable[[], Any]]] = []
    for label, v in (("admin", admin), ("operator", operator)):
        sc = v.scope()
        rows += [
            (
                f"activity.daily_by_module 90d [{label}]",
                partial(activity.daily_by_module, scope=sc, first_day=day - 90, last_day=day),
            ),
            (
                f"overview.today_vs_last_week [{label}]",
                partial(overview.today_vs_last_week, scope=sc, as_of=st.as_of),
            ),
            (
                f"overview.township_kpis 30d [{label}]",
                partial(overview.township_kpis, scope=sc, first_day=day - 29, last_day=day),
            ),
            (
                f"overview.urban_rural 30d [{label}]",
                partial(overview.urban_rural, scope=sc, first_day=day - 29, last_day=day),
            ),
            (
                f"activity.alerts [{label}]",
                partial(activity.alerts, scope=sc, as_of=st.as_of, rules=rules),
            ),
            (
                f"pool.source_quality 30d [{label}]",
                partial(pool.source_quality, scope=sc, first_day=day - 29, last_day=day),
            ),
            (
                f"pool.detected_vs_injected 30d [{label}]",
                partial(pool.detected_vs_injected, scope=sc, first_day=day - 29, last_day=day),
            ),
            (f"activity.scope_sources [{label}]", partial(activity.scope_sources, scope=sc)),
            (
                f"owners.scorecards 30d vs 30d before [{label}]",
                partial(owners.scorecards, scope=sc, first_day=day - 29, last_day=day, home_department=None),
            ),
            # not cached (rows are held and released without the data version moving): cold == warm
            (f"quarantine.counts by source and reason [{label}]", partial(quarantine.counts, viewer=v)),
            (f"lists.gaps (the gap finder) [{label}]", partial(lists.gaps, scope=sc)),
            (f"lists.matrix [{label}]", partial(lists.matrix, scope=sc)),
            (
                f"lists.mapping of type 1 [{label}]",
                partial(lists.mapping, problem_id=1, scope=sc, as_of_day=day, as_of=st.as_of),
            ),
            (
                f"lists.step_cases (open cases per step) [{label}]",
                partial(lists.step_cases, scope=sc, as_of=st.as_of),
            ),
            (
                f"lists.gaps_with_cases [{label}]",
                partial(lists.gaps_with_cases, scope=sc, as_of=st.as_of),
            ),
            *_price_rows(label, sc),
        ]
        rows += _record_rows(v, label)
    try:
        for label, fn in rows:
            cold, warm = _time(fn, repeat)
            print(f"{label:<58}{cold:>10.1f}{warm:>10.1f}")
        cache.configure(tempfile.mkdtemp(prefix="cc-bench-cache-"))
        with app.server.test_request_context("/"):
            g.viewer = admin
            for lang in ("zh",):
                for theme in ("desk", "wall"):
                    p = PageParams(lang=lang, theme=theme, kiosk=theme == "wall")
                    cold, warm = _time(partial(overview_page.render, admin, p, "index"), repeat)
                    print(f"{'render overview page [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
                    cold, warm = _time(partial(pool_page.render, admin, p), repeat)
                    print(f"{'render pool page [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
                    cold, warm = _time(partial(records_page.render, admin, p, {}), repeat)
                    print(f"{'render record browser [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
                    for view in ("map", "matrix", "gaps"):
                        sel = lists_page.Selection(view)
                        cold, warm = _time(partial(lists_page.render, admin, p, sel), repeat)
                        print(
                            f"{'render lists page ' + view + ' [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}"
                        )
                    cold, warm = _time(partial(prices_page.render, admin, p), repeat)
                    print(f"{'render prices page [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
                    # the log is not cached (the data version does not move with it): every call is "cold"
                    cold, warm = _time(partial(audit_page.render, admin, p), repeat)
                    print(
                        f"{'render audit page (walks the whole chain) [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}"
                    )
            factors_render(admin, repeat=max(repeat, 20))
            cold, warm = _time(audit.verify, repeat)
            print(f"{f'audit.verify ({audit.verify().entries:,} entries)':<58}{cold:>10.1f}{warm:>10.1f}")
            cold, warm = _time(partial(audit_page.rows_for, 0, audit_page.BLOCK), repeat)
            print(f"{'audit page: one block of rows':<58}{cold:>10.1f}{warm:>10.1f}")
            held = partial(pool_quarantine.rows_for, admin, 0, pool_quarantine.BLOCK, None, None, "zh")
            cold, warm = _time(held, repeat)
            print(f"{'pool page: one block of held rows (quarantine)':<58}{cold:>10.1f}{warm:>10.1f}")
            divide_renders(admin, repeat)
            loop_renders(admin, repeat)
            case_renders(admin, repeat)
        print(f"cache hits/misses: {cache.stats()}")
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _record_rows(v: Any, label: str) -> list[tuple[str, Callable[[], Any]]]:
    """The record browser's reads on the raw table: a block of rows (the first, and the deepest the grid
    pages to), the capped count, and the duplicate groups, for a few filters the pool page links to."""
    from queries import masking, records

    sc, cleared = v.scope(), masking.can_reveal(v.role)
    out: list[tuple[str, Callable[[], Any]]] = []
    for query in (
        {},
        {"defect": "duplicate"},
        {"source": "community_governance", "defect": "duplicate"},
        {"defect": "late", "cls": "sensitive"},
        {"township": "532503204", "defect": "badcode"},
    ):
        f, _ = records.parse_filter(query, v)
        name = "&".join(f"{k}={x}" for k, x in query.items()) or "no filter"
        kw: dict[str, Any] = {"scope": sc, "cleared": cleared, "f": f, "sort": None, "lang": "zh"}
        blocks = records.BROWSE_CAP // records.BLOCK

        def scroll(kw: dict[str, Any] = kw, blocks: int = blocks) -> None:
            for i in range(blocks):  # block after block, as the grid asks while the viewer scrolls down
                records.rows(start=i * records.BLOCK, end=(i + 1) * records.BLOCK, **kw)

        out += [
            (f"records.rows first 100 {name} [{label}]", partial(records.rows, start=0, end=100, **kw)),
            (f"records.rows all {blocks} blocks to the cap, {name} [{label}]", scroll),
            (f"records.count {name} [{label}]", partial(records.count, scope=sc, cleared=cleared, f=f)),
        ]
    f, _ = records.parse_filter({"source": "community_governance"}, v)
    out.append(
        (
            f"records.duplicate_groups community_governance [{label}]",
            partial(records.duplicate_groups, scope=sc, cleared=cleared, f=f, lang="zh"),
        )
    )
    return out


def _price_rows(label: str, sc: Any) -> list[tuple[str, Callable[[], Any]]]:
    """The price monitor's reads (indicators were computed at load: these only read and label them)."""
    from queries import prices

    month = prices.end_month()
    return [
        (f"prices.board [{label}]", partial(prices.board, scope=sc, month=month)),
        (f"prices.warnings [{label}]", partial(prices.warnings, scope=sc, month=month)),
        (f"prices.series pork/wholesale-or-first [{label}]", partial(_first_series, sc)),
        (f"prices.coop_quality [{label}]", partial(prices.coop_quality, scope=sc)),
    ]


def _first_series(sc: Any) -> Any:
    from queries import prices

    top = prices.board(scope=sc, month=prices.end_month()).row(0, named=True)
    return prices.series(scope=sc, product=top["product"], market=top["market"])


def prices_http(base: str, *, username: str, password: str, n: int = 100) -> int:
    """Warm round trips over HTTP of the price page through Dash's page router (the whole page, as a
    browser asks for it) and of its series callback (another product picked), with the overview page
    measured the same way beside them as the baseline: p50 and p95 over `n` requests each, after 3 to
    warm the cache. Logs in once; prints figures; asserts nothing."""
    import json

    base = base.rstrip("/")
    opener = _login(base, username, password)
    with opener.open(base + "/_dash-dependencies", timeout=30) as resp:
        deps = json.loads(resp.read())
    router = next(d for d in deps if "_pages_content.children" in d["output"])

    def page_body(path: str) -> dict[str, Any]:
        values = {"pathname": path, "search": "", "hash": "", "href": f"{base}{path}"}
        return {
            "output": router["output"],
            "outputs": [
                {"id": o.split(".")[0], "property": o.split(".")[1]}
                for o in router["output"].strip(".").split("...")
            ],
            "inputs": [{**i, "value": values.get(i["property"])} for i in router["inputs"]],
            "state": [{**st, "value": None} for st in router["state"]],
            "changedPropIds": ["_pages_location.pathname"],
        }

    detail_body = {
        "output": "..prices-detail-panel.children...prices-params-store.data..",
        "outputs": [
            {"id": "prices-detail-panel", "property": "children"},
            {"id": "prices-params-store", "property": "data"},
        ],
        "inputs": [
            {"id": "prices-product-dropdown", "property": "value", "value": "pork"},
            {"id": "prices-market-dropdown", "property": "value", "value": "wenlan"},
        ],
        "state": [
            {"id": "prices-params-store", "property": "data", "value": {"lang": "zh", "theme": "desk"}}
        ],
        "changedPropIds": ["prices-product-dropdown.value"],
    }

    def post(body: dict[str, Any]) -> tuple[float, int]:
        return _post_callback(opener, base, body)

    print(f"price page over HTTP against {base}, {n} warm requests each")
    cases: tuple[tuple[str, dict[str, Any]], ...] = (
        ("whole / overview page (the baseline)", page_body("/")),
        ("whole /prices page (router)", page_body("/prices")),
        ("series callback (pork/wenlan)", detail_body),
        ("series + coops' production/sales (tomato)", _with_series(detail_body, "tomato", "farmgate")),
    )
    for label, body in cases:
        for _ in range(3):
            post(body)
        got = [post(body) for _ in range(n)]
        ms = sorted(t for t, _ in got)
        p95 = ms[min(len(ms) - 1, max(0, math.ceil(0.95 * len(ms)) - 1))]
        print(
            f"{label:<40} p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  {got[-1][1] / 1024:.0f} KB"
        )
    return 0


def _with_series(body: dict[str, Any], product: str, market: str) -> dict[str, Any]:
    """The series callback's body for another product and market."""
    values = {"prices-product-dropdown": product, "prices-market-dropdown": market}
    return {**body, "inputs": [{**i, "value": values.get(i["id"], i["value"])} for i in body["inputs"]]}


def divide_renders(viewer: Any, repeat: int) -> None:
    """The divide page in process: its first paint, and the work behind its map and panel callbacks."""
    from dashboard.pages.divide import components as dc
    from dashboard.pages.divide import page as divide_page
    from dashboard.view import PageParams
    from queries import divide, geo

    period = divide.periods()[-1]
    sc = viewer.scope()
    for theme in ("desk", "wall"):
        p = PageParams(lang="zh", theme=theme, kiosk=theme == "wall")
        cold, warm = _time(partial(divide_page.render, viewer, p, "index", period, None), repeat)
        print(f"{'render divide page [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")

    def recolour() -> Any:
        table = divide.township_table(scope=sc, period=period)
        return dc.township_features(geo.township_outlines(), table, dc.METRICS["minority_share"], None, "zh")

    cold, warm = _time(recolour, repeat)
    print(f"{'divide map: recolour by another indicator':<58}{cold:>10.1f}{warm:>10.1f}")
    table = divide.township_table(scope=sc, period=period)
    p = PageParams(lang="zh", theme="desk", kiosk=False)
    code = int(table["township_code"][-1])
    panel = partial(divide_page.panel_children, sc, period, code, "", p)
    cold, warm = _time(panel, repeat)
    print(f"{'divide panel: one township':<58}{cold:>10.1f}{warm:>10.1f}")
    cold, warm = _time(partial(divide_page.counters_card, viewer, p, code), repeat)
    print(f"{'divide counters card: one township':<58}{cold:>10.1f}{warm:>10.1f}")


def loop_renders(viewer: Any, repeat: int) -> None:
    """The closed-loop page in process: each read behind it over the last 12 open months, then its
    first paint (desk and wall) and a township re-render."""
    from dashboard.pages.loop import page as loop_page
    from dashboard.view import PageParams
    from queries import loop, meta

    months = loop.months()
    if not months:
        print("loop: no cases in the pool")
        return
    a, b = months[max(0, len(months) - 12)], months[-1]
    sc, as_of = viewer.scope(), meta.pool_status().as_of
    kw: dict[str, Any] = {"scope": sc, "month_from": a, "month_to": b}
    for label, fn in (
        ("loop.totals (KPIs, funnel) 12 months", partial(loop.totals, **kw)),
        ("loop.stopped never_evaluated", partial(loop.stopped, as_of=as_of, kind="never_evaluated", **kw)),
        ("loop.stage_durations 12 months", partial(loop.stage_durations, **kw)),
        ("loop.overdue close clock", partial(loop.overdue, scope=sc, as_of=as_of, clock="close")),
        ("loop.overdue_counts (wall alert)", partial(loop.overdue_counts, scope=sc, as_of=as_of)),
        ("loop.rankings dept", partial(loop.rankings, by="dept", **kw)),
        ("loop.hotspots 12 months", partial(loop.hotspots, **kw)),
        ("loop.map_points (open cases of the months)", partial(loop.map_points, as_of=as_of, **kw)),
    ):
        cold, warm = _time(fn, repeat)
        print(f"{label:<58}{cold:>10.1f}{warm:>10.1f}")
    for theme in ("desk", "wall"):
        p = PageParams(lang="zh", theme=theme, kiosk=theme == "wall")
        cold, warm = _time(partial(loop_page.render, viewer, p, a, b, None), repeat)
        print(f"{'render loop page [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
    p = PageParams(lang="zh", theme="desk", kiosk=False)
    cold, warm = _time(partial(loop_page.render, viewer, p, a, b, 532503001), repeat)
    print(f"{'render loop page, one township [desk]':<58}{cold:>10.1f}{warm:>10.1f}")


def loop_http(base: str, *, username: str, password: str, rounds: int = 100) -> int:
    """Round trips of the closed-loop page's filter callback over HTTP against a running server, as a
    browser posts it (whole county, then each of four townships; desk): cold (first) and warm p50 / p95
    and the answer's size. Read-only; prints figures, asserts nothing."""
    import json

    # the page module registers itself with Dash, so it cannot be imported here: its ids as literals
    content, notice, township = "loop-content", "loop-notice", "loop-township-dropdown"
    base = base.rstrip("/")
    opener = _login(base, username, password)
    with opener.open(base + "/_dash-dependencies", timeout=30) as resp:
        deps = json.loads(resp.read())
    cb = next(d for d in deps if d["output"] == f"..{content}.children...{notice}.children..")

    def post(town: object) -> tuple[float, int]:
        values = [None, None, None, town]
        body = {
            "output": cb["output"],
            "outputs": [
                {"id": content, "property": "children"},
                {"id": notice, "property": "children"},
            ],
            "inputs": [{**i, "value": v} for i, v in zip(cb["inputs"], values, strict=True)],
            "state": [{**cb["state"][0], "value": {"lang": "zh", "theme": "desk", "kiosk": False}}],
            "changedPropIds": [f"{township}.value"],
        }
        return _post_callback(opener, base, body)

    print(f"closed-loop callback over HTTP against {base} as {username}: {rounds} warm requests each")
    print(f"{'filter':<28}{'cold ms':>10}{'p50 ms':>10}{'p95 ms':>10}{'KB':>10}")
    for town in ("all", 532503001, 532503002, 532503102, 532503202):
        cold, size = post(town)
        times = sorted(post(town)[0] for _ in range(rounds))
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"{town!s:<28}{cold:>10.1f}{statistics.median(times):>10.1f}{p95:>10.1f}{size / 1024:>10.0f}")
    return 0


def divide_http(base: str, username: str, password: str, *, repeat: int = 200) -> int:
    """p50/p95 of the divide map's recolour and panel callbacks over HTTP against a running server,
    logged in as `username`. Read-only; prints figures."""
    import json
    import urllib.parse
    import urllib.request

    base = base.rstrip("/")
    opener = _login(base, username, password)
    params = {"id": "divide-params-store", "property": "data", "value": {"lang": "zh", "theme": "desk"}}
    period = {"id": "divide-period-dropdown", "property": "value", "value": None}
    metrics = ["index", "minority_share", "internet_rate", "download_mbps"]
    codes = [532503001, 532503102, 532503202, 532503106]

    def recolour(i: int) -> dict[str, Any]:
        return {
            "output": "..divide-map-geojson.data...divide-legend.children..",
            "outputs": [
                {"id": "divide-map-geojson", "property": "data"},
                {"id": "divide-legend", "property": "children"},
            ],
            "inputs": [{"id": "divide-metric-dropdown", "property": "value", "value": metrics[i % 4]}],
            "state": [period, params],
            "changedPropIds": ["divide-metric-dropdown.value"],
        }

    def panel(i: int) -> dict[str, Any]:
        click = {"properties": {"code": codes[i % 4]}}
        return {
            "output": "divide-panel.children",
            "outputs": {"id": "divide-panel", "property": "children"},
            "inputs": [{"id": "divide-map-geojson", "property": "clickData", "value": click}],
            "state": [period, params],
            "changedPropIds": ["divide-map-geojson.clickData"],
        }

    def counters(i: int) -> dict[str, Any]:
        click = {"properties": {"code": codes[i % 4]}}
        return {
            "output": "divide-counters.children",
            "outputs": {"id": "divide-counters", "property": "children"},
            "inputs": [{"id": "divide-map-geojson", "property": "clickData", "value": click}],
            "state": [params],
            "changedPropIds": ["divide-map-geojson.clickData"],
        }

    print(f"divide callbacks over HTTP against {base}, {repeat} calls each after 8 warm-up calls")
    for label, body in (("map recolour", recolour), ("township panel", panel), ("counters card", counters)):
        times = []
        size = 0
        for i in range(repeat + 8):
            req = urllib.request.Request(
                base + "/_dash-update-component",
                json.dumps(body(i)).encode(),
                {"Content-Type": "application/json"},
            )
            t0 = time.perf_counter()
            with opener.open(req, timeout=60) as resp:
                size = len(resp.read())
            if i >= 8:
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"{label:<20} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  ({size / 1024:.0f} KB)"
        )
    return 0


def factors_render(viewer: Any, *, repeat: int) -> None:
    """The factor page's analysis and its update callback's render, cold and warm (median and p95)."""
    from dashboard.pages.factors import page as factors_page
    from dashboard.pages.factors.choice import Choice
    from dashboard.view import PageParams
    from queries import factors

    year = factors.years(scope=viewer.scope())[0]
    choice = Choice(None, year, factors.DEPENDENT, list(factors.REGRESSORS))
    for theme in ("desk", "wall"):
        p = PageParams(lang="zh", theme=theme, kiosk=theme == "wall")
        fn = partial(factors_page.render, viewer, p, choice)
        t0 = time.perf_counter()
        fn()
        cold = (time.perf_counter() - t0) * 1000
        warm = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            warm.append((time.perf_counter() - t0) * 1000)
        p95 = statistics.quantiles(warm, n=20)[-1]
        label = f"render factors page, all 7 regressors [{theme}] (warm p95 {p95:.1f})"
        print(f"{label:<58}{cold:>10.1f}{statistics.median(warm):>10.1f}")


def factors_http(base: str, username: str, password: str, *, repeat: int = 100) -> int:
    """p50/p95 of the factor page's callbacks over HTTP against a running server, logged in as
    `username` (a leader or admin): the analysis redraw (four regressor choices in turn, so the warm
    figures are the cache's) and the dataset switch. Read-only; prints figures."""

    class ids:  # the page's ids (importing the page needs the app); tests hold the page to these names
        params, content, dataset = "factors-params-store", "factors-content", "factors-dataset-dropdown"
        year, y, xs, robust = (
            "factors-year-dropdown",
            "factors-y-dropdown",
            "factors-x-dropdown",
            "factors-robust-checklist",
        )
        apply, models_text = "factors-apply-button", "factors-models-textarea"
        set_pick = "factors-set-dropdown"

    base = base.rstrip("/")
    opener = _login(base, username, password)
    params = {"id": ids.params, "property": "data", "value": {"lang": "zh", "theme": "desk"}}
    choices = [
        [
            "tertiary_share",
            "platform_per_1k",
            "broadband",
            "fiscal_ratio",
            "rnd_ratio",
            "population",
            "gdp_pc",
        ],
        ["broadband", "fiscal_ratio", "rnd_ratio"],
        ["tertiary_share", "platform_per_1k"],
        ["broadband", "gdp_pc"],
    ]

    def redraw(i: int) -> dict[str, Any]:
        values = [
            (ids.dataset, "township"),
            (ids.year, "all"),
            (ids.y, "gov_index"),
            (ids.xs, choices[i % len(choices)]),
            (ids.robust, []),
            (ids.apply, None),
        ]
        return {
            "output": f"{ids.content}.children",
            "outputs": {"id": ids.content, "property": "children"},
            "inputs": [
                {"id": k, "property": "n_clicks" if k == ids.apply else "value", "value": v}
                for k, v in values
            ],
            "state": [{"id": ids.models_text, "property": "value", "value": ""}, params],
            "changedPropIds": [f"{ids.xs}.value"],
        }

    def switch(_i: int) -> dict[str, Any]:
        outs = [
            (ids.year, "options"),
            (ids.year, "value"),
            (ids.y, "options"),
            (ids.y, "value"),
            (ids.xs, "options"),
            (ids.xs, "value"),
            (ids.models_text, "value"),
            (ids.dataset, "value"),
        ]
        return {
            "output": ".." + "...".join(f"{i}.{p}" for i, p in outs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": [
                {"id": ids.dataset, "property": "value", "value": "township"},
                {"id": ids.set_pick, "property": "value", "value": None},
            ],
            "state": [params],
            "changedPropIds": [f"{ids.dataset}.value"],
        }

    print(f"factor callbacks over HTTP against {base}, {repeat} calls each after 8 warm-up calls")
    for label, body in (("analysis redraw", redraw), ("dataset switch", switch)):
        times, size = [], 0
        for i in range(repeat + 8):
            ms, size = _post_callback(opener, base, body(i))
            if i >= 8:
                times.append(ms)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"{label:<20} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  ({size / 1024:.0f} KB)"
        )
    return 0


def login_flood(base: str, *, threads: int = 16, tries: int = 129) -> int:
    """Measure /healthz at rest and while `tries` logins with random names arrive on `threads` threads
    (the probe that found every try paying a full argon2 hash). Bounded: `tries` logins, then it stops.
    Prints the answers' status codes and /healthz latency; asserts nothing."""
    import http.cookiejar
    import random
    import re
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    base = base.rstrip("/")

    def healthz_ms() -> float:
        t0 = time.perf_counter()
        with urllib.request.urlopen(base + "/healthz", timeout=30) as resp:
            resp.read()
        return (time.perf_counter() - t0) * 1000

    codes: list[int] = []
    lock = threading.Lock()

    def one_login() -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(base + "/login", timeout=30) as resp:
            page = resp.read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        form = {"username": f"flood{random.randrange(10**6)}", "password": "x" * 12, "next": "/"}
        if token:
            form["csrf_token"] = token.group(1)
        try:
            with opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=60) as resp:
                code = resp.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        with lock:
            codes.append(code)

    rest = [healthz_ms() for _ in range(20)]
    share = [tries // threads + (1 if i < tries % threads else 0) for i in range(threads)]

    def worker(k: int) -> None:
        for _ in range(k):
            one_login()

    workers = [threading.Thread(target=worker, args=(k,)) for k in share]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    during: list[float] = []
    while any(w.is_alive() for w in workers):
        during.append(healthz_ms())
    for w in workers:
        w.join()
    print(
        f"login flood against {base}: {tries} logins on {threads} threads in {time.perf_counter() - t0:.1f} s"
    )
    print("answers: " + ", ".join(f"{c} x{codes.count(c)}" for c in sorted(set(codes))))
    print(f"/healthz at rest: median {statistics.median(rest):.1f} ms")
    print(
        f"/healthz during the flood: median {statistics.median(during or [0.0]):.1f} ms, "
        f"slowest {max(during or [0.0]):.1f} ms, {len(during)} probes"
    )
    return 0


def _seconds(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ingest_validation(settings: Settings, *, rows: int = 1_000_000) -> int:
    """Throughput of the ingest core (area codes, validate_batch) on `rows` of the pool's own records,
    resampled, sent as typed columns (Parquet) and as text with ISO times (JSON, CSV). Writes nothing."""
    import numpy as np
    import polars as pl
    from sqlalchemy import select

    from queries import engine, meta
    from queries.ingest.areacode import normalise_area_codes
    from queries.ingest.reference import load_reference
    from queries.ingest.validate import batch_from_records, validate_batch
    from queries.tables import record
    from queries.timebase import day_start

    engine.configure(settings.database_url)
    ref, st = load_reference(), meta.pool_status()
    src = ref.sources["population_system"]
    pool_rows = engine.read_frame(select(record).where(record.c.source_id == src.id).limit(200_000))
    sample = pool_rows[np.random.default_rng(1).integers(0, pool_rows.height, rows)]
    typed = batch_from_records(sample, ref).with_columns(
        pl.int_range(0, rows, dtype=pl.Int64).alias("record_key")  # every sampled row its own key
    )
    iso = "%Y-%m-%dT%H:%M:%S+08:00"
    text = typed.with_columns(
        (pl.from_epoch(c) + pl.duration(hours=8)).dt.strftime(iso) for c in ("occurred_at", "received_at")
    ).select(pl.all().cast(pl.String))
    distinct = pl.Series([f"5325-03-{i:07d}" for i in range(rows)])
    kw: dict[str, Any] = {
        "source_code": src.code,
        "ref": ref,
        "now": st.as_of + 60,
        "pool_first_ts": day_start(st.first_day),
    }
    print(f"pool: {settings.database_url.split('@')[-1]}  {rows:,} rows of {src.code}, best of 3")
    for label, fn in (
        (
            "normalise_area_codes, the generator's forms",
            lambda: normalise_area_codes(typed["area_code"], ref.area),
        ),
        ("normalise_area_codes, every value distinct", lambda: normalise_area_codes(distinct, ref.area)),
        ("validate_batch, typed columns (Parquet)", lambda: validate_batch(typed, **kw)),
        ("validate_batch, text with ISO times (JSON, CSV)", lambda: validate_batch(text, **kw)),
    ):
        best = min(_seconds(fn) for _ in range(3))
        print(f"{label:<52}{best:>8.2f} s{rows / best:>14,.0f} rows/s")
    return 0


def bench_rows(n: int, *, source_code: str, key_base: int, seed: int = 7, recent: bool = False) -> Any:
    """`n` rows as a sub-platform sends them (text, ISO times), resampled from the pool's records of one
    source with fresh business keys, and the defects the field sees: 1% a county-only area code, 0.5%
    an unreadable quantity, 0.5% a key repeated within the file, 2% the township written by name,
    the amount missing where the pool has it missing. `recent`: occurred in the last 6 hours, received
    minutes later, as an API push is (a file holds history)."""
    import numpy as np
    import polars as pl
    from sqlalchemy import select

    from queries import engine
    from queries.ingest.reference import load_reference
    from queries.ingest.validate import batch_from_records
    from queries.tables import record

    ref = load_reference()
    src = ref.sources[source_code]
    pool_rows = engine.read_frame(select(record).where(record.c.source_id == src.id).limit(200_000))
    rng = np.random.default_rng(seed)
    sample = pool_rows[rng.integers(0, pool_rows.height, n)]
    if recent:
        now = int(time.time())
        occurred = now - rng.integers(600, 6 * 3600, n)
        sample = sample.with_columns(
            occurred_at=pl.Series(occurred), received_at=pl.Series(occurred + rng.integers(5, 300, n))
        )
    keys = key_base + np.arange(n, dtype=np.int64)
    repeat = rng.random(n) < 0.005
    keys[repeat] = keys[np.maximum(np.nonzero(repeat)[0] - 1, 0)]
    roll = rng.random(n)
    named = {str(c): f"蒙自{name}" for c, name in ref.area.townships.items()}
    iso = "%Y-%m-%dT%H:%M:%S+08:00"
    frame = batch_from_records(sample, ref).with_columns(
        pl.Series("record_key", keys),
        *((pl.from_epoch(c) + pl.duration(hours=8)).dt.strftime(iso) for c in ("occurred_at", "received_at")),
    )
    frame = frame.select(pl.all().cast(pl.String)).with_columns(
        area_code=pl.when(pl.Series(roll < 0.01))
        .then(pl.lit("532503"))
        .when(pl.Series(roll > 0.98))
        .then(pl.col("area_code").replace(named))
        .otherwise(pl.col("area_code")),
        qty=pl.when(pl.Series((roll >= 0.01) & (roll < 0.015))).then(pl.lit("n/a")).otherwise(pl.col("qty")),
    )
    return frame


def _pcts(values: list[float]) -> str:
    if not values:
        return "n/a"
    s = sorted(values)

    def at(q: float) -> float:
        return s[min(len(s) - 1, int(q * len(s)))]

    return f"median {statistics.median(s):.0f} ms, p95 {at(0.95):.0f} ms, max {s[-1]:.0f} ms ({len(s)} calls)"


def ingest(
    settings: Settings,
    *,
    rows: int = 1_000_000,
    clients: int = 4,
    batches: int = 25,
    batch_rows: int = 1_000,
    source_code: str = "population_system",
) -> int:
    """(a) `rows` rows from a CSV file through the import into the pool (a copy, for SQLite), rows/s;
    (b) `clients` API clients sending `batches` batches of `batch_rows` rows each to a gunicorn started
    here on loopback over the same pool, p50/p95 per batch, while the overview's refresh callback is
    timed at rest and during the ingestion. Prints figures; asserts nothing. On PostgreSQL it writes
    into the configured pool itself."""
    import json
    import secrets
    import socket
    import subprocess
    import sys
    import threading
    import urllib.request
    from pathlib import Path

    from queries import audit, engine, meta, tokens, users
    from queries.engine import sqlite_path
    from queries.ingest.files import import_file

    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-ingest-"))
    url = settings.database_url
    try:
        src_path = sqlite_path(url)
        if src_path is not None:
            copy = tmp / "pool.sqlite"
            shutil.copyfile(src_path, copy)
            url = f"sqlite:///{copy}"
            print(f"pool: a copy of {src_path} ({copy.stat().st_size / 2**20:,.0f} MB)")
        else:
            print(f"pool: {url.split('@')[-1]} (PostgreSQL: the bench writes into it)")
        engine.configure(url)
        meta.configure_window(settings.ingest_version_seconds)
        st = meta.pool_status()
        print(f"scale={st.scale}  records={st.records:,}")

        # (a) the file import (rows=0 skips it)
        t0 = time.perf_counter()
        if rows:
            frame = bench_rows(rows, source_code=source_code, key_base=9_000_000_000)
            csv = tmp / "records.csv"
            frame.write_csv(csv)
            del frame
            made = time.perf_counter() - t0
            print(
                f"(a) file import: {rows:,} rows of {source_code}, {csv.stat().st_size / 2**20:,.0f} MB CSV ({made:.1f} s to make)"
            )
            t0 = time.perf_counter()
            done = import_file(csv, source_code=source_code, actor=audit.Actor.cli())
            took = time.perf_counter() - t0
            print(
                f"    {took:.1f} s, {rows / took:,.0f} rows/s; accepted {done.accepted:,}, duplicate "
                f"{done.duplicate:,}, quarantined {done.quarantined:,} in {done.batches} transactions"
            )
            for r in done.reasons().iter_rows(named=True):
                print(f"      {r['n']:>9,}  {r['reason']}")

        # (b) API clients against a live server
        with audit.write(audit.Actor.cli()) as tx:
            token = tokens.create(tx, source_code=source_code, label="bench").token
            password = secrets.token_urlsafe(18)
            users.create_user(tx, username="bench-ingest", password=password, role="admin")
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            port = int(sk.getsockname()[1])
        base = f"http://127.0.0.1:{port}"
        env = child_env(
            load(
                {
                    "CC_DATABASE_URL": url,
                    "CC_INSTANCE_DIR": str(tmp / "instance"),
                    "CC_BIND": f"127.0.0.1:{port}",
                }
            )
        )
        exe = Path(sys.executable).with_name("command-center")
        with open(tmp / "server.log", "wb") as log:
            server = subprocess.Popen([str(exe), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_up(base, server)
            opener = _login(base, "bench-ingest", password)
            refresh = _overview_refresh(opener, base)
            for _ in range(3):
                refresh()  # warm: the cache holds this data version's answers
            rest = [refresh() for _ in range(20)]
            bodies = [
                [
                    json.dumps(b.to_dicts(), ensure_ascii=False).encode()
                    for b in bench_rows(
                        batches * batch_rows,
                        source_code=source_code,
                        key_base=9_500_000_000 + c * 10**7,
                        seed=c,
                        recent=True,
                    ).iter_slices(batch_rows)
                ]
                for c in range(clients)
            ]
            latencies: list[float] = []
            codes: list[int] = []
            lock = threading.Lock()

            def client(mine: list[bytes]) -> None:
                for body in mine:
                    req = urllib.request.Request(
                        base + "/api/v1/records",
                        data=body,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    )
                    t = time.perf_counter()
                    try:
                        with urllib.request.urlopen(req, timeout=120) as resp:
                            resp.read()
                            code = resp.status
                    except urllib.error.HTTPError as exc:
                        code = exc.code
                    with lock:
                        latencies.append((time.perf_counter() - t) * 1000)
                        codes.append(code)

            threads = [threading.Thread(target=client, args=(b,)) for b in bodies]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            during: list[float] = []
            while any(th.is_alive() for th in threads):
                during.append(refresh())
            for th in threads:
                th.join()
            wall_s = time.perf_counter() - t0
            sent = clients * batches * batch_rows
            print(
                f"(b) API: {clients} clients x {batches} batches x {batch_rows:,} rows against gunicorn "
                f"({settings.workers} workers x {settings.threads} threads), {wall_s:.1f} s, {sent / wall_s:,.0f} rows/s"
            )
            print("    answers: " + ", ".join(f"{c} x{codes.count(c)}" for c in sorted(set(codes))))
            print(f"    per batch: {_pcts(latencies)}")
            print(f"    overview refresh callback at rest:       {_pcts(rest)}")
            print(f"    overview refresh callback during ingest: {_pcts(during)}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _wait_up(base: str, proc: Any) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the bench server exited at start")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the bench server did not start in 60 s")


def _post_callback(opener: Any, base: str, body: dict[str, Any]) -> tuple[float, int]:
    """One Dash callback round trip as a browser posts it: (milliseconds, answer bytes)."""
    import json
    import urllib.request

    req = urllib.request.Request(
        base + "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    t0 = time.perf_counter()
    with opener.open(req, timeout=60) as resp:
        size = len(resp.read())
    return (time.perf_counter() - t0) * 1000, size


def _login(base: str, username: str, password: str) -> Any:
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base + "/login", timeout=30) as resp:
        page = resp.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = {
        "username": username,
        "password": password,
        "next": "/",
        "csrf_token": token.group(1) if token else "",
    }
    opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=60).read()
    return opener


def _overview_refresh(opener: Any, base: str) -> Callable[[], float]:
    """One call of the overview's refresh callback (what every open overview asks each minute), in ms."""
    import json
    import urllib.request

    body = json.dumps(
        {
            "output": "overview-content.children",
            "outputs": {"id": "overview-content", "property": "children"},
            "inputs": [{"id": "app-refresh-interval", "property": "n_intervals", "value": 1}],
            "state": [
                {"id": "overview-params-store", "property": "data", "value": {"lang": "zh", "theme": "desk"}},
                {"id": "overview-kpi-dropdown", "property": "value", "value": "index"},
            ],
            "changedPropIds": ["app-refresh-interval.n_intervals"],
        }
    ).encode()

    def call() -> float:
        req = urllib.request.Request(
            base + "/_dash-update-component", data=body, headers={"Content-Type": "application/json"}
        )
        t = time.perf_counter()
        with opener.open(req, timeout=60) as resp:
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"overview refresh answered {resp.status}")
        return (time.perf_counter() - t) * 1000

    return call


def lists_http(base: str, *, username: str, password: str, rounds: int = 40) -> int:
    """Warm round trips of the three-lists page's callback over HTTP against a running server, as a
    browser posts them (mapping, matrix, gap list; desk): p50 / p95 and the answer's size. Bounded:
    `rounds` requests per view after one warm-up each. Prints figures; asserts nothing."""
    import json

    from dashboard.pages.lists.components import ids

    base = base.rstrip("/")
    opener = _login(base, username, password)
    with opener.open(base + "/_dash-dependencies", timeout=30) as resp:
        deps = json.loads(resp.read())
    cb = next(d for d in deps if d["output"] == f"..{ids.kpis}.children...{ids.body}.children..")

    def post(view: str, problem: str | None) -> tuple[float, int]:
        values = [view, problem, "all", 1]
        body = {
            "output": cb["output"],
            "outputs": [{"id": ids.kpis, "property": "children"}, {"id": ids.body, "property": "children"}],
            "inputs": [{**i, "value": v} for i, v in zip(cb["inputs"], values, strict=True)],
            "state": [{**cb["state"][0], "value": {"lang": "zh", "theme": "desk", "kiosk": False}}],
            "changedPropIds": [f"{ids.view}.value"],
        }
        return _post_callback(opener, base, body)

    def healthz() -> tuple[float, int]:
        t0 = time.perf_counter()
        with opener.open(base + "/healthz", timeout=30) as resp:
            size = len(resp.read())
        return (time.perf_counter() - t0) * 1000, size

    def dept_view() -> tuple[float, int]:
        body = {
            "output": cb["output"],
            "outputs": [{"id": ids.kpis, "property": "children"}, {"id": ids.body, "property": "children"}],
            "inputs": [
                {**i, "value": v}
                for i, v in zip(cb["inputs"], ["dept", None, "civil_affairs", 1], strict=True)
            ],
            "state": [{**cb["state"][0], "value": {"lang": "zh", "theme": "desk", "kiosk": False}}],
            "changedPropIds": [f"{ids.view}.value"],
        }
        return _post_callback(opener, base, body)

    # the import's dry run (administrators): the city's own export, fetched through the export callback
    params = {"lang": "zh", "theme": "desk", "kiosk": False}
    exp = next(d for d in deps if d["output"] == f"{ids.download}.data")
    upload = next(d for d in deps if d["output"].startswith(f"..{ids.import_result}.children"))

    def dry_run_body(contents: str) -> dict[str, Any]:
        outs = upload["output"].strip(".").split("...")
        states = ["lists.xlsx", "all", None, params]
        return {
            "output": upload["output"],
            "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in outs],
            "inputs": [{**i, "value": v} for i, v in zip(upload["inputs"], [contents, None], strict=True)],
            "state": [{**st, "value": v} for st, v in zip(upload["state"], states, strict=True)],
            "changedPropIds": [f"{ids.upload}.contents"],
        }

    dry_run: Any = None
    if username == "admin":
        import urllib.request

        body = {
            "output": exp["output"],
            "outputs": {"id": ids.download, "property": "data"},
            "inputs": [{**i, "value": 1} for i in exp["inputs"]],
            "state": [{**exp["state"][0], "value": "all"}, {**exp["state"][1], "value": params}],
            "changedPropIds": [f"{ids.export_xlsx}.n_clicks"],
        }
        req = urllib.request.Request(
            base + "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with opener.open(req, timeout=60) as resp:
            sent = json.loads(resp.read())["response"][ids.download]["data"]
        contents = "data:application/octet-stream;base64," + sent["content"]
        dry = dry_run_body(contents)

        def dry_run() -> tuple[float, int]:
            return _post_callback(opener, base, dry)

    print(f"three-lists callback over HTTP against {base} as {username}: {rounds} warm requests per view")
    print(f"{'view':<28}{'p50 ms':>10}{'p95 ms':>10}{'KB':>10}")
    # /healthz (logged in: one scoped count) is the floor on this machine at this moment: on a
    # shared, busy machine both rise together
    for view, fn in (
        ("/healthz (floor)", healthz),
        ("map", lambda: post("map", "hotline_outage")),
        ("matrix", lambda: post("matrix", None)),
        ("gaps", lambda: post("gaps", None)),
        ("dept (civil_affairs)", dept_view),
        *([("import dry run (city xlsx)", dry_run)] if dry_run is not None else []),
    ):
        fn()  # fills the cache of the worker that answers
        times, size = [], 0
        for _ in range(rounds):
            ms, size = fn()
            times.append(ms)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{view:<28}{statistics.median(times):>10.1f}{p95:>10.1f}{size / 1024:>10.1f}")
    return 0


def twin(settings: Settings, *, base: str | None = None, login: str = "", repeat: int = 20) -> int:
    """The 3D twin on its largest community: query and figure-build time per layer (cold, warm), the
    callback's payload, and with `base` (a running server) the view callback's warm p50/p95 over HTTP,
    logged in as `login` ("user:password"). Prints figures; asserts nothing."""
    import json

    from plotly.utils import PlotlyJSONEncoder

    from dashboard.app import create_app
    from queries import meta
    from queries import twin as twinq
    from queries.scope import CITY_SCOPE, Viewer

    tmp = tempfile.mkdtemp(prefix="cc-bench-cache-")
    app = create_app({"CC_DATABASE_URL": settings.database_url, "CC_CACHE_DIR": tmp, "CC_CACHE_URL": ""})
    from dashboard.pages.twin import page
    from dashboard.view import PageParams

    try:
        comms = twinq.communities(scope=CITY_SCOPE)
        big = comms.sort("buildings", descending=True).row(0, named=True)
        st = meta.pool_status()
        print(
            f"pool: {settings.database_url.split('@')[-1]}  scale={st.scale}  twin communities={comms.height}"
            f"  buildings={int(comms['buildings'].sum()):,}; largest {big['code']} ({big['buildings']} buildings)"
        )
        print(f"{'what':<52}{'cold ms':>10}{'warm ms':>10}{'payload KB':>12}")
        admin = Viewer(0, "bench", "bench", "admin")
        with app.server.test_request_context("/twin"):
            g.viewer = admin
            p = PageParams(lang="zh", theme="desk", kiosk=False)
            for layer in ("none", "coverage", "evacuation"):
                fn = partial(
                    page.view,
                    admin,
                    p,
                    community=big["code"],
                    color="reno_score",
                    layer=layer,
                    kind="elderly_care",
                    hazard="flood",
                )
                cold, warm = _time(fn, 5)
                fig, kpis, summary = fn()
                size = len(json.dumps([fig, kpis, summary], cls=PlotlyJSONEncoder)) / 1024
                print(
                    f"{'view [' + layer + '] (queries + figure)':<52}{cold:>10.1f}{warm:>10.1f}{size:>12.0f}"
                )
        if base:
            _twin_http(base.rstrip("/"), login, big["code"], repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _timed_posts(opener: Any, base: str, body: bytes, repeat: int) -> tuple[list[float], int]:
    """One callback posted repeat + 2 times: the warm round trips in ms, sorted, and the last reply's size
    (the first two calls warm both workers' caches and are not counted)."""
    import urllib.request

    times, size = [], 0
    for k in range(repeat + 2):
        req = urllib.request.Request(
            base + "/_dash-update-component", body, {"Content-Type": "application/json"}
        )
        t0 = time.perf_counter()
        with opener.open(req, timeout=60) as resp:
            size = len(resp.read())
        if k >= 2:
            times.append((time.perf_counter() - t0) * 1000)
    return sorted(times), size


def _twin_http(base: str, login: str, community: int, repeat: int) -> None:
    import json

    user, _, password = login.partition(":")
    opener = _login(base, user, password)
    with opener.open(base + "/_dash-dependencies", timeout=30) as resp:
        deps = json.loads(resp.read())
    cb = next(d for d in deps if d["output"].strip(".").startswith("twin-view-graph.figure"))
    outs = cb["output"].strip(".").split("...")
    # the three layers (a layer change sends the figure and the side panel), then a colour change on the
    # plain layer (a Patch of the mesh colours only)
    for layer, changed in (
        ("none", "twin-layer-radio"),
        ("coverage", "twin-layer-radio"),
        ("evacuation", "twin-layer-radio"),
        ("none", "twin-color-dropdown"),
    ):
        values = {
            "twin-community-dropdown": community,
            "twin-color-dropdown": "age" if changed == "twin-color-dropdown" else "reno_score",
            "twin-layer-radio": layer,
            "twin-kind-dropdown": "elderly_care",
            "twin-hazard-dropdown": "flood",
            "twin-camera-radio": "overview",
            "twin-params-store": {"lang": "zh", "theme": "desk", "kiosk": False},
        }
        body = json.dumps(
            {
                "output": cb["output"],
                "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in outs],
                "inputs": [{**i, "value": values.get(i["id"])} for i in cb["inputs"]],
                "state": [{**s, "value": values.get(s["id"])} for s in cb["state"]],
                "changedPropIds": [f"{changed}.value"],
            }
        ).encode()
        times, size = _timed_posts(opener, base, body, repeat)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        what = layer if changed == "twin-layer-radio" else "colour change, Patch"
        print(
            f"HTTP view callback [{what}]: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms,"
            f" payload {size / 1024:.0f} KB ({repeat} warm calls)"
        )
    # drawing a hazard: a click on the plan adds a corner; the corners redraw as a Patch of the plan
    for output, inputs, state, changed in (
        (
            "twin-hazard-points-input.value",
            {"twin-plan-graph": {"points": [{"x": 120.0, "y": 80.0, "curveNumber": 0}]}},
            {"twin-hazard-points-input": "20,20; 200,20"},
            "twin-plan-graph.clickData",
        ),
        (
            "twin-plan-graph.figure",
            {"twin-hazard-points-input": "20,20; 200,20; 120,80"},
            {"twin-params-store": {"lang": "zh", "theme": "desk", "kiosk": False}},
            "twin-hazard-points-input.value",
        ),
    ):
        dep = next(d for d in deps if d["output"] == output)
        body = json.dumps(
            {
                "output": dep["output"],
                "outputs": {"id": output.split(".")[0], "property": output.split(".")[1]},
                "inputs": [{**i, "value": inputs.get(i["id"])} for i in dep["inputs"]],
                "state": [{**s, "value": state.get(s["id"])} for s in dep["state"]],
                "changedPropIds": [changed],
            }
        ).encode()
        times, size = _timed_posts(opener, base, body, repeat)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(
            f"HTTP hazard drawing [{output}]: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms,"
            f" payload {size / 1024:.1f} KB ({repeat} warm calls)"
        )


def case_renders(viewer: Any, repeat: int) -> None:
    """The case and appeals pages in process: the reads behind one case's drill-down (the newest case),
    its body as the action callback returns it, and the appeals page's first paint. Writes are not
    benched here: each would change the pool."""
    from sqlalchemy import func, select

    from dashboard.pages.appeals import page as appeals_page
    from dashboard.pages.case import page as case_page
    from dashboard.view import PageParams
    from queries import appeals, loop, meta, optimization
    from queries import case_actions as ca
    from queries import engine as eng
    from queries.tables import case_item

    with eng.connect() as conn:
        cid = conn.execute(select(func.max(case_item.c.id))).scalar()
    if cid is None:
        print("case: no cases in the pool")
        return
    sc, now = viewer.scope(), meta.pool_status().case_clock  # the clock the pages reckon at
    case = ca.case_row(scope=sc, case_id=int(cid))
    if case is None:
        print(f"case: {cid} is outside the viewer's scope")
        return
    for label, fn in (
        ("case_actions.case_row", partial(ca.case_row, scope=sc, case_id=int(cid))),
        ("case_actions.timeline", partial(ca.timeline, case_id=int(cid))),
        ("case_actions.process", partial(ca.process, problem_id=int(case["problem_id"]))),
        ("case_actions.allowed", partial(ca.allowed, viewer=viewer, case=case)),
        (
            "loop.urgent (case page without an id)",
            partial(loop.urgent, scope=sc, as_of=now),
        ),
        ("appeals.appeals (all)", partial(appeals.appeals, scope=sc, now=now)),
        ("appeals.rates", partial(appeals.rates, scope=sc)),
        ("optimization.actions (before/after)", partial(optimization.actions, scope=sc, now=now)),
    ):
        cold, warm = _time(fn, repeat)
        print(f"{label:<58}{cold:>10.1f}{warm:>10.1f}")
    for theme in ("desk", "wall"):
        p = PageParams(lang="zh", theme=theme, kiosk=theme == "wall")
        cold, warm = _time(partial(case_page.render, viewer, p, {"id": str(cid)}), repeat)
        print(f"{'render case page [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
        cold, warm = _time(partial(case_page.render, viewer, p, {}), repeat)
        print(f"{'render case page, no id: most urgent cases [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
        cold, warm = _time(partial(appeals_page.render, viewer, p), repeat)
        print(f"{'render appeals page [' + theme + ']':<58}{cold:>10.1f}{warm:>10.1f}")
    cold, warm = _time(partial(case_page.probe_submit, viewer, int(cid)), repeat)
    print(f"{'case action callback: body after an action':<58}{cold:>10.1f}{warm:>10.1f}")


def case_http(base: str, *, username: str, password: str, case_id: int, rounds: int = 30) -> int:
    """Round trips of the case page's action callback over HTTP against a running server: `rounds`
    escalations of one case (a real write each: case row, event, rollups, log entry), each sending the
    version and newest event the previous answer left (the answer: the changed parts, the timeline as
    appended rows), then one stale resend (refused). Prints p50 / p95 and sizes."""
    import json

    from sqlalchemy import func, select

    from queries import engine as eng
    from queries.tables import case_event, case_item

    opener = _login(base, username, password)
    deps = json.loads(opener.open(base + "/_dash-dependencies", timeout=60).read())
    cb = next(d for d in deps if d["output"].startswith("..case-body.children"))
    outs = cb["output"].strip(".").split("...")

    def body(state: tuple[int, int]) -> dict[str, Any]:
        version, last_event = state
        values = {
            "case-submit-button": 1,
            "case-case-store": {"id": case_id, "version": version, "last_event": last_event},
            "case-action-dropdown": "escalate",
            "case-note-textarea": "bench: 督办",
            "case-params-store": {"lang": "zh", "theme": "desk", "kiosk": False},
        }
        return {
            "output": cb["output"],
            "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in outs],
            "inputs": [{**i, "value": values.get(i["id"])} for i in cb["inputs"]],
            "state": [{**s, "value": values.get(s["id"])} for s in cb["state"]],
            "changedPropIds": ["case-submit-button.n_clicks"],
        }

    def version() -> tuple[int, int]:
        """The case's row_version and newest event: what the page showed before the action."""
        with eng.connect() as conn:
            v = conn.execute(select(case_item.c.row_version).where(case_item.c.id == case_id)).scalar_one()
            last = conn.execute(
                select(func.coalesce(func.max(case_event.c.id), 0)).where(case_event.c.case_id == case_id)
            ).scalar_one()
        return int(v), int(last)

    times, sizes = [], []
    for _ in range(rounds):
        ms, size = _post_callback(opener, base, body(version()))
        times.append(ms)
        sizes.append(size)
    v, last = version()
    stale_ms, stale_size = _post_callback(opener, base, body((v - 1, last)))
    print(
        f"case action over HTTP, {rounds} writes: {_pcts(times)}; answer {statistics.median(sizes) / 1024:.0f} KB"
    )
    print(f"stale resend (refused): {stale_ms:.0f} ms, {stale_size / 1024:.1f} KB")
    return 0
