"""Desk accounts: names, roles, Argon2 password hashes and lockouts.

Contract:

* a name is unique; a role is one of `ROLES`; a password is stored only as
  its Argon2 hash (argon2-cffi's defaults, rehashed when they change);
* `check_password` is the one way to log in: a disabled account, an unknown
  name and a wrong password all fail alike (`LoginRefused`); `MAX_FAILURES`
  wrong passwords in a row lock the account for `LOCKOUT`, during which even
  the right password is refused; a good login clears the count;
* `session_secret` is made once per database and then read back, so every
  server process on the database signs cookies alike.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, select, update

from storage.engine import dialect_insert
from storage.models import desk_keys, users

ROLES = ("curator", "admin")
#: Wrong passwords in a row that lock an account, and for how long.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()


class UserError(ValueError):
    """An account operation that cannot be done; the message says why."""


class LoginRefused(UserError):
    """A login that failed; ``locked`` is set when the account is (now) locked."""

    def __init__(self, message: str, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


@dataclass(frozen=True, slots=True)
class User:
    """An account as the desk sees it (never the hash)."""

    id: int
    name: str
    role: str
    disabled: bool
    locked_until: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row: Row) -> User:  # type: ignore[type-arg]
    return User(row.id, row.name, row.role, row.disabled, row.locked_until)


def add(conn: Connection, name: str, role: str, password: str, now: datetime) -> User:
    """Create account ``name``; `UserError` for a taken name, an unknown role
    or an empty password."""
    name = name.strip()
    if not name:
        raise UserError("a user needs a name")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if not password:
        raise UserError("the password is empty")
    if get(conn, name) is not None:
        raise UserError(f"user {name!r} exists already")
    conn.execute(
        users.insert().values(
            name=name,
            role=role,
            password_hash=_hasher.hash(password),
            created_at=now,
            updated_at=now,
        )
    )
    user = get(conn, name)
    assert user is not None
    return user


def get(conn: Connection, name: str) -> User | None:
    """The account called ``name``, if any."""
    row = conn.execute(select(users).where(users.c.name == name)).first()
    return None if row is None else _user(row)


def listing(conn: Connection) -> list[User]:
    """Every account, by name."""
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def _require(conn: Connection, name: str) -> None:
    if get(conn, name) is None:
        raise UserError(f"no user {name!r}")


def set_disabled(conn: Connection, name: str, disabled: bool, now: datetime) -> None:
    """Disable or enable ``name``; enabling also lifts a lockout."""
    _require(conn, name)
    values: dict[str, object] = {"disabled": disabled, "updated_at": now}
    if not disabled:
        values.update(failed_logins=0, locked_until=None)
    conn.execute(update(users).where(users.c.name == name).values(**values))


def set_password(conn: Connection, name: str, password: str, now: datetime) -> None:
    """Give ``name`` a new password (and lift a lockout)."""
    _require(conn, name)
    if not password:
        raise UserError("the password is empty")
    conn.execute(
        update(users)
        .where(users.c.name == name)
        .values(
            password_hash=_hasher.hash(password),
            failed_logins=0,
            locked_until=None,
            updated_at=now,
        )
    )


def check_password(conn: Connection, name: str, password: str, now: datetime) -> User:
    """The account, when ``password`` is right and the account may log in;
    else `LoginRefused` (see the module docstring), having counted the
    failure."""
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None or row.disabled:
        # Hash anyway: an unknown name takes as long as a wrong password.
        _hasher.hash(password or "-")
        raise LoginRefused("wrong username or password")
    if row.locked_until is not None and row.locked_until > now:
        raise LoginRefused("this account is locked for a while after wrong passwords", True)
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        failures = row.failed_logins + 1
        locked = failures >= MAX_FAILURES
        conn.execute(
            update(users)
            .where(users.c.id == row.id)
            .values(
                failed_logins=0 if locked else failures,
                locked_until=now + LOCKOUT if locked else None,
                updated_at=now,
            )
        )
        if locked:
            raise LoginRefused(
                "this account is locked for a while after wrong passwords", True
            ) from None
        raise LoginRefused("wrong username or password") from None
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    if row.failed_logins or row.locked_until or "password_hash" in values:
        conn.execute(update(users).where(users.c.id == row.id).values(**values, updated_at=now))
    return _user(row)


def session_secret(conn: Connection) -> str:
    """The database's cookie signing secret, made on first use."""
    stmt = dialect_insert(conn, desk_keys).values(name="session", secret=secrets.token_urlsafe(48))
    conn.execute(stmt.on_conflict_do_nothing(index_elements=[desk_keys.c.name]))
    return str(
        conn.execute(select(desk_keys.c.secret).where(desk_keys.c.name == "session")).scalar_one()
    )
