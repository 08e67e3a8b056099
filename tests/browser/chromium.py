"""Debian's Chromium driven by Playwright (never `playwright install`): shared by tests and the screenshot script."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class Watch:
    """What a page did that a test cares about: console errors and every request's host."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def off_host(self) -> list[str]:
        out = []
        for url in self.requests:
            u = urlparse(url)
            if u.scheme in ("data", "blob", "about"):
                continue
            if u.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out


def available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return shutil.which("chromium") is not None or shutil.os.path.exists(CHROMIUM)  # type: ignore[attr-defined]


_SHARED: list[Any] = []  # the session's one Chromium, while `shared_browser` is open


@contextmanager
def shared_browser() -> Iterator[None]:
    """One Chromium process for a whole test session: every `browser_page` inside is a fresh context of
    it (its own cookies, storage and cache, as a new profile would be) rather than a new process, which
    costs a second or more per test on a loaded machine."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        _SHARED.append(pw)
        try:
            yield
        finally:
            for browser in _SHARED[1:]:
                browser.close()
            _SHARED.clear()


def _shared_browser() -> Any:
    pw, *launched = _SHARED
    if launched and launched[-1].is_connected():
        return launched[-1]
    browser = pw.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=FLAGS
    )  # first, or after a crash
    _SHARED.append(browser)
    return browser


def _watch(ctx: Any, page: Any) -> Watch:
    watch = Watch()
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    ctx.on("request", lambda r: watch.requests.append(r.url))
    return watch


@contextmanager
def browser_page(width: int = 1920, height: int = 1080, scale: float = 1) -> Iterator[tuple[Any, Watch]]:
    """A page in a new browser context: in the session's shared Chromium if one is open, else in a
    Chromium of its own (the screenshot script)."""
    view = {"viewport": {"width": width, "height": height}, "device_scale_factor": scale, "locale": "zh-CN"}
    if _SHARED:
        ctx = _shared_browser().new_context(**view)
        try:
            page = ctx.new_page()
            yield page, _watch(ctx, page)
        finally:
            ctx.close()
        return
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="cc-chromium-")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, **view
        )
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            yield page, _watch(ctx, page)
        finally:
            ctx.close()
            shutil.rmtree(profile, ignore_errors=True)


def login(page: Any, base: str, username: str, password: str, next_path: str = "/") -> None:
    page.goto(f"{base}/login?next={quote(next_path, safe='')}")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")
