"""The sitemap reader of the round spider: a sitemap source's own URL, and
the child sitemaps of an index.

From a source's sitemap it follows child sitemaps whose ``lastmod`` is
inside the source's window (older children are never fetched), and turns
the entries of each ``<urlset>`` into article requests through
``request_articles`` (`scraper.spiders.articles`: known entries skipped,
window applied).  Entries whose date (the news publication date, else
``lastmod``) is before the window are skipped without a request; entries on
another site, or not matching the source's ``url_pattern``, are ignored.
The bytes are read by `scraper.sitemaps` (pure).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import scrapy
from scrapy.http import Response

from config import Source
from scraper.sitemaps import MAX_CHILDREN, MAX_DEPTH, ParsedSitemap, base_clipping, read_sitemap
from scraper.spiders.responses import SourceReader, listing_place
from scraper.urls import same_site

logger = logging.getLogger(__name__)


class SitemapMixin(SourceReader):
    """The sitemap walk of the round spider (see the module docstring)."""

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Callback for a sitemap source's own URL."""
        source: Source = response.meta["source"]
        if self.unchanged(response):
            return
        doc = self._read(response, source)
        if doc.kind is None:
            self.failed_source(response, "parse_error", doc.error or "not a sitemap")
            return
        # An index may stay the same while its children change: it keeps no
        # validators, so the next round reads it whole again.
        self.fetched(response, validators=doc.kind == "urlset")
        yield from self._follow(doc, source, depth=0)

    def parse_child_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Callback for a sitemap listed in an index."""
        source: Source = response.meta["source"]
        self.listing_answered(response)
        doc = self._read(response, source)
        if doc.kind is None:
            self.context.states.listing_failed(
                source.id,
                response.url,
                listing_place(response.meta),
                "parse_error",
                doc.error or "not a sitemap",
                response.meta.get("attempts", 0),
                self.context.config.settings.crawl.article_retry_delays,
            )
            return
        yield from self._follow(doc, source, depth=response.meta.get("sitemap_depth", 1))

    def _read(self, response: Response, source: Source) -> ParsedSitemap:
        stats = self.crawler.stats
        doc = read_sitemap(
            response.body,
            url=response.url,
            max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"),
        )
        stats.inc_value("sitemap/parsed" if doc.kind else "sitemap/unreadable")
        if doc.kind is None:
            logger.warning(
                "unreadable sitemap: %s",
                doc.error,
                extra={"source": source.id, "url": response.url},
            )
        return doc

    def _follow(self, doc: ParsedSitemap, source: Source, depth: int) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        cutoff = self.context.windows.get(source.id)
        on_site = [e for e in doc.entries if same_site(e.loc, source.url)]
        stats.inc_value("sitemap/entries_offsite", len(doc.entries) - len(on_site))
        recent = [e for e in on_site if cutoff is None or e.dated is None or e.dated >= cutoff]
        stats.inc_value("sitemap/entries_old", len(on_site) - len(recent))
        if doc.kind == "sitemapindex":
            if depth >= MAX_DEPTH:
                stats.inc_value("sitemap/too_deep", len(recent))
                return
            # Undated and newest first, so the cap leaves out the oldest.
            recent.sort(key=lambda e: e.dated.timestamp() if e.dated else float("inf"))
            recent.reverse()
            for entry in recent[:MAX_CHILDREN]:
                yield scrapy.Request(
                    entry.loc,
                    callback=self.parse_child_sitemap,
                    errback=self.listing_failed,
                    meta={"source": source, "sitemap_depth": depth + 1},
                    priority=10,
                )
            return
        if source.url_pattern:
            pattern = re.compile(source.url_pattern)
            recent = [e for e in recent if pattern.search(e.loc)]
        bases = [base_clipping(e, source, doc.url) for e in recent]
        yield from self.request_articles(source, bases)
