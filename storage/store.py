"""`Store`: presscut's one door to its database.

A store owns an engine (`storage.engine`) and runs every statement of the
project through named methods; callers get plain Python values, `Clipping`
objects and the frozen dataclasses of `storage.sources`, `storage.entries`
and `storage.runs`, never ORM rows or SQL.

Lifecycle: `open_store` builds the engine without connecting; `Store.upgrade`
brings the schema to the newest migration; `Store.close` disposes of the
engine.  Each method is its own transaction; `Store.write_batch` writes a
whole batch in one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from scraper.items import Clipping
from storage import clippings, entries, runs, sources
from storage.engine import DEFAULT_URL, WRITE, make_engine
from storage.entries import EntryOutcome
from storage.runs import CrawlRun
from storage.sources import FetchState, FetchStateUpdate, SourceRow, SourceSpec

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: PostgreSQL advisory lock key held while migrating (any constant unique to presscut).
_UPGRADE_LOCK = 0x70726573736375


def open_store(url: str = DEFAULT_URL) -> Store:
    """A `Store` on the database at SQLAlchemy ``url`` (SQLite or PostgreSQL,
    see `storage.engine`).  Connects lazily; call `Store.upgrade` before the
    first use of a new database."""
    return Store(make_engine(url))


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Named queries and batched writes over one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**WRITE)

    @classmethod
    def open(cls, url: str = DEFAULT_URL) -> Store:
        """Same as `open_store`."""
        return open_store(url)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; the store is not used afterwards."""
        self.engine.dispose()

    def _read(self) -> AbstractContextManager[Connection]:
        return self.engine.connect()

    def _write(self) -> AbstractContextManager[Connection]:
        return self._writer.begin()

    # -- schema ------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema to ``revision`` (the newest by default), in one
        transaction.  Idempotent: at that revision already, nothing happens."""
        config = Config()
        # configparser interpolation would read a "%" in the path as a directive.
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                # Two processes upgrading at once (scheduler and CLI) take
                # turns; on SQLite, BEGIN IMMEDIATE already serialises them.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, revision)

    # -- sources -----------------------------------------------------------------

    def sync_sources(self, specs: Iterable[SourceSpec]) -> int:
        """Upsert the config fields of ``specs`` (see `storage.sources.sync`);
        fetch state is kept.  Returns how many specs were read."""
        with self._write() as conn:
            return sources.sync(conn, specs, _now())

    def fetch_state(self, source_id: str) -> FetchState | None:
        """Fetch state of ``source_id``, ``None`` for an unknown source."""
        return self.fetch_states([source_id]).get(source_id)

    def fetch_states(self, ids: Iterable[str]) -> dict[str, FetchState]:
        """Fetch state of each known source among ``ids``, by id."""
        with self._read() as conn:
            return sources.fetch_states(conn, ids)

    def due_source_ids(self, now: datetime) -> list[str]:
        """Ids of stored sources due at ``now`` (``next_due_at`` unset or not
        after ``now``), sorted."""
        with self._read() as conn:
            return sources.due_ids(conn, now)

    def update_fetch_states(self, updates: Sequence[FetchStateUpdate]) -> None:
        """Write ``updates`` alone, in one transaction (see `FetchStateUpdate`)."""
        self.write_batch((), (), updates)

    def list_sources(self) -> list[SourceRow]:
        """Every stored source with config and fetch state, by id."""
        with self._read() as conn:
            return sources.list_rows(conn)

    # -- entries and dedupe lookups ----------------------------------------------

    def known_entries(
        self, source_id: str, keys: Iterable[str], url_hashes: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """``(known_keys, known_url_hashes)``: which ``keys`` of ``source_id``
        and which ``url_hashes`` (of any source) are settled, in the seen-entry
        log with a final outcome or as stored clippings.  Two queries."""
        with self._read() as conn:
            return entries.known(conn, source_id, keys, url_hashes)

    def existing_url_hashes(self, hashes: Iterable[str]) -> set[str]:
        """Those of ``hashes`` that belong to a stored clipping."""
        with self._read() as conn:
            return clippings.existing_url_hashes(conn, hashes)

    def clusters_by_content_hash(self, hashes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """``content_hash -> (cluster, source_id)`` of the first stored
        clipping with each body among ``hashes``."""
        with self._read() as conn:
            return clippings.clusters_by_content_hash(conn, hashes)

    def near_duplicate_candidates(
        self, simhash: int, limit: int = clippings.CANDIDATE_LIMIT
    ) -> list[tuple[int, str, str | None]]:
        """``(simhash, cluster, source_id)`` of stored clippings sharing a
        16-bit band with the unsigned ``simhash``; a superset of those within
        Hamming distance 3, oldest first, at most ``limit``."""
        with self._read() as conn:
            return clippings.near_duplicate_candidates(conn, simhash, limit)

    # -- batched writes ----------------------------------------------------------

    def write_batch(
        self,
        items: Sequence[Clipping],
        outcomes: Sequence[EntryOutcome],
        states: Sequence[FetchStateUpdate],
    ) -> int:
        """Write a batch in ONE transaction: insert ``items`` (skipping those
        whose ``url_hash`` or ``(source_id, entry_key)`` is taken), upsert
        ``outcomes`` into the seen-entry log, apply ``states``.  Returns the
        number of clippings inserted.  Re-running a batch inserts nothing and
        raises nothing; on any error nothing of the batch is written."""
        now = _now()
        with self._write() as conn:
            inserted = clippings.insert_many(conn, items, now)
            entries.upsert(conn, outcomes, now)
            sources.apply_updates(conn, states, now)
        return inserted

    # -- crawl runs --------------------------------------------------------------

    def start_run(self) -> int:
        """Record a crawl run as ``running`` from now; returns its id."""
        with self._write() as conn:
            return runs.start(conn, _now())

    def finish_run(
        self, run_id: int, status: str, stats: Mapping[str, Any], summary: Mapping[str, Any]
    ) -> None:
        """Record how run ``run_id`` ended: ``status`` is one of
        ``finished``, ``failed``, ``interrupted``; ``stats`` (Scrapy's) and
        ``summary`` (per-source counts) are stored as JSON, made JSON-safe."""
        with self._write() as conn:
            runs.finish(conn, run_id, status, stats, summary, _now())

    def recent_runs(self, limit: int = 10) -> list[CrawlRun]:
        """The last ``limit`` crawl runs, newest first."""
        with self._read() as conn:
            return runs.recent(conn, limit)

    # -- clippings ---------------------------------------------------------------

    def iter_clippings(
        self, status: str | None = None, source_id: str | None = None
    ) -> Iterator[tuple[int, Clipping]]:
        """``(id, Clipping)`` pairs ordered by id, optionally only those in
        ``status`` and/or of ``source_id``, streamed in batches.  The
        connection is held until the iterator is exhausted or closed."""
        with self._read() as conn:
            yield from clippings.iter_rows(conn, status, source_id)

    def count_clippings(self, status: str | None = None) -> int:
        """Number of clippings, or of those in ``status``."""
        with self._read() as conn:
            return clippings.count(conn, status)

    def get_clipping(self, clipping_id: int) -> Clipping | None:
        """The clipping with id ``clipping_id``, ``None`` if there is none."""
        with self._read() as conn:
            return clippings.get(conn, clipping_id)
