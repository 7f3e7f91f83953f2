"""The check spider: fetch each configured source once and report whether it
reads, without storing anything.  Backs ``presscut sources check``.  A
sitemap or section source is checked as `scraper.discovery` checks a
candidate (it parses, lists items, and the newest is recent).  Feeds are
parsed in `scraper.feed_pool` worker processes under ``crawl.parse_timeout``,
as in a crawl round: a hostile feed cannot hang the check either."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response

from config import Source
from scraper.discovery import Candidate, check_section, check_sitemap
from scraper.errors import classify_failure
from scraper.feed_pool import DEFAULT_TIMEOUT, FeedParsePool


@dataclass
class CheckResult:
    """How one source's feed read: ``ok`` with entry count and newest date,
    or the error kind and message."""

    source_id: str
    url: str
    ok: bool
    status: int | None = None
    entries: int = 0
    newest: datetime | None = None
    title: str | None = None
    error_kind: str | None = None
    error: str | None = None


class CheckSpider(scrapy.Spider):
    """``sources``: what to check; ``parse_timeout``: seconds a feed may
    take to parse (``crawl.parse_timeout``).  No pipeline runs: nothing is
    stored."""

    name = "check"
    custom_settings = {"ITEM_PIPELINES": {}}  # noqa: RUF012 - Scrapy's own attribute

    def __init__(
        self,
        *args: Any,
        sources: list[Source] | None = None,
        parse_timeout: float = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sources = list(sources or [])
        self.results: dict[str, CheckResult] = {}
        self.feed_pool = FeedParsePool(timeout=parse_timeout)

    def closed(self, reason: str) -> None:
        self.feed_pool.close()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources:
            yield scrapy.Request(
                source.url,
                callback=self.parse,
                errback=self.failed,
                dont_filter=True,
                meta={"source": source},
            )

    async def parse(self, response: Response, **kwargs: Any) -> None:
        source: Source = response.meta["source"]
        if source.kind != "feed":
            self.results[source.id] = _check_listing(source, response)
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        feed = await self.feed_pool.parse(
            response.body, url=response.url, headers={"content-type": content_type}
        )
        dates = [e.published_at for e in feed.entries if e.published_at]
        ok = bool(feed.entries)
        self.results[source.id] = CheckResult(
            source_id=source.id,
            url=response.url,
            ok=ok,
            status=response.status,
            entries=len(feed.entries),
            newest=max(dates) if dates else None,
            title=feed.title,
            error_kind=None if ok else "parse_error",
            error=feed.error if not ok else None,
        )

    def failed(self, failure: Any) -> None:
        source: Source = failure.request.meta["source"]
        kind, message = classify_failure(failure)
        self.results[source.id] = CheckResult(
            source_id=source.id, url=source.url, ok=False, error_kind=kind, error=message
        )


def _check_listing(source: Source, response: Response) -> CheckResult:
    candidate = Candidate(source.kind, response.url, "config")
    if source.kind == "sitemap":
        check_sitemap(candidate, response, response.meta.get("download_maxsize", 0))
    else:
        check_section(candidate, response)
    return CheckResult(
        source_id=source.id,
        url=response.url,
        ok=candidate.ok,
        status=response.status,
        entries=candidate.items,
        newest=candidate.newest,
        title=candidate.detail,
        error_kind=None if candidate.ok else "parse_error",
        error=None if candidate.ok else candidate.error,
    )
