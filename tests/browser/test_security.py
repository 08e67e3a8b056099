"""In Chromium against the real gunicorn: the CSP lets the app run with a clean console, the logout
button ends the session, and the old cookie replayed afterwards is refused."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _whoami(base: str, cookie: str) -> int:
    req = urllib.request.Request(base + "/api/whoami", headers={"Cookie": f"cc_session={cookie}"})
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_csp_clean_console_then_logout_ends_the_session(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/pool")
        page.wait_for_selector("#pool-source-grid .ag-row", timeout=30000)
        page.wait_for_selector("#app-asof-badge .asof-time", timeout=30000)
        resp = page.request.get(server + "/pool")
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        page.goto(server + "/")
        page.wait_for_selector("#overview-ranking-graph .main-svg", timeout=30000)
        cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "cc_session")
        assert _whoami(server, cookie) == 200
        page.click("#app-logout")
        page.wait_for_selector("#login-card")
        assert watch.console_errors == [], watch.console_errors
        assert watch.page_errors == [], watch.page_errors
        assert watch.off_host() == [], watch.off_host()
    assert _whoami(server, cookie) == 302  # the stolen or kept cookie is worth nothing after logout
