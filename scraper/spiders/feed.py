"""The crawl spider: one round over every due source, whatever its kind.

For each due source (or each source named in ``source_ids``) it:

1. requests the source's URL, conditionally (``If-None-Match`` /
   ``If-Modified-Since`` from the stored validators); a 304, or a body whose
   hash equals the stored one, means "nothing new" and costs no further
   request;
2. reads the body by the source's ``kind``: a ``feed`` with
   `scraper.feeds.parse_feed` (feedparser never fetches), a ``sitemap`` with
   `scraper.spiders.sitemaps` (following child sitemaps), a ``section`` with
   `scraper.spiders.sections` (following its pagination);
3. hands the entries, as base clippings, to `FeedSpider.request_articles`,
   which skips those dated before the source's ``since`` window, asks
   storage which are already known (one query per listing) and requests
   only the articles of new entries;
4. reads each article in the extraction process pool (`ExtractionPool`:
   block checks, extraction, normalization, topic matches and excerpt, each
   page within ``crawl.extract_timeout``; the reactor thread only waits) and
   yields one `Clipping` per article.

Fetch state (validators, body hash, errors, next due time) is collected here
and written by the store stage *after* the round's clippings, so a round cut
short never records a feed as seen while its articles are unstored.  A feed
whose article fetches failed keeps its old validators, so the next round
retries the failed entries.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy.exc import DBAPIError

from config import Config, Source
from pipelines.stage import Drop
from scraper import polling
from scraper.blocks import Block, detect_block
from scraper.errors import classify_failure
from scraper.extraction_pool import ExtractionPool, Page, Reading
from scraper.feed_pool import FeedParsePool
from scraper.feeds import body_hash
from scraper.items import Clipping
from scraper.spiders.sections import SectionMixin
from scraper.spiders.sitemaps import SitemapMixin
from scraper.urls import canonical_url, url_hash
from storage import FetchStateUpdate, open_store

logger = logging.getLogger(__name__)


class FeedSpider(SitemapMixin, SectionMixin, scrapy.Spider):
    name = "feed"

    def __init__(
        self,
        *args: Any,
        source_ids: list[str] | str | None = None,
        force: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(source_ids, str):  # ``scrapy crawl feed -a source_ids=a,b``
            source_ids = [s for s in source_ids.split(",") if s]
        self.source_ids = list(source_ids or [])
        self.force = bool(force) or bool(self.source_ids)
        self.states: dict[str, FetchStateUpdate] = {}
        self.summary: dict[str, Counter[str]] = defaultdict(Counter)
        self.errors: dict[str, str] = {}
        self._seen_hashes: set[str] = set()
        #: When each source's ``since`` window opens (sources with one only).
        self.windows: dict[str, datetime] = {}
        self._requested: Counter[str] = Counter()
        # Article requests not yet answered, per source: a round stopped
        # early drops them, and their feed must then be read again.
        self._unsettled: Counter[str] = Counter()
        # Publishing activity of the round's sources, read in one go at the
        # start: one query per feed response would dominate a round in which
        # nothing changed.  This round's entries are not stored yet when a
        # feed's success is recorded, so reading it later would not differ.
        self._activity: dict[str, polling.Activity | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config: Config = crawler.settings.get("PRESSCUT_CONFIG") or _load_default_config()
        spider.config = config
        spider.store = open_store(config.settings.database.url)
        crawl = config.settings.crawl
        spider.pool = ExtractionPool(
            crawl.extract_workers,
            timeout=crawl.extract_timeout,
            topics=config.topics,
            excerpt=config.settings.excerpt,
        )
        spider.feed_pool = FeedParsePool(timeout=config.settings.crawl.parse_timeout)
        return spider

    def closed(self, reason: str) -> None:
        self.feed_pool.close()
        self.pool.close()
        self.store.close()

    # -- feeds -----------------------------------------------------------------

    def due_sources(self, now: datetime) -> list[Source]:
        enabled = [s for s in self.config.sources if s.enabled]
        self.store.sync_sources(enabled)
        if self.source_ids:
            unknown = set(self.source_ids) - {s.id for s in enabled}
            if unknown:
                raise ValueError(f"unknown or disabled source id(s): {', '.join(sorted(unknown))}")
            return [s for s in enabled if s.id in self.source_ids]
        if self.force:
            return enabled
        due = set(self.store.due_source_ids(now))
        return [s for s in enabled if s.id in due]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        now = datetime.now(UTC)
        window_s = polling.PollingPolicy.from_settings(self.config.settings.polling).window_s
        try:
            sources = self.due_sources(now)
            states = self.store.fetch_states([s.id for s in sources])
            activity = self.store.publishing_activity([s.id for s in sources], now, window_s)
        except DBAPIError as exc:
            # Full disk, corrupt file, server gone: no source is polled, and
            # the round says why instead of "no source was due".
            cause = str(exc.orig or exc).splitlines()[0]
            self.errors["database"] = f"cannot start the round: {cause}"
            logger.error("database unavailable at round start: %s", cause)
            return
        self._activity = {s.id: activity.get(s.id) for s in sources}
        self.windows = self.source_windows(sources, now)
        self.crawler.stats.set_value("feed/sources_due", len(sources))
        callbacks = {
            "feed": self.parse_feed,
            "sitemap": self.parse_sitemap,
            "section": self.parse_section,
        }
        for source in sources:
            headers = {}
            state = states.get(source.id)
            if state is not None:
                if state.etag:
                    headers["If-None-Match"] = state.etag
                if state.last_modified:
                    headers["If-Modified-Since"] = state.last_modified
            self.summary[source.id]  # every polled source appears in the summary
            yield scrapy.Request(
                source.url,
                callback=callbacks[source.kind],
                errback=self.feed_failed,
                headers=headers,
                dont_filter=True,
                meta={"source": source, "handle_httpstatus_list": [304], "state": state},
                priority=10,
            )

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        source: Source = response.meta["source"]
        state = response.meta["state"]
        now = datetime.now(UTC)
        stats = self.crawler.stats
        if self.unchanged(response):
            return
        digest = body_hash(response.body)
        etag = _header(response, "ETag")
        last_modified = _header(response, "Last-Modified")
        # In a worker process with a deadline: a hostile feed can neither
        # hold the reactor nor outlast `crawl.parse_timeout`.
        feed = await self.feed_pool.parse(
            response.body,
            url=response.url,
            headers={"content-type": _header(response, "Content-Type") or ""},
        )
        stats.inc_value("feed/parsed")
        if feed.error and not feed.entries:
            block = detect_block(
                status=response.status, headers=_headers(response), body=response.body
            )
            if block is not None:
                self._record_error(source, now, "blocked_page", f"{block} instead of a feed")
            else:
                self._record_error(source, now, "parse_error", feed.error)
            return
        if feed.error:
            logger.warning(
                "feed partly readable", extra={"source": source.id, "url": response.url}
            )
        bases = [e.to_clipping(source.id, source.outlet) for e in feed.entries if e.link]
        self._record_success(source, now, state, etag, last_modified, digest)
        for request in self.request_articles(source, bases):
            yield request

    def feed_failed(self, failure: Any) -> None:
        source: Source = failure.request.meta["source"]
        kind, message = classify_failure(failure)
        block = _blocked_response(failure)
        if block is not None:
            kind, message = "blocked_page", f"{block} ({message})"
        self.crawler.stats.inc_value(f"feed/failed/{kind}")
        self._record_error(source, datetime.now(UTC), kind, message)

    # -- what every kind shares --------------------------------------------------

    def source_windows(self, sources: list[Source], now: datetime) -> dict[str, datetime]:
        """When each source's ``since`` window opens: ``since`` before the
        source was first stored, which is its first crawl (or ``now``)."""
        first = {row.id: row.created_at for row in self.store.list_sources()}
        return {
            s.id: first.get(s.id, now) - timedelta(seconds=s.since_s)
            for s in sources
            if s.since_s is not None
        }

    def unchanged(self, response: Response) -> bool:
        """Whether a source's own response says nothing changed since the
        last round (a 304, or the stored body hash); records the success."""
        source: Source = response.meta["source"]
        state = response.meta["state"]
        now = datetime.now(UTC)
        if response.status == 304:
            self.crawler.stats.inc_value(f"{source.kind}/not_modified")
            self._record_success(source, now, state, etag=None, last_modified=None, digest=None)
            return True
        digest = body_hash(response.body)
        if state is not None and state.body_hash == digest:
            self.crawler.stats.inc_value(f"{source.kind}/unchanged_body")
            etag, last_modified = _header(response, "ETag"), _header(response, "Last-Modified")
            self._record_success(source, now, state, etag, last_modified, digest)
            return True
        return False

    def fetched(self, response: Response, *, validators: bool = True) -> None:
        """Record a source's own response as read, with its validators for
        the next round's conditional request, or with none (read it whole)."""
        source: Source = response.meta["source"]
        now = datetime.now(UTC)
        if not validators:
            self._record_success(source, now, None, None, None, None)
            return
        etag, last_modified = _header(response, "ETag"), _header(response, "Last-Modified")
        state = response.meta["state"]
        self._record_success(source, now, state, etag, last_modified, body_hash(response.body))

    def failed_source(self, response: Response, kind: str, message: str) -> None:
        """Record that a source's own URL answered but could not be read."""
        self._record_error(response.meta["source"], datetime.now(UTC), kind, message)

    def request_articles(self, source: Source, bases: list[Clipping]) -> list[scrapy.Request]:
        """Article requests for the entries a source offers, each given as
        its base `Clipping` (``url``, ``entry_key``, ``source_id``, ``outlet``
        and what the listing says, such as title and date).

        Skipped without a request: entries dated (``published_at``) before
        the source's window; entries storage knows by key or URL (one query
        each); URLs already requested this round; and, past
        ``max_articles_per_source`` this round, the rest (the source's
        validators are then dropped, so the next round reads it again)."""
        stats = self.crawler.stats
        start = self.windows.get(source.id)
        if start is not None:
            fresh = [b for b in bases if b.published_at is None or b.published_at >= start]
            stats.inc_value("window/skipped_unfetched", len(bases) - len(fresh))
            bases = fresh
        keyed = [(b, url_hash(canonical_url(b.url))) for b in bases]
        known_keys, known_hashes = self.store.known_entries(
            source.id, [b.entry_key or b.url for b in bases], [h for _, h in keyed]
        )
        limit = self.config.settings.crawl.max_articles_per_source
        requests = []
        for base, hashed in keyed:
            if (base.entry_key or base.url) in known_keys or hashed in known_hashes:
                stats.inc_value("feed/entries_known")
                continue
            if hashed in self._seen_hashes:
                self.summary[source.id]["duplicate"] += 1
                stats.inc_value("feed/entries_repeated")
                continue
            if self._requested[source.id] >= limit:
                stats.inc_value("feed/entries_deferred")
                state = self.states.get(source.id)
                if state is not None:
                    self.states[source.id] = state.without_validators()
                continue
            self._seen_hashes.add(hashed)
            self._requested[source.id] += 1
            self._unsettled[source.id] += 1
            requests.append(
                scrapy.Request(
                    base.url,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    meta={"clipping": base, "source": source},
                    # Repeats are skipped above; Scrapy's own filter would
                    # silently swallow a redirect loop (no callback, no
                    # errback) instead of failing it at REDIRECT_MAX_TIMES.
                    dont_filter=True,
                )
            )
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
        self._article_done(source.id, failed=f"{kind}: {message}")

    # -- articles --------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[Clipping]:
        base: Clipping = response.meta["clipping"]
        source: Source = response.meta["source"]
        self._unsettled[base.source_id or ""] -= 1
        entry_url, base.url = base.url, response.url
        page = Page(
            url=response.url,
            body=response.body,
            status=response.status,
            headers=_headers(response),
            base=base,
            topics=tuple(source.topics),
        )
        # Everything CPU-heavy happens in the pool (block checks, extraction,
        # normalization, topics, excerpt); this thread only waits.
        try:
            reading = await self.pool.read(page)
        except Exception as exc:  # a hostile page must not end the round
            reading = Reading(error=f"{exc.__class__.__name__}: {exc}")
        if reading.block is not None:
            self._blocked(base, entry_url, reading.block, response)
            return
        if reading.clipping is None:
            self.crawler.stats.inc_value("article/failed/parse_error")
            logger.warning(
                "article unreadable: %s",
                reading.error,
                extra={"source": base.source_id, "url": response.url},
            )
            self._article_done(
                base.source_id or "", failed=f"parse_error: {reading.error}", url=response.url
            )
            return
        clipping = reading.clipping
        clipping.fetched_at = datetime.now(UTC)
        self._article_done(base.source_id or "")
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
        self.errors.setdefault(source_id, reason)
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
        self._unsettled[base.source_id or ""] -= 1
        kind, message = classify_failure(failure)
        block = _blocked_response(failure)
        if block is not None:
            self._blocked(base, base.url, block, failure.value.response)
            return
        self.crawler.stats.inc_value(f"article/failed/{kind}")
        if kind == "robots":
            # The site asks not to be fetched there: no failure to retry.
            self.summary[base.source_id or ""]["blocked"] += 1
            return
        logger.warning(
            "article fetch failed: %s",
            message,
            extra={"source": base.source_id, "url": failure.request.url},
        )
        self._article_done(
            base.source_id or "", failed=f"{kind}: {message}", url=failure.request.url
        )

    def _article_done(
        self, source_id: str, failed: str | None = None, url: str | None = None
    ) -> None:
        """Settle one article request; ``failed`` is ``"<kind>: <message>"``
        (kind from `scraper.errors`) when it came to nothing."""
        if failed:
            self.summary[source_id]["failed"] += 1
            self.errors.setdefault(source_id, failed)
            state = self.states.get(source_id)
            if state is not None:
                # Leave the stored validators as they were, so the next round
                # reads the feed again and retries this entry.  The error goes
                # on the source row for the curator, without a failure score:
                # the feed itself answered.
                kind, _, message = failed.partition(": ")
                where = f"article {url}: " if url else "article: "
                self.states[source_id] = dataclasses.replace(
                    state.without_validators(),
                    last_error_at=datetime.now(UTC),
                    last_error=(where + message)[:2000],
                    last_error_kind=kind,
                )

    def article_deferred(self, item: Clipping, reason: str) -> None:
        """An article fetched but not judged (`pipelines.stage.Deferred`,
        the database unavailable): counted as failed, and its source reads
        its feed again next round, so the article is fetched again."""
        self.crawler.stats.inc_value("article/deferred")
        self._article_done(
            item.source_id or "", failed=f"database: unavailable: {reason}", url=item.url
        )

    # -- fetch state -----------------------------------------------------------

    def final_states(self) -> list[FetchStateUpdate]:
        """The fetch state to record at the end of the round.  A source with
        article requests that never got an answer (the round was stopped)
        keeps its stored validators, so the next round reads its feed again
        and fetches exactly what is missing."""
        return [
            state.without_validators() if self._unsettled[source_id] > 0 else state
            for source_id, state in self.states.items()
        ]

    def _record_success(
        self,
        source: Source,
        now: datetime,
        state: Any,
        etag: str | None,
        last_modified: str | None,
        digest: str | None,
    ) -> None:
        keep = state is not None and digest is None  # 304: validators still hold
        if keep:
            outcome = "not_modified"
        elif state is not None and digest is not None and state.body_hash == digest:
            outcome = "unchanged"
        else:
            outcome = "read"
        # A success, a 304 included, clears the failure score; the interval
        # follows the source's publishing rate (`scraper.polling`).
        policy = polling.PollingPolicy.from_settings(self.config.settings.polling)
        delay = polling.poll_delay(
            policy, source.poll_interval_s, self._activity_of(source.id, now, policy)
        )
        logger.debug(
            "source %s, next poll in %.0fs",
            outcome,
            delay,
            extra={"source": source.id, "url": source.url, "outcome": outcome},
        )
        self.states[source.id] = FetchStateUpdate(
            source_id=source.id,
            etag=etag if not keep else state.etag,
            last_modified=last_modified if not keep else state.last_modified,
            body_hash=digest if digest is not None else (state.body_hash if state else None),
            last_fetch_at=now,
            last_success_at=now,
            failure_score=0.0,
            next_due_at=now + timedelta(seconds=delay),
        )

    def _activity_of(
        self, source_id: str, now: datetime, policy: polling.PollingPolicy
    ) -> polling.Activity | None:
        if source_id in self._activity:
            return self._activity[source_id]
        return self.store.publishing_activity([source_id], now, policy.window_s).get(source_id)

    def _record_error(self, source: Source, now: datetime, kind: str, message: str) -> None:
        state = self.store.fetch_state(source.id)
        # Hard errors add more than transient ones; the source backs off from
        # its publishing interval up to the ceiling, never dropped.
        score = polling.raise_score(state.failure_score if state else 0.0, kind)
        policy = polling.PollingPolicy.from_settings(self.config.settings.polling)
        activity = self._activity_of(source.id, now, policy)
        delay = polling.poll_delay(policy, source.poll_interval_s, activity, score)
        self.summary[source.id]["failed"] += 1
        self.errors[source.id] = f"{kind}: {message}"
        logger.warning(
            "source failed: %s: %s (failure score %.1f, next poll in %.0fs)",
            kind,
            message,
            score,
            delay,
            extra={"source": source.id, "url": source.url, "outcome": "failed"},
        )
        self.states[source.id] = FetchStateUpdate(
            source_id=source.id,
            last_fetch_at=now,
            last_error_at=now,
            last_error=message[:2000],
            last_error_kind=kind,
            failure_score=score,
            next_due_at=now + timedelta(seconds=delay),
        )


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): (v[0] if v else b"").decode("latin-1")
        for k, v in response.headers.items()
    }


def _blocked_response(failure: Any) -> Block | None:
    """The block page behind an HTTP error (a 403 or 503 challenge, an
    "access denied" page); a 404 or 410 is an HTTP error, never a block."""
    response = getattr(failure.value, "response", None)
    if response is None or not isinstance(failure.value, HttpError):
        return None
    if response.status in (404, 410):
        return None
    return detect_block(status=response.status, headers=_headers(response), body=response.body)


def _load_default_config() -> Config:
    from config import load_config

    return load_config()
