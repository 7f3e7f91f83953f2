"""The feed spider: one crawl round over RSS/Atom sources.

For each due source (or each source named in ``source_ids``) it:

1. requests the feed, conditionally (``If-None-Match`` / ``If-Modified-Since``
   from the stored validators); a 304, or a body whose hash equals the stored
   one, means "nothing new" and costs no further request;
2. hands the bytes to `scraper.feeds.parse_feed` (feedparser never fetches);
3. asks storage which entries are already known, in one query per feed, and
   requests only the articles of new entries;
4. extracts each article in the extraction process pool (the reactor thread
   only waits) and yields one `Clipping` per article.

Fetch state (validators, body hash, errors, next due time) is collected here
and written by the store stage *after* the round's clippings, so a round cut
short never records a feed as seen while its articles are unstored.  A feed
whose article fetches failed keeps its old validators, so the next round
retries the failed entries.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response

from config import Config, Source
from scraper.errors import classify_failure
from scraper.extraction_pool import ExtractionPool
from scraper.feeds import body_hash, parse_feed
from scraper.items import Clipping
from scraper.polling import next_poll
from scraper.urls import canonical_url, url_hash
from storage import FetchStateUpdate, open_store

logger = logging.getLogger(__name__)


class FeedSpider(scrapy.Spider):
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

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config: Config = crawler.settings.get("PRESSCUT_CONFIG") or _load_default_config()
        spider.config = config
        spider.store = open_store(config.settings.database.url)
        spider.pool = ExtractionPool(config.settings.crawl.extract_workers)
        return spider

    def closed(self, reason: str) -> None:
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
        sources = self.due_sources(now)
        states = self.store.fetch_states([s.id for s in sources])
        self.crawler.stats.set_value("feed/sources_due", len(sources))
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
                callback=self.parse_feed,
                errback=self.feed_failed,
                headers=headers,
                dont_filter=True,
                meta={"source": source, "handle_httpstatus_list": [304], "state": state},
                priority=10,
            )

    def parse_feed(self, response: Response) -> Any:
        source: Source = response.meta["source"]
        state = response.meta["state"]
        now = datetime.now(UTC)
        stats = self.crawler.stats
        if response.status == 304:
            stats.inc_value("feed/not_modified")
            self._record_success(source, now, state, etag=None, last_modified=None, digest=None)
            return
        digest = body_hash(response.body)
        etag = _header(response, "ETag")
        last_modified = _header(response, "Last-Modified")
        if state is not None and state.body_hash == digest:
            stats.inc_value("feed/unchanged_body")
            self._record_success(source, now, state, etag, last_modified, digest)
            return
        feed = parse_feed(
            response.body,
            url=response.url,
            headers={"content-type": _header(response, "Content-Type") or ""},
        )
        stats.inc_value("feed/parsed")
        if feed.error and not feed.entries:
            self._record_error(source, now, "parse_error", feed.error)
            return
        if feed.error:
            logger.warning(
                "feed partly readable", extra={"source": source.id, "url": response.url}
            )
        entries = [e for e in feed.entries if e.link]
        keyed = [(e, url_hash(canonical_url(e.link))) for e in entries]
        known_keys, known_hashes = self.store.known_entries(
            source.id, [e.entry_key for e in entries], [h for _, h in keyed]
        )
        requests = []
        for entry, hashed in keyed:
            if entry.entry_key in known_keys or hashed in known_hashes:
                stats.inc_value("feed/entries_known")
                continue
            if hashed in self._seen_hashes:
                self.summary[source.id]["duplicate"] += 1
                stats.inc_value("feed/entries_repeated")
                continue
            self._seen_hashes.add(hashed)
            base = entry.to_clipping(source.id, source.outlet)
            requests.append(
                scrapy.Request(
                    entry.link,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    meta={"clipping": base, "source": source},
                )
            )
        stats.inc_value("feed/articles_requested", len(requests))
        self._record_success(source, now, state, etag, last_modified, digest)
        yield from requests

    def feed_failed(self, failure: Any) -> None:
        source: Source = failure.request.meta["source"]
        kind, message = classify_failure(failure)
        self.crawler.stats.inc_value(f"feed/failed/{kind}")
        self._record_error(source, datetime.now(UTC), kind, message)

    # -- articles --------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[Clipping]:
        base: Clipping = response.meta["clipping"]
        base.url = response.url
        try:
            clipping = await self.pool.extract(response.body, response.url, base)
        except Exception as exc:  # a hostile page must not end the round
            self._article_done(base.source_id or "", failed=f"parse_error: {exc}")
            return
        clipping.fetched_at = datetime.now(UTC)
        self._article_done(base.source_id or "")
        yield clipping

    def article_failed(self, failure: Any) -> None:
        base: Clipping = failure.request.meta["clipping"]
        kind, message = classify_failure(failure)
        self.crawler.stats.inc_value(f"article/failed/{kind}")
        logger.warning(
            "article fetch failed: %s",
            message,
            extra={"source": base.source_id, "url": failure.request.url},
        )
        self._article_done(base.source_id or "", failed=f"{kind}: {message}")

    def _article_done(self, source_id: str, failed: str | None = None) -> None:
        if failed:
            self.summary[source_id]["failed"] += 1
            self.errors.setdefault(source_id, failed)
            # Leave the stored validators as they were, so the next round
            # reads the feed again and retries this entry.
            state = self.states.get(source_id)
            if state is not None:
                self.states[source_id] = state.without_validators()

    # -- fetch state -----------------------------------------------------------

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
        self.states[source.id] = FetchStateUpdate(
            source_id=source.id,
            etag=etag if not keep else state.etag,
            last_modified=last_modified if not keep else state.last_modified,
            body_hash=digest if digest is not None else (state.body_hash if state else None),
            last_fetch_at=now,
            last_success_at=now,
            failure_score=0.0,
            next_due_at=now + timedelta(seconds=next_poll(source.poll_interval_s, 0.0)),
        )

    def _record_error(self, source: Source, now: datetime, kind: str, message: str) -> None:
        state = self.store.fetch_state(source.id)
        score = (state.failure_score if state else 0.0) + (1.0 if kind != "timeout" else 0.5)
        self.summary[source.id]["failed"] += 1
        self.errors[source.id] = f"{kind}: {message}"
        logger.warning(
            "source failed: %s: %s", kind, message, extra={"source": source.id, "url": source.url}
        )
        self.states[source.id] = FetchStateUpdate(
            source_id=source.id,
            last_fetch_at=now,
            last_error_at=now,
            last_error=message[:2000],
            last_error_kind=kind,
            failure_score=score,
            next_due_at=now + timedelta(seconds=next_poll(source.poll_interval_s, score)),
        )


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _load_default_config() -> Config:
    from config import load_config

    return load_config()
