"""`command-center bench http` runs on the test pool and writes its table; no timed asserts."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import bench_http, bench_naive
from dashboard.settings import load
from tests.pools import sqlite_pool_at
from tests.registry import data_pages


@pytest.fixture(scope="module")
def own_pool(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A pool of its own: the bench moves the data version through the write door (log entries)."""
    return sqlite_pool_at(tmp_path_factory.mktemp("bench-http") / "pool.sqlite").url


def test_bench_http_writes_a_row_per_data_page(own_pool: str, tmp_path: Path) -> None:
    """Run as the command (its own process: it builds an app in-process and configures the engine)."""
    out = tmp_path / "bench"
    exe = Path(sys.executable).with_name("command-center")
    # one warm and one cold call a page are enough for every column to be filled; the naive peer's count
    # differs from --http-repeat, so the report shows the option was read
    args = ["--url", own_pool, "bench", "http", "--http-repeat", "1", "--http-cold", "1", "--out", str(out)]
    args += ["--naive-repeat", "2"]
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    pages = data_pages()
    assert sorted(r["page"] for r in report["rows"]) == sorted(pages)
    assert report["pool"]["records"] > 0 and report["machine"]["cores"]
    assert report["naive_peer"].startswith("warm, n=2, on overview")
    for r in report["rows"]:
        assert r["path"] == pages[r["page"]].path
        assert r["payload_bytes"] > 0 and r["initial_bytes"] > r["payload_bytes"]
        assert r["raw_engine_ms"] >= 0 and r["floor_p95_ms"] > 0
        assert not r["error_panel"], r["page"]  # a measured error panel is no page
        if r["page"] in bench_naive.PAGES:  # the naive peer's columns are filled where it exists
            assert 0 < r["naive_p50_ms"] <= r["naive_p95_ms"], r
            assert r["naive_over_warm"] == pytest.approx(r["naive_p50_ms"] / r["warm_p50_ms"])
        else:
            assert math.isnan(r["naive_p50_ms"]) and math.isnan(r["naive_over_warm"]), r
    assert set(bench_naive.PAGES) <= set(pages)  # every naive peer belongs to a data page
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| naive p50 ms | naive p95 ms |" in table and "| naive/ours |" in table
    printed = done.stdout
    for name in pages:
        assert f"\n| {name} | " in table
        assert f"\n| {name} | " in printed
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} | "))
        naive_cell = row.split(" | ")[-3]  # the naive/ours column
        assert (naive_cell == "—") == (name not in bench_naive.PAGES), row
    # every main callback named in MAIN is the one measured (not the router fallback)
    measured = {r["page"]: r["callback"] for r in report["rows"]}
    for name, key in bench_http.MAIN.items():
        if key is not None and name in measured:
            assert key in measured[name].replace(" + ", "...").split("...")


def test_the_floor_callback_is_off_unless_set() -> None:
    assert load({}).bench_floor is False
    assert load({"CC_BENCH_FLOOR": "1"}).bench_floor is True


def test_the_floor_figure_has_the_asked_size() -> None:
    for size in (5_000, 200_000, 2_000_000):
        got = len(json.dumps(bench_http.floor_figure(size)))
        assert abs(got - size) / size < 0.1, (size, got)


def test_the_naive_peer_draws_on_both_dialects_and_counts_what_we_count(
    pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every naive callback answers on SQLite and PostgreSQL, and its numbers are ours: the overview's
    records per day (90 days) sum to what the rollup says, over the same townships."""
    from queries import meta, overview
    from queries.scope import Scope

    monkeypatch.setenv("CC_DATABASE_URL", pool)
    monkeypatch.setattr(bench_naive, "_engine", None)
    drawn = {page: build() for page, build in bench_naive.PAGES.items()}
    assert all(drawn.values()), drawn
    day = meta.pool_status().as_of_day
    everything = Scope(township_code=None, department_id=None, max_class=2)
    ours = overview.daily_totals(scope=everything, first_day=day - 90, last_day=day - 1)
    trend = drawn["overview"][-1].figure
    assert sum(trend.data[0].y) == int(ours["n"].sum()) > 0
    towns = overview.township_kpis(scope=everything, first_day=day - 29, last_day=day)
    ranking = drawn["overview"][-3].figure
    assert sorted(ranking.data[0].y) == sorted(towns.filter(towns["n"] > 0)["name_zh"].to_list())
    monkeypatch.setattr(bench_naive, "_engine", None)


def _report(records: int, cold: dict[str, float]) -> dict[str, object]:
    rows = [
        {"page": page, "warm_p95_ms": 20.0, "cold_p95_ms": ms, "naive_p50_ms": float("nan")}
        for page, ms in cold.items()
    ]
    machine = {"load_average_1min": 1.0}
    return {
        "date": "2026-11-30",
        "machine": machine,
        "pool": {"records": records, "url": "sqlite:///x"},
        "rows": rows,
    }


def test_the_growth_table_marks_cold_times_growing_faster_than_the_pool(tmp_path: Path) -> None:
    small = _report(1_000_000, {"overview": 100.0, "loop": 100.0, "gone": 5.0})
    large = _report(5_000_000, {"overview": 400.0, "loop": 900.0})
    paths = []
    for name, rep in (("large", large), ("small", small)):  # any order: sorted by pool size
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(rep), encoding="utf-8")
    assert bench_http.growth(paths, tmp_path / "growth") == 0
    table = (tmp_path / "growth.md").read_text(encoding="utf-8")
    assert "1.0M / 5.0M" in table and "pool x5.0" in table
    assert "| overview | 20.0 / 20.0 | 100.0 / 400.0 | — / — | 4.0x | 4.0x |" in table
    assert (
        "| loop | 20.0 / 20.0 | 100.0 / 900.0 | — / — | 9.0x **faster than the pool** | 9.0x **faster"
        in table
    )
    assert "| gone |" not in table  # a page missing from one run has no growth
    assert bench_http.growth(paths[:1], tmp_path / "one") == 2  # one pool is no growth
    assert bench_http.growth([tmp_path / "missing.json", paths[0]], tmp_path / "x") == 2
