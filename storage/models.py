"""The tables, as SQLAlchemy Core metadata: exactly what the migrations create.

A test compares this metadata with a migrated database, so a change here needs
a new migration in ``storage/migrations/versions/``.

Column conventions:

* datetimes are `UTCDateTime`: stored in UTC, read back timezone-aware UTC on
  every backend, and a naive datetime is refused on the way in;
* ``clippings.simhash`` is `SignedInt64`: the unsigned 64-bit SimHash of a
  `Clipping` kept in a signed ``BIGINT``; ``sim_b0`` .. ``sim_b3`` hold its
  four 16-bit bands (``sim_b0`` the lowest bits), each indexed: two hashes
  within Hamming distance 3 agree exactly on at least one band, so a band
  lookup finds every near-duplicate candidate;
* ``source_id`` in ``clippings`` and ``entries`` is deliberately not a
  foreign key: clippings and the seen-entry log outlive a source dropped from
  the config, and hand-imported clippings have no source;
* ``clipping_topics`` repeats each clipping's ``topics`` list as rows, with
  the clipping's ``source_id``, ``status`` and ``created_at`` beside them,
  so that "the newest new clippings of a topic", of all sources or of one,
  is one index range (a JSON list cannot be indexed); storage writes it with
  the clipping and keeps ``status`` equal to the clipping's on every status
  change (``source_id`` and ``created_at`` never change).

Full-text search is not in this metadata: it is dialect-specific (an FTS5
table kept in step by triggers on SQLite, a generated ``tsvector`` column
with a GIN index on PostgreSQL; see migration 0003 and `storage.search`).
`include_name` and `include_object` tell a model-vs-database comparison to
pass over it, and over APScheduler's job table, which its own code creates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.types import TypeDecorator

_UNSIGNED_64 = 1 << 64
_SIGN_BIT = 1 << 63


#: Stored datetimes fall in these years: beyond them a date is a typo or a
#: placeholder (0001-01-01, 9999-12-31), and at the very ends of Python's
#: range a change of offset overflows.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def storable_datetime(value: datetime, what: str = "date") -> datetime:
    """``value`` as an aware UTC datetime; `ValueError` naming ``what`` and
    the cause when it is naive or not within `FIRST_YEAR`..`LAST_YEAR`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime {value!r}: presscut stores aware datetimes only")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise ValueError(
            f"{what}: {value.isoformat()} is outside the years {FIRST_YEAR}-{LAST_YEAR}"
        )
    return utc


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always yields aware UTC datetimes.

    SQLite has no time zones: values are stored as naive UTC text (whose
    lexical order is time order) and given ``tzinfo=UTC`` when read."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = storable_datetime(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class SignedInt64(TypeDecorator[int]):
    """An unsigned 64-bit int kept in a signed ``BIGINT`` (two's complement)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Any) -> int | None:
        if value is None:
            return None
        if not 0 <= value < _UNSIGNED_64:
            raise ValueError(f"{value} is not an unsigned 64-bit integer")
        return value - _UNSIGNED_64 if value >= _SIGN_BIT else value

    def process_result_value(self, value: int | None, dialect: Any) -> int | None:
        if value is None:
            return None
        return value + _UNSIGNED_64 if value < 0 else value


def simhash_bands(simhash: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of an unsigned 64-bit SimHash, lowest bits first."""
    return (
        simhash & 0xFFFF,
        (simhash >> 16) & 0xFFFF,
        (simhash >> 32) & 0xFFFF,
        (simhash >> 48) & 0xFFFF,
    )


