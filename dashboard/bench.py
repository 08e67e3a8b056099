"""`command-center bench`: time each page's queries and full renders against the configured pool.

Cold = the diskcache emptied first (what the first viewer after a load waits for); warm = served
from the cache (every later viewer and every other worker). Prints figures; asserts nothing.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import g

from dashboard.settings import Settings


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
    from queries import activity, audit, cache, meta, overview, pool
    from queries.scope import Viewer

    tmp = tempfile.mkdtemp(prefix="cc-bench-cache-")
    app = create_app({"CC_DATABASE_URL": settings.database_url, "CC_CACHE_DIR": tmp})
    # page modules register themselves with Dash, so they are imported after the app exists
    from dashboard.pages import audit as audit_page
    from dashboard.pages import overview as overview_page
    from dashboard.pages import pool as pool_page
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
        ]
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
        print(f"cache hits/misses: {cache.stats()}")
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
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


def factors_render(viewer: Any, *, repeat: int) -> None:
    """The factor page's analysis and its update callback's render, cold and warm (median and p95)."""
    from dashboard.pages.factors import page as factors_page
    from dashboard.view import PageParams
    from queries import factors

    year = factors.years(scope=viewer.scope())[0]
    choice = (year, factors.DEPENDENT, factors.REGRESSORS)
    for theme in ("desk", "wall"):
        p = PageParams(lang="zh", theme=theme, kiosk=theme == "wall")
        fn = partial(factors_page.render, viewer, p, *choice, False)
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
