"""The 3D twin in Chromium (WebGL through SwiftShader): the town draws, a click on a building opens its
record, the evacuation layer draws its routes, at desk and wall size, with a clean console and no request
leaving the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser

READY = "#twin-view-graph .gl-container canvas"


def _clean(watch: object) -> None:
    assert watch.page_errors == [], watch.page_errors  # type: ignore[attr-defined]
    assert watch.console_errors == [], watch.console_errors  # type: ignore[attr-defined]
    assert watch.off_host() == [], watch.off_host()  # type: ignore[attr-defined]


def _drawn(page: object) -> bool:
    """Whether the 3D scene's WebGL drawing holds more than a few colours (a blank or failed context is
    uniform). The pixels are read back through the scene itself (it redraws, then reads the buffer)."""
    return bool(
        page.evaluate(  # type: ignore[attr-defined]
            """async () => {
                const gd = document.querySelector('#twin-view-graph .js-plotly-plot');
                const url = gd._fullLayout.scene._scene.toImage('png');
                const img = new Image();
                await new Promise((ok, no) => { img.onload = ok; img.onerror = no; img.src = url; });
                const c = document.createElement('canvas');
                c.width = 96; c.height = 96;
                const ctx = c.getContext('2d');
                ctx.drawImage(img, 0, 0, 96, 96);
                const d = ctx.getImageData(0, 0, 96, 96).data;
                const seen = new Set();
                for (let i = 0; i < d.length; i += 4) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
                return seen.size > 8;
            }"""
        )
    )


def test_twin_draws_clicks_and_evacuates(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/twin")
        page.wait_for_selector(READY, timeout=60000)
        page.wait_for_function(
            "() => { const g = document.querySelector('#twin-view-graph .js-plotly-plot');"
            " return g && g._fullLayout && g._fullLayout.scene; }",
            timeout=30000,
        )
        assert _drawn(page)
        # a click as plotly reports it: the first building's vertex, with its customdata
        page.evaluate(
            """() => {
                const gd = document.querySelector('#twin-view-graph .js-plotly-plot');
                const t = gd.data[0];
                gd.emit('plotly_click', {points: [{curveNumber: 0, pointNumber: 0,
                    customdata: t.customdata[0], data: t, fullData: gd._fullData[0]}]});
            }"""
        )
        page.wait_for_selector("#twin-card-record", timeout=30000)
        assert "档案" in page.inner_text("#twin-building-card")
        page.click("#twin-layer-radio label:nth-child(3)")
        page.wait_for_selector("#twin-shelter-table", timeout=30000)
        assert "应急疏散" in page.inner_text("#twin-summary-panel")
        page.wait_for_timeout(800)
        page.screenshot(path=str(artifacts / "twin-evacuation-desk-1080p.png"))
        page.click("#twin-camera-radio label:nth-child(2)")
        page.wait_for_timeout(800)
        page.screenshot(path=str(artifacts / "twin-street-desk-1080p.png"))
        _clean(watch)


def test_twin_on_the_wall_at_4k(server: str, artifacts: Path) -> None:
    with browser_page(scale=2) as (page, watch):
        login(page, server, "operator", "operator-demo-2026", next_path="/twin?kiosk=1")
        page.wait_for_selector(READY, timeout=60000)
        # the wall's slow orbit moves the camera from where the desk leaves it (eye.x 1.25)
        page.wait_for_function(
            "() => Math.abs(document.querySelector('#twin-view-graph .js-plotly-plot')"
            "._fullLayout.scene.camera.eye.x - 1.25) > 1e-3",
            timeout=30000,
        )
        dims = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
            " window.innerWidth, window.innerHeight]"
        )
        assert dims[0] <= dims[2] and dims[1] <= dims[3], f"wall page scrolls: {dims}"
        assert _drawn(page)
        page.screenshot(path=str(artifacts / "twin-wall-4k.png"))
        _clean(watch)
