"""Users of the dashboard: argon2-hashed passwords, roles, and the login audit. Every change to an account
goes through the write door (queries/audit.py) and leaves an entry on the responsibility chain."""

from __future__ import annotations

import time
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, and_, func, insert, select, update

from queries import audit
from queries import engine as eng
from queries.scope import Viewer
from queries.tables import ROLES, app_user, department, login_event, township

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the answer time the same either way.
_DUMMY = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _snapshot(conn: Connection, user_id: int) -> dict[str, object] | None:
    """What the log digests of an account: never its password hash (the digest proves the row, not it)."""
    c = app_user.c
    row = conn.execute(
        select(
            c.username, c.display_name, c.role, c.department_id, c.township_code, c.active, c.session_version
        ).where(c.id == user_id)
    ).first()
    return None if row is None else dict(row._mapping)


def create_user(
    tx: audit.Tx,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department_id: int | None = None,
    township_code: int | None = None,
) -> int:
    conn = tx.conn
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not username or len(password) < 8:
        raise ValueError("a username and a password of at least 8 characters are required")
    # a department head without a department, or a scope naming nothing, would see the whole city
    if role == "department_head" and department_id is None:
        raise ValueError(
            "部门负责人必须指定部门 (--department) / a department_head needs a department (--department)"
        )
    if (
        department_id is not None
        and not conn.execute(select(department.c.id).where(department.c.id == department_id)).first()
    ):
        raise ValueError(f"部门 {department_id} 不存在 / no department {department_id}")
    if (
        township_code is not None
        and not conn.execute(select(township.c.code).where(township.c.code == township_code)).first()
    ):
        raise ValueError(f"乡镇/街道 {township_code} 不存在 / no township {township_code}")
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
    uid = int(result.inserted_primary_key[0])  # type: ignore[index]
    tx.log(
        "user.create",
        "app_user",
        uid,
        after=_snapshot(conn, uid),
        detail={
            "username": username,
            "role": role,
            "department_id": department_id,
            "township": township_code,
        },
    )
    return uid


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
    with eng.write() as conn:
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
            viewer = _viewer(row)
            # failures stay in login_event only: a password-guessing flood must not bloat the chain
            audit.joined(conn, audit.Actor.of(viewer)).log(
                "session.start", "app_user", row.id, detail={"remote_addr": remote_addr[:64]}
            )
            return viewer
    return None


def session_version(*, user_id: int) -> int | None:
    """The version a new session stores; None when the user is gone or inactive."""
    with eng.connect() as conn:
        return conn.execute(
            select(app_user.c.session_version).where(app_user.c.id == user_id, app_user.c.active.is_(True))
        ).scalar()


def viewer_for_session(*, user_id: int, version: int) -> Viewer | None:
    """The viewer of a session cookie, or None once the user logged out, changed password or left."""
    with eng.connect() as conn:
        row = conn.execute(
            select(app_user).where(
                app_user.c.id == user_id,
                app_user.c.active.is_(True),
                app_user.c.session_version == version,
            )
        ).first()
    return _viewer(row) if row else None


def _end_sessions(conn: Connection, *, user_id: int) -> None:
    """Every cookie issued to this user so far stops working."""
    conn.execute(
        update(app_user)
        .where(app_user.c.id == user_id)
        .values(session_version=app_user.c.session_version + 1)
    )


def sign_out(*, viewer: Viewer) -> None:
    with audit.write(audit.Actor.of(viewer)) as tx:
        before = _snapshot(tx.conn, viewer.user_id)
        _end_sessions(tx.conn, user_id=viewer.user_id)
        tx.log(
            "session.end", "app_user", viewer.user_id, before=before, after=_snapshot(tx.conn, viewer.user_id)
        )


def _user_id(conn: Connection, username: str) -> int:
    row = conn.execute(select(app_user.c.id).where(app_user.c.username == username)).first()
    if row is None:
        raise ValueError(f"用户 {username!r} 不存在 / no user {username!r}")
    return int(row.id)


