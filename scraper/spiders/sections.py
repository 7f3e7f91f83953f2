"""The section reader of the round spider: a section source's listing page
and its pagination.

It reads the source's listing page with `scraper.sections` (pure), requests
the new articles through ``request_articles`` (`scraper.spiders.articles`),
and follows the pagination up to the source's ``max_pages``, stopping early
at a page that offers nothing new (every link known or older than the
window).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import scrapy
from parsel import Selector
from scrapy.http import Response

from config import Source
from scraper.sections import article_links, base_clipping, next_page
from scraper.spiders.responses import SourceReader

logger = logging.getLogger(__name__)


class SectionMixin(SourceReader):
    """The listing-page walk of the round spider (see the module docstring)."""

    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        """Callback for a section source's own URL (its first listing page)."""
        if self.unchanged(response):
            return
        if not _is_html(response):
            kind = (response.headers.get("Content-Type") or b"").decode(
                "latin-1"
            ) or "no media type"
            self.failed_source(response, "parse_error", f"listing page is not HTML ({kind})")
            return
        self.fetched(response)
        yield from self.parse_listing(response)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """Callback for every listing page: article requests, then the next page."""
        source: Source = response.meta["source"]
        number: int = response.meta.get("listing_page", 1)
        stats = self.crawler.stats
        self.listing_answered(response)
        if not _is_html(response):
            stats.inc_value("section/not_html")
            return
        page = Selector(text=response.text, base_url=response.url)
        links = article_links(page, response.url, pattern=source.url_pattern)
        stats.inc_value("section/pages")
        stats.inc_value("section/links", len(links))
        if not links:
            logger.warning(
                "listing page %d offers no article link",
                number,
                extra={"source": source.id, "url": response.url},
            )
        bases = [base_clipping(link, source, response.url) for link in links]
        requests = self.request_articles(source, bases)
        yield from requests
        if not requests or number >= source.max_pages:
            return
        following = next_page(page, response.url, number)
        if following is not None:
            yield scrapy.Request(
                following,
                callback=self.parse_listing,
                errback=self.listing_failed,
                meta={"source": source, "listing_page": number + 1},
                priority=10,
            )


def _is_html(response: Response) -> bool:
    return isinstance(response, scrapy.http.HtmlResponse)
