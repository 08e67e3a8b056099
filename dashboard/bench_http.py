"""`command-center bench http`: every data page measured over HTTP, side by side with Dash's own floor
and the raw engine, against a real gunicorn (2 workers) on loopback with a logged-in client.

Per data page (read from Dash's page registry):
- initial payload: the page's HTML, `_dash-layout`, the page router's answer (the page's layout) and the
  main callback's first answer, in bytes (the JS bundles are shared by every page and cached: left out);
- the main callback (MAIN below: the one that draws the page's content from its params store or the
  refresh interval; a page whose content is drawn by its layout is measured through the page router):
  warm p50/p95 over `repeat` calls after one warm-up, and cold p50/p95: the first call after the data
  version moved (through the write door, as every writer moves it), `cold` times;
- the floor: Dash's own round trip for a bench-only callback (registered only when CC_BENCH_FLOOR=1) that
  returns a precomputed figure of the same size in bytes as the main callback's answer;
- the raw engine: the SQL statements behind one call of the same callback (captured in this process with
  the cache bypassed) run again straight on the driver, every row fetched; the median of `raw` replays;
- the naive peer (pages in dashboard/bench_naive.PAGES): a bench-only callback (registered with the floor)
  answering the page's main question the way Dash sample apps do (SQL per request on the fact table,
  Python lists into plotly, no rollup, no cache), timed warm like ours: `repeat` calls after one warm-up;
  the ratio naive/ours is naive p50 over our warm p50.

Writes JSON and a Markdown table (with the machine, the pool's record count and the date) and prints the
table. Asserts nothing about speed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dashboard import bench_naive
from dashboard.bench import _login, _post_callback, _wait_up
from dashboard.settings import child_env, load

# the main callback of each data page, by one of its outputs ("id.property"); None: the page draws its
# content in its layout (its read callbacks are all button-driven writes), so the page router is timed
MAIN: dict[str, str | None] = {
    "overview": "overview-content.children",
    "pool": "pool-content.children",
    "prices": "prices-content.children",
    "loop": "loop-content.children",
    "lists": "lists-body.children",
    "divide": "divide-content.children",
    "factors": "factors-content.children",
    "twin": "twin-view-graph.figure",
    "browser": "records-grid.getRowsResponse",
    "audit": "audit-grid.getRowsResponse",
    "appeals": None,
    "case": None,
}
# inputs a page's layout leaves empty that its main callback needs to draw anything
GRID_REQUEST = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
INPUT_VALUES: dict[str, Any] = {"getRowsRequest": GRID_REQUEST}

FLOOR_INPUT = "bench-floor-size"
FLOOR_OUTPUT = "bench-floor-graph"
FLOOR_MAX_BYTES = 64 * 2**20
ROUTER = "_pages_content.children"
ERROR_PANEL = b'"app-error-panel"'  # dashboard.components.error_panel's id: the answer is no page


# --- the floor: a bench-only callback, registered only when CC_BENCH_FLOOR=1 -------------------------


@lru_cache(maxsize=64)
def floor_figure(size: int) -> dict[str, Any]:
    """A plotly figure (one scatter trace) whose JSON is about `size` bytes, built once per size."""
    size = max(64, min(int(size), FLOOR_MAX_BYTES))

    def figure(n: int) -> dict[str, Any]:
        xs = [i * 1.5 for i in range(n)]
        return {"data": [{"type": "scatter", "mode": "lines", "x": xs, "y": xs}], "layout": {}}

    n = 100
    for _ in range(4):  # numbers grow longer with n: scale until the size is within a few percent
        got = len(json.dumps(figure(n)))
        if abs(got - size) <= 0.02 * size:
            break
        n = max(1, round(n * size / got))
    return figure(n)


def register_floor(app: Any) -> None:
    """The floor's callback: answers a precomputed figure of the asked size; no query, no cache read."""
    from dash import Input, Output

    @app.callback(Output(FLOOR_OUTPUT, "figure"), Input(FLOOR_INPUT, "data"))
    def _floor(size: object) -> dict[str, Any]:
        return floor_figure(int(size) if isinstance(size, int | float) else 64)


def floor_body(size: int) -> dict[str, Any]:
    return {
        "output": f"{FLOOR_OUTPUT}.figure",
        "outputs": {"id": FLOOR_OUTPUT, "property": "figure"},
        "inputs": [{"id": FLOOR_INPUT, "property": "data", "value": int(size)}],
        "changedPropIds": [f"{FLOOR_INPUT}.data"],
    }


# --- reading Dash's answers ---------------------------------------------------------------------------


