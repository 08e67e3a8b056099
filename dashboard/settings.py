"""Every setting in one place: name, default, help line. Nothing else reads os.environ."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_instance() -> str:
    return str(REPO_ROOT / "instance")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CC_INSTANCE_DIR",
        "",
        "Folder for the pool file, cache and secret key (default: ./instance in the checkout).",
    ),
    Setting(
        "CC_DATABASE_URL",
        "",
        "SQLAlchemy URL of the pool (default: sqlite:///<instance>/pool.sqlite). "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    ),
    Setting(
        "CC_CACHE_DIR", "", "diskcache folder shared by the workers of one host (default: <instance>/cache)."
    ),
    Setting(
        "CC_CACHE_URL",
        "",
        "The query cache: empty = diskcache in CC_CACHE_DIR (one host); redis://host:6379/0 (or rediss://, "
        "unix://) = Redis, shared by several app servers. Give Redis a maxmemory and an LRU policy.",
    ),
    Setting("CC_SECRET_KEY", "", "Flask session key; default: generated once into <instance>/secret_key."),
    Setting("CC_BIND", "127.0.0.1:8050", "host:port gunicorn and the demo server listen on."),
    Setting("CC_WORKERS", "2", "gunicorn worker processes."),
    Setting("CC_THREADS", "4", "Threads per gunicorn worker (gthread)."),
    Setting("CC_REFRESH_SECONDS", "60", "How often live pages refresh their data."),
    Setting(
        "CC_STALE_AFTER_MINUTES",
        "120",
        "The 'data as of' badge turns amber when the newest record is older than this.",
    ),
    Setting(
        "CC_OUTAGE_HOURS",
        "6",
        "A source system silent this long while dozens of records were due raises a red alert "
        "(amber at half); nightly-batch sources get 24 h more.",
    ),
    Setting(
        "CC_SPIKE_RATIO",
        "2.0",
        "A module's last 6 h in one township over the median of the same 6 h in the 8 weeks before, "
        "by this ratio, raises an amber alert (red at twice the ratio).",
    ),
    Setting("CC_QUERY_TIMEOUT_MS", "15000", "A query running longer than this is stopped."),
    Setting(
        "CC_VERSION_TTL_SECONDS",
        "5",
        "How long a worker trusts the pool data version before reading it again.",
    ),
    Setting(
        "CC_WARMUP_SECONDS",
        "2",
        "How often a served worker checks whether the data version moved; when it did, one worker (across "
        "every server sharing the cache) renders the pages' default views into the cache. 0 = off.",
    ),
    Setting("CC_DEFAULT_LANG", "zh", "Interface language when the viewer chose none: zh or en."),
    Setting("CC_SESSION_DAYS", "30", "How long a login lasts (wall screens stay logged in)."),
    Setting(
        "CC_COOKIE_SECURE",
        "0",
        "1 = the session and language cookies are sent over HTTPS only; set it when a TLS proxy fronts the app.",
    ),
    Setting(
        "CC_BASEMAP_URL", "", "Tile URL template for maps; empty = no basemap, no request leaves the host."
    ),
    Setting(
        "CC_INGEST_MAX_BYTES",
        "16777216",
        "Largest body POST /api/v1/records takes (bytes); a bigger batch is refused with 413.",
    ),
    Setting("CC_INGEST_MAX_ROWS", "10000", "Most rows one API batch may carry; more is refused with 413."),
    Setting(
        "CC_INGEST_VERSION_SECONDS",
        "15",
        "Ingested batches move the data version (every cache key) at most this often; a new record "
        "is visible within this plus CC_VERSION_TTL_SECONDS. 0 = every batch moves it.",
    ),
    Setting(
        "CC_CASE_CLOCK_SECONDS",
        "900",
        "The closed loop, the case page and the appeals page count overdue cases (and appeals) at the "
        "as-of time rounded down to this step, so record batches (which move the as-of time) leave their "
        "cached answers valid until the clock turns.",
    ),
    Setting(
        "CC_BENCH_FLOOR",
        "0",
        "1 = register the HTTP bench's floor callback (a precomputed figure, no query) and its naive-peer "
        "callbacks (`dashboard/bench_naive.py`: SQL per request on the fact tables); only "
        "`command-center bench http` sets it, on the server it starts. Never set it in production.",
    ),
)


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    cache_dir: Path
    secret_key: str
    bind: str
    workers: int
    threads: int
    refresh_seconds: int
    stale_after_minutes: int
    outage_hours: float
    spike_ratio: float
    query_timeout_ms: int
    version_ttl_seconds: float
    warmup_seconds: float
    default_lang: str
    session_days: int
    basemap_url: str
    cookie_secure: bool = False
    ingest_max_bytes: int = 16 * 2**20
    ingest_max_rows: int = 10_000
    ingest_version_seconds: float = 15.0
    case_clock_seconds: int = 900
    bench_floor: bool = False
    cache_url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def cache_location(self) -> str:
        """Where the query cache lives: the Redis URL when one is set, else the diskcache folder."""
        return self.cache_url or str(self.cache_dir)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.database_url.split("///", 1)[1])


class SettingsError(ValueError):
    pass


def _int(env: dict[str, str], name: str, lo: int = 0) -> int:
    raw = env[name]
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < lo:
        raise SettingsError(f"{name}={raw!r} must be at least {lo}")
    return value


def _float(env: dict[str, str], name: str) -> float:
    raw = env[name]
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None


def _bool(env: dict[str, str], name: str) -> bool:
    raw = env[name].strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name}={env[name]!r}: use 1 or 0")


CACHE_SCHEMES = ("redis://", "rediss://", "unix://")


def _cache_url(env: dict[str, str]) -> str:
    raw = env["CC_CACHE_URL"].strip()
    if raw and not raw.startswith(CACHE_SCHEMES):
        raise SettingsError(
            f"CC_CACHE_URL={raw!r}: 缓存地址须以 redis://、rediss:// 或 unix:// 开头, 留空则用本机 diskcache / "
            "use a redis://, rediss:// or unix:// URL, or leave it empty for diskcache on this host"
        )
    return raw


def _private(path: Path, mode: int) -> None:
    """With the key anyone on the host could forge an admin session: owner-only, where we own it."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:
        pass  # a folder someone else owns and handed us (CC_INSTANCE_DIR): theirs to guard


