"""`command-center bench load`: the wall-screen load run of issue 13, bounded, on loopback.

gunicorn (2 workers x 4 threads, the project's gunicorn.conf.py, the pool's own version and ingest
settings) is started against the pool, then for `minutes`:
- `walls` wall screens, each its own logged-in session, open `/?playlist=...&kiosk=1` over every live
  page (a data page with a callback on the shell's refresh interval), and every `wall_every` seconds
  post every server callback a wall screen fires on a refresh tick (the shell's as-of badge and alert
  levels, the page's own refresh callbacks); every `wall.DEFAULT_DWELL` seconds they turn to the next
  page (the page router and its main callback). Walls start spread over the first interval, as real ones
  are never in step.
- `users` users, each its own session, click through every data page (the page router, the main
  callback's first draw, then one cheap filter change where the main callback has one: another option
  of a dropdown it listens to, the next block of a grid), with a think time of about `THINK_S` seconds.
- one ingest batch a minute (the first at the start) of `ingest_rows` realistic rows of one source
  through `POST /api/v1/records`, with a token created for the run and revoked after it. The rows land in
  the pool named (a bench pool).
Meanwhile every gunicorn worker's RSS is sampled each second (VmRSS and VmHWM of the master's children).

Reports requests, errors by kind (an HTTP status other than 200/204, a connection failure, an answer
that is the pool's error panel), p50/p95/p99 per client kind and overall, each worker's peak RSS and the
ingest batches accepted; states issue 13's targets and whether each is met. Writes JSON and Markdown
and prints the table. Asserts nothing about speed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from dashboard import bench_http as bh
from dashboard.bench import _login, _wait_up, bench_rows

REFRESH = {"id": "app-refresh-interval", "property": "n_intervals"}
THINK_S = 2.0
INGEST_SOURCE = "population_system"
KINDS = ("wall", "user", "ingest")
TARGET_P95_MS = 300.0
TARGET_RSS_MB = 1024.0
SLOWEST = 12  # rows of the Markdown's slowest-requests table


# --- recording ----------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Every request of the run: (kind, label, milliseconds, error kind or "", the minute of the run it
    started in, 1-based)."""

    samples: list[tuple[str, str, float, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    start: float = 0.0  # perf_counter at the run's start

    def add(self, kind: str, label: str, ms: float, error: str, t0: float) -> None:
        minute = max(1, int((t0 - self.start) // 60) + 1)
        with self.lock:
            self.samples.append((kind, label, ms, error, minute))


def _send(opener: Any, req: urllib.request.Request, rec: Recorder, kind: str, label: str) -> bytes | None:
    """One request, timed and recorded; the answer's bytes, or None when it failed (the failure recorded)."""
    t0 = time.perf_counter()
    data, error = None, ""
    try:
        with opener.open(req, timeout=60) as resp:
            data = resp.read()
            if resp.status not in (200, 204):
                error = f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code}"
    except (OSError, TimeoutError) as exc:  # refused, reset, timed out
        error = f"connection: {type(exc).__name__}"
    if data is not None and bh.ERROR_PANEL in data:
        error = "error panel"
    rec.add(kind, label, (time.perf_counter() - t0) * 1000, error, t0)
    return None if error else data


def _post(opener: Any, base: str, body: dict[str, Any], rec: Recorder, kind: str, label: str) -> bytes | None:
    req = urllib.request.Request(
        base + "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    return _send(opener, req, rec, kind, label)


# --- what the clients post ----------------------------------------------------------------------------


def _ids(dep: dict[str, Any]) -> list[Any]:
    return [d["id"] for d in dep["inputs"] + dep["state"]]


def refresh_deps(s: bh.Site, props: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The server callbacks a refresh tick fires on a page laid out as `props`: those with the shell's
    refresh interval as an input whose every input and state is on the page."""
    return [
        d
        for d in s.deps
        if not d.get("clientside_function")
        and any(i["id"] == REFRESH["id"] and i["property"] == REFRESH["property"] for i in d["inputs"])
        and all(isinstance(i, str) and i in props for i in _ids(d))
    ]


def tick_body(dep: dict[str, Any], props: dict[str, dict[str, Any]], n: int) -> dict[str, Any]:
    body = bh.callback_body(dep, props)
    for i in body["inputs"]:
        if i["id"] == REFRESH["id"] and i["property"] == REFRESH["property"]:
            i["value"] = n
    body["changedPropIds"] = [f"{REFRESH['id']}.{REFRESH['property']}"]
    return body


def _label(dep: dict[str, Any]) -> str:
    return str(dep["output"]).strip(".").split("...")[0]


def _option_values(options: Any) -> list[Any]:
    if isinstance(options, dict):
        return list(options)
    if isinstance(options, list):
        return [o.get("value") if isinstance(o, dict) else o for o in options]
    return []


def filter_change(plan: bh.PagePlan, rng: random.Random) -> dict[str, Any] | None:
    """The main callback's body after one cheap filter change a user makes: another option of a dropdown
    (or radio) it listens to, or the next block of its grid; None when it has neither."""
    if plan.main is None:
        return None
    body = json.loads(json.dumps(plan.body))
    choices = []
    for i in body["inputs"]:
        if i["property"] == "getRowsRequest" and isinstance(i["value"], dict):
            choices.append((i, {**i["value"], "startRow": 100, "endRow": 200}))
        elif i["property"] == "value" and isinstance(i["id"], str):
            others = [
                v for v in _option_values(plan.props.get(i["id"], {}).get("options")) if v != i["value"]
            ]
            if others and not isinstance(i["value"], list):
                choices.append((i, rng.choice(others)))
    if not choices:
        return None
    changed, value = rng.choice(choices)
    changed["value"] = value
    body["changedPropIds"] = [f"{changed['id']}.{changed['property']}"]
    return body


@dataclass
class Plan:
    """Everything the clients need, learned once by a setup session: the site, every data page's plan,
    the live pages (those a refresh tick redraws) and the wall's playlist query string."""

    site: bh.Site
    pages: list[bh.PagePlan]
    live: list[bh.PagePlan]
    search: str


def plan_of(base: str, username: str, password: str, pages: list[tuple[str, str]]) -> Plan:
    from dashboard import wall

    opener = _login(base, username, password)
    s = bh.site(opener, base)
    plans = [bh.page_plan(opener, base, s, name, path) for name, path in pages]
    shell = {d["output"] for d in refresh_deps(s, s.shell_props)}
    live = [p for p in plans if any(d["output"] not in shell for d in refresh_deps(s, p.props))]
    if not live:
        raise RuntimeError("no data page redraws on the refresh interval: nothing for a wall screen to poll")
    playlist = ",".join(f"{p.name}:{wall.DEFAULT_DWELL}" for p in live)
    return Plan(s, plans, live, f"?playlist={playlist}&kiosk=1")


# --- the clients --------------------------------------------------------------------------------------


def _open_page(opener: Any, base: str, plan: bh.PagePlan, rec: Recorder, kind: str) -> None:
    """What a page turn posts: the page router, then the main callback's first draw."""
    _post(opener, base, plan.router_body, rec, kind, f"{plan.name}: page router")
    if plan.main is not None:
        _post(opener, base, plan.body, rec, kind, f"{plan.name}: {_label(plan.main)}")


def wall_screen(
    base: str, opener: Any, p: Plan, rec: Recorder, *, start: float, end: float, every: float, seed: int
) -> None:
    """One wall screen: its playlist parsed by the server (the wall store its refresh callbacks read),
    the first page drawn, then a refresh tick every `every` seconds and a page turn every dwell."""
    from dashboard import wall

    rng = random.Random(seed)
    s = p.site
    props = dict(s.shell_props)
    props["app-url"] = {**props.get("app-url", {}), "search": p.search}
    parse = next(
        d for d in s.deps if "app-wall-store.data" in d["output"] and not d.get("clientside_function")
    )
    time.sleep(max(0.0, start + rng.uniform(0, every) - time.perf_counter()))
    answer = _post(opener, base, bh.callback_body(parse, props), rec, "wall", "shell: wall playlist")
    store = json.loads(answer)["response"]["app-wall-store"]["data"] if answer else {}
    index = seed % len(p.live)
    n, turned = 0, time.perf_counter()
    page = p.live[index]
    _open_page(opener, base, page, rec, "wall")
    while True:
        next_at = turned + (n + 1) * every
        wait = next_at - time.perf_counter()
        if time.perf_counter() + max(0.0, wait) >= end:
            return
        time.sleep(max(0.0, wait))
        n += 1
        if n * every >= wall.DEFAULT_DWELL:  # the dwell is over: the next page of the playlist
            index = (index + 1) % len(p.live)
            page = p.live[index]
            _open_page(opener, base, page, rec, "wall")
            n, turned = 0, time.perf_counter()
            continue
        page_props = {**page.props, "app-wall-store": {"data": store}}
        for dep in refresh_deps(s, page_props):
            where = "shell" if all(i in s.shell_props for i in _ids(dep)) else page.name
            _post(opener, base, tick_body(dep, page_props, n), rec, "wall", f"{where}: {_label(dep)} (tick)")


def user(base: str, opener: Any, p: Plan, rec: Recorder, *, end: float, seed: int) -> None:
    """One user clicking through every data page in turn (from a page of their own), a filter change on
    each where one is cheap, thinking about `THINK_S` seconds between clicks."""
    rng = random.Random(seed)
    i = seed % len(p.pages)

    def think() -> bool:
        time.sleep(rng.uniform(0.5, 1.5) * THINK_S)
        return time.perf_counter() < end

    while think():
        page = p.pages[i % len(p.pages)]
        i += 1
        _open_page(opener, base, page, rec, "user")
        changed = filter_change(page, rng)
        if changed is not None and think():
            _post(opener, base, changed, rec, "user", f"{page.name}: filter change")


@dataclass
class Ingested:
    sent: int = 0
    accepted: int = 0  # batches answered 200
    rows_accepted: int = 0


def ingester(
    base: str, token: str, batches: list[bytes], rec: Recorder, got: Ingested, *, start: float, end: float
) -> None:
    """One batch at the start of every minute of the run, through the ingestion API."""
    for k, body in enumerate(batches):
        at = start + 60 * k
        if at >= end:
            return
        time.sleep(max(0.0, at - time.perf_counter()))
        req = urllib.request.Request(
            base + "/api/v1/records",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        answer = _send(urllib.request.build_opener(), req, rec, "ingest", "POST /api/v1/records")
        got.sent += 1
        if answer is not None:
            got.accepted += 1
            got.rows_accepted += int(json.loads(answer)["counts"]["accepted"])


# --- worker memory ------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def _cpu_s(pid: int) -> float:
    """The process's user + system CPU time so far, seconds (/proc/<pid>/stat fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _status_kb(pid: int) -> dict[str, int]:
    got = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                got[key] = int(rest.split()[0])
    except OSError:
        pass
    return got


@dataclass
class Machine:
    """What the sampler saw: per worker pid its peak RSS (kB) and CPU seconds, and the host's 1-minute
    load average each second (the cores are shared: other work on them skews every figure)."""

    peak_kb: dict[int, int] = field(default_factory=dict)
    cpu_s: dict[int, float] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)


def sample_workers(master: int, stop: threading.Event, seen: Machine) -> None:
    """Each second: every worker's (the master's children's) VmRSS and VmHWM, the peak per pid, its CPU
    time, and the load average."""
    while True:
        for pid in _children(master):
            kb = max(_status_kb(pid).values(), default=0)
            seen.peak_kb[pid] = max(seen.peak_kb.get(pid, 0), kb)
            seen.cpu_s[pid] = max(seen.cpu_s.get(pid, 0.0), _cpu_s(pid))
        seen.load.append(os.getloadavg()[0])
        if stop.wait(1.0):
            return


# --- the run ------------------------------------------------------------------------------------------


def _ingest_setup(minutes: float, rows: int) -> tuple[int, str, list[bytes]]:
    """A token for the run (through the write door) and one batch of realistic rows per minute."""
    import math

    from queries import audit, tokens

    n = max(1, math.ceil(minutes))
    frame = bench_rows(
        n * rows, source_code=INGEST_SOURCE, key_base=10**12 + int(time.time()) * 10**4, recent=True
    )
    batches = [json.dumps(b.to_dicts(), ensure_ascii=False).encode() for b in frame.iter_slices(rows)]
    with audit.write(audit.Actor.cli()) as tx:
        issued = tokens.create(tx, source_code=INGEST_SOURCE, label="bench load (revoked at the end)")
    return issued.token_id, issued.token, batches


def _revoke(token_id: int) -> None:
    from queries import audit, tokens

    with audit.write(audit.Actor.cli()) as tx:
        tokens.revoke(tx, token_id=token_id)


def stats(ms: list[float]) -> dict[str, float | int]:
    if not ms:
        return {
            "n": 0,
            "p50_ms": float("nan"),
            "p95_ms": float("nan"),
            "p99_ms": float("nan"),
            "max_ms": float("nan"),
        }
    return {
        "n": len(ms),
        "p50_ms": statistics.median(ms),
        "p95_ms": bh._pct(ms, 0.95),
        "p99_ms": bh._pct(ms, 0.99),
        "max_ms": max(ms),
    }


def summary(rec: Recorder) -> dict[str, Any]:
    samples = list(rec.samples)
    kinds = {}
    for kind in KINDS:
        mine = [s for s in samples if s[0] == kind]
        kinds[kind] = {**stats([s[2] for s in mine]), "errors": sum(1 for s in mine if s[3])}
    errors = Counter(f"{s[0]}: {s[3]}" for s in samples if s[3])
    by_label: dict[tuple[str, str], list[float]] = {}
    failed = Counter((s[0], s[1]) for s in samples if s[3])
    for kind, label, ms, *_ in samples:
        by_label.setdefault((kind, label), []).append(ms)
    slowest = sorted(
        (
            {"kind": k, "request": lab, **stats(v), "errors": failed[k, lab]}
            for (k, lab), v in by_label.items()
        ),
        key=lambda r: -float(r["p95_ms"]),
    )
    return {
        "requests": len(samples),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(sorted(errors.items())),
        "overall": stats([s[2] for s in samples]),
        "kinds": kinds,
        "minutes": [  # the run minute by minute: the first pays for cold caches, each ingest moves the version
            {
                "minute": m,
                **stats([s[2] for s in samples if s[4] == m]),
                "errors": sum(1 for s in samples if s[4] == m and s[3]),
            }
            for m in sorted({s[4] for s in samples})
        ],
        "by_request": slowest,  # every request kind of the run, slowest p95 first
    }


def run(
    url: str,
    *,
    username: str,
    password: str,
    minutes: float = 5.0,
    walls: int = 20,
    users: int = 10,
    wall_every: float = 10.0,
    ingest_rows: int = 1000,
    out: Path = Path("bench-load"),
) -> int:
    """Start gunicorn (2 workers) on the pool at `url`, run the load for `minutes`, write and print."""
    from dashboard.app import create_app
    from queries import meta

    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-load-"))
    rec, got = Recorder(), Ingested()
    seen = Machine()
    try:
        env = {k: v for k, v in bh.SERVER_ENV.items() if k in ("CC_WORKERS", "CC_THREADS")}
        with bh.started(url, tmp, env) as (base, server):
            # this process's setup while gunicorn's workers import the app: the page registry, the token
            create_app({"CC_DATABASE_URL": url, "CC_INSTANCE_DIR": str(tmp / "local")})
            status = meta.pool_status()
            token_id, token, batches = _ingest_setup(minutes, ingest_rows)
            try:
                _wait_up(base, server)
                p = plan_of(base, username, password, bh.data_pages())
                openers = [_login(base, username, password) for _ in range(walls + users)]
                stop = threading.Event()
                sampler = threading.Thread(target=sample_workers, args=(server.pid, stop, seen), daemon=True)
                sampler.start()
                start = rec.start = time.perf_counter()
                end = start + minutes * 60
                jobs: list[Callable[[], None]] = [
                    partial(wall_screen, base, o, p, rec, start=start, end=end, every=wall_every, seed=k)
                    for k, o in enumerate(openers[:walls])
                ]
                jobs += [
                    partial(user, base, o, p, rec, end=end, seed=k) for k, o in enumerate(openers[walls:])
                ]
                jobs.append(partial(ingester, base, token, batches, rec, got, start=start, end=end))
                threads = [threading.Thread(target=j, daemon=True) for j in jobs]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                took = time.perf_counter() - start
                stop.set()
                sampler.join()
            finally:
                _revoke(token_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": bh.machine(),
        "pool": {"url": bh._redacted(url), "records": status.records, "scale": status.scale},
        "settings": {
            "minutes": minutes,
            "seconds_run": round(took, 1),
            "workers": int(env["CC_WORKERS"]),
            "threads": int(env["CC_THREADS"]),
            "walls": walls,
            "users": users,
            "wall_every_s": wall_every,
            "think_s": THINK_S,
            "ingest_rows": ingest_rows,
            "live_pages": [pl.name for pl in p.live],
        },
        **summary(rec),
        "ingest": {
            "batches_sent": got.sent,
            "batches_accepted": got.accepted,
            "rows_accepted": got.rows_accepted,
        },
        "workers": [
            {"pid": pid, "peak_rss_mb": round(kb / 1024, 1), "cpu_s": round(seen.cpu_s.get(pid, 0.0), 1)}
            for pid, kb in sorted(seen.peak_kb.items())
        ],
        "load_average": {
            "mean": round(statistics.fmean(seen.load), 1) if seen.load else None,
            "max": round(max(seen.load), 1) if seen.load else None,
        },
    }
    report["targets"] = targets(report)
    return bh.write_report(report, markdown(report), out)


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 13's targets for the load run, each with the measured value and whether it is met."""
    p95 = float(report["overall"]["p95_ms"])
    rss = max((w["peak_rss_mb"] for w in report["workers"]), default=float("nan"))
    return [
        {"target": "0 errors", "value": f"{report['errors']}", "met": report["errors"] == 0},
        {
            "target": f"p95 <= {TARGET_P95_MS:.0f} ms (overall)",
            "value": f"{p95:.0f} ms",
            "met": p95 <= TARGET_P95_MS,
        },
        {
            "target": f"each worker <= {TARGET_RSS_MB / 1024:.0f} GB RSS",
            "value": f"{rss:,.0f} MB (the largest)",
            "met": rss <= TARGET_RSS_MB,
        },
    ]


def markdown(report: dict[str, Any]) -> str:
    m, pool, st = report["machine"], report["pool"], report["settings"]
    lines = [
        f"Load run {report['date']}: {m['cores']} cores, {m['ram_gb']} GB RAM, load average "
        f"{report['load_average']['mean']} mean over the run (max {report['load_average']['max']}); pool {pool['records']:,} records ({pool['scale']}); gunicorn "
        f"{st['workers']} workers x {st['threads']} threads; {st['seconds_run']:.0f} s with {st['walls']} wall "
        f"screens (a tick every {st['wall_every_s']:g} s over {', '.join(st['live_pages'])}), {st['users']} "
        f"users (think ~{st['think_s']:g} s), one {st['ingest_rows']:,}-row ingest batch a minute",
        "",
        "| client | requests | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, s: dict[str, Any], errors: int) -> str:
        return (
            f"| {name} | {s['n']:,} | {errors} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | "
            f"{s['p99_ms']:.1f} | {s['max_ms']:.1f} |"
        )

    for kind in KINDS:
        lines.append(row(kind, report["kinds"][kind], report["kinds"][kind]["errors"]))
    lines.append(row("**overall**", report["overall"], report["errors"]))
    errors = ", ".join(f"{k} x{n}" for k, n in report["errors_by_kind"].items()) or "none"
    ing = report["ingest"]
    workers = (
        ", ".join(
            f"pid {w['pid']}: {w['peak_rss_mb']:,.0f} MB ({w['cpu_s']:,.0f} s CPU)" for w in report["workers"]
        )
        or "none seen"
    )
    lines += [
        "",
        f"Errors by kind: {errors}. Ingest: {ing['batches_accepted']} of {ing['batches_sent']} batches accepted "
        f"({ing['rows_accepted']:,} rows). Worker peak RSS: {workers}.",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |" for t in report["targets"]),
        "",
        "Minute by minute (an ingest batch at the start of each):",
        "",
        "| minute | requests | errors | p50 ms | p95 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {r['minute']} | {r['n']:,} | {r['errors']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} |"
            for r in report["minutes"]
        ),
        "",
        "Slowest requests by p95:",
        "",
        "| client | request | n | errors | p50 ms | p95 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r['kind']} | `{r['request']}` | {r['n']} | {r['errors']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['max_ms']:.1f} |"
            for r in report["by_request"][:SLOWEST]
        ),
    ]
    return "\n".join(lines) + "\n"
