"""presscut's storage: SQLAlchemy tables, the engine, named queries and
Alembic migrations.  All of the project's SQL lives in this package; the rest
of presscut calls `Store` methods and gets plain values back.

    store = open_store("sqlite:///data/presscut.db")
    store.upgrade()
    inserted = store.write_batch(clippings, entry_outcomes, fetch_state_updates)
    store.close()

Modules: ``engine`` (URL -> tuned engine), ``models`` (tables),
``sources`` / ``entries`` / ``clippings`` / ``runs`` / ``robots`` (queries
per table),
``review`` (the queue and curators' decisions), ``publishing`` (what went
out, so nothing goes out twice), ``search`` (full-text search), ``bulk``
(loading many clippings), ``footprint`` (bytes per table),
``store`` (the `Store` facade), ``migrations/`` (Alembic).

`DatabaseUnavailable` is what a `Store` method raises when the database
cannot be reached or used just now (gone, refusing connections, locked):
the caller may retry later; nothing of that call was written.
"""

from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from scraper.items import OUTCOMES, RETRY_OUTCOMES
from storage.entries import EntryOutcome, RetryEntry
from storage.publishing import SITE, AlreadyPublished, Publication
from storage.review import QueueEntry, ReviewError
from storage.robots import RobotsCopy
from storage.runs import RUN_STATUSES, CrawlRun
from storage.sources import (
    UNCHANGED,
    FetchState,
    FetchStateUpdate,
    SourceRow,
    SourceSpec,
    Unchanged,
)
from storage.store import Store, open_store

__all__ = [
    "OUTCOMES",
    "RETRY_OUTCOMES",
    "RUN_STATUSES",
    "SITE",
    "UNCHANGED",
    "AlreadyPublished",
    "CrawlRun",
    "DatabaseUnavailable",
    "EntryOutcome",
    "FetchState",
    "FetchStateUpdate",
    "Publication",
    "QueueEntry",
    "RetryEntry",
    "ReviewError",
    "RobotsCopy",
    "SourceRow",
    "SourceSpec",
    "Store",
    "Unchanged",
    "open_store",
]
