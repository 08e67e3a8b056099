"""`command-center bench --servers A,B`: two running app servers on one pool and one cache setting.

Each round moves the pool's data version through the write door, waits out the servers' version TTL
(CC_VERSION_TTL_SECONDS, read from this process's settings: start the servers with the same), then
asks one page of server A (cold: it computes and fills the cache), of server B (which never computed
it: with Redis it is served A's entries; with a per-host diskcache on another host it computes again)
and of A again (warm). Prints p50 / p95 of each column, the page's size and whether A and B answered
alike. Bounded by `rounds`; asserts nothing.
"""

from __future__ import annotations

import json
import statistics
import time

from dashboard.bench import _login
from dashboard.bench_http import ERROR_PANEL, ROUTER, _checked_post, _get, _pct, move_version, router_body


def run(
    url: str,
    bases: list[str],
    *,
    username: str,
    password: str,
    version_ttl: float,
    path: str = "/pool",
    rounds: int = 10,
) -> int:
    from queries import engine as eng

    if len(bases) != 2:
        print("--servers needs two base URLs: http://HOST:PORT,http://HOST:PORT")
        return 2
    eng.configure(url)
    a, b = (base.rstrip("/") for base in bases)
    opener = _login(a, username, password)  # the login is made on A; B gets A's cookie
    router = next(d for d in json.loads(_get(opener, a + "/_dash-dependencies")) if ROUTER in d["output"])
    body = router_body(router, a, path)

    def ask(base: str) -> tuple[float, int, bytes]:
        ms, size, data = _checked_post(opener, base, body)
        if ERROR_PANEL in data:
            raise RuntimeError(f"{base}{path} answered the error panel")
        return ms, size, data

    cold_a: list[float] = []
    first_b: list[float] = []
    warm_a: list[float] = []
    alike = 0
    size = 0
    for _ in range(max(1, rounds)):
        move_version()
        time.sleep(version_ttl + 0.5)  # both servers now key on the new version
        ms, size, answer_a = ask(a)
        cold_a.append(ms)
        ms, _, answer_b = ask(b)
        first_b.append(ms)
        alike += answer_a == answer_b
        warm_a.append(ask(a)[0])

    def line(label: str, values: list[float]) -> str:
        return f"{label:<44} p50 {statistics.median(values):8.1f} ms  p95 {_pct(values, 0.95):8.1f} ms"

    print(f"two servers on one pool: A={a} B={b}, page {path}, {rounds} rounds, {size / 1024:.0f} KB")
    print(line("A, first call after a version move (cold)", cold_a))
    print(line("B, first call of the same version", first_b))
    print(line("A, again (warm)", warm_a))
    print(f"A and B answered alike in {alike} of {rounds} rounds")
    return 0
