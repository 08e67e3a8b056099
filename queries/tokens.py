"""API tokens of the sub-platforms: one per source system (or several, e.g. while rotating), shown once,
kept only as a SHA-256 digest, revocable. Created and revoked through the write door, so the
responsibility log says who did it (never the token itself)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import polars as pl
from sqlalchemy import insert, select, update

from queries import audit
from queries import engine as eng
from queries.tables import source_system, source_token

PREFIX = "cc_"  # every token starts so, which makes a leaked one easy to find in logs and code


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Issued:
    token_id: int
    source_code: str
    token: str  # shown once; the pool keeps only its digest


def create(tx: audit.Tx, *, source_code: str, label: str) -> Issued:
    """A new token for one source system. Raises ValueError (zh / en) for an unknown source or no label."""
    conn = tx.conn
    label = label.strip()
    if not label:
        raise ValueError("请为令牌写一个用途说明 (--label) / give the token a label (--label)")
    src = conn.execute(select(source_system.c.id).where(source_system.c.code == source_code)).first()
    if src is None:
        codes = ", ".join(
            r[0] for r in conn.execute(select(source_system.c.code).order_by(source_system.c.id))
        )
        raise ValueError(
            f"来源系统 {source_code!r} 不存在 / no source system {source_code!r}; sources: {codes}"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    row = {
        "source_id": int(src.id),
        "token_hash": token_digest(token),
        "prefix": token[:12],
        "label": label[:96],
        "created_at": int(time.time()),
        "created_by": tx.actor.username[:96],
    }
    token_id = int(conn.execute(insert(source_token).values(**row)).inserted_primary_key[0])  # type: ignore[index]
    public = {"source": source_code, "prefix": row["prefix"], "label": row["label"]}
    tx.log("token.create", "source_token", token_id, after=public, detail=public)
    return Issued(token_id, source_code, token)


def revoke(tx: audit.Tx, *, token_id: int) -> None:
    """Revoke a token at once; a revoked token never works again. Raises ValueError if there is none."""
    row = tx.conn.execute(select(source_token).where(source_token.c.id == token_id)).first()
    if row is None:
        raise ValueError(f"令牌 {token_id} 不存在 / no token {token_id}")
    if row.revoked_at is not None:
        raise ValueError(f"令牌 {token_id} 已于此前吊销 / token {token_id} was revoked already")
    tx.conn.execute(
        update(source_token)
        .where(source_token.c.id == token_id)
        .values(revoked_at=int(time.time()), revoked_by=tx.actor.username[:96])
    )
    tx.log(
        "token.revoke",
        "source_token",
        token_id,
        before={"revoked": False},
        after={"revoked": True},
        detail={"prefix": row.prefix},
    )


def source_for(token: str) -> str | None:
    """The source system code a presented token may write, or None (unknown, revoked or malformed).
    Looked up by digest, then compared in constant time."""
    if not token.startswith(PREFIX) or len(token) > 128:
        return None
    want = token_digest(token)
    q = (
        select(source_token.c.token_hash, source_system.c.code)
        .join(source_system, source_system.c.id == source_token.c.source_id)
        .where(source_token.c.token_hash == want, source_token.c.revoked_at.is_(None))
    )
    with eng.connect() as conn:
        row = conn.execute(q).first()
    return str(row.code) if row is not None and hmac.compare_digest(row.token_hash, want) else None


def listing() -> pl.DataFrame:
    """Every token with its source, label, who made it and when, and whether it is revoked (no digests)."""
    q = (
        select(
            source_token.c.id,
            source_system.c.code.label("source"),
            source_token.c.prefix,
            source_token.c.label,
            source_token.c.created_at,
            source_token.c.created_by,
            source_token.c.revoked_at,
            source_token.c.revoked_by,
        )
        .join(source_system, source_system.c.id == source_token.c.source_id)
        .order_by(source_token.c.id)
    )
    return eng.read_frame(q, schema={"id": pl.Int64, "created_at": pl.Int64, "revoked_at": pl.Int64})