def set_password(tx: audit.Tx, *, username: str, password: str) -> None:
    if len(password) < 8:
        raise ValueError("密码至少 8 个字符 / a password of at least 8 characters is required")
    conn = tx.conn
    uid = _user_id(conn, username)
    before = _snapshot(conn, uid)
    conn.execute(update(app_user).where(app_user.c.id == uid).values(password_hash=hash_password(password)))
    _end_sessions(conn, user_id=uid)
    tx.log(
        "user.password",
        "app_user",
        uid,
        before=before,
        after=_snapshot(conn, uid),
        detail={"username": username},
    )


def set_active(tx: audit.Tx, *, username: str, active: bool) -> None:
    conn = tx.conn
    uid = _user_id(conn, username)
    before = _snapshot(conn, uid)
    conn.execute(update(app_user).where(app_user.c.id == uid).values(active=active))
    _end_sessions(conn, user_id=uid)
    tx.log(
        "user.activate" if active else "user.deactivate",
        "app_user",
        uid,
        before=before,
        after=_snapshot(conn, uid),
        detail={"username": username},
    )


def working_passwords(conn: Connection, pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Which of these (username, password) pairs still log in: `serve` warns about published ones."""
    out = []
    for username, password in pairs:
        row = conn.execute(
            select(app_user.c.password_hash).where(
                app_user.c.username == username, app_user.c.active.is_(True)
            )
        ).first()
        if row is None:
            continue
        try:
            if _hasher.verify(row.password_hash, password):
                out.append(username)
        except (VerificationError, InvalidHashError):
            pass
    return out


# The login throttle. Failures are counted from login_event, so every gunicorn worker sees the same
# counts, and the answer costs three indexed counts instead of an argon2 hash. Three keys:
# - the client address (all names): stops one host spraying many names;
# - the name from this address, since its last success there: stops guessing one password;
# - the name from anywhere: a milder cap with a one-minute ceiling, so a botnet slows guessing but
#   cannot keep the owner out for long, and an address the name logged in from lately is exempt.
WINDOW_S = 15 * 60
KNOWN_ADDRESS_S = 30 * 86400
FREE_PER_ADDRESS, MAX_WAIT_ADDRESS = 10, 15 * 60
FREE_PER_PAIR, MAX_WAIT_PAIR = 3, 15 * 60
FREE_PER_NAME, MAX_WAIT_NAME = 10, 60


def _delay(failures: int, free: int, ceiling: int) -> int:
    """0 while failures stay under `free`, then 1, 2, 4 ... seconds up to `ceiling`."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free, 20), ceiling)


def login_wait(*, username: str, remote_addr: str, now: int) -> int:
    """Seconds this address must wait before its next try at this name; 0 = may try now."""
    le = login_event.c
    since = now - WINDOW_S
    failed = and_(le.ok.is_(False), le.at >= since)
    with eng.connect() as conn:

        def count_last(*conds: object) -> tuple[int, int]:
            n, last = conn.execute(select(func.count(), func.max(le.at)).where(failed, *conds)).one()  # type: ignore[arg-type]
            return int(n or 0), int(last or 0)

        waits = []
        n, last = count_last(le.remote_addr == remote_addr)
        waits.append(last + _delay(n, FREE_PER_ADDRESS, MAX_WAIT_ADDRESS) - now if n else 0)
        last_ok = conn.execute(
            select(func.max(le.at)).where(
                le.username == username, le.remote_addr == remote_addr, le.ok.is_(True)
            )
        ).scalar()
        n, last = count_last(le.username == username, le.remote_addr == remote_addr, le.at > (last_ok or 0))
        waits.append(last + _delay(n, FREE_PER_PAIR, MAX_WAIT_PAIR) - now if n else 0)
        if last_ok is None or last_ok < now - KNOWN_ADDRESS_S:
            n, last = count_last(le.username == username)
            waits.append(last + _delay(n, FREE_PER_NAME, MAX_WAIT_NAME) - now if n else 0)
    return max(0, *waits)


def department_ids(conn: Connection) -> dict[str, int]:
    """Department code -> id, for naming a department on the command line."""
    return {str(code): int(i) for i, code in conn.execute(select(department.c.id, department.c.code))}