def _walk(node: Any, found: dict[str, dict[str, Any]]) -> None:
    """Every component with a string id in a layout (or a callback's answer): id -> its props."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and "type" in node:
            cid = props.get("id")
            if isinstance(cid, str):
                found.setdefault(cid, props)
        for v in node.values():
            _walk(v, found)
    elif isinstance(node, list):
        for v in node:
            _walk(v, found)


def _outputs(output: str) -> list[dict[str, str]]:
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]


def callback_body(dep: dict[str, Any], props: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The body a browser posts for `dep` on first drawing the page: every input and state as laid out."""

    def value(d: dict[str, Any]) -> Any:
        got = props.get(d["id"], {}).get(d["property"])
        return INPUT_VALUES.get(d["property"]) if got is None else got

    outs = _outputs(dep["output"])
    return {
        "output": dep["output"],
        "outputs": outs if dep["output"].startswith("..") else outs[0],
        "inputs": [{"id": i["id"], "property": i["property"], "value": value(i)} for i in dep["inputs"]],
        "state": [{"id": s["id"], "property": s["property"], "value": value(s)} for s in dep["state"]],
        "changedPropIds": [],
    }


def router_body(router: dict[str, Any], base: str, path: str) -> dict[str, Any]:
    values = {"pathname": path, "search": "", "hash": "", "href": f"{base}{path}"}
    return {
        "output": router["output"],
        "outputs": _outputs(router["output"]),
        "inputs": [{**i, "value": values.get(i["property"])} for i in router["inputs"]],
        "state": [{**s, "value": None} for s in router["state"]],
        "changedPropIds": ["_pages_location.pathname"],
    }


def pick_main(deps: list[dict[str, Any]], page: str) -> dict[str, Any] | None:
    """The page's main callback from `_dash-dependencies` (MAIN names it by one output)."""
    key = MAIN.get(page)
    if key is None:
        return None
    for d in deps:
        if key in [f"{o['id']}.{o['property']}" for o in _outputs(d["output"])]:
            return d
    raise LookupError(f"page {page}: no callback outputs {key}")


# --- measuring ----------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))] if s else float("nan")


@dataclass
class Row:
    page: str
    path: str
    callback: str
    warm_p50_ms: float
    warm_p95_ms: float
    cold_p50_ms: float
    cold_p95_ms: float
    floor_p95_ms: float
    raw_engine_ms: float
    payload_bytes: int
    initial_bytes: int
    error_panel: bool  # the answer was the pool's error panel (a timeout, a missing table): not a page
    naive_p50_ms: float = float("nan")  # NaN: the page has no naive peer (bench_naive.PAGES)
    naive_p95_ms: float = float("nan")

    @property
    def warm_over_floor(self) -> float:
        return self.warm_p95_ms / self.floor_p95_ms if self.floor_p95_ms > 0 else float("nan")

    @property
    def cold_over_raw(self) -> float:
        return self.cold_p95_ms / self.raw_engine_ms if self.raw_engine_ms > 0 else float("nan")

    @property
    def naive_over_warm(self) -> float:
        return self.naive_p50_ms / self.warm_p50_ms if self.warm_p50_ms > 0 else float("nan")


