"""The round spider: one crawl round over every due source, whatever its kind.

For each due source (or each source named in ``source_ids``) it:

1. requests the source's URL, conditionally (``If-None-Match`` /
   ``If-Modified-Since`` from the stored validators); a 304, or a body whose
   hash equals the stored one, means "nothing new" and costs no further
   request (`RoundSpider.unchanged`);
2. reads the body by the source's ``kind``: a ``feed`` in
   `scraper.spiders.feeds`, a ``sitemap`` in `scraper.spiders.sitemaps`
   (following child sitemaps), a ``section`` in `scraper.spiders.sections`
   (following its pagination);
3. hands the entries, as base clippings, to ``request_articles`` and reads
   each new article (`scraper.spiders.articles`);
4. fetches again the failed and pending articles (and listing pages) whose
   retry is due, of every enabled source, polled this round or not
   (``retry_requests``: the entry log, not the feed, brings them back).

Everything the round shares comes in one `RoundContext` spider argument
(``process.crawl(RoundSpider, context=...)``, see `rounds.round`): the
configuration, the round's store, and the per-source `SourceStates`, whose
fetch state the store stage writes *after* the round's clippings, so a round
cut short never records a feed as seen while its articles are unstored.
Without a context the spider refuses to start (`MissingContext`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from sqlalchemy.exc import DBAPIError

from config import Source
from scraper.context import RoundContext, require_context
from scraper.errors import LeftForNextRound, classify_failure
from scraper.extraction_pool import ExtractionPool
from scraper.feed_pool import FeedParsePool
from scraper.feeds import body_hash
from scraper.spiders.articles import ArticleMixin
from scraper.spiders.feeds import FeedMixin
from scraper.spiders.responses import blocked_response, header
from scraper.spiders.sections import SectionMixin
from scraper.spiders.sitemaps import SitemapMixin

logger = logging.getLogger(__name__)


class RoundSpider(FeedMixin, SitemapMixin, SectionMixin, ArticleMixin, scrapy.Spider):
    name = "round"
    #: The shared frontier of a cluster (`scraper.frontier.Frontier`), set
    #: by its queue when the scheduler opens; ``None`` in one process.
    frontier: Any = None

    def __init__(
        self,
        *args: Any,
        context: RoundContext | None = None,
        source_ids: list[str] | None = None,
        force: bool = False,
        worker: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.context = require_context(context)
        #: A cluster worker (`rounds.worker`): it starts no request, it takes
        #: the shared frontier's, of any source, round after round.
        self.worker = bool(worker)
        if self.worker:
            self.context.windows = StoredWindows(self)
        self.source_ids = list(source_ids or [])
        self.force = bool(force) or bool(self.source_ids)
        self._seen_hashes: set[str] = set()
        self._requested: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> RoundSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = spider.context.config
        crawl = config.settings.crawl
        spider.pool = ExtractionPool(
            crawl.extract_workers,
            timeout=crawl.extract_timeout,
            topics=config.topics,
            excerpt=config.settings.excerpt,
        )
        spider.feed_pool = FeedParsePool(timeout=crawl.parse_timeout)
        return spider

    def closed(self, reason: str) -> None:
        self.feed_pool.close()
        self.pool.close()

    def due_sources(self, now: datetime) -> list[Source]:
        """The sources this round polls (enabled ones only), after the
        stored source rows are brought in line with the configuration."""
        store = self.context.store
        enabled = [s for s in self.context.config.sources if s.enabled]
        store.sync_sources(enabled)
        if self.source_ids:
            unknown = set(self.source_ids) - {s.id for s in enabled}
            if unknown:
                raise ValueError(f"unknown or disabled source id(s): {', '.join(sorted(unknown))}")
            return [s for s in enabled if s.id in self.source_ids]
        if self.force:
            return enabled
        due = set(store.due_source_ids(now))
        return [s for s in enabled if s.id in due]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.worker:
            return
        now = datetime.now(UTC)
        try:
            sources = self.due_sources(now)
            stored = self.context.store.fetch_states([s.id for s in sources])
            self.context.states.start([s.id for s in sources], now)
        except DBAPIError as exc:
            # Full disk, corrupt file, server gone: no source is polled, and
            # the round says why instead of "no source was due".
            cause = str(exc.orig or exc).splitlines()[0]
            self.context.errors["database"] = f"cannot start the round: {cause}"
            logger.error("database unavailable at round start: %s", cause)
            return
        self.context.windows.update(self.source_windows(sources, now))
        self.crawler.stats.set_value("feed/sources_due", len(sources))
        readers = {
            "feed": self.parse_feed,
            "sitemap": self.parse_sitemap,
            "section": self.parse_section,
        }
        for source in sources:
            headers = {}
            state = stored.get(source.id)
            if state is not None:
                if state.etag:
                    headers["If-None-Match"] = state.etag
                if state.last_modified:
                    headers["If-Modified-Since"] = state.last_modified
            yield scrapy.Request(
                source.url,
                callback=readers[source.kind],
                errback=self.source_failed,
                headers=headers,
                dont_filter=True,
                meta={"source": source, "handle_httpstatus_list": [304], "state": state},
                priority=10,
            )
        try:
            retries = self.retry_requests(self.retry_sources(sources), now)
        except DBAPIError as exc:
            cause = str(exc.orig or exc).splitlines()[0]
            logger.error("database unavailable, no article retried this round: %s", cause)
            retries = []
        for request in retries:
            yield request

    def retry_sources(self, polled: list[Source]) -> list[Source]:
        """The sources whose due failed and pending entries this round
        fetches: every enabled one, polled this round or not (an entry a
        round left is the next round's, not its source's next poll), or
        only the named ones."""
        if self.source_ids:
            return polled
        return [s for s in self.context.config.sources if s.enabled]

    def source_windows(self, sources: list[Source], now: datetime) -> dict[str, datetime]:
        """When each source's ``since`` window opens: ``since`` before the
        source was first stored, which is its first crawl (or ``now``)."""
        first = {row.id: row.created_at for row in self.context.store.list_sources()}
        return {
            s.id: first.get(s.id, now) - timedelta(seconds=s.since_s)
            for s in sources
            if s.since_s is not None
        }

    # -- the source's own response, whatever its kind ----------------------------

    def unchanged(self, response: Response) -> bool:
        """Whether a source's own response says nothing changed since the
        last round (a 304, or the stored body hash); records the success."""
        source: Source = response.meta["source"]
        state = response.meta["state"]
        now = datetime.now(UTC)
        states = self.context.states
        if response.status == 304:
            self.crawler.stats.inc_value(f"{source.kind}/not_modified")
            states.record_success(source, now, state, etag=None, last_modified=None, digest=None)
            return True
        digest = body_hash(response.body)
        if state is not None and state.body_hash == digest:
            self.crawler.stats.inc_value(f"{source.kind}/unchanged_body")
            etag, last_modified = header(response, "ETag"), header(response, "Last-Modified")
            states.record_success(source, now, state, etag, last_modified, digest)
            return True
        return False

    def fetched(self, response: Response, *, validators: bool = True) -> None:
        """Record a source's own response as read, with its validators for
        the next round's conditional request, or with none (read it whole)."""
        source: Source = response.meta["source"]
        now = datetime.now(UTC)
        states = self.context.states
        if not validators:
            states.record_success(source, now, None, None, None, None)
            return
        etag, last_modified = header(response, "ETag"), header(response, "Last-Modified")
        state = response.meta["state"]
        states.record_success(source, now, state, etag, last_modified, body_hash(response.body))

    def failed_source(self, response: Response, kind: str, message: str) -> None:
        """Record that a source's own URL answered but could not be read."""
        self.context.states.record_error(response.meta["source"], datetime.now(UTC), kind, message)

    def source_failed(self, failure: Any) -> None:
        """Errback of a source's own URL."""
        source: Source = failure.request.meta["source"]
        if isinstance(failure.value, LeftForNextRound):
            # Not sent, no error: its fetch state stays as it was, so it is
            # still due, and the next round polls it.
            self.crawler.stats.inc_value("feed/left_for_next_round")
            return
        kind, message = classify_failure(failure)
        block = blocked_response(failure)
        if block is not None:
            kind, message = "blocked_page", f"{block} ({message})"
        self.crawler.stats.inc_value(f"feed/failed/{kind}")
        self.context.states.record_error(source, datetime.now(UTC), kind, message)


class StoredWindows(dict[str, datetime | None]):
    """A worker's ``since`` windows: it polls no source list of its own, so
    each source's window is read from the store the first time it is asked
    for (the coordinator has stored the source before enqueueing it)."""

    def __init__(self, spider: RoundSpider) -> None:
        super().__init__()
        self.spider = spider

    def get(self, source_id: str, default: Any = None) -> Any:  # type: ignore[override]
        if source_id not in self:
            sources = [s for s in self.spider.context.config.sources if s.id == source_id]
            windows = self.spider.source_windows(sources, datetime.now(UTC))
            self[source_id] = windows.get(source_id)
        value = super().get(source_id)
        return default if value is None else value
