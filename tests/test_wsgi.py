"""The WSGI entry gunicorn's workers import: it builds the app on the pool and freezes what it built out of
the garbage collector's reach (a full collection then walks only what requests make)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.pools import sqlite_pool_at


def test_a_worker_freezes_what_it_built(tmp_path: Path) -> None:
    url = sqlite_pool_at(tmp_path / "pool.sqlite").url
    env = {
        **os.environ,
        "CC_DATABASE_URL": url,
        "CC_INSTANCE_DIR": str(tmp_path / "instance"),
        "CC_WARMUP_SECONDS": "0",
    }
    code = "import gc, dashboard.wsgi as w; print(gc.get_freeze_count(), type(w.server).__name__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    frozen, server = out.stdout.split()
    assert server == "Flask" and int(frozen) > 100_000
