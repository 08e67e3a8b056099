"""Wall-screen URL parameters: kiosk, theme and playlist; every bad value gets a message, the rest still works."""

from __future__ import annotations

import pytest

from dashboard import wall


@pytest.fixture(autouse=True)
def pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # parsing alone, with two known pages (the registry itself is held to Dash's in tests/pages)
    monkeypatch.setattr(wall, "pages", lambda: {"overview": "/", "pool": "/pool"})


def test_plain_desk() -> None:
    p = wall.parse("")
    assert (p.kiosk, p.theme, p.playlist, p.errors) == (False, "desk", [], [])


def test_kiosk_means_wall_theme() -> None:
    p = wall.parse("?kiosk=1")
    assert p.kiosk and p.theme == "wall" and p.errors == []


def test_playlist_with_dwell_times() -> None:
    p = wall.parse("?playlist=overview:30,pool:20")
    assert p.playlist == [
        {"name": "overview", "path": "/", "dwell": 30},
        {"name": "pool", "path": "/pool", "dwell": 20},
    ]
    assert p.theme == "wall"


def test_default_dwell() -> None:
    assert wall.parse("playlist=pool").playlist == [
        {"name": "pool", "path": "/pool", "dwell": wall.DEFAULT_DWELL}
    ]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("playlist=overview:30,harvest:20", "Unknown page 'harvest'"),
        ("playlist=overview:abc", "not a whole number"),
        ("playlist=overview:0", "outside 5-3600"),
        ("playlist=overview:99999", "outside 5-3600"),
        ("kiosk=maybe", "Bad kiosk value"),
        ("theme=neon", "Bad theme"),
    ],
)
def test_bad_values_are_reported_and_the_rest_still_runs(query: str, fragment: str) -> None:
    p = wall.parse(query)
    assert any(fragment in en for _, en in p.errors), p.errors
    assert all(zh for zh, _ in p.errors)  # a Chinese message for every English one
    if query.startswith("playlist=overview:30"):
        assert [i["name"] for i in p.playlist] == ["overview"]


def test_known_pages_are_listed_in_the_message() -> None:
    p = wall.parse("playlist=nowhere")
    assert "overview, pool" in p.errors[0][1]


@pytest.mark.parametrize("search", [None, 5, ["?kiosk=1"], {"kiosk": "1"}])
def test_anything_but_a_string_reads_as_no_parameters(search: object) -> None:
    p = wall.parse(search)
    assert (p.kiosk, p.theme, p.playlist, p.errors) == (False, "desk", [], [])


def test_a_huge_playlist_is_cut_to_a_few_entries_and_one_message() -> None:
    p = wall.parse("playlist=" + ",".join(["nowhere"] * 10_000))
    assert len(p.errors) == wall.MAX_ITEMS + 1
    assert "only the first 20" in p.errors[0][1] and "只使用前 20 项" in p.errors[0][0]


def test_a_long_bad_value_is_quoted_back_short() -> None:
    p = wall.parse("theme=" + "x" * 100_000)
    (zh, en), *_ = p.errors
    assert len(en) < 200 and len(zh) < 200 and "…" in en
