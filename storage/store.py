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

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from scraper.items import Clipping
from storage import (
    batches,
    bulk,
    clippings,
    entries,
    footprint,
    health,
    housekeeping,
    locks,
    publishing,
    review,
    robots,
    runs,
    schema,
    search,
    sources,
)
from storage.batches import BatchResult
from storage.engine import DEFAULT_URL, WRITE, make_engine
from storage.entries import EntryOutcome, RetryEntry
from storage.footprint import Footprint
from storage.health import Activity, SourceHealth
from storage.publishing import SITE, Publication
from storage.review import QueueEntry
from storage.robots import RobotsCopy
from storage.runs import CrawlRun
from storage.search import SearchHit
from storage.sources import FetchState, FetchStateUpdate, SourceRow, SourceSpec

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: PostgreSQL advisory lock key held while migrating (any constant unique to presscut).
#: Attempts at a migration that SQLite refuses as locked.
_UPGRADE_TRIES = 5
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
        for attempt in range(1, _UPGRADE_TRIES + 1):
            try:
                self._upgrade_once(revision)
                return
            except OperationalError as exc:
                # SQLite may refuse the switch to WAL, or the write lock,
                # without waiting, while another process migrates the same
                # new file; the upgrade is idempotent, so take turns.
                if "locked" not in str(exc) or attempt == _UPGRADE_TRIES:
                    raise
                time.sleep(0.2 * attempt)

    def _upgrade_once(self, revision: str) -> None:
        # Alembic (and Mako, Pygments under it) costs ~0.15 s to import:
        # only a process that migrates should pay it.
        from alembic import command
        from alembic.config import Config

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

    def has_schema(self) -> bool:
        """Whether the database was ever migrated (see `storage.schema`);
        connects, so a database that cannot be reached raises here."""
        with self._read() as conn:
            return schema.has_schema(conn)

    def integrity_problems(self) -> list[str]:
        """What is wrong with the database file, if anything (see
        `storage.schema.integrity_problems`)."""
        with self._read() as conn:
            return schema.integrity_problems(conn)

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

    def due_retries(self, source_ids: Iterable[str], now: datetime) -> list[RetryEntry]:
        """Failed entries of ``source_ids`` whose retry is due at ``now``
        (see `storage.entries.due_retries`)."""
        with self._read() as conn:
            return entries.due_retries(conn, source_ids, now)

    def forget_entries(self, keys: Iterable[tuple[str, str]]) -> None:
        """Remove seen-entry rows by ``(source_id, entry_key)`` (see
        `storage.entries.forget`)."""
        with self._write() as conn:
            entries.forget(conn, keys)

    def retry_counts(self, source_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """``source_id -> (entries waiting for a retry, entries given up)``."""
        with self._read() as conn:
            return entries.retry_counts(conn, source_ids)

    # -- robots.txt ------------------------------------------------------------

    def robots_copy(self, host: str) -> RobotsCopy | None:
        """The stored robots.txt of ``host`` (``scheme://host[:port]``), or
        ``None`` (see `storage.robots`)."""
        with self._read() as conn:
            return robots.get(conn, host)

    def save_robots_copy(self, copy: RobotsCopy) -> None:
        """Save ``copy`` over its host's earlier one, in one transaction."""
        with self._write() as conn:
            robots.put(conn, copy)

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
        raises nothing.  A clipping the database refuses is left out, the
        others written (see `store_batch`); when the database itself fails
        (`DatabaseUnavailable`) nothing of the batch is written."""
        return self.store_batch(items, outcomes, states).inserted

    def store_batch(
        self,
        items: Sequence[Clipping],
        outcomes: Sequence[EntryOutcome],
        states: Sequence[FetchStateUpdate],
    ) -> BatchResult:
        """`write_batch`, telling which clippings were refused and why (see
        `storage.batches`)."""
        now = _now()
        with self._write() as conn:
            return batches.write(conn, items, outcomes, states, now)

    def bulk_load(
        self,
        items: Iterable[Clipping],
        batch_size: int = bulk.BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Insert many clippings fast: as `write_batch` inserts them, in
        transactions of ``batch_size``, on a connection tuned for loading
        (see `storage.bulk`).  ``progress`` gets the count read so far after
        each batch.  Returns the number inserted."""
        with self._writer.connect() as conn:
            return bulk.load(conn, items, _now, batch_size, progress)

    def footprint(self) -> Footprint:
        """Bytes the database takes, in all and per table with its indexes
        (see `storage.footprint`; on SQLite the WAL is checkpointed first)."""
        with self.engine.connect() as conn:
            return footprint.measure(conn)

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

    def abandon_runs(self, status: str, reason: str, started_after: datetime | None = None) -> int:
        """Record runs still ``running`` (started after ``started_after``,
        when given) as ended now with ``status`` and ``reason``, for runs
        whose process is gone (see `storage.housekeeping.abandon_runs`)."""
        with self._write() as conn:
            return housekeeping.abandon_runs(conn, _now(), status, reason, started_after)

    def round_lock(self) -> AbstractContextManager[bool]:
        """The round lock, tried without waiting: ``with store.round_lock()
        as held:`` (see `storage.locks`)."""
        return locks.round_lock(self.engine)

    # -- source health (see storage.health) --------------------------------------

    def publishing_activity(
        self, source_ids: Iterable[str], now: datetime, window_s: float
    ) -> dict[str, Activity]:
        """How often each of ``source_ids`` published over the ``window_s``
        seconds before ``now``, by id (stored sources only)."""
        with self._read() as conn:
            return health.activity(conn, source_ids, now, window_s)

    def source_health(
        self, now: datetime, window_s: float, source_ids: Sequence[str] | None = None
    ) -> list[SourceHealth]:
        """Health of every stored source (or of ``source_ids``) at ``now``, by id."""
        with self._read() as conn:
            return health.source_health(conn, now, window_s, source_ids)

    def prune_entries(
        self, before: datetime, outcomes: Iterable[str] = housekeeping.PRUNABLE
    ) -> int:
        """Delete seen-entry rows of ``outcomes`` first seen before ``before``
        (see `storage.housekeeping.prune_entries`); returns how many."""
        with self._write() as conn:
            return housekeeping.prune_entries(conn, before, outcomes)

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

    # -- review (see storage.review) ---------------------------------------------

    def review_queue(self, limit: int | None = None) -> list[QueueEntry]:
        """Undecided clusters, one `QueueEntry` each, oldest article first."""
        with self._read() as conn:
            return review.queue(conn, limit)

    def review_queue_page(
        self,
        topic: str | None = None,
        source_id: str | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> list[tuple[int, Clipping]]:
        """A page of new clippings in undecided clusters, newest first, of
        ``topic`` and/or ``source_id``; ``before`` is the last id of the
        previous page (see `storage.review.page`)."""
        with self._read() as conn:
            return review.page(conn, topic, source_id, limit, before)

    def search(
        self,
        query: str,
        limit: int = 50,
        status: str | None = None,
        source_id: str | None = None,
    ) -> list[SearchHit]:
        """Clippings whose title and text hold every word of ``query``
        (plain words, never search syntax), best match first, at most
        ``limit``; optionally only in ``status`` / of ``source_id`` (see
        `storage.search`)."""
        with self._read() as conn:
            return search.search(conn, query, limit, status, source_id)

    def approve(self, ids: Iterable[int]) -> list[int]:
        """Approve clippings ``ids``; `storage.review.ReviewError` for an
        unknown or published one (then nothing changes)."""
        with self._write() as conn:
            return review.approve(conn, ids, _now())

    def reject(self, ids: Iterable[int], reason: str) -> list[int]:
        """Reject clippings ``ids`` with ``reason``; refused as for `approve`."""
        with self._write() as conn:
            return review.reject(conn, ids, reason, _now())

    def edit_clipping(
        self, clipping_id: int, changes: Mapping[str, Any], correction: bool = False
    ) -> Clipping:
        """Store a curator's edit (fields in `storage.review.EDITABLE`); a
        published clipping only as a ``correction`` (see `storage.review.edit`)."""
        with self._write() as conn:
            return review.edit(conn, clipping_id, changes, _now(), correction)

    def cite(self, clipping_id: int) -> str:
        """Make ``clipping_id`` its cluster's citation; returns the cluster."""
        with self._write() as conn:
            return review.cite(conn, clipping_id, _now())

    # -- publications (see storage.publishing) -----------------------------------

    def pending_entries(
        self,
        target: str,
        kind: str,
        ids: Sequence[int] | None = None,
        period: tuple[datetime | None, datetime] | None = None,
    ) -> list[tuple[int, Clipping]]:
        """One cited ``(id, Clipping)`` per cluster still to go out on
        ``target`` as ``kind``; with ``period``, only clusters with a live
        member dated in it (see `storage.publishing.pending`)."""
        with self._read() as conn:
            return publishing.pending(conn, target, kind, ids, period)

    def cited_entries(self) -> list[tuple[int, Clipping]]:
        """One cited ``(id, Clipping)`` per approved or published cluster."""
        with self._read() as conn:
            return publishing.cited(conn)

    def record_publication(self, **fields: Any) -> int:
        """Store a publication (see `storage.publishing.record`); raises
        `storage.publishing.AlreadyPublished` and writes nothing when a
        cluster already went out there.  The clippings of a site digest
        become ``published``."""
        now = _now()
        with self._write() as conn:
            pub_id = publishing.record(conn, now=now, **fields)
            if fields.get("kind") == "digest" and fields.get("target") == SITE:
                publishing.mark_published(conn, [i for i, _ in fields["items"]], now)
            return pub_id

    def record_posts(self, posts: Sequence[tuple[int, Clipping, datetime]]) -> list[int]:
        """Record each ``(id, clipping, posted_at)`` as a post on the site
        and mark the clipping published, all in one transaction."""
        now = _now()
        with self._write() as conn:
            ids = [
                publishing.record(
                    conn,
                    kind="post",
                    target=SITE,
                    title=clipping.headline or clipping.title or clipping.url,
                    posted_at=posted_at,
                    items=[(clipping_id, clipping.cluster or clipping.url_hash or "")],
                    now=now,
                )
                for clipping_id, clipping, posted_at in posts
            ]
            publishing.mark_posted(conn, [(i, when) for i, _, when in posts], now)
        return ids

    def retitle_posts(self, clipping_id: int, title: str) -> int:
        """Re-title the posts of a clipping (see
        `storage.publishing.retitle_posts`); how many changed."""
        with self._write() as conn:
            return publishing.retitle_posts(conn, clipping_id, title, _now())

    def update_remote_copy(
        self, publication_id: int, *, status: str, url: str | None, copy_of: int | None = None
    ) -> None:
        """Record a remote copy's new status and URL."""
        with self._write() as conn:
            publishing.update_remote(
                conn, publication_id, _now(), status=status, url=url, copy_of=copy_of
            )

    def publication(self, publication_id: int) -> Publication | None:
        """The publication ``publication_id``, if any."""
        with self._read() as conn:
            return publishing.get(conn, publication_id)

    def publications(
        self, target: str = SITE, kind: str | None = None, since: datetime | None = None
    ) -> list[Publication]:
        """Publications on ``target``, newest first."""
        with self._read() as conn:
            return publishing.listing(conn, target, kind, since)

    def digest_for_period(self, start: datetime | None, end: datetime) -> Publication | None:
        """The site digest covering exactly ``[start, end)``, if any."""
        with self._read() as conn:
            return publishing.digest_for_period(conn, start, end)

    def last_digest_end(self) -> datetime | None:
        """End of the latest period a site digest covered."""
        with self._read() as conn:
            return publishing.last_digest_end(conn)

    def published_by_cluster(
        self, target: str, kind: str, clusters: Iterable[str]
    ) -> dict[str, Publication]:
        """``cluster -> publication`` of those already out on ``target``."""
        with self._read() as conn:
            return publishing.by_cluster(conn, target, kind, clusters)

    def remote_copies(self, target: str) -> dict[int, Publication]:
        """``site publication id -> copy on target``."""
        with self._read() as conn:
            return publishing.copies(conn, target)

    def clippings_by_id(self, ids: Iterable[int]) -> dict[int, Clipping]:
        """``id -> Clipping`` for those of ``ids`` that exist."""
        with self._read() as conn:
            return publishing.clippings_by_id(conn, ids)

    def clipping_ids_by_url_hash(self, hashes: Iterable[str]) -> dict[str, int]:
        """``url_hash -> id`` of stored clippings among ``hashes``."""
        with self._read() as conn:
            return publishing.ids_by_url_hash(conn, hashes)
