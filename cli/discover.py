"""``presscut sources discover URL``: propose sources for a site.

Fetches the homepage and what it points to through the crawl's own Scrapy
stack (robots.txt, User-Agent, timeouts and size caps from the settings),
checks every feed, sitemap and section page found, and prints the good ones
as ``[[sources]]`` blocks to paste into ``sources.toml`` (see
`scraper.discovery`).  Standard output is valid TOML; exit status 1 when
nothing could be proposed, 2 for a bad URL or configuration.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import ConfigDir, errors, load
from scraper.urls import is_http_url


def sources_discover(
    url: Annotated[str, typer.Argument(help="The site's homepage (http:// or https://).")],
    config_dir: ConfigDir = None,
) -> None:
    """Find a site's feeds, sitemaps and section pages; print them as sources."""
    config = load(config_dir)
    if not is_http_url(url):
        errors.print(f"not an absolute http(s) URL: {url!r}")
        raise typer.Exit(2)
    from scrapy.crawler import CrawlerProcess

    from scraper.crawl_log import quiet_crawl_logging
    from scraper.discovery import render
    from scraper.settings import scrapy_settings
    from scraper.spiders.discover import DiscoverySpider

    process = CrawlerProcess(scrapy_settings(config))
    crawler = process.create_crawler(DiscoverySpider)
    quiet_crawl_logging(crawler)
    process.crawl(crawler, url=url)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, DiscoverySpider)
    found = spider.result
    # print, not the rich console: the output is meant to be pasted verbatim.
    print(render(found), end="")
    if not found.proposals():
        errors.print(f"nothing to propose for {url}" + (f": {found.error}" if found.error else ""))
        raise typer.Exit(1)
