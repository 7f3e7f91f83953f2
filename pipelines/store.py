"""Store: write clippings to the database in batches, one transaction each.

Besides the clippings that reach it, this stage records every entry that was
*dropped* by an earlier stage (off-topic, duplicate, invalid) in the seen-entry
log, through Scrapy's ``item_dropped`` signal, so those articles are never
fetched again.

Ordering contract: a batch is written in one transaction; the spider's fetch
state (feed validators, body hashes, errors, next due times) is written only
at the end of the round, after the last batch.  A round killed midway
therefore never marks a feed as seen while some of its articles are unstored:
the next round re-reads the feed and fetches exactly what is missing.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from scrapy import signals

from pipelines.stage import Deferred, Stage
from scraper.items import Clipping
from storage import DatabaseUnavailable, EntryOutcome
from storage.batches import without_rejected

logger = logging.getLogger(__name__)

#: Clippings per transaction.
BATCH_SIZE = 100
#: A batch waits at most this long (seconds) for more clippings.
BATCH_SECONDS = 5.0


class StoreStage(Stage):
    namespace = "store"

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._clippings: list[Clipping] = []
        self._entries: list[EntryOutcome] = []
        self._oldest = 0.0
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @property
    def spider(self) -> Any:
        return self.crawler.spider

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
        if isinstance(exception, Deferred):
            if isinstance(item, Clipping) and hasattr(self.spider, "article_deferred"):
                self.spider.article_deferred(item, str(exception))
            return
        outcome = getattr(exception, "outcome", "invalid")
        if isinstance(item, Clipping):
            self._entries.append(_entry(item, outcome, str(exception)))
            if item.source_id:
                self.spider.summary[item.source_id][outcome] += 1

    def flush(self, states: list[Any] | None = None) -> None:
        """Write what is buffered (and ``states``) in one transaction."""
        clippings, entries = self._clippings, self._entries
        if not (clippings or entries or states):
            return
        try:
            result = self.spider.store.store_batch(clippings, entries, states or [])
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
                self.spider.summary[item.source_id]["failed"] += 1
                errors = getattr(self.spider, "errors", {})  # the round's first error per source
                errors.setdefault(item.source_id, f"database: not stored: {cause}")
        for item in without_rejected(clippings, result):
            if item.source_id:
                self.spider.summary[item.source_id]["new"] += 1
        self._clippings, self._entries = [], []

    def close_spider(self) -> None:
        # Spiders that store nothing (``sources check``) carry no fetch state.
        if not hasattr(self.spider, "store"):
            return
        final_states = getattr(self.spider, "final_states", None)
        try:
            self.flush(states=final_states() if final_states else [])
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
