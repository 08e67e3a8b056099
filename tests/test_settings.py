"""Settings: one module reads the environment; bad values say which setting and why; the README stays true."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import settings as st


def test_defaults(tmp_path: Path) -> None:
    s = st.load({"CC_INSTANCE_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'pool.sqlite'}"
    assert s.basemap_url == ""  # no tile server unless someone sets one
    assert len(s.secret_key) == 64
    assert (
        st.load({"CC_INSTANCE_DIR": str(tmp_path)}).secret_key == s.secret_key
    )  # every worker reads the same


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CC_WORKERS", "two", "not a whole number"),
        ("CC_WORKERS", "0", "at least 1"),
        ("CC_SPIKE_RATIO", "x", "not a number"),
        ("CC_DEFAULT_LANG", "fr", "use zh or en"),
        ("CC_CACHE_URL", "memcached://127.0.0.1:11211", "use a redis://"),
        ("CC_CACHE_URL", "/var/cache/cc", "缓存地址须以 redis://"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(st.SettingsError, match=message) as err:
        st.load({"CC_INSTANCE_DIR": str(tmp_path), name: value})
    assert name in str(err.value)


def test_the_cache_is_one_setting(tmp_path: Path) -> None:
    """Empty CC_CACHE_URL: diskcache in CC_CACHE_DIR (one host); a Redis URL: Redis (several)."""
    here = st.load({"CC_INSTANCE_DIR": str(tmp_path)})
    assert here.cache_url == "" and here.cache_location == str(tmp_path / "cache")
    for url in ("redis://127.0.0.1:6379/0", "rediss://:pw@cache.internal:6380/1", "unix:///run/redis.sock"):
        shared = st.load({"CC_INSTANCE_DIR": str(tmp_path), "CC_CACHE_URL": url})
        assert shared.cache_location == url


def test_readme_settings_table_is_current() -> None:
    readme = (st.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert st.table_markdown() in readme, (
        "regenerate the README's settings table: python -m dashboard.settings"
    )


def test_nothing_else_reads_the_environment() -> None:
    offenders = []
    for folder in ("dashboard", "queries"):
        for path in (st.REPO_ROOT / folder).rglob("*.py"):
            if path.name != "settings.py" and "os.environ" in path.read_text(encoding="utf-8"):
                offenders.append(str(path))
    assert offenders == []
