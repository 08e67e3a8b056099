"""Screenshots of every page at desk and wall sizes, for the README and for looking before a release.

python -m tests.browser.screens --base http://127.0.0.1:8050 --out docs/screenshots
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.browser.chromium import browser_page, login
from tests.registry import data_pages

# every data page at desk 1080p and wall 4K (1920x1080 CSS px at device scale 2), from the page registry
SHOTS = [
    (f"{name}-{mode}", f"{spec.path}{query}", spec.ready, scale)
    for name, spec in data_pages().items()
    for mode, query, scale in (("desk-1080p", "", 1), ("wall-4k", "?kiosk=1", 2))
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
