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
entry with its retry state (`scraper.retries`), one not fetched this round
(past the per-round cap, held back by the round budget, unanswered when
the round stopped) as ``pending``, and `retry_requests` brings both back
in the round they are due.

Pages that are not the article (`scraper.blocks`):

* a bot challenge puts the article off to the next round, twice
  (`scraper.retries.challenged`); challenged a third time, it is stored
  flagged ``blocked`` like any other wall;
* a wall (an "access denied" page, a cookie wall, a challenge that stays,
  or a 401, 403 or 451 answer, with or without a block page) stores the
  article flagged from what its listing said (``blocked``; ``paywalled``
  for a paywall teaser): it waits under "needs text";
* a soft 404 (a "page not found" answered 200) is the article gone, as a
  404 is: its entry is given up with the reason, never fetched again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from config import Source
from scraper import retries
from scraper.authors import merge_names, parse_byline
from scraper.blocks import Block
from scraper.entry_log import LISTING_PREFIX
from scraper.errors import LeftForNextRound, classify_failure
from scraper.extraction_pool import ExtractionPool, Page, Reading, behind_block
from scraper.items import Clipping
from scraper.politeness import RETRY_AFTER
from scraper.spiders.responses import (
    LISTING_PLACES,
    SourceReader,
    blocked_response,
    headers,
    listing_place,
    walled,
)
from scraper.urls import canonical_url, url_hash
from storage import RetryEntry

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
        cluster); and, past ``max_articles_per_source`` this round, the
        rest, recorded as pending entries that the next round fetches
        (`retry_requests`)."""
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
                base.url_hash = base.url_hash or hashed
                states.article_pending(base, f"over max_articles_per_source ({limit}) this round")
                continue
            if repeated or not self._claimed(hashed):
                states.count(source.id, "duplicate")
                stats.inc_value("feed/entries_repeated")
                continue
            self._seen_hashes.add(hashed)
            self._requested[source.id] += 1
            requests.append(self._article_request(base, source))
        stats.inc_value("feed/articles_requested", len(requests))
        return requests

    def listing_failed(self, failure: Any) -> None:
        """Errback of a child sitemap or a further listing page: recorded on
        an entry of its own (`scraper.entry_log.listing_key`), which
        brings it back in a later round: pending when it was not sent, with
        a retry state when it failed.  The source's validators are saved
        all the same."""
        meta = failure.request.meta
        source: Source = meta["source"]
        states = self.context.states
        url, where, attempts = failure.request.url, listing_place(meta), meta.get("attempts", 0)
        if isinstance(failure.value, LeftForNextRound):
            self.crawler.stats.inc_value(f"{source.kind}/left_for_next_round")
            left = failure.value
            states.listing_pending(source.id, url, where, str(left), left.retry_in, attempts)
            return
        kind, message = classify_failure(failure)
        self.crawler.stats.inc_value(f"{source.kind}/failed/{kind}")
        logger.warning(
            "listing fetch failed: %s", message, extra={"source": source.id, "url": url}
        )
        delays = self.context.config.settings.crawl.article_retry_delays
        states.listing_failed(source.id, url, where, kind, message, attempts, delays)

    def listing_answered(self, response: Response) -> None:
        """A listing page was read: the entry that brought it back goes."""
        key = response.meta.get("listing_entry")
        if key:
            self.context.states.listing_read(response.meta["source"].id, key)

    async def parse_article(self, response: Response) -> AsyncIterator[Clipping]:
        base: Clipping = response.meta["clipping"]
        source: Source = response.meta["source"]
        states = self.context.states
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
        # Answered once read: a round stopped while the page was being read
        # records the entry as pending instead of losing it.
        states.article_answered(base)
        block = reading.block
        if block is not None and block.kind == "challenge":
            base.url = entry_url  # not the challenge's own address
            if self._challenged(response.meta, base, f"{block} at {response.url}"):
                return
        if block is not None and reading.clipping is None:
            if block.kind == "not_found":  # a soft 404: the article is gone
                base.url = entry_url
                self.crawler.stats.inc_value("article/failed/soft_404")
                reason = f"{block} at {response.url}"
                self._article_failed(response.meta, base, "blocked_page", reason)
                return
            yield self._walled(base, block, response.url)
            return
        if block is not None:
            self.crawler.stats.inc_value(f"article/flagged/{block.kind}")
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

    def _challenged(self, meta: dict[str, Any], base: Clipping, reason: str) -> bool:
        """Put off an article a bot challenge stood in front of to the next
        round (`scraper.retries.challenged`), unless it was challenged in
        the rounds it was put off to already; whether it was put off."""
        retry = retries.challenged(meta.get("attempts", 0), datetime.now(UTC), reason)
        if retry is None:
            return False
        self.crawler.stats.inc_value("article/challenge_put_off")
        logger.info("%s", retry.reason, extra={"source": base.source_id, "url": base.url})
        self._article_failed(meta, base, "blocked_page", reason, retry)
        return True

    def _walled(self, base: Clipping, wall: Block, url: str) -> Clipping:
        """The clipping of an article its site walled off (a block page
        without the article, a 401, 403 or 451): what its listing said,
        flagged (`behind_block`), for a curator to supply the text."""
        clipping = behind_block(dataclasses.replace(base, flags=[]), base, wall)
        clipping.fetched_at = datetime.now(UTC)
        # No page was read: the listing's bylines are cleaned as a page's are.
        bylines = base.authors or [base.authors_raw or ""]
        clipping.authors = merge_names(
            parse_byline(b, outlet=base.outlet, url=base.url) for b in bylines
        )
        self.crawler.stats.inc_value(f"article/flagged/{wall.kind}")
        logger.info(
            "article walled off, stored flagged: %s",
            wall,
            extra={"source": base.source_id, "url": url},
        )
        return clipping

    def article_failed(self, failure: Any) -> Iterator[Clipping]:
        """Errback of an article request: a wall (a block page or a 401,
        403, 451 answer) gives the listing's clipping, flagged; anything
        else is recorded on the entry with its retry state."""
        base: Clipping = failure.request.meta["clipping"]
        states = self.context.states
        states.article_answered(base)
        if isinstance(failure.value, LeftForNextRound):
            # Not sent: no failure, no attempt; a later round fetches it.
            self.crawler.stats.inc_value("article/left_for_next_round")
            left = failure.value
            attempts = failure.request.meta.get("attempts", 0)
            states.article_pending(base, str(left), left.retry_in, attempts)
            return
        kind, message = classify_failure(failure)
        block = blocked_response(failure)
        if block is not None and block.kind == "challenge":
            # A block is only ever read from an HTTP error's response.
            reason = f"{block} at {failure.value.response.url} ({message})"
            if self._challenged(failure.request.meta, base, reason):
                return
        if block is not None or walled(failure):  # (never a soft 404: an error status)
            wall = block or Block("access_denied", message)
            yield self._walled(base, wall, failure.request.url)
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
        self,
        meta: dict[str, Any],
        base: Clipping,
        kind: str,
        message: str,
        retry: retries.RetryPlan | None = None,
    ) -> None:
        self.context.states.article_failed(
            base,
            kind,
            message,
            attempts=meta.get("attempts", 0),
            delays=self.context.config.settings.crawl.article_retry_delays,
            retry=retry,
            retry_in=meta.get(RETRY_AFTER),
        )

    def retry_requests(self, sources: list[Source], now: datetime) -> list[scrapy.Request]:
        """Requests for the failed and pending entries of ``sources`` whose
        retry is due at ``now`` (`storage.Store.due_retries`), oldest due
        first: the entry log brings them back whether or not their feed
        lists them again, or changed.  They count against
        ``max_articles_per_source``; those past it stay as they are, due,
        for the next round."""
        by_id = {s.id: s for s in sources}
        limit = self.context.config.settings.crawl.max_articles_per_source
        requests = []
        for entry in self.context.store.due_retries(list(by_id), now):
            source = by_id[entry.source_id]
            if entry.entry_key.startswith(LISTING_PREFIX):
                requests.append(self._listing_request(entry, source))
                continue
            if self._requested[source.id] >= limit:
                continue
            base = Clipping.from_dict(entry.listing or {}) if entry.listing else None
            if base is None or not base.url:
                base = Clipping(url=entry.url, source_id=source.id, outlet=source.outlet)
            base.url, base.entry_key = entry.url, entry.entry_key
            hashed = url_hash(canonical_url(entry.url))
            if hashed in self._seen_hashes or not self._claimed(hashed):
                continue
            self._seen_hashes.add(hashed)
            self._requested[source.id] += 1
            requests.append(self._article_request(base, source, attempts=entry.attempts))
        self.crawler.stats.inc_value("article/retries_due", len(requests))
        return requests

    def _listing_request(self, entry: RetryEntry, source: Source) -> scrapy.Request:
        """A listing page brought back by its entry, read as it was meant
        to be: a child sitemap, or a section's page."""
        where = {k: int(v) for k, v in (entry.listing or {}).items() if k in LISTING_PLACES}
        if "sitemap_depth" in where or source.kind == "sitemap":
            callback = self.parse_child_sitemap
        else:
            callback = self.parse_listing
        return scrapy.Request(
            entry.url,
            callback=callback,
            errback=self.listing_failed,
            meta={
                "source": source,
                **where,
                "attempts": entry.attempts,
                "listing_entry": entry.entry_key,
            },
            priority=10,
            # Filtered as a repeat: a sitemap index read whole again lists
            # the same child, and this request, sent first, reads it once.
            dont_filter=False,
        )

    def _article_request(
        self, base: Clipping, source: Source, attempts: int = 0
    ) -> scrapy.Request:
        self.context.states.article_requested(base, attempts)
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
