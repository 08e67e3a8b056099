"""Two app servers on two ports, one PostgreSQL pool and one Redis cache, one CC_SECRET_KEY, each its own
instance folder: they answer alike, share cache entries, honour each other's logins, and a data change
written through one is seen by the other once its version TTL has passed (both invalidate)."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dashboard import bench_http
from dashboard.api import PATH
from dashboard.bench import _login
from queries import audit, cache, engine, tokens
from queries.ingest.reference import load_reference
from tests.conftest import PG_URL, absent, pg_reachable
from tests.pools import pg_pool_for
from tests.queries.test_ingest_validate import base_row
from tests.servers import serve, stop

pytestmark = pytest.mark.postgres

REDIS_URL = os.environ.get("CC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
VERSION_TTL_S = 1  # how long each worker trusts the data version it read
SEEN_WITHIN_S = 60  # a readiness bound for "server B has moved on", not a speed check
ADMIN = ("admin", "admin-demo-2026")
LIVE_CLOCK = re.compile(rb"(\xe6\x88\xaa\xe8\x87\xb3|\\u622a\\u81f3|as of) \d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@dataclass
class Pair:
    a: str
    b: str
    pool: str
    prefix: str
    redis: redis.Redis


def _wipe(client: redis.Redis, prefix: str) -> None:
    """Only this pool's entries: the Redis may hold other pools' (another deployment, another test)."""
    for key in client.scan_iter(match=prefix + "*", count=500):
        client.delete(key)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    if not pg_reachable():
        absent(f"PostgreSQL not reachable at {PG_URL}")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        absent(f"Redis not reachable at {REDIS_URL} ({exc}); set CC_TEST_REDIS_URL")
    # a database of its own, made from the test pool's template: this test writes through the API
    url, _ = pg_pool_for(PG_URL, f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_servers")
    prefix = cache.pool_prefix(url)
    _wipe(client, prefix)
    shared = {
        "CC_CACHE_URL": REDIS_URL,
        "CC_SECRET_KEY": secrets.token_hex(32),
        "CC_VERSION_TTL_SECONDS": str(VERSION_TTL_S),
        "CC_INGEST_VERSION_SECONDS": "0",
        "CC_WORKERS": "1",  # one worker each: what is shared here is across servers, not workers
        # no warm-up thread writing entries of its own: "A added no entry" below counts requests' entries
        "CC_WARMUP_SECONDS": "0",
    }
    root = tmp_path_factory.mktemp("two-servers")
    with ThreadPoolExecutor(2) as pool:  # both start at once: the run stays short on a loaded machine
        started = list(pool.map(lambda name: serve(url, root / name, **shared), ("a", "b")))
    procs = [p for p, _ in started]
    try:
        yield Pair(started[0][1], started[1][1], url, prefix, client)
    finally:
        stop(procs, quick=True)
        _wipe(client, prefix)
        client.close()
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _session_cookie(opener: Any) -> str:
    jar = next(h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    cookie = next((c for c in jar if c.name == "cc_session"), None)
    assert cookie is not None, "the login set no session cookie"
    return f"cc_session={cookie.value}"


def _get(base: str, path: str, cookie: str | None) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(base + path, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _healthz(base: str, cookie: str | None) -> dict[str, Any]:
    status, body = _get(base, "/healthz", cookie)
    assert status == 200, body[:300]
    return dict(json.loads(body))


def _page(base: str, cookie: str, path: str) -> bytes:
    """Dash's page router for `path`, as the browser asks it, with the session cookie given."""
    _, deps = _get(base, "/_dash-dependencies", cookie)
    router = next(d for d in json.loads(deps) if bench_http.ROUTER in d["output"])
    body = json.dumps(bench_http.router_body(router, "http://cc.example", path)).encode()
    req = urllib.request.Request(
        base + "/_dash-update-component",
        body,
        {"Content-Type": "application/json", "Cookie": cookie},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        assert resp.status == 200
        data: bytes = resp.read()
    assert bench_http.ERROR_PANEL not in data, data[:500]
    # the quarantine panel's "live, as of HH:MM" is the render's own clock, not data: two renders
    # either side of a minute differ there, so the minute is blanked before answers are compared
    return LIVE_CLOCK.sub(rb"\1 <now>", data)


def _keys(pair: Pair) -> set[bytes]:
    return set(pair.redis.scan_iter(match=pair.prefix + "*", count=500))


def test_two_servers_share_one_pool_one_cache_and_one_login(pair: Pair) -> None:
    cookie = _session_cookie(_login(pair.a, *ADMIN))  # the login is made on server A only

    # the cookie A issued is a login on B: the page is served, not the login form; without it, B refuses
    assert _get(pair.b, "/", cookie)[0] == 200
    assert _get(pair.b, "/", None)[0] in (302, 303)
    assert "records" in _healthz(pair.b, cookie) and "records" not in _healthz(pair.b, None)

    # the same page answers the same on both; B's answer is computed once and A reads B's entries
    first = _page(pair.b, cookie, "/pool")
    assert b"<now>" in first  # the live clock was found and blanked (else the comparisons below flake)
    keys = _keys(pair)
    assert keys, "server B wrote nothing under this pool's prefix in Redis"
    assert _page(pair.a, cookie, "/pool") == first
    assert _keys(pair) == keys  # A added no entry: every cached read it made was a hit on B's


def test_a_change_through_server_a_is_seen_on_server_b(pair: Pair) -> None:
    cookie = _session_cookie(_login(pair.a, *ADMIN))
    before_a, before_b = _healthz(pair.a, cookie), _healthz(pair.b, cookie)
    assert before_a["records"] == before_b["records"] and before_a["data_version"] == before_b["data_version"]
    page_before = _page(pair.b, cookie, "/pool")  # cached in Redis under the old version

    # a batch of records through server A's ingestion API (the write door), with a source's token
    engine.configure(pair.pool)
    cache.configure(None)
    with audit.write(audit.Actor(None, "cli:tester", "system")) as tx:
        token = tokens.create(tx, source_code="traffic_platform", label="two servers").token
    ref = load_reference()
    rows = [base_row(ref, k) for k in (9_100_001, 9_100_002, 9_100_003)]
    req = urllib.request.Request(
        pair.a + PATH,
        json.dumps(rows).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        answer = json.loads(resp.read())
    assert answer["counts"]["accepted"] == 3, answer

    # B never heard of the write: it re-reads the version from the pool within its TTL, then keys every
    # cached read on the new version, so the entries cached under the old one are no longer served
    deadline = time.monotonic() + SEEN_WITHIN_S
    after_b = _healthz(pair.b, cookie)
    while after_b["records"] == before_b["records"] and time.monotonic() < deadline:
        time.sleep(VERSION_TTL_S / 2)
        after_b = _healthz(pair.b, cookie)
    assert after_b["records"] == before_b["records"] + 3
    assert after_b["data_version"] != before_b["data_version"]
    after_a = _healthz(pair.a, cookie)
    assert after_a["records"] == after_b["records"] and after_a["data_version"] == after_b["data_version"]
    page_after = _page(pair.b, cookie, "/pool")
    assert page_after != page_before
    assert _page(pair.a, cookie, "/pool") == page_after


def test_bench_servers_runs_against_the_pair(pair: Pair, capsys: pytest.CaptureFixture[str]) -> None:
    """`command-center bench --servers A,B` runs and prints its table (no timed asserts)."""
    from dashboard import bench_servers

    rc = bench_servers.run(
        pair.pool, [pair.a, pair.b], username=ADMIN[0], password=ADMIN[1], version_ttl=VERSION_TTL_S, rounds=1
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "B, first call of the same version" in out and "answered alike in 1 of 1 rounds" in out
