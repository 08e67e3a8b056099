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


def test_a_hazard_drawn_on_the_plan_shows_in_3d(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "leader", "leader-demo-2026", next_path="/twin")
        page.wait_for_selector(READY, timeout=60000)
        plan = "#twin-plan-graph .js-plotly-plot"
        page.wait_for_function(
            f"() => {{ const g = document.querySelector('{plan}'); return g && g._fullLayout && g._fullLayout.xaxis; }}",
            timeout=30000,
        )
        page.locator("#twin-plan-graph").scroll_into_view_if_needed()
        box = page.locator(f"{plan} .nsewdrag").first.bounding_box()
        assert box is not None
        # four clicks inside the plot area: a quadrilateral over the middle of the community
        for fx, fy in ((0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)):
            before = page.input_value("#twin-hazard-points-input")
            x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
            # plotly reports a click on what the pointer hovers: leave the plot (its label goes), come
            # back and hover until the new label shows, then click
            page.mouse.move(1, 1)
            page.wait_for_selector(f"{plan} .hoverlayer .hovertext", state="detached", timeout=15000)
            page.mouse.move(x, y)
            page.wait_for_selector(f"{plan} .hoverlayer .hovertext", timeout=15000)
            page.mouse.click(x, y)
            page.wait_for_function(
                "b => document.querySelector('#twin-hazard-points-input').value !== b",
                arg=before,
                timeout=15000,
            )
        corners = page.input_value("#twin-hazard-points-input")
        assert corners.count(";") == 3 and len(set(corners.split("; "))) == 4, corners
        # the drawn area shows on the plan (its trace has the four corners, closed)
        page.wait_for_function(
            f"() => document.querySelector('{plan}').data[3].x.length === 5", timeout=15000
        )
        page.fill("#twin-hazard-name-input", "浏览器测试 滑坡")
        page.click("#twin-hazard-kind-dropdown")
        page.get_by_text("滑坡 Landslide", exact=False).last.click()
        page.click("#twin-hazard-save-button")
        page.wait_for_selector("#twin-hazard-saved", timeout=30000)
        # the 3D view switches to the evacuation under the drawn area
        page.wait_for_selector("#twin-hazard-impact", timeout=30000)
        assert "浏览器测试 滑坡" in page.inner_text("#twin-summary-panel")
        names = page.evaluate(
            "() => document.querySelector('#twin-view-graph .js-plotly-plot').data.map(t => t.name)"
        )
        assert "滑坡区" in names and "疏散路线" in names
        page.screenshot(path=str(artifacts / "twin-hazard-desk-1080p.png"), full_page=True)
        # a crossing area is refused with the reason
        page.click("#twin-hazard-clear-button")
        # the clear's answer empties the corners: wait for it, or it can land after the typing below
        page.wait_for_function("() => document.querySelector('#twin-hazard-points-input').value === ''")
        page.fill("#twin-hazard-points-input", "0,0; 100,100; 100,0; 0,100")
        page.fill("#twin-hazard-name-input", "交叉")
        page.click("#twin-hazard-save-button")
        page.wait_for_selector("#twin-hazard-error", timeout=30000)
        assert "cross each other" in page.inner_text("#twin-hazard-error")
        _clean(watch)
