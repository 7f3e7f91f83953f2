"""The audit log: every approve, reject, edit, cite and publish, with the
user and the time.

Entries are appended in the transaction of the action they record, so the
log never claims an action that did not happen.  Functions here take an open
`Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from storage.models import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action; ``detail`` is JSON-ready (changed fields, reason…)."""

    id: int
    at: datetime
    user: str
    action: str
    clipping_id: int | None
    detail: dict[str, Any] | None


def record(
    conn: Connection,
    user: str,
    action: str,
    now: datetime,
    clipping_ids: Iterable[int | None] = (None,),
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry per clipping in ``clipping_ids`` (one without a
    clipping by default)."""
    rows = [
        {"at": now, "user_name": user, "action": action, "clipping_id": i, "detail": detail}
        for i in clipping_ids
    ]
    if rows:
        conn.execute(audit_log.insert(), rows)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.id, row.at, row.user_name, row.action, row.clipping_id, row.detail)


def recent(
    conn: Connection, limit: int = 100, before: int | None = None, clipping_id: int | None = None
) -> list[AuditEntry]:
    """At most ``limit`` entries, newest first, older than entry ``before``
    when given, of one clipping when ``clipping_id`` is given."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(audit_log.c.id < before)
    if clipping_id is not None:
        stmt = stmt.where(audit_log.c.clipping_id == clipping_id)
    return [_entry(r) for r in conn.execute(stmt)]


def last_editor(conn: Connection, clipping_id: int) -> AuditEntry | None:
    """The latest edit of ``clipping_id``, if any."""
    stmt = (
        select(audit_log)
        .where(audit_log.c.clipping_id == clipping_id, audit_log.c.action == "edit")
        .order_by(audit_log.c.id.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return None if row is None else _entry(row)
