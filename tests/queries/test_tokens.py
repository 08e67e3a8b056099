"""API tokens of the source systems, on SQLite and PostgreSQL: shown once and kept only as a digest,
scoped to one source, revoked at once, written through the door, carried across a rebuild."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from queries import audit, tokens
from queries import engine as eng
from queries.generate.build import build_pool
from queries.tables import audit_log, source_token
from tests.conftest import END, SEED
from tests.pools import sqlite_pool_at

ACTOR = audit.Actor(None, "cli:tester", "system")


def _create(source: str = "community_governance", label: str = "nightly push") -> tokens.Issued:
    with audit.write(ACTOR) as tx:
        return tokens.create(tx, source_code=source, label=label)


def test_a_token_writes_only_its_own_source_and_is_kept_as_a_digest(writable_pool: str) -> None:
    issued = _create()
    other = _create("population_system", "population sync")
    assert issued.token.startswith(tokens.PREFIX) and len(issued.token) > 40
    assert tokens.source_for(issued.token) == "community_governance"
    assert tokens.source_for(other.token) == "population_system"
    with eng.connect() as c:
        stored = [tuple(r) for r in c.execute(select(source_token))]
        logged = " ".join(str(tuple(r)) for r in c.execute(select(audit_log)))
    assert all(issued.token not in str(r) for r in stored)  # never the token itself ...
    assert (
        issued.token not in logged and tokens.token_digest(issued.token) not in logged
    )  # ... nor its digest
    frame = audit.show(action="token.")
    assert frame["action"].to_list()[:2] == ["token.create", "token.create"]
    assert audit.verify().ok


@pytest.mark.parametrize(
    "presented", ["", "cc_", "cc_not-a-real-token", "Bearer cc_x", "x" * 500, "cc_" + "é" * 40]
)
def test_an_unknown_or_malformed_token_writes_nothing(writable_pool: str, presented: str) -> None:
    _create()
    assert tokens.source_for(presented) is None


def test_a_revoked_token_stops_at_once_and_revoking_is_logged(writable_pool: str) -> None:
    issued = _create()
    with audit.write(ACTOR) as tx:
        tokens.revoke(tx, token_id=issued.token_id)
    assert tokens.source_for(issued.token) is None
    with pytest.raises(ValueError, match="revoked already"), audit.write(ACTOR) as tx:
        tokens.revoke(tx, token_id=issued.token_id)
    with pytest.raises(ValueError, match="no token 999999"), audit.write(ACTOR) as tx:
        tokens.revoke(tx, token_id=999999)
    listing = tokens.listing()
    row = listing.filter(listing["id"] == issued.token_id).row(0, named=True)
    assert row["revoked_at"] is not None and row["revoked_by"] == "cli:tester"
    assert "token_hash" not in listing.columns
    assert audit.show(action="token.revoke")["object_id"].to_list()[0] == str(issued.token_id)


def test_bad_requests_are_refused_and_leave_nothing(writable_pool: str) -> None:
    with eng.connect() as c:
        before = (
            c.execute(select(func.count()).select_from(source_token)).scalar_one(),
            c.execute(select(func.count()).select_from(audit_log)).scalar_one(),
        )
    with pytest.raises(ValueError, match="no source system 'nope'"), audit.write(ACTOR) as tx:
        tokens.create(tx, source_code="nope", label="x")
    with pytest.raises(ValueError, match="label"), audit.write(ACTOR) as tx:
        tokens.create(tx, source_code="community_governance", label="   ")
    with eng.connect() as c:
        after = (
            c.execute(select(func.count()).select_from(source_token)).scalar_one(),
            c.execute(select(func.count()).select_from(audit_log)).scalar_one(),
        )
    assert after == before


def test_tokens_survive_a_rebuild(tmp_path: Path) -> None:
    url = sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False).url
    eng.configure(url)
    issued = _create()
    build_pool(url, scale="test", seed=SEED + 1, end=END, progress=False)
    assert tokens.source_for(issued.token) == "community_governance"
    assert audit.verify().ok


def test_token_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.cli import main

    monkeypatch.setenv("CC_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False)  # as `seed --scale test --end ...` makes it
    capsys.readouterr()
    assert main(["token", "list"]) == 0
    assert "no tokens yet" in capsys.readouterr().out
    assert main(["token", "create", "--source", "community_governance", "--label", "server A"]) == 0
    out = capsys.readouterr().out
    token = out.strip().splitlines()[-1]
    assert "shown once" in out and token.startswith(tokens.PREFIX)
    assert tokens.source_for(token) == "community_governance"
    assert main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert "community_governance" in listed and "server A" in listed and token not in listed
    assert main(["token", "create", "--source", "nope", "--label", "x"]) == 2
    assert "no source system 'nope'" in capsys.readouterr().err
    assert main(["token", "revoke", "1"]) == 0
    assert tokens.source_for(token) is None
    assert main(["token", "revoke", "1"]) == 2
    assert "revoked already" in capsys.readouterr().err
    assert main(["audit", "verify"]) == 0