# Explicit names keep constraints and indexes identical between the models,
# the migration and every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Configured sources (config fields, kept in step by ``sync_sources``) and
#: their fetch state (written by the crawl).
sources = Table(
    "sources",
    metadata,
    Column("id", Text, primary_key=True),
    Column("outlet", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("language", Text),
    Column("poll_interval_s", Float, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", Text),
    Column("last_fetch_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_error_at", UTCDateTime()),
    Column("last_error", Text),
    Column("last_error_kind", Text),
    Column("failure_score", Float, nullable=False),
    Column("next_due_at", UTCDateTime(), index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Migration 0004: a source disabled on the desk is not polled.
    Column("paused", Boolean, nullable=False, server_default=false()),
)

#: One row per stored article; the columns named after `Clipping` fields
#: hold those fields.
clippings = Table(
    "clippings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("source_id", Text),
    Column("outlet", Text),
    Column("canonical_url", Text),
    Column("url_hash", Text, nullable=False),
    Column("entry_key", Text),
    Column("feed_url", Text),
    Column("title", Text),
    Column("title_from", Text),
    Column("headline", Text),
    Column("authors", JSON, nullable=False),
    Column("authors_raw", Text),
    Column("authors_from", Text),
    Column("published_at", UTCDateTime()),
    Column("published_raw", Text),
    Column("published_from", Text),
    Column("language", Text),
    Column("language_from", Text),
    Column("text", Text, nullable=False),
    Column("text_from", Text),
    Column("excerpt", Text),
    Column("excerpt_from", Text),
    Column("topics", JSON, nullable=False),
    Column("matched_terms", JSON, nullable=False),
    Column("content_hash", Text, index=True),
    Column("simhash", SignedInt64()),
    Column("sim_b0", Integer, index=True),
    Column("sim_b1", Integer, index=True),
    Column("sim_b2", Integer, index=True),
    Column("sim_b3", Integer, index=True),
    Column("cluster", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("fetched_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Added by migration 0002 (review and publishing):
    Column("via", Text),
    Column("excerpt_paraphrased", Boolean, nullable=False, server_default=false()),
    Column("rejection_reason", Text),
    Column("posted_at", UTCDateTime(), index=True),
    Column("reviewed_at", UTCDateTime()),
    # Migration 0004: bumped by every edit; a save from a stale copy is refused.
    Column("version", Integer, nullable=False, server_default=text("1")),
    # Migration 0006: why the text is not (all of) the article (TEXT_FLAGS).
    Column("flags", JSON, nullable=False, server_default=text("'[]'")),
    # Migration 0009: every credit candidate with its provenance and the
    # confidence of each pick; the doubtful fields; the agency credit.
    Column("candidates", JSON, nullable=False, server_default=text("'{}'")),
    Column("doubts", JSON, nullable=False, server_default=text("'[]'")),
    Column("credit", Text),
    UniqueConstraint("url_hash"),
    UniqueConstraint("source_id", "entry_key"),
    # Migration 0003: the review page, newest first, all sources or one
    # (the id breaks ties between clippings of one batch).
    Index(None, "status", "created_at", "id"),
    Index(None, "source_id", "status", "created_at", "id"),
    # Members of a cluster and whether any is decided, without the row.
    Index(None, "cluster", "status"),
    # A digest period's live articles: dated ones by their date, undated
    # ones by their fetch date.
    Index(None, "status", "published_at"),
    Index(
        "ix_clippings_status_fetched_at_undated",
        "status",
        "fetched_at",
        sqlite_where=text("published_at IS NULL"),
        postgresql_where=text("published_at IS NULL"),
    ),
)

#: Each clipping's topics, one row per (clipping, topic); ``status``,
#: ``created_at`` and (migration 0008) ``source_id`` are the clipping's (see
#: the module docstring).
clipping_topics = Table(
    "clipping_topics",
    metadata,
    Column("clipping_id", Integer, ForeignKey("clippings.id", ondelete="CASCADE"), nullable=False),
    Column("topic", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("source_id", Text),
    PrimaryKeyConstraint("clipping_id", "topic"),
    # A topic's newest clippings in a state, of all sources, or of one.
    Index(None, "topic", "status", "created_at", "clipping_id"),
    # Named in full: the convention's name passes PostgreSQL's 63 characters.
    Index(
        "ix_clipping_topics_topic_source_id_status_created_at",
        "topic",
        "source_id",
        "status",
        "created_at",
        "clipping_id",
    ),
)

#: The seen-entry log: every feed entry a source has offered and what became
#: of it, so that a known entry's article is never fetched again.
entries = Table(
    "entries",
    metadata,
    Column("source_id", Text, nullable=False),
    Column("entry_key", Text, nullable=False),
    Column("url_hash", Text, index=True),
    Column("outcome", Text, nullable=False),
    Column("reason", Text),
    Column("seen_at", UTCDateTime(), nullable=False),
    # Migration 0005: the retry state of an entry whose article failed.
    Column("url", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("retry_at", UTCDateTime(), index=True),
    Column("listing", JSON),
    # The primary key is the unique (source_id, entry_key) pair.
    PrimaryKeyConstraint("source_id", "entry_key"),
)

#: One row per crawl round.
crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("status", Text, nullable=False),
    Column("stats", JSON),
    Column("summary", JSON),
)

#: The curator's choice of the clipping a syndication cluster is cited by
#: (without one, the earliest approved member is cited).
cluster_citations = Table(
    "cluster_citations",
    metadata,
    Column("cluster", Text, primary_key=True),
    Column("clipping_id", Integer, ForeignKey("clippings.id", ondelete="CASCADE"), nullable=False),
    Column("chosen_at", UTCDateTime(), nullable=False),
)

#: What went out: a clipping's post or a digest, on the publication's own
#: record (``target`` "site") or as a copy on a WordPress site (``target``
#: "wordpress:<site URL>", ``copy_of`` the site record it copies).
publications = Table(
    "publications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("posted_at", UTCDateTime(), nullable=False, index=True),
    Column("period_start", UTCDateTime()),
    Column("period_end", UTCDateTime()),
    Column("copy_of", Integer, ForeignKey("publications.id", ondelete="CASCADE")),
    Column("remote_id", Text),
    Column("remote_status", Text),
    Column("remote_url", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("target", "copy_of"),
    Index(None, "target", "kind", "period_end"),
)

#: The clippings a publication cites, in order.  One syndication cluster goes
#: out at most once per target and kind: the unique key is what makes
#: publishing twice by accident impossible.
publication_items = Table(
    "publication_items",
    metadata,
    Column(
        "publication_id",
        Integer,
        ForeignKey("publications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("clipping_id", Integer, ForeignKey("clippings.id"), nullable=False, index=True),
    Column("cluster", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("kind", Text, nullable=False),
    PrimaryKeyConstraint("publication_id", "position"),
    UniqueConstraint("target", "kind", "cluster"),
)


#: Desk accounts (migration 0004).  ``failed_logins`` counts wrong passwords
#: since the last good one; ``locked_until`` ends a lockout.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("name"),
)

#: Who did what to which clipping, and when: approve, reject, edit, cite,
#: publish and the desk's other actions.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("user_name", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("clipping_id", Integer),
    Column("detail", JSON),
    Index(None, "clipping_id", "id"),
)

#: Secrets made once per database (the desk's cookie signing key).
desk_keys = Table(
    "desk_keys",
    metadata,
    Column("name", Text, primary_key=True),
    Column("secret", Text, nullable=False),
)

#: Each host's last robots.txt answer, kept between rounds (migration 0007,
#: `storage.robots`).
robots_txt = Table(
    "robots_txt",
    metadata,
    Column("host", Text, primary_key=True),
    Column("status", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("lifetime_s", Float, nullable=False),
)


#: Tables in the database that this metadata leaves out: APScheduler's job
#: store and the SQLite full-text index (its shadow tables share the prefix).
UNMODELLED_TABLES = ("scheduler_jobs", "clippings_fts")
#: ``(table, column)`` and index names left out: PostgreSQL's full-text search.
UNMODELLED_COLUMNS = (("clippings", "search_vector"),)
UNMODELLED_INDEXES = ("ix_clippings_search_vector",)


def _unmodelled_table(name: str | None) -> bool:
    return any(name == t or (name or "").startswith(f"{t}_") for t in UNMODELLED_TABLES)


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic ``include_name`` hook: False for tables outside `metadata`."""
    return not (type_ == "table" and _unmodelled_table(name))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic ``include_object`` hook: False for the objects outside
    `metadata` (`UNMODELLED_TABLES`, `UNMODELLED_COLUMNS`,
    `UNMODELLED_INDEXES`)."""
    if type_ == "table":
        return not _unmodelled_table(name)
    if type_ == "column":
        return (obj.table.name, name) not in UNMODELLED_COLUMNS
    if type_ == "index":
        return name not in UNMODELLED_INDEXES
    return True
