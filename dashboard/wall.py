"""Wall-screen mode: kiosk flag, playlist parsing, and the per-page alert levels that may take over a rotation.

A playlist is `?playlist=overview:30,pool:20`: page names (as registered) with a dwell time in seconds.
Bad entries are reported, never fatal: the valid ones still rotate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from dashboard.inputs import quoted
from queries.scope import Viewer

MIN_DWELL, MAX_DWELL, DEFAULT_DWELL = 5, 3600, 30
MAX_ITEMS = 20  # a wall rotates a handful of pages; more entries than this is a pasted mistake

Alert = Callable[[Viewer], str | None]  # viewer -> "red" | "amber" | None

# page module -> its alert. The page's name and path are Dash's (dash.register_page), never repeated here.
_ALERTS: dict[str, Alert | None] = {}


def register(module: str, alert: Alert | None = None) -> None:
    """Called by a page module right after `dash.register_page(__name__, ...)`, as
    `wall.register(__name__, alert)`: makes it playlist-able, optionally with an alert for takeover."""
    _ALERTS[module] = alert


def _entries() -> list[tuple[str, str, Alert | None]]:
    """(name, path, alert) of every wall page, in registration order, read from Dash's page registry."""
    import dash

    out = []
    for module, alert in _ALERTS.items():
        page = dash.page_registry.get(module)
        if page is None:
            raise LookupError(f"{module} calls wall.register() before dash.register_page()")
        out.append((str(page["name"]), str(page["path"]), alert))
    return out


def pages() -> dict[str, str]:
    return {name: path for name, path, _ in _entries()}


def alert_levels(viewer: Viewer) -> dict[str, str | None]:
    return {path: (fn(viewer) if fn else None) for _, path, fn in _entries()}


@dataclass
class WallParams:
    kiosk: bool = False
    theme: str = "desk"
    playlist: list[dict[str, object]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)

    def as_store(self) -> dict[str, object]:
        return {"kiosk": self.kiosk, "theme": self.theme, "items": self.playlist}


TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def parse(search: object) -> WallParams:
    """Parse the URL's query string for kiosk, theme and playlist; collect clear messages for bad values.
    Anything but a string (a fuzzed callback input) reads as an empty query string."""
    qs = parse_qs(search.lstrip("?") if isinstance(search, str) else "", keep_blank_values=True)
    out = WallParams()
    kiosk = (qs.get("kiosk") or [""])[-1].lower()
    if kiosk in TRUE:
        out.kiosk = True
    elif kiosk not in FALSE:
        out.errors.append(
            (
                f"kiosk 参数无效: {quoted(kiosk)} (应为 1 或 0)",
                f"Bad kiosk value {quoted(kiosk)} (use 1 or 0)",
            )
        )
    raw = (qs.get("playlist") or [""])[-1].strip()
    known = pages()
    if raw:
        parts = raw.split(",")
        if len(parts) > MAX_ITEMS:
            out.errors.append(
                (
                    f"播放列表有 {len(parts)} 项, 只使用前 {MAX_ITEMS} 项",
                    f"The playlist has {len(parts)} entries; only the first {MAX_ITEMS} are used",
                )
            )
        for part in parts[:MAX_ITEMS]:
            part = part.strip()
            if not part:
                continue
            name, _, dwell_s = part.partition(":")
            name = name.strip()
            if name not in known:
                out.errors.append(
                    (
                        f"播放列表中没有页面 {quoted(name)}; 可用: {', '.join(known)}",
                        f"Unknown page {quoted(name)} in playlist; known pages: {', '.join(known)}",
                    )
                )
                continue
            dwell = DEFAULT_DWELL
            if dwell_s.strip():
                try:
                    dwell = int(dwell_s)
                except ValueError:
                    out.errors.append(
                        (
                            f"{name} 的停留时间 {quoted(dwell_s)} 不是整数秒",
                            f"Dwell time {quoted(dwell_s)} for {name} is not a whole number of seconds",
                        )
                    )
                    continue
                if not MIN_DWELL <= dwell <= MAX_DWELL:
                    out.errors.append(
                        (
                            f"{name} 的停留时间 {dwell} 秒超出范围 {MIN_DWELL}-{MAX_DWELL}",
                            f"Dwell time {dwell} s for {name} is outside {MIN_DWELL}-{MAX_DWELL} s",
                        )
                    )
                    continue
            out.playlist.append({"name": name, "path": known[name], "dwell": dwell})
    theme = (qs.get("theme") or [""])[-1]
    if theme in ("wall", "desk"):
        out.theme = theme
    elif theme:
        out.errors.append(
            (f"主题参数无效: {quoted(theme)} (wall 或 desk)", f"Bad theme {quoted(theme)} (use wall or desk)")
        )
    if not theme:
        out.theme = "wall" if (out.kiosk or out.playlist) else "desk"
    return out
