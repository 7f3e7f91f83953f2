"""Article requests and article pages: the part of the round spider every
source kind shares once its listing is read.

`ArticleMixin.request_articles` takes the entries a listing offers, as base
clippings, skips those dated before the source's ``since`` window, asks
storage which are already known (one query per listing) and requests only
the articles of new entries.  `ArticleMixin.parse_article` reads each
article page in the extraction process pool (`ExtractionPool`: block
checks, extraction, normalization, topic matches and excerpt, each page
within ``crawl.extract_timeout``; the reactor thread only waits) and yields
one `Clipping` per article.  Every request is settled in the round's
`scraper.source_states.SourceStates`: a failed one is recorded on its
entry with its retry state (`scraper.retries`), and `retry_requests`
brings it back in the round it is due.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from config import Source
from scraper.blocks import Block
from scraper.errors import Drop, classify_failure
from scraper.extraction_pool import ExtractionPool, Page, Reading
from scraper.items import Clipping
from scraper.spiders.responses import SourceReader, blocked_response, headers
from scraper.urls import canonical_url, url_hash

logger = logging.getLogger(__name__)


class ArticleMixin(SourceReader):
    """Article requests and pages of the round spider (see the module
    docstring).  ``pool`` is set by the spider."""

    pool: ExtractionPool
    _seen_hashes: set[str]
    _requested: Counter[str]
    frontier: Any

    def _claimed(self, hashed: str) -> bool:
        """Whether this round may request the article whose canonical URL
        hashes to ``hashed``: always in one process; in a cluster, only the
        first worker to ask (`scraper.frontier.Frontier.claim_url`)."""
        return self.frontier is None or self.frontier.claim_url(hashed)

    def request_articles(self, source: Source, bases: list[Clipping]) -> list[scrapy.Request]:
        """Article requests for the entries a source offers, each given as
        its base `Clipping` (``url``, ``entry_key``, ``source_id``, ``outlet``
        and what the listing says, such as title and date).

        Skipped without a request: entries dated (``published_at``) before
        the source's window; entries storage knows by key or URL (one query
        each); URLs already requested this round (by any worker of a
        cluster); and, past
        ``max_articles_per_source`` this round, the rest (the source's
        validators are then dropped, so the next round reads it again)."""
        stats = self.crawler.stats
        states = self.context.states
        start = self.context.windows.get(source.id)
        if start is not None:
            fresh = [b for b in bases if b.published_at is None or b.published_at >= start]
            stats.inc_value("window/skipped_unfetched", len(bases) - len(fresh))
            bases = fresh
        keyed = [(b, url_hash(canonical_url(b.url))) for b in bases]
        known_keys, known_hashes = self.context.store.known_entries(
            source.id, [b.entry_key or b.url for b in bases], [h for _, h in keyed]
        )
        limit = self.context.config.settings.crawl.max_articles_per_source
        requests = []
        for base, hashed in keyed:
            if (base.entry_key or base.url) in known_keys or hashed in known_hashes:
                stats.inc_value("feed/entries_known")
                continue
            repeated = hashed in self._seen_hashes
            if not repeated and self._requested[source.id] >= limit:
                stats.inc_value("feed/entries_deferred")
                states.read_again(source.id)
                continue
            if repeated or not self._claimed(hashed):
                states.count(source.id, "duplicate")
                stats.inc_value("feed/entries_repeated")
                continue
            self._seen_hashes.add(hashed)
            self._requested[source.id] += 1
            states.article_requested(source.id)
            requests.append(self._article_request(base, source))
        stats.inc_value("feed/articles_requested", len(requests))
        return requests

    def listing_failed(self, failure: Any) -> None:
        """Errback of a child sitemap or a further listing page: the source
        still read, but the next round reads it whole again."""
        source: Source = failure.request.meta["source"]
        kind, message = classify_failure(failure)
        self.crawler.stats.inc_value(f"{source.kind}/failed/{kind}")
        logger.warning(
            "listing fetch failed: %s",
            message,
            extra={"source": source.id, "url": failure.request.url},
        )
        self.context.states.article_done(source.id, failed=f"{kind}: {message}")

    async def parse_article(self, response: Response) -> AsyncIterator[Clipping]:
        base: Clipping = response.meta["clipping"]
        source: Source = response.meta["source"]
        states = self.context.states
        states.article_answered(base.source_id or "")
        entry_url, base.url = base.url, response.url
        page = Page(
            url=response.url,
            body=response.body,
            status=response.status,
            headers=headers(response),
            base=base,
            topics=tuple(source.topics),
        )
        # Everything CPU-heavy happens in the pool (block checks, extraction,
        # normalization, topics, excerpt); this thread only waits.
        try:
            reading = await self.pool.read(page)
        except Exception as exc:  # a hostile page must not end the round
            reading = Reading(error=f"{exc.__class__.__name__}: {exc}")
        if reading.block is not None and reading.clipping is None:
            self._blocked(base, entry_url, reading.block, response)
            return
        if reading.block is not None:
            self.crawler.stats.inc_value(f"article/flagged/{reading.block.kind}")
        if reading.clipping is None:
            self.crawler.stats.inc_value("article/failed/parse_error")
            logger.warning(
                "article unreadable: %s",
                reading.error,
                extra={"source": base.source_id, "url": response.url},
            )
            self._article_failed(response.meta, base, "parse_error", str(reading.error))
            return
        clipping = reading.clipping
        clipping.fetched_at = datetime.now(UTC)
        yield clipping

    def _blocked(self, base: Clipping, entry_url: str, block: Block, response: Any) -> None:
        """Settle an entry whose page is a block page: logged as ``blocked``
        in the seen-entry log (never fetched again, never stored as the
        article), with the reason and the URL for the curator to fetch by
        hand, the same way a pipeline stage's drop is recorded."""
        source_id = base.source_id or ""
        reason = f"blocked_page: {block} at {response.url}"
        base.url_hash = url_hash(canonical_url(entry_url))
        self.crawler.stats.inc_value(f"article/blocked/{block.kind}")
        self.context.states.errors.setdefault(source_id, reason)
        logger.warning("%s", reason, extra={"source": source_id, "url": response.url})
        self.crawler.signals.send_catch_log(
            signal=scrapy.signals.item_dropped,
            item=base,
            response=response,
            exception=Drop(reason, "blocked"),
            spider=self,
        )

    def article_failed(self, failure: Any) -> None:
        base: Clipping = failure.request.meta["clipping"]
        states = self.context.states
        states.article_answered(base.source_id or "")
        kind, message = classify_failure(failure)
        block = blocked_response(failure)
        if block is not None:
            self._blocked(base, base.url, block, failure.value.response)
            return
        self.crawler.stats.inc_value(f"article/failed/{kind}")
        if kind == "robots":
            # The site asks not to be fetched there: no failure to retry.
            states.count(base.source_id or "", "blocked")
            return
        logger.warning(
            "article fetch failed: %s",
            message,
            extra={"source": base.source_id, "url": failure.request.url},
        )
        self._article_failed(failure.request.meta, base, kind, message)

    def _article_failed(
        self, meta: dict[str, Any], base: Clipping, kind: str, message: str
    ) -> None:
        self.context.states.article_failed(
            base,
            kind,
            message,
            attempts=meta.get("attempts", 0),
            delays=self.context.config.settings.crawl.article_retry_delays,
        )

    def retry_requests(self, sources: list[Source], now: datetime) -> list[scrapy.Request]:
        """Requests for the failed entries of ``sources`` whose retry is due
        at ``now`` (`storage.Store.due_retries`): the entry log brings them
        back whether or not their feed lists them again, or changed."""
        by_id = {s.id: s for s in sources}
        requests = []
        for entry in self.context.store.due_retries(list(by_id), now):
            source = by_id[entry.source_id]
            base = Clipping.from_dict(entry.listing or {}) if entry.listing else None
            if base is None or not base.url:
                base = Clipping(url=entry.url, source_id=source.id, outlet=source.outlet)
            base.url, base.entry_key = entry.url, entry.entry_key
            hashed = url_hash(canonical_url(entry.url))
            if hashed in self._seen_hashes or not self._claimed(hashed):
                continue
            self._seen_hashes.add(hashed)
            self.context.states.article_requested(source.id)
            requests.append(self._article_request(base, source, attempts=entry.attempts))
        self.crawler.stats.inc_value("article/retries_due", len(requests))
        return requests

    def _article_request(
        self, base: Clipping, source: Source, attempts: int = 0
    ) -> scrapy.Request:
        return scrapy.Request(
            base.url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={"clipping": base, "source": source, "attempts": attempts},
            # Repeats are skipped by the callers; Scrapy's own filter would
            # silently swallow a redirect loop (no callback, no errback)
            # instead of failing it at REDIRECT_MAX_TIMES.
            dont_filter=True,
        )
