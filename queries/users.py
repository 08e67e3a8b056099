"""Users of the dashboard: argon2-hashed passwords, roles, and the login audit."""

from __future__ import annotations

import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from queries import engine as eng
from queries.scope import Viewer
from queries.tables import ROLES, app_user, department, login_event

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the answer time the same either way.
_DUMMY = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    conn: Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department_id: int | None = None,
    township_code: int | None = None,
) -> int:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not username or len(password) < 8:
        raise ValueError("a username and a password of at least 8 characters are required")
    result = conn.execute(
        insert(app_user).values(
            username=username,
            display_name=display_name or username,
            role=role,
            department_id=department_id,
            township_code=township_code,
            password_hash=hash_password(password),
            active=True,
            created_at=int(time.time()),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def user_exists(conn: Connection, username: str) -> bool:
    return conn.execute(select(app_user.c.id).where(app_user.c.username == username)).first() is not None


def _viewer(row: object) -> Viewer:
    return Viewer(
        user_id=row.id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        display_name=row.display_name,  # type: ignore[attr-defined]
        role=row.role,  # type: ignore[attr-defined]
        department_id=row.department_id,  # type: ignore[attr-defined]
        township_code=row.township_code,  # type: ignore[attr-defined]
    )


def authenticate(*, username: str, password: str, remote_addr: str = "") -> Viewer | None:
    """The viewer for these credentials, or None. Every attempt is written to the login audit."""
    with eng.begin() as conn:
        row = conn.execute(
            select(app_user).where(app_user.c.username == username, app_user.c.active.is_(True))
        ).first()
        ok = False
        try:
            ok = _hasher.verify(row.password_hash if row else _DUMMY, password) and row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        now = int(time.time())
        conn.execute(
            insert(login_event).values(username=username[:64], at=now, ok=ok, remote_addr=remote_addr[:64])
        )
        if ok and row is not None:
            conn.execute(update(app_user).where(app_user.c.id == row.id).values(last_login_at=now))
            return _viewer(row)
    return None


def viewer_by_id(*, user_id: int) -> Viewer | None:
    with eng.connect() as conn:
        row = conn.execute(
            select(app_user).where(app_user.c.id == user_id, app_user.c.active.is_(True))
        ).first()
    return _viewer(row) if row else None


def recent_failures(*, username: str, since: int) -> int:
    """Failed logins for this name since `since` (epoch seconds): the login form slows guessing with it."""
    from sqlalchemy import func

    with eng.connect() as conn:
        q = select(func.count()).where(
            login_event.c.username == username, login_event.c.ok.is_(False), login_event.c.at >= since
        )
        return int(conn.execute(q).scalar() or 0)


def department_ids(conn: Connection) -> dict[str, int]:
    """Department code -> id, for naming a department on the command line."""
    return {str(code): int(i) for i, code in conn.execute(select(department.c.id, department.c.code))}
