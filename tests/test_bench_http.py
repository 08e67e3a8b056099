"""`command-center bench http` runs on the test pool and writes its table; no timed asserts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import bench_http
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
    args = ["--url", own_pool, "bench", "http", "--http-repeat", "2", "--http-cold", "1", "--out", str(out)]
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    pages = data_pages()
    assert sorted(r["page"] for r in report["rows"]) == sorted(pages)
    assert report["pool"]["records"] > 0 and report["machine"]["cores"]
    for r in report["rows"]:
        assert r["path"] == pages[r["page"]].path
        assert r["payload_bytes"] > 0 and r["initial_bytes"] > r["payload_bytes"]
        assert r["raw_engine_ms"] >= 0 and r["floor_p95_ms"] > 0
        assert not r["error_panel"], r["page"]  # a measured error panel is no page
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    printed = done.stdout
    for name in pages:
        assert f"\n| {name} | " in table
        assert f"\n| {name} | " in printed
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
