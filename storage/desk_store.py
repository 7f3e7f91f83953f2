"""`DeskStore`: the curator's desk's door to the database.

It wraps a `storage.Store` (same engine, same transaction rules: each
method is one transaction) and adds what the desk needs beyond the command
line: accounts, the audit log, versioned edits, and review actions recorded
with the user who took them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from scraper.items import Clipping
from storage import audit, desk, review, users
from storage.audit import AuditEntry
from storage.desk import Row
from storage.store import Store
from storage.users import User


def _now() -> datetime:
    return datetime.now(UTC)


class DeskStore:
    """Named desk queries and actions over ``store``'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- accounts -----------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> User:
        with self.store._write() as conn:
            return users.add(conn, name, role, password, _now())

    def user(self, name: str) -> User | None:
        with self.store._read() as conn:
            return users.get(conn, name)

    def list_users(self) -> list[User]:
        with self.store._read() as conn:
            return users.listing(conn)

    def set_disabled(self, name: str, disabled: bool) -> None:
        with self.store._write() as conn:
            users.set_disabled(conn, name, disabled, _now())

    def set_password(self, name: str, password: str) -> None:
        with self.store._write() as conn:
            users.set_password(conn, name, password, _now())

    def login(self, name: str, password: str) -> User:
        """The account, or `storage.users.LoginRefused` (the failure is
        counted even so: its transaction commits before the raise)."""
        refused: users.LoginRefused | None = None
        with self.store._write() as conn:
            try:
                return users.check_password(conn, name, password, _now())
            except users.LoginRefused as exc:
                refused = exc
        raise refused

    def session_secret(self) -> str:
        with self.store._write() as conn:
            return users.session_secret(conn)

    # -- reading --------------------------------------------------------------------

    def queue(self, **filters: Any) -> list[Row]:
        """A queue page (see `storage.desk.queue_rows`)."""
        with self.store._read() as conn:
            return desk.queue_rows(conn, **filters)

    def clipping(self, clipping_id: int) -> tuple[Clipping, int] | None:
        """The clipping and its version, if it exists."""
        with self.store._read() as conn:
            version = desk.version(conn, clipping_id)
            clipping = self.store.get_clipping(clipping_id) if version is not None else None
        return None if clipping is None or version is None else (clipping, version)

    def rows(self, ids: Iterable[int]) -> list[Row]:
        """Queue rows of ``ids`` as they are now (for updating rows in place)."""
        with self.store._read() as conn:
            found = self.store.clippings_by_id(ids)
            sizes = desk.cluster_sizes(conn, [c.cluster for c in found.values() if c.cluster])
            out = []
            for i, c in found.items():
                out.append(Row(i, c, desk.version(conn, i) or 1, sizes.get(c.cluster or "", 1)))
        return out

    def members(self, cluster: str) -> list[tuple[int, Clipping]]:
        with self.store._read() as conn:
            return desk.cluster_members(conn, cluster)

    def history(self, clipping_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
        with self.store._read() as conn:
            return audit.recent(conn, limit, clipping_id=clipping_id)

    def paused_sources(self) -> set[str]:
        with self.store._read() as conn:
            return desk.paused_sources(conn)

    # -- actions, each audited ------------------------------------------------------

    def approve(self, ids: Iterable[int], user: str) -> list[int]:
        now = _now()
        with self.store._write() as conn:
            done = review.approve(conn, ids, now)
            audit.record(conn, user, "approve", now, done)
        return done

    def reject(self, ids: Iterable[int], reason: str, user: str) -> list[int]:
        now = _now()
        with self.store._write() as conn:
            done = review.reject(conn, ids, reason, now)
            audit.record(conn, user, "reject", now, done, {"reason": reason.strip()})
        return done

    def cite(self, clipping_id: int, user: str) -> str:
        now = _now()
        with self.store._write() as conn:
            cluster = review.cite(conn, clipping_id, now)
            audit.record(conn, user, "cite", now, [clipping_id])
        return cluster

    def save(
        self, clipping_id: int, changes: Mapping[str, Any], expected_version: int, user: str
    ) -> Clipping:
        with self.store._write() as conn:
            return desk.save(conn, clipping_id, changes, expected_version, user, _now())

    def paste_text(self, clipping_id: int, text: str, expected_version: int, user: str) -> None:
        with self.store._write() as conn:
            desk.paste_text(conn, clipping_id, text, expected_version, user, _now())

    def set_paused(self, source_id: str, paused: bool, user: str) -> None:
        with self.store._write() as conn:
            desk.set_paused(conn, source_id, paused, user, _now())

    def poll_now(self, source_id: str, user: str) -> None:
        with self.store._write() as conn:
            desk.poll_now(conn, source_id, user, _now())

    def record(self, user: str, action: str, ids: Iterable[int], detail: dict[str, Any]) -> None:
        """Audit an action done through `Store` (a publication)."""
        with self.store._write() as conn:
            audit.record(conn, user, action, _now(), list(ids) or [None], detail)
