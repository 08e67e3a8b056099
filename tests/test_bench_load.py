"""`command-center bench load` runs on the test pool for a few seconds and reports every client kind;
no timed asserts."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import bench_http, bench_load
from tests.pools import sqlite_pool_at
from tests.registry import data_pages

EXE = Path(sys.executable).with_name("command-center")


@pytest.fixture(scope="module")
def own_pool(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A pool of its own: the run lands ingest batches and makes and revokes a token (log entries)."""
    return sqlite_pool_at(tmp_path_factory.mktemp("bench-load") / "pool.sqlite").url


def test_bench_load_reports_every_client_kind(own_pool: str, tmp_path: Path) -> None:
    """Run as the command (its own process: it builds an app in-process and configures the engine)."""
    out = tmp_path / "load"
    args = ["--url", own_pool, "bench", "load", "--minutes", "0.1", "--walls", "2", "--users", "2"]
    args += ["--wall-every", "2", "--out", str(out)]
    done = subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    for key in (
        "date",
        "machine",
        "pool",
        "settings",
        "overall",
        "kinds",
        "errors_by_kind",
        "workers",
        "targets",
        "minutes",
        "load_average",
    ):
        assert key in report, key
    assert report["pool"]["records"] > 0
    for kind in ("wall", "user", "ingest"):
        got = report["kinds"][kind]
        assert got["n"] > 0, kind
        assert got["p50_ms"] <= got["p95_ms"] <= got["p99_ms"] <= got["max_ms"], kind
    assert report["requests"] == sum(k["n"] for k in report["kinds"].values()) == report["overall"]["n"]
    assert sum(m["n"] for m in report["minutes"]) == report["requests"]
    assert report["errors"] == 0, report["errors_by_kind"]
    assert (
        sum(r["errors"] for r in report["by_request"]) == report["errors"]
    )  # no error panel, no 500, no refused connection
    assert report["ingest"]["batches_sent"] == report["ingest"]["batches_accepted"] == 1
    assert report["ingest"]["rows_accepted"] > 0
    assert len(report["workers"]) >= 2 and all(
        w["peak_rss_mb"] > 0 and w["cpu_s"] > 0 for w in report["workers"]
    )
    assert [t["target"].split()[0] for t in report["targets"]] == ["0", "p95", "each"]
    # the walls fired the refresh ticks (the shell's as-of badge and a live page's own callback)
    wall = {r["request"] for r in report["by_request"] if r["kind"] == "wall"}
    assert any(r.startswith("shell: app-asof-badge") and r.endswith("(tick)") for r in wall), wall
    assert any(not r.startswith("shell") and r.endswith("(tick)") for r in wall), wall
    assert set(report["settings"]["live_pages"]) <= set(data_pages())
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    for row in ("| wall |", "| user |", "| ingest |", "| **overall** |", "| 0 errors |"):
        assert row in table and row in done.stdout


def test_a_run_of_no_time_is_refused_with_a_message() -> None:
    done = subprocess.run(
        [str(EXE), "bench", "load", "--minutes", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "--minutes" in done.stderr and "须大于 0" in done.stderr and "Traceback" not in done.stderr


def _plan(
    main: dict[str, object], body: dict[str, object], props: dict[str, dict[str, object]]
) -> bench_http.PagePlan:
    return bench_http.PagePlan("p", "/p", {}, 0, props, main, body, "p")


def test_a_filter_change_picks_another_option_of_a_dropdown_the_callback_listens_to() -> None:
    dep = {"output": "x.children", "inputs": [{"id": "dd", "property": "value"}], "state": []}
    props = {"dd": {"value": "a", "options": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}]}}
    body = bench_http.callback_body(dep, props)
    changed = bench_load.filter_change(_plan(dep, body, props), random.Random(1))
    assert changed is not None
    assert changed["inputs"][0]["value"] == "b" and changed["changedPropIds"] == ["dd.value"]
    assert body["inputs"][0]["value"] == "a"  # the page's first body is left as it was


def test_a_grid_s_filter_change_asks_for_the_next_block() -> None:
    dep = {"output": "g.getRowsResponse", "inputs": [{"id": "g", "property": "getRowsRequest"}], "state": []}
    body = bench_http.callback_body(dep, {})
    changed = bench_load.filter_change(_plan(dep, body, {}), random.Random(1))
    assert changed is not None and changed["inputs"][0]["value"]["startRow"] == 100


def test_no_filter_change_without_options() -> None:
    dep = {"output": "x.children", "inputs": [{"id": "store", "property": "data"}], "state": []}
    body = bench_http.callback_body(dep, {"store": {"data": {}}})
    assert bench_load.filter_change(_plan(dep, body, {"store": {"data": {}}}), random.Random(1)) is None


def test_refresh_deps_are_the_interval_s_server_callbacks_on_the_page() -> None:
    tick = {"id": "app-refresh-interval", "property": "n_intervals"}
    deps = [
        {"output": "a.children", "inputs": [tick], "state": [{"id": "a-store", "property": "data"}]},
        {"output": "b.children", "inputs": [tick], "state": [{"id": "elsewhere", "property": "data"}]},
        {"output": "c.children", "inputs": [{"id": "a-store", "property": "data"}], "state": []},
        {"output": "d.children", "inputs": [tick], "state": [], "clientside_function": {"namespace": "x"}},
    ]
    site = bench_http.Site(b"", deps, {}, {})
    props: dict[str, dict[str, object]] = {"app-refresh-interval": {}, "a-store": {"data": 1}}
    assert [d["output"] for d in bench_load.refresh_deps(site, props)] == ["a.children"]
    body = bench_load.tick_body(deps[0], props, 7)
    assert body["inputs"][0]["value"] == 7 and body["changedPropIds"] == ["app-refresh-interval.n_intervals"]
