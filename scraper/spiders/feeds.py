"""The feed reader of the round spider: a feed source's own URL.

The body is parsed by `scraper.feeds.parse_feed` in a worker process with a
deadline (`scraper.feed_pool`: a hostile feed can neither hold the reactor
nor outlast ``crawl.parse_timeout``; feedparser never fetches).  An
unreadable feed is recorded as the source's error (``blocked_page`` when
the body is a challenge or wall, else ``parse_error``); a partly readable
one is logged and read as far as it goes.  Its entries, as base clippings,
go to ``request_articles`` (`scraper.spiders.articles`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import scrapy
from scrapy.http import Response

from config import Source
from scraper.blocks import detect_block
from scraper.feed_pool import FeedParsePool
from scraper.feeds import body_hash
from scraper.spiders.responses import SourceReader, header, headers

logger = logging.getLogger(__name__)


class FeedMixin(SourceReader):
    """The feed reader of the round spider (see the module docstring).
    ``feed_pool`` is set by the spider."""

    feed_pool: FeedParsePool

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """Callback for a feed source's own URL."""
        source: Source = response.meta["source"]
        state = response.meta["state"]
        states = self.context.states
        now = datetime.now(UTC)
        if self.unchanged(response):
            return
        digest = body_hash(response.body)
        feed = await self.feed_pool.parse(
            response.body,
            url=response.url,
            headers={"content-type": header(response, "Content-Type") or ""},
        )
        self.crawler.stats.inc_value("feed/parsed")
        if feed.error and not feed.entries:
            block = detect_block(
                status=response.status, headers=headers(response), body=response.body
            )
            if block is not None:
                states.record_error(source, now, "blocked_page", f"{block} instead of a feed")
            else:
                states.record_error(source, now, "parse_error", feed.error)
            return
        if feed.error:
            logger.warning(
                "feed partly readable", extra={"source": source.id, "url": response.url}
            )
        bases = [e.to_clipping(source.id, source.outlet) for e in feed.entries if e.link]
        etag, last_modified = header(response, "ETag"), header(response, "Last-Modified")
        states.record_success(source, now, state, etag, last_modified, digest)
        for request in self.request_articles(source, bases):
            yield request
