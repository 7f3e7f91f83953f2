"""The discovery spider: a site's homepage and everything it points to
that could be watched, each candidate checked by `scraper.discovery` (see
there for what is fetched and why).  Backs ``presscut sources discover``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector
from scrapy.http import Response
from trafilatura.feeds import FeedParameters, determine_feed
from trafilatura.sitemaps import extract_robots_sitemaps

from scraper.discovery import (
    FEED_PATHS,
    SITEMAP_PATHS,
    Candidate,
    Discovery,
    check_feed,
    check_section,
    check_sitemap,
    outlet_name,
    section_candidates,
)
from scraper.errors import classify_failure
from scraper.metadata import language_code
from scraper.urls import is_http_url, same_site


class DiscoverySpider(scrapy.Spider):
    """Fetch a homepage and everything it points to that could be watched;
    the findings are in ``result`` once the crawl ends."""

    name = "discover"
    custom_settings = {"ITEM_PIPELINES": {}}  # noqa: RUF012 - Scrapy's own attribute

    def __init__(self, *args: Any, url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.result = Discovery(home=url)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        home = self.result.home
        yield scrapy.Request(home, callback=self.parse_home, errback=self.home_failed)
        robots = urljoin(home, "/robots.txt")
        yield scrapy.Request(robots, callback=self.parse_robots, errback=self.robots_failed)

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, scrapy.http.HtmlResponse):
            self.result.error = f"the homepage is not an HTML page ({response.url})"
            return
        page = Selector(text=response.text)
        self.result.outlet = outlet_name(page, response.url)
        self.result.language = language_code(page.css("html::attr(lang)").get())
        home = Candidate("section", response.url, "the homepage itself")
        if self.result.add(home):
            check_section(home, response)
        parts = urlsplit(response.url)
        params = FeedParameters(
            f"{parts.scheme}://{parts.netloc}", parts.hostname or "", response.url
        )
        feeds = [u for u in determine_feed(response.text, params) if same_site(u, response.url)]
        for url in feeds:
            yield from self._check(Candidate("feed", url, "announced on the homepage"))
        if not feeds:
            for path in FEED_PATHS:
                yield from self._check(
                    Candidate("feed", urljoin(response.url, path), "usual path")
                )
        for url in section_candidates(page, response.url):
            yield from self._check(Candidate("section", url, "linked from the homepage"))

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        text = response.text if response.status == 200 and hasattr(response, "text") else ""
        base = f"{urlsplit(response.url).scheme}://{urlsplit(response.url).netloc}"
        sitemaps = [u for u in extract_robots_sitemaps(text, base) if is_http_url(u)]
        for url in sitemaps:
            yield from self._check(Candidate("sitemap", url, "robots.txt"))
        if not sitemaps:
            for path in SITEMAP_PATHS:
                yield from self._check(Candidate("sitemap", base + path, "usual path"))

    def _check(self, candidate: Candidate) -> Iterator[scrapy.Request]:
        if self.result.add(candidate):
            yield scrapy.Request(
                candidate.url,
                callback=self.parse_candidate,
                errback=self.candidate_failed,
                meta={"candidate": candidate},
                dont_filter=True,
            )

    def parse_candidate(self, response: Response) -> None:
        candidate: Candidate = response.meta["candidate"]
        if candidate.kind == "feed":
            check_feed(candidate, response)
        elif candidate.kind == "sitemap":
            check_sitemap(candidate, response, self.settings.getint("DOWNLOAD_MAXSIZE"))
        else:
            check_section(candidate, response)
        if response.url != candidate.url:  # followed a redirect
            candidate.detail += f" (at {response.url})"
            candidate.url = response.url

    def candidate_failed(self, failure: Any) -> None:
        candidate: Candidate = failure.request.meta["candidate"]
        candidate.error = "{}: {}".format(*classify_failure(failure))

    def home_failed(self, failure: Any) -> None:
        self.result.error = "the homepage failed: {}: {}".format(*classify_failure(failure))

    def robots_failed(self, failure: Any) -> None:
        pass  # no robots.txt: the usual sitemap paths are not tried either
