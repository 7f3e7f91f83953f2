"""Database faults described for people: one line naming the database,
its password hidden, and the cause, without SQL, parameters or links."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def database_name(url: str) -> str:
    """``url`` as shown to people: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable database URL>"


def fault_message(url: str, exc: BaseException) -> str:
    """``"database <name>: <cause>"`` in one line, for any database error
    (the driver's own message, without SQL, parameters or links)."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, OSError) and cause.strerror:
        text = f"{cause.strerror}: {cause.filename}" if cause.filename else cause.strerror
    else:
        text = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    password = _password(url)
    if password:
        text = text.replace(password, "***")
    return f"database {database_name(url)}: {text}"


def _password(url: str) -> str | None:
    try:
        return make_url(url).password  # type: ignore[return-value]
    except ArgumentError:
        return None
