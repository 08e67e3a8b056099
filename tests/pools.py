"""Test pools built once and copied: a built pool is kept on disk under a key that digests everything the
build depends on (the code and data under queries/, the library versions, scale, seed, end, accounts), so
a run, each of its xdist workers and the next run copy one build instead of repeating it.

SQLite: the built file is copied (about 10 MB, milliseconds) and given a data version of its own, as a
fresh build would have. PostgreSQL: the built database is kept as a template and each session's database
is created from it (`CREATE DATABASE ... TEMPLATE`). A lock file makes concurrent workers wait for the one
build instead of racing it; an entry appears only whole (built under a temporary name, then renamed)."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import pickle
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from queries.generate.build import BuildReport, build_pool

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".pytest_cache" / "cc-pools"
CST = dt.timezone(dt.timedelta(hours=8))
END = dt.datetime(2026, 11, 20, 14, 30, tzinfo=CST)  # a Friday; the 120-day window holds National Day
SEED = 20261122
SCALE = "test"
_DEPS = ("numpy", "polars", "sqlalchemy", "psycopg", "argon2-cffi", "chinese-calendar", "shapely", "scipy")


def _code_digest() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO / "queries").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
            h.update(str(p.relative_to(REPO)).encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(sys.version.encode())
    for dist in _DEPS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(f"{dist}={metadata.version(dist)}".encode())
    return h.hexdigest()


_DIGEST: str | None = None


def digest(*, seed: int = SEED, demo_users: bool = True) -> str:
    """The key of one built pool: code, library versions and the build's own arguments."""
    global _DIGEST
    if _DIGEST is None:
        _DIGEST = _code_digest()
    args = f"{SCALE}|{seed}|{END.isoformat()}|{demo_users}"
    return hashlib.sha256(f"{_DIGEST}|{args}".encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
        yield


def _build_cached_sqlite(key: str, *, seed: int, demo_users: bool) -> tuple[Path, BuildReport]:
    db, rep = CACHE / f"sqlite-{key}.sqlite", CACHE / f"sqlite-{key}.report"
    with _locked(f"sqlite-{key}"):
        if not (db.exists() and rep.exists()):
            tmp = CACHE / f"sqlite-{key}.{os.getpid()}.building"
            tmp.unlink(missing_ok=True)
            report = build_pool(
                f"sqlite:///{tmp}", scale=SCALE, seed=seed, end=END, progress=False, demo_users=demo_users
            )
            rep.write_bytes(pickle.dumps(report))
            os.replace(tmp, db)
    return db, pickle.loads(rep.read_bytes())


def _version() -> str:
    return f"{int(time.time() * 1000)}-{uuid.uuid4().hex[:8]}"


def sqlite_pool_at(path: Path, *, seed: int = SEED, demo_users: bool = True) -> BuildReport:
    """Make `path` a freshly built test pool, as `build_pool(sqlite:///path, scale="test", ...)` would,
    by copying the cached build (building it first if no run has yet)."""
    src, report = _build_cached_sqlite(
        digest(seed=seed, demo_users=demo_users), seed=seed, demo_users=demo_users
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".copying")
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o600)  # as build_pool leaves it: the pool holds password hashes
    with contextlib.closing(sqlite3.connect(tmp)) as c, c:
        # a build's data version is its own: caches keyed on it must not take one copy for another
        c.execute(
            "UPDATE pool_meta SET value = ? WHERE key = 'data_version'",
            (_version(),),
        )
    os.replace(tmp, path)
    return replace(report, url=f"sqlite:///{path}")


# --- PostgreSQL ------------------------------------------------------------------------------------


def _admin(url: str) -> object:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def pg_pool_for(base_url: str, worker: str = "") -> tuple[str, BuildReport]:
    """The PostgreSQL test pool of this session (of this xdist worker: `<db>_<worker>`), freshly made:
    dropped and created from a template that holds the cached build (built first, under a temporary
    name, if no run has yet)."""
    base = make_url(base_url)
    assert base.database, base_url
    target = f"{base.database}_{worker}" if worker else base.database
    url = base.set(database=target).render_as_string(hide_password=False)
    key = digest()
    prefix = f"{base.database}_tpl_"
    template = f"{prefix}{key}"
    rep = CACHE / f"pg-{key}.report"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        # one lock for building and copying: PostgreSQL refuses to copy a template that another session
        # is copying at the same moment, or one still being built
        with _locked(f"pg-{base.database}"), admin.connect() as c:
            have = {r[0] for r in c.execute(text("SELECT datname FROM pg_database"))}
            if template not in have or not rep.exists():
                building = f"{template}_building"
                for old in sorted(d for d in have if d.startswith(prefix)):  # older builds, a broken one
                    c.execute(text(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{building}"'))
                built = base.set(database=building).render_as_string(hide_password=False)
                report = build_pool(built, scale=SCALE, seed=SEED, end=END, progress=False, demo_users=True)
                rep.write_bytes(pickle.dumps(report))
                c.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{template}"'))
            c.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
    finally:
        admin.dispose()
    eng = create_engine(url)
    try:
        with eng.begin() as c:  # its own data version, as a fresh build would have
            c.execute(text("UPDATE pool_meta SET value = :v WHERE key = 'data_version'"), {"v": _version()})
    finally:
        eng.dispose()
    return url, replace(pickle.loads(rep.read_bytes()), url=url)
