"""Screenshots of every page at desk and wall sizes, for the README and for looking before a release.

python -m tests.browser.screens --base http://127.0.0.1:8050 --out docs/screenshots
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.browser.chromium import browser_page, login

SHOTS = [
    ("overview-desk-1080p", "/", "#overview-ranking-graph .main-svg", 1),
    ("overview-wall-4k", "/?kiosk=1", "#overview-ranking-graph .main-svg", 2),
    ("pool-desk-1080p", "/pool", "#pool-source-grid .ag-row", 1),
    ("pool-wall-4k", "/pool?kiosk=1", "#pool-source-grid .ag-row", 2),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8050")
    ap.add_argument("--out", default="docs/screenshots")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default="admin-demo-2026")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with browser_page() as (page, _):
        page.goto(args.base + "/login")
        page.wait_for_selector("#login-card")
        page.screenshot(path=str(out / "login-1080p.png"))
    for name, path, key, scale in SHOTS:
        with browser_page(scale=scale) as (page, watch):
            login(page, args.base, args.user, args.password, next_path=path)
            page.wait_for_selector(key, timeout=60000)
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / f"{name}.png"))
            print(name, "console errors:", len(watch.console_errors), "off-host:", len(watch.off_host()))


if __name__ == "__main__":
    main()