def _checked_post(opener: Any, base: str, body: dict[str, Any]) -> tuple[float, int, bytes]:
    req = urllib.request.Request(
        base + "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    t0 = time.perf_counter()
    with opener.open(req, timeout=120) as resp:
        data = resp.read()
    return (time.perf_counter() - t0) * 1000, len(data), data


def _get(opener: Any, url: str) -> bytes:
    with opener.open(url, timeout=60) as resp:
        return bytes(resp.read())


def move_version() -> None:
    """A new data version through the write door (as a correction or an import moves it)."""
    from queries import audit, meta

    meta.configure_window(0)  # every move takes effect at once (no ingest window holding it pending)
    with audit.write(audit.Actor.cli()) as tx:
        meta.move_all(tx.conn)
        tx.log("bench.version.move", "pool_meta", "data_version", detail={"why": "bench http: cold calls"})


@contextmanager
def sql_statements() -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement (with its driver-level parameters) run in this process while the block runs."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not many:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def replay_ms(statements: list[tuple[str, Any]]) -> float:
    """The statements run again straight on a driver connection, every row fetched: milliseconds."""
    from queries import engine as eng

    raw = eng.engine().raw_connection()
    try:
        cursor = raw.cursor()
        t0 = time.perf_counter()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        took = (time.perf_counter() - t0) * 1000
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return took


def in_process_client(url: str, instance: Path, username: str, password: str) -> Any:
    """This process's own app on the pool, logged in, its cache bypassed (every call asks the database)."""
    from dashboard.app import create_app
    from queries import cache as qcache

    app = create_app(
        {
            "CC_DATABASE_URL": url,
            "CC_INSTANCE_DIR": str(instance),
            "CC_VERSION_TTL_SECONDS": "0",
            "CC_INGEST_VERSION_SECONDS": "0",
        }
    )
    qcache.configure(None)
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = dict(username=username, password=password, next="/", csrf_token=csrf.group(1) if csrf else "")
    client.post("/login", data=form)
    return client


def raw_engine_ms(client: Any, body: dict[str, Any], repeat: int) -> float:
    """The raw engine behind one call of a callback: its SQL statements, captured from one call in this
    process with the cache bypassed, then run again straight on the driver with every row fetched (no
    SQLAlchemy, no polars, no figure); the median of `repeat` replays."""
    with sql_statements() as seen:
        resp = client.post("/_dash-update-component", json=body)
    if resp.status_code not in (200, 204):
        raise RuntimeError(f"the in-process call answered {resp.status_code}")
    return statistics.median(replay_ms(seen) for _ in range(max(1, repeat)))


def machine() -> dict[str, Any]:
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(ram / 2**30, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 1),  # other work on the cores skews every figure
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# the bench's server: every request reads the data version, so a call right after a move is a cold one
# (and no warm-up thread renders it first: cold means what a viewer pays without dashboard.warmup);
# the floor's callback registered
SERVER_ENV = {
    "CC_WORKERS": "2",
    "CC_THREADS": "4",
    "CC_VERSION_TTL_SECONDS": "0",
    "CC_INGEST_VERSION_SECONDS": "0",
    "CC_WARMUP_SECONDS": "0",
    "CC_BENCH_FLOOR": "1",
}


def _serve(url: str, tmp: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`command-center serve` (gunicorn) on loopback `port` against the pool, logging to tmp/server.log."""
    overrides = {
        "CC_DATABASE_URL": url,
        "CC_INSTANCE_DIR": str(tmp / "server"),
        "CC_BIND": f"127.0.0.1:{port}",
    }
    command = [str(Path(sys.executable).with_name("command-center")), "serve"]
    with (tmp / "server.log").open("wb") as log:
        return subprocess.Popen(
            command, env={**child_env(load(overrides)), **env}, stdout=log, stderr=subprocess.STDOUT
        )


@contextmanager
def started(
    url: str, tmp: Path, env: dict[str, str] = SERVER_ENV
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """gunicorn (the project's gunicorn.conf.py; `env` on top of the pool's settings) started on a free
    loopback port against the pool, not yet answering (its workers take seconds to import the app: a
    caller may do its own setup meanwhile, then `_wait_up`): (base URL, the master process, whose
    children are the workers). On a failure inside the block the server log's tail goes to stderr;
    stopped on the way out."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(url, tmp, port, env)
    try:
        yield base, server
    except Exception:
        print((tmp / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)


def data_pages() -> list[tuple[str, str]]:
    """(name, path) of every data page in Dash's page registry (an app must have been created here)."""
    import dash

    return [(str(p["name"]), str(p["path"])) for p in dash.page_registry.values() if p.get("ready")]


def run(
    url: str,
    *,
    username: str,
    password: str,
    repeat: int = 30,
    cold: int = 5,
    raw: int = 3,
    out: Path = Path("bench-http"),
    naive_repeat: int | None = None,
) -> int:
    """Start gunicorn (2 workers) on the pool at `url`, measure every data page, write and print."""
    from queries import meta

    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-http-"))
    try:
        with started(url, tmp) as (base, server):
            # this process's own app is built while gunicorn's workers import theirs
            client = in_process_client(url, tmp / "local", username, password)
            status = meta.pool_status()
            _wait_up(base, server)
            naive = repeat if naive_repeat is None else naive_repeat
            rows = _measure(
                base, data_pages(), username, password, client, repeat=repeat, cold=cold, raw=raw, naive=naive
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = {  # machine() last: its load average is the run's, not the idle start's
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "pool": {"url": _redacted(url), "records": status.records, "scale": status.scale},
        "settings": {"workers": 2, "threads": 4, "repeat": repeat, "cold": cold, "raw": raw},
        "naive_peer": f"warm, n={repeat if naive_repeat is None else naive_repeat}, "
        f"on {', '.join(bench_naive.PAGES)}",
        "rows": [
            {
                **asdict(r),
                "warm_over_floor": r.warm_over_floor,
                "cold_over_raw": r.cold_over_raw,
                "naive_over_warm": r.naive_over_warm,
            }
            for r in rows
        ],
    }
    return write_report(report, markdown(report), out)


def write_report(report: dict[str, Any], text: str, out: Path) -> int:
    """The report as out.json and its table as out.md; the table printed. 0, the command's exit code."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    print(f"written: {out.with_suffix('.json')}, {out.with_suffix('.md')}")
    return 0


def _redacted(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


@dataclass
class Site:
    """What a logged-in browser learns on opening the app: the shell's layout, every callback, the page
    router, and each component's props in the shell (by id)."""

    shell: bytes
    deps: list[dict[str, Any]]
    router: dict[str, Any]
    shell_props: dict[str, dict[str, Any]]


def site(opener: Any, base: str) -> Site:
    shell = _get(opener, base + "/_dash-layout")
    deps = json.loads(_get(opener, base + "/_dash-dependencies"))
    router = next(d for d in deps if ROUTER in d["output"])
    props: dict[str, dict[str, Any]] = {}
    _walk(json.loads(shell), props)
    return Site(shell, deps, router, props)


@dataclass
class PagePlan:
    """One page as a browser draws it: the page router's body and answer size, every component's props
    (shell and page), and the page's main callback (None: the router is the page) with its first body."""

    name: str
    path: str
    router_body: dict[str, Any]
    router_bytes: int
    props: dict[str, dict[str, Any]]
    main: dict[str, Any] | None
    body: dict[str, Any]
    label: str


def page_plan(opener: Any, base: str, s: Site, name: str, path: str) -> PagePlan:
    """Open `path` through the page router and build its main callback's body from what it laid out."""
    rbody = router_body(s.router, base, path)
    _, rsize, answer = _checked_post(opener, base, rbody)
    props = dict(s.shell_props)
    _walk(json.loads(answer), props)
    dep = pick_main(s.deps, name)
    body = rbody if dep is None else callback_body(dep, props)
    label = "page router (layout)" if dep is None else dep["output"].strip(".").replace("...", " + ")
    return PagePlan(name, path, rbody, rsize, props, dep, body, label)


def _measure(
    base: str,
    pages: list[tuple[str, str]],
    username: str,
    password: str,
    client: Any,
    *,
    repeat: int,
    cold: int,
    raw: int,
    naive: int,
) -> list[Row]:
    opener = _login(base, username, password)
    s = site(opener, base)
    rows = []
    for name, path in pages:
        html = _get(opener, base + path)
        plan = page_plan(opener, base, s, name, path)
        body, dep = plan.body, plan.main

        def call(body: dict[str, Any] = body) -> tuple[float, int]:
            ms, size, _ = _checked_post(opener, base, body)
            return ms, size

        _, size, first = _checked_post(opener, base, body)  # the warm-up: this version's answers cached
        warm = [call()[0] for _ in range(max(1, repeat))]
        colds = []
        for _ in range(max(1, cold)):
            move_version()
            colds.append(call()[0])
        fbody = floor_body(size)
        for _ in range(4):  # each worker builds the precomputed figure once, before the timing
            _post_callback(opener, base, fbody)
        floor = [_post_callback(opener, base, fbody)[0] for _ in range(max(1, repeat))]
        naive_times = naive_ms(opener, base, name, naive)
        rows.append(
            Row(
                page=name,
                path=path,
                callback=plan.label,
                warm_p50_ms=statistics.median(warm),
                warm_p95_ms=_pct(warm, 0.95),
                cold_p50_ms=statistics.median(colds),
                cold_p95_ms=_pct(colds, 0.95),
                floor_p95_ms=_pct(floor, 0.95),
                raw_engine_ms=raw_engine_ms(client, body, raw),
                payload_bytes=size,
                initial_bytes=len(html) + len(s.shell) + plan.router_bytes + (0 if dep is None else size),
                error_panel=ERROR_PANEL in first,
                naive_p50_ms=statistics.median(naive_times) if naive_times else float("nan"),
                naive_p95_ms=_pct(naive_times, 0.95),
            )
        )
    return rows


def naive_ms(opener: Any, base: str, page: str, repeat: int) -> list[float]:
    """The page's naive peer, warm: `repeat` timed calls after one warm-up (none: the page has none)."""
    if page not in bench_naive.PAGES:
        return []
    body = bench_naive.naive_body(page)
    _, _, answer = _checked_post(opener, base, body)  # the warm-up (and the check that it draws)
    if ERROR_PANEL in answer or bench_naive.output_id(page).encode() not in answer:
        raise RuntimeError(f"page {page}: the naive peer did not answer a page")
    return [_checked_post(opener, base, body)[0] for _ in range(max(1, repeat))]


def markdown(report: dict[str, Any]) -> str:
    m, pool = report["machine"], report["pool"]
    lines = [
        f"HTTP bench {report['date']}: {m['cores']} cores, {m['ram_gb']} GB RAM, load average "
        f"{m['load_average_1min']} at the end; pool {pool['records']:,} "
        f"records ({pool['scale']}); gunicorn 2 workers x 4 threads; warm n={report['settings']['repeat']}, "
        f"cold n={report['settings']['cold']}; naive peer: {report['naive_peer']}",
        "",
        "| page | callback | warm p50 ms | warm p95 ms | cold p50 ms | cold p95 ms | floor p95 ms | raw engine ms "
        "| naive p50 ms | naive p95 ms | warm/floor | cold/raw | naive/ours | payload KB | initial KB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        shown = f"`{r['callback']}`" + (" **answered the error panel**" if r["error_panel"] else "")
        lines.append(
            f"| {r['page']} | {shown} | {r['warm_p50_ms']:.1f} | {r['warm_p95_ms']:.1f} | "
            f"{r['cold_p50_ms']:.1f} | {r['cold_p95_ms']:.1f} | {r['floor_p95_ms']:.1f} | {r['raw_engine_ms']:.1f} | "
            f"{_ms(r['naive_p50_ms'])} | {_ms(r['naive_p95_ms'])} | {r['warm_over_floor']:.1f}x | "
            f"{r['cold_over_raw']:.1f}x | {_ratio(r['naive_over_warm'])} | {r['payload_bytes'] / 1024:.1f} | "
            f"{r['initial_bytes'] / 1024:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _ms(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:.1f}"


def _ratio(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:.1f}x"


# --- the growth table: several runs of this bench on pools of different sizes -------------------------


def growth_markdown(reports: list[dict[str, Any]]) -> str:
    """One table from bench http reports (JSON) of the same pages on pools of different sizes, smallest
    first: per page warm p95, cold p95 and the naive peer's p50 at each size, and how much cold p95 and
    the pool grew from the smallest pool to the largest and over the last step (a cold time growing
    faster than the pool is the sign of a scan that should not be there)."""
    runs = sorted(reports, key=lambda r: r["pool"]["records"])
    if len(runs) < 2:
        raise ValueError("the growth table needs reports of at least two pools")
    sizes = [r["pool"]["records"] for r in runs]
    pool_growth = sizes[-1] / sizes[0]
    step_growth = sizes[-1] / sizes[-2]  # the last step: e.g. full scale to 5x
    heads = " / ".join(f"{n / 1e6:.1f}M" for n in sizes)
    lines = [
        f"Growth: pools of {heads} records; runs "
        + ", ".join(
            f"{r['date']} (load average {r['machine']['load_average_1min']}, {r['pool']['url'].split(':')[0]})"
            for r in runs
        ),
        "",
        f"| page | warm p95 ms ({heads}) | cold p95 ms ({heads}) | naive p50 ms ({heads}) "
        f"| cold growth (pool x{pool_growth:.1f}) | cold growth, last step (pool x{step_growth:.1f}) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    by_page = [{row["page"]: row for row in r["rows"]} for r in runs]
    for page in by_page[0]:
        if any(page not in b for b in by_page):
            continue
        rows = [b[page] for b in by_page]

        def cells(key: str, rows: list[Any] = rows) -> str:
            return " / ".join(_ms(float(row[key])) for row in rows)

        colds = [float(row["cold_p95_ms"]) for row in rows]
        lines.append(
            f"| {page} | {cells('warm_p95_ms')} | {cells('cold_p95_ms')} | {cells('naive_p50_ms')} "
            f"| {_growth(colds[0], colds[-1], pool_growth)} | {_growth(colds[-2], colds[-1], step_growth)} |"
        )
    return "\n".join(lines) + "\n"


def _growth(before: float, after: float, pool: float) -> str:
    """How much a time grew, marked where it grew faster than the pool did."""
    grew = after / before if before > 0 else float("nan")
    return _ratio(grew) + (" **faster than the pool**" if grew > pool else "")


def growth(paths: list[Path], out: Path) -> int:
    """`bench http --growth A.json B.json ...`: the growth table of earlier runs, written and printed."""
    try:
        reports = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
        text = growth_markdown(reports)
    except (OSError, ValueError, KeyError) as exc:
        print(
            f"增长表需要至少两个 bench http 的 JSON 报告 / the growth table needs two or more bench http JSON "
            f"reports: {exc}",
            file=sys.stderr,
        )
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    print(f"written: {out.with_suffix('.md')}")
    return 0
