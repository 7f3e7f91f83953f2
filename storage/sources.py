"""Sources: their configuration as last synced and their fetch state.

The config files own a source's identity and settings (`SourceSpec`); the
database owns what the crawl learnt about it (`FetchState`): validators for
conditional requests, the last body's hash, successes, errors, a fractional
failure score and the next due time.  `FetchStateUpdate` carries a crawl's
changes to that state.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy import Connection, Row, bindparam, or_, select, update

from scraper.text import clean_text
from storage.engine import chunked, dialect_insert
from storage.models import sources

#: Config fields copied from a `SourceSpec` on every sync.
CONFIG_FIELDS = ("outlet", "kind", "url", "language", "poll_interval_s")
#: Fetch-state columns, in `FetchState` order.
STATE_FIELDS = (
    "etag",
    "last_modified",
    "body_hash",
    "last_fetch_at",
    "last_success_at",
    "last_error_at",
    "last_error",
    "last_error_kind",
    "failure_score",
    "next_due_at",
)


class SourceSpec(Protocol):
    """What `sync_sources` reads from a configured source (``config.Source``)."""

    @property
    def id(self) -> str: ...
    @property
    def outlet(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def poll_interval_s(self) -> float: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchState:
    """A source's fetch state as stored.  Datetimes are aware UTC; ``None``
    means "never" (or, for ``next_due_at``, "due now")."""

    source_id: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    last_error_kind: str | None
    failure_score: float
    next_due_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceRow:
    """A source as ``presscut sources list`` shows it: config plus fetch state."""

    id: str
    outlet: str
    kind: str
    url: str
    language: str | None
    poll_interval_s: float
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    last_error_kind: str | None
    failure_score: float
    next_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    paused: bool = False
    """Disabled on the desk: not polled until enabled again."""


class Unchanged(enum.Enum):
    """Type of `UNCHANGED`."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


#: "Leave this column as it is": the default of every `FetchStateUpdate` field.
UNCHANGED: Final = Unchanged.UNCHANGED


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchStateUpdate:
    """New fetch-state values for one source.

    Every field but ``source_id`` defaults to `UNCHANGED`, which leaves the
    column alone; ``None`` *clears* it (a feed that stopped sending an
    ``ETag`` gets ``etag=None``).  ``failure_score`` cannot be ``None``.
    Datetimes must be timezone-aware.  An update for a source id that is not
    in the database changes nothing.
    """

    source_id: str
    etag: str | Unchanged | None = UNCHANGED
    last_modified: str | Unchanged | None = UNCHANGED
    body_hash: str | Unchanged | None = UNCHANGED
    last_fetch_at: datetime | Unchanged | None = UNCHANGED
    last_success_at: datetime | Unchanged | None = UNCHANGED
    last_error_at: datetime | Unchanged | None = UNCHANGED
    last_error: str | Unchanged | None = UNCHANGED
    last_error_kind: str | Unchanged | None = UNCHANGED
    failure_score: float | Unchanged = UNCHANGED
    next_due_at: datetime | Unchanged | None = UNCHANGED

    def changes(self) -> dict[str, Any]:
        """The columns this update sets, by name."""
        return {
            name: getattr(self, name)
            for name in STATE_FIELDS
            if getattr(self, name) is not UNCHANGED
        }

    def without_validators(self) -> FetchStateUpdate:
        """This update with ``etag``, ``last_modified`` and ``body_hash`` left
        unchanged, so the next round sees the feed as new again."""
        return dataclasses.replace(
            self, etag=UNCHANGED, last_modified=UNCHANGED, body_hash=UNCHANGED
        )


def sync(conn: Connection, specs: Iterable[SourceSpec], now: datetime) -> int:
    """Insert new sources, update the config fields of known ones (bumping
    ``updated_at`` only when one differs); fetch state is never touched and
    sources missing from ``specs`` stay.  Returns how many specs were read."""
    rows: dict[str, dict[str, Any]] = {}
    for spec in specs:
        row = {name: getattr(spec, name) for name in CONFIG_FIELDS}
        row["poll_interval_s"] = float(row["poll_interval_s"])
        rows[spec.id] = {"id": spec.id, **row, "failure_score": 0.0}
    if not rows:
        return 0
    stmt = dialect_insert(conn, sources)
    stmt = stmt.on_conflict_do_update(
        index_elements=[sources.c.id],
        set_={name: stmt.excluded[name] for name in (*CONFIG_FIELDS, "updated_at")},
        where=or_(
            *(sources.c[name].is_distinct_from(stmt.excluded[name]) for name in CONFIG_FIELDS)
        ),
    )
    conn.execute(stmt, [{**row, "created_at": now, "updated_at": now} for row in rows.values()])
    return len(rows)


def fetch_states(conn: Connection, ids: Iterable[str]) -> dict[str, FetchState]:
    """Stored fetch state of each known id among ``ids``."""
    states: dict[str, FetchState] = {}
    columns = [sources.c.id, *(sources.c[name] for name in STATE_FIELDS)]
    for chunk in chunked(dict.fromkeys(ids)):
        for row in conn.execute(select(*columns).where(sources.c.id.in_(chunk))):
            states[row.id] = _state(row)
    return states


def due_ids(conn: Connection, now: datetime) -> list[str]:
    """Ids of sources never polled or whose ``next_due_at`` is not after
    ``now``, except those paused on the desk."""
    stmt = (
        select(sources.c.id)
        .where(or_(sources.c.next_due_at.is_(None), sources.c.next_due_at <= now))
        .where(sources.c.paused.is_(False))
        .order_by(sources.c.id)
    )
    return list(conn.scalars(stmt))


def apply_updates(conn: Connection, updates: Sequence[FetchStateUpdate], now: datetime) -> None:
    """Write ``updates``, later ones winning over earlier ones for the same
    source; one executemany ``UPDATE`` per distinct set of changed columns."""
    merged: dict[str, dict[str, Any]] = {}
    for upd in updates:
        changes = upd.changes()
        if changes.get("failure_score", 0.0) is None:
            raise ValueError(f"failure_score of source {upd.source_id!r} cannot be None")
        merged.setdefault(upd.source_id, {}).update(changes)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for source_id, changes in merged.items():
        # Error messages quote what a site sent: cleaned like any text.
        bound = {
            f"v_{name}": clean_text(value) if isinstance(value, str) else value
            for name, value in changes.items()
        }
        groups.setdefault(tuple(sorted(changes)), []).append({"b_id": source_id, **bound})
    for names, params in groups.items():
        values = {
            name: bindparam(f"v_{name}", type_=sources.c[name].type)
            for name in (*names, "updated_at")
        }
        stmt = update(sources).where(sources.c.id == bindparam("b_id")).values(values)
        conn.execute(stmt, [{**p, "v_updated_at": now} for p in params])


def list_rows(conn: Connection) -> list[SourceRow]:
    """Every stored source, by id."""
    rows = conn.execute(select(sources).order_by(sources.c.id))
    return [SourceRow(**row._asdict()) for row in rows]


def _state(row: Row[Any]) -> FetchState:
    return FetchState(source_id=row.id, **{name: getattr(row, name) for name in STATE_FIELDS})
