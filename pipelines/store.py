"""Store: write clippings to the database in batches, one transaction each.

Besides the clippings that reach it, this stage records every entry that was
*dropped* by an earlier stage (off-topic, duplicate, invalid) in the seen-entry
log, through Scrapy's ``item_dropped`` signal, so those articles are never
fetched again.

Ordering contract: a batch is written in one transaction; the spider's fetch
state (feed validators, body hashes, errors, next due times, kept by the
round's `SourceStates`), the retry state of the entries whose article
failed and the pending entries (listed, not fetched: unanswered when the
round stopped, held back, past the cap) are written only at the end of the
round, after the last batch, in one transaction.  The entry log then brings
back exactly what is missing, however the feed answers next round.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any, Self

from scrapy import signals

from pipelines.stage import Stage, Stats
from scraper.context import RoundContext
from scraper.errors import Deferred, Drop
from scraper.items import Clipping
from scraper.source_states import SourceStates
from storage import DatabaseUnavailable, EntryOutcome, FetchStateUpdate, Store
from storage.batches import without_rejected

logger = logging.getLogger(__name__)

#: Clippings per transaction.
BATCH_SIZE = 100
#: A batch waits at most this long (seconds) for more clippings.
BATCH_SECONDS = 5.0


class StoreStage(Stage):
    """Writes to ``store``; counts what it stores and what earlier stages
    dropped in ``states`` (the round's `SourceStates`), and writes its
    final fetch state after the last batch."""

    namespace = "store"

    def __init__(self, store: Store, states: SourceStates, stats: Stats) -> None:
        super().__init__(stats)
        self.store = store
        self.states = states
        self._clippings: list[Clipping] = []
        self._entries: list[EntryOutcome] = []
        self._oldest = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        stage = super().from_crawler(crawler)
        crawler.signals.connect(stage.item_dropped, signal=signals.item_dropped)
        return stage

    @classmethod
    def from_context(cls, context: RoundContext, stats: Stats) -> Self:
        return cls(context.store, context.states, stats)

    def process_item(self, item: Clipping) -> Clipping:
        if not self._clippings:
            self._oldest = time.monotonic()
        self._clippings.append(item)
        self._entries.append(_entry(item, "stored", ""))
        if len(self._clippings) >= BATCH_SIZE or time.monotonic() - self._oldest > BATCH_SECONDS:
            try:
                self.flush()
            except DatabaseUnavailable as exc:
                # The batch stays buffered and is tried again with the next
                # one, or at the end of the round.
                logger.warning(
                    "database unavailable, batch of %d clippings kept for a later try: %s",
                    len(self._clippings),
                    str(exc.orig or exc).splitlines()[0],
                )
        return item

    def item_dropped(self, item: Any, response: Any, exception: Exception, spider: Any) -> None:
        """Scrapy's ``item_dropped`` signal: record the entry's outcome, or,
        for a `Deferred` article (fetched, not judged: the database is
        unavailable), count it as failed, and schedule its entry for the
        next round (`scraper.retries`)."""
        if not isinstance(item, Clipping):
            return
        if isinstance(exception, Deferred):
            self.stats.inc_value("article/deferred")
            self.states.article_failed(
                item, "database", f"unavailable: {exception}", attempts=0, delays=()
            )
            return
        outcome = exception.outcome if isinstance(exception, Drop) else "invalid"
        self._entries.append(_entry(item, outcome, str(exception)))
        if item.source_id:
            self.states.count(item.source_id, outcome)

    def flush(self, states: list[FetchStateUpdate] | None = None) -> None:
        """Write what is buffered (and ``states``) in one transaction."""
        clippings, entries = self._clippings, self._entries
        if not (clippings or entries or states):
            return
        try:
            result = self.store.store_batch(clippings, entries, states or [])
        except Exception:
            # The buffer is kept for the next flush; the round is marked
            # failed, and what never got written is fetched again next round.
            self.count("failed_batches")
            raise
        inserted = result.inserted
        self.count("inserted", inserted)
        self.count("batches")
        stored = len(clippings) - len(result.rejected)
        if inserted < stored:
            self.count("conflicts", stored - inserted)
        for item, cause in result.rejected:
            # One bad row: the rest of the batch is written; this article
            # counts as failed for its source, and is fetched again later.
            self.count("rejected")
            logger.warning("clipping not stored: %s: %s", item.url, cause)
            if item.source_id:
                self.states.count(item.source_id, "failed")
                self.states.errors.setdefault(item.source_id, f"database: not stored: {cause}")
        for item in without_rejected(clippings, result):
            if item.source_id:
                self.states.count(item.source_id, "new")
        self._clippings, self._entries = [], []

    def close_spider(self) -> None:
        try:
            # First: it records the unanswered requests as pending entries.
            final = self.states.final_states()
            self._entries.extend(self.states.entry_outcomes)
            self.states.entry_outcomes = []
            self.flush(states=final)
            # After the flush: a listing page read again has its articles'
            # entries written by now.
            self.store.forget_entries(self.states.listings_read)
        except DatabaseUnavailable as exc:
            # Counted in flush: the round ends failed.  Nothing of the batch
            # was written, so the next round fetches its articles again.
            logger.error(
                "database unavailable, last batch not written (%d clippings): %s",
                len(self._clippings),
                str(exc.orig or exc).splitlines()[0],
            )


def _entry(item: Clipping, outcome: str, reason: str) -> EntryOutcome:
    return EntryOutcome(
        source_id=item.source_id or "",
        entry_key=item.entry_key or item.url_hash or item.url,
        url_hash=item.url_hash,
        outcome=outcome,
        reason=reason[:500],
        seen_at=datetime.now(UTC),
    )
