"""The twin's main view kept per data version (`view.kept`): a second identical look builds no scene, a
building import (which moves the version) shows on the next call, and so does a drawn hazard saved after a
look at it (staff data, which moves the "staff" and data versions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from dashboard import view as view_mod
from queries import audit, cache, twin_hazards, twin_view
from queries.scope import CITY_SCOPE
from queries.tables import twin_hazard
from tests.pages.conftest import text_of
from tests.pages.test_twin import GRAPH, KPIS, SUMMARY, TIANMA, YINHE, arr, sign_in, view


@pytest.fixture(autouse=True)
def _no_answers_kept_in_this_worker() -> None:
    """Each test starts with this process's kept answers empty (the pool and its version are shared)."""
    view_mod._answers.clear()


def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls of `twin_view.mesh`, which every scene is built from."""
    calls: list[int] = []
    real = twin_view.mesh

    def mesh(**kw: Any) -> Any:
        calls.append(1)
        return real(**kw)

    monkeypatch.setattr(twin_view, "mesh", mesh)
    return calls


def test_a_second_identical_view_is_the_kept_answer(
    client: FlaskClient, sqlite_pool: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, sqlite_pool[0], "admin")
    looks = [
        (TIANMA, "none", {}),
        (TIANMA, "coverage", {"kind": "clinic"}),
        (TIANMA, "evacuation", {"hazard": "flood"}),
        (YINHE, "none", {"color": "age"}),
    ]
    first = [view(client, code, layer, **kw) for code, layer, kw in looks]
    assert all({GRAPH, KPIS, SUMMARY} <= set(out) for out in first)
    calls = counted(monkeypatch)
    assert [view(client, code, layer, **kw) for code, layer, kw in looks] == first
    assert calls == []  # no scene built: the kept answers
    # a choice the layer does not use shares its answer
    assert view(client, TIANMA, "none", kind="clinic", hazard="road") == first[0] and calls == []
    # a township leader's view is rendered for their scope, never the county's answer read back
    sign_in(client, sqlite_pool[0], "wenlan")
    assert GRAPH in view(client, TIANMA, "none") and calls == [1]


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)
def test_an_import_shows_on_the_next_view(
    client: FlaskClient, writable_pool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from queries import twin_import as ti
    from tests.queries.test_twin_import import good_features

    sign_in(client, writable_pool, "admin")
    before = view(client, TIANMA, "none")
    calls = counted(monkeypatch)
    assert view(client, TIANMA, "none") == before and calls == []
    fr = next(f for f in ti.frames_in_pool() if f.code == TIANMA)
    path = tmp_path / "imported.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": good_features(fr)}))
    version = cache.data_version(fresh=True)
    assert ti.import_file(path, audit.Actor(1, "admin", "admin")).ok
    assert cache.data_version(fresh=True) != version
    mesh = view(client, TIANMA, "none")[GRAPH]["figure"]["data"][0]
    assert calls == [1] and len(set(arr(mesh["customdata"]))) == 4  # the four imported footprints


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)
def test_a_drawn_hazard_shows_on_the_next_view(
    client: FlaskClient, writable_pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A view of a drawn hazard is kept like any other: the one asked for before it is saved shows no
    hazard, the save moves the data version, and the same look after it shows the hazard."""
    sign_in(client, writable_pool, "admin")
    with create_engine(writable_pool).connect() as conn:
        nxt = int(conn.execute(select(func.coalesce(func.max(twin_hazard.c.id), 0))).scalar_one()) + 1
    value = f"{twin_hazards.PREFIX}{nxt}"
    assert "无灾害" in text_of(view(client, TIANMA, "evacuation", hazard=value)[SUMMARY])
    calls = counted(monkeypatch)
    version = cache.data_version(fresh=True)
    got = twin_hazards.save_hazard(
        actor=audit.Actor(1, "admin", "admin"),
        scope=CITY_SCOPE,
        community_code=TIANMA,
        name="kept-test 火灾",
        kind="fire",
        points=((0.0, 0.0), (120.0, 0.0), (120.0, 90.0), (0.0, 90.0)),
    )
    assert got == nxt and cache.data_version(fresh=True) != version  # staff data: the version moves
    after = view(client, TIANMA, "evacuation", hazard=value)
    assert "kept-test 火灾" in text_of(after[SUMMARY]) and calls == [1]
