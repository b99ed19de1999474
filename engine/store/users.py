"""Console users and the service's kept settings: every read and write of `users` and `settings`.

Passwords arrive here already hashed (`arrears.console.passwords`); this module never sees one.
Adding a user, changing a password, a role or the disabled flag is audited (`user.added`,
`user.password_changed`, `user.updated`, and `user.rehashed` for a stronger hash of the same
password), with who did it (`by`: a username, or `cli`); each entry re-seals the row
(`engine/store/seals.py`), so `arrears audit verify` catches a user edited with SQL.
Logins are not audited here: the console audits them with the request's context.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from arrears.engine.store import audit
from arrears.engine.store.schema import settings, users


@dataclass(frozen=True)
class User:
    """One console user as stored (the hash stays inside the console's login code)."""

    id: int
    username: str
    role: str
    password_hash: str
    disabled: bool
    created_at: int
    password_changed_at: int
    failed_logins: int
    last_failed_at: int | None
    last_login_at: int | None

    def public(self) -> dict:
        """The user without the password hash (for listings and the audit log)."""
        return {"username": self.username, "role": self.role, "disabled": self.disabled,
                "created_at": self.created_at, "last_login_at": self.last_login_at}


_FIELDS = tuple(User.__dataclass_fields__)


def _user(row) -> User | None:
    return None if row is None else User(**{name: getattr(row, name) for name in _FIELDS})


def get(conn: Connection, username: str) -> User | None:
    """The user called `username`, or None."""
    return _user(conn.execute(select(users).where(users.c.username == username)).one_or_none())


def get_by_id(conn: Connection, user_id: int) -> User | None:
    """The user with this id, or None."""
    return _user(conn.execute(select(users).where(users.c.id == user_id)).one_or_none())


def listing(conn: Connection) -> list[User]:
    """Every user, by username."""
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def count(conn: Connection) -> int:
    """How many users there are (disabled ones included)."""
    return len(conn.execute(select(users.c.id)).all())


def add(conn: Connection, username: str, role: str, password_hash: str, now: int, by: str) -> User:
    """Add a user; the caller checked the name is free (the unique index refuses a repeat)."""
    conn.execute(insert(users), {"username": username, "role": role, "password_hash": password_hash,
                                 "disabled": False, "created_at": now, "password_changed_at": now,
                                 "failed_logins": 0, "last_failed_at": None, "last_login_at": None})
    audit.append(conn, "user.added", username, {"role": role, "by": by}, now, reseal={"users": [username]})
    return get(conn, username)


def set_password(conn: Connection, username: str, password_hash: str, now: int, by: str) -> bool:
    """Replace the password hash (and clear the failed-login count); False if no such user."""
    done = conn.execute(update(users).where(users.c.username == username).values(
        password_hash=password_hash, password_changed_at=now, failed_logins=0)).rowcount
    if done:
        audit.append(conn, "user.password_changed", username, {"by": by}, now, reseal={"users": [username]})
    return bool(done)


def update_user(conn: Connection, username: str, now: int, by: str, *, role: str | None = None,
                disabled: bool | None = None) -> bool:
    """Change the role and/or the disabled flag; False if no such user."""
    values = {k: v for k, v in (("role", role), ("disabled", disabled)) if v is not None}
    if not values:
        return get(conn, username) is not None
    done = conn.execute(update(users).where(users.c.username == username).values(**values)).rowcount
    if done:
        audit.append(conn, "user.updated", username, {**values, "by": by}, now, reseal={"users": [username]})
    return bool(done)


def rehash(conn: Connection, user_id: int, password_hash: str, now: int) -> None:
    """Store a stronger hash of the same password (argon2's parameters were raised); audited as
    `user.rehashed` (the password did not change), which re-seals the row."""
    user = get_by_id(conn, user_id)
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
    audit.append(conn, "user.rehashed", user.username, {}, now, reseal={"users": [user.username]})


def note_login(conn: Connection, user_id: int, ok: bool, now: int) -> None:
    """Record a login attempt's outcome: success clears the failure count, failure adds one."""
    if ok:
        conn.execute(update(users).where(users.c.id == user_id).values(failed_logins=0, last_login_at=now))
    else:
        conn.execute(update(users).where(users.c.id == user_id).values(
            failed_logins=users.c.failed_logins + 1, last_failed_at=now))


def setting(conn: Connection, name: str) -> str | None:
    """A kept setting's value, or None."""
    return conn.execute(select(settings.c.value).where(settings.c.name == name)).scalar_one_or_none()


def keep_setting(conn: Connection, name: str, value: str) -> str:
    """Keep `value` under `name` unless a value is kept already; returns the kept value (so
    two processes starting at once agree on one)."""
    kept = setting(conn, name)
    if kept is not None:
        return kept
    conn.execute(insert(settings), {"name": name, "value": value})
    return value


def put_setting(conn: Connection, name: str, value: str) -> None:
    """Keep `value` under `name`, replacing any value kept before."""
    if conn.execute(update(settings).where(settings.c.name == name).values(value=value)).rowcount == 0:
        conn.execute(insert(settings), {"name": name, "value": value})


class Users:
    """The store's users and kept settings, each call its own transaction (`Store.users`)."""

    def __init__(self, store):
        self._store = store

    def _read(self):
        from arrears.engine.store.db import read_transaction
        return read_transaction(self._store.engine)

    def get(self, username: str) -> User | None:
        """See `get`."""
        with self._read() as conn:
            return get(conn, username)

    def get_by_id(self, user_id: int) -> User | None:
        """See `get_by_id`."""
        with self._read() as conn:
            return get_by_id(conn, user_id)

    def listing(self) -> list[User]:
        """See `listing`."""
        with self._read() as conn:
            return listing(conn)

    def count(self) -> int:
        """See `count`."""
        with self._read() as conn:
            return count(conn)

    def add(self, username: str, role: str, password_hash: str, *, by: str, now=None) -> User | None:
        """Add a user; None (nothing written) when the name is taken."""
        with self._store.transaction(now=now) as w:
            if get(w.conn, username) is not None:
                return None
            return add(w.conn, username, role, password_hash, w.now, by)

    def set_password(self, username: str, password_hash: str, *, by: str, now=None) -> bool:
        """See `set_password`."""
        with self._store.transaction(now=now) as w:
            return set_password(w.conn, username, password_hash, w.now, by)

    def update(self, username: str, *, by: str, role: str | None = None, disabled: bool | None = None,
               now=None) -> bool:
        """See `update_user`."""
        with self._store.transaction(now=now) as w:
            return update_user(w.conn, username, w.now, by, role=role, disabled=disabled)

    def rehash(self, user_id: int, password_hash: str) -> None:
        """See `rehash`."""
        with self._store.transaction() as w:
            rehash(w.conn, user_id, password_hash, w.now)

    def note_login(self, user_id: int, ok: bool, *, audit_body: dict | None = None, now=None) -> None:
        """See `note_login`; with `audit_body`, the attempt is audited in the same transaction
        (`user.login` / `user.login_failed`)."""
        with self._store.transaction(now=now) as w:
            note_login(w.conn, user_id, ok, w.now)
            if audit_body is not None:
                user = get_by_id(w.conn, user_id)
                audit.append(w.conn, "user.login" if ok else "user.login_failed", user.username,
                             audit_body, w.now)

    def setting(self, name: str) -> str | None:
        """See `setting`."""
        with self._read() as conn:
            return setting(conn, name)

    def put_setting(self, name: str, value: str) -> None:
        """See `put_setting`."""
        with self._store.transaction() as w:
            put_setting(w.conn, name, value)

    def keep_setting(self, name: str, value: str) -> str:
        """See `keep_setting` (in a write transaction: two starts agree on one value)."""
        with self._store.transaction() as w:
            return keep_setting(w.conn, name, value)