def _secret(instance: Path) -> str:
    path = instance / "secret_key"
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private(instance, 0o700)
    if path.exists():
        _private(path, 0o600)
        return path.read_text().strip()
    key = secrets.token_hex(32)
    tmp = path.with_suffix(f".{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    try:
        os.link(tmp, path)  # first writer wins; every worker then reads the same key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def load(overrides: dict[str, str] | None = None) -> Settings:
    """Read the environment once (plus explicit overrides, for tests and the CLI)."""
    env = {s.name: os.environ.get(s.name, s.default) for s in SETTINGS}
    env.update(overrides or {})
    instance = Path(env["CC_INSTANCE_DIR"] or _default_instance()).resolve()
    url = env["CC_DATABASE_URL"] or f"sqlite:///{instance / 'pool.sqlite'}"
    lang = env["CC_DEFAULT_LANG"]
    if instance.is_dir():
        _private(instance, 0o700)
    if lang not in ("zh", "en"):
        raise SettingsError(f"CC_DEFAULT_LANG={lang!r}: use zh or en")
    return Settings(
        instance_dir=instance,
        database_url=url,
        cache_dir=Path(env["CC_CACHE_DIR"] or instance / "cache"),
        secret_key=env["CC_SECRET_KEY"] or _secret(instance),
        bind=env["CC_BIND"],
        workers=_int(env, "CC_WORKERS", 1),
        threads=_int(env, "CC_THREADS", 1),
        refresh_seconds=_int(env, "CC_REFRESH_SECONDS", 5),
        stale_after_minutes=_int(env, "CC_STALE_AFTER_MINUTES", 1),
        outage_hours=_float(env, "CC_OUTAGE_HOURS"),
        spike_ratio=_float(env, "CC_SPIKE_RATIO"),
        query_timeout_ms=_int(env, "CC_QUERY_TIMEOUT_MS", 100),
        version_ttl_seconds=_float(env, "CC_VERSION_TTL_SECONDS"),
        warmup_seconds=_float(env, "CC_WARMUP_SECONDS"),
        default_lang=lang,
        session_days=_int(env, "CC_SESSION_DAYS", 1),
        basemap_url=env["CC_BASEMAP_URL"],
        cookie_secure=_bool(env, "CC_COOKIE_SECURE"),
        ingest_max_bytes=_int(env, "CC_INGEST_MAX_BYTES", 1024),
        ingest_max_rows=_int(env, "CC_INGEST_MAX_ROWS", 1),
        ingest_version_seconds=max(0.0, _float(env, "CC_INGEST_VERSION_SECONDS")),
        case_clock_seconds=_int(env, "CC_CASE_CLOCK_SECONDS", 1),
        bench_floor=_bool(env, "CC_BENCH_FLOOR"),
        cache_url=_cache_url(env),
    )


def child_env(s: Settings) -> dict[str, str]:
    """The environment for a child process (gunicorn) that must see the same pool and address."""
    return dict(
        os.environ, CC_BIND=s.bind, CC_DATABASE_URL=s.database_url, CC_INSTANCE_DIR=str(s.instance_dir)
    )


def table_markdown() -> str:
    """The README's settings table, generated so it cannot drift."""
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.name}` | `{s.default or '-'}` | {s.help} |")
    return "\n".join(rows)


__all__ = ["SETTINGS", "Settings", "SettingsError", "child_env", "load", "table_markdown"]

if __name__ == "__main__":  # python -m dashboard.settings: the README's settings table
    print(table_markdown())
