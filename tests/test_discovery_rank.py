"""``sources discover`` proposes a working feed first even when it is quiet,
ranks feed > news sitemap > sitemap > section, and never proposes a single
article page as a section (#17.10)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

from scrapy.http import HtmlResponse, Request, TextResponse

from scraper.discovery import Candidate, Discovery, check_feed, check_section, render

HOME = "https://ngo.example/"

QUIET_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Press releases</title><id>urn:x</id><updated>2022-11-20T10:00:00Z</updated>
  <entry><title>Annual report published</title><id>urn:1</id>
    <link href="https://ngo.example/press/annual-report-2022"/>
    <updated>2022-11-20T10:00:00Z</updated></entry>
  <entry><title>New director appointed</title><id>urn:2</id>
    <link href="https://ngo.example/press/new-director"/>
    <updated>2022-06-02T10:00:00Z</updated></entry>
</feed>
"""


def html(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=Request(url))


def test_a_quiet_feed_that_parses_is_proposed_first_with_its_newest_date() -> None:
    feed = Candidate("feed", HOME + "atom.xml", "announced on the homepage")
    response = TextResponse(
        feed.url,
        body=QUIET_ATOM,
        headers={"Content-Type": "application/atom+xml"},
        request=Request(feed.url),
    )
    check_feed(feed, response)
    assert feed.ok and feed.stale
    found = Discovery(home=HOME, outlet="Harbour Trust")
    sitemap = Candidate("sitemap", HOME + "sitemap.xml", "robots.txt", ok=True, items=40)
    section = Candidate("section", HOME, "the homepage itself", ok=True, items=5)
    news = Candidate("sitemap", HOME + "news.xml", "robots.txt", ok=True, items=4, news=True)
    for candidate in (section, sitemap, news, feed):
        found.add(candidate)
    assert [c.url for c in found.proposals()] == [feed.url, news.url, sitemap.url, section.url]
    text = render(found, now=datetime(2026, 12, 7, tzinfo=UTC))
    kinds = [b["kind"] for b in tomllib.loads(text)["sources"]]
    assert kinds == ["feed", "sitemap", "sitemap", "section"]
    assert "newest 2022-11-20 (quiet: nothing in the last 30 days)" in text
    assert "Not proposed" not in text


def test_a_stale_sitemap_is_still_not_proposed() -> None:
    found = Discovery(home=HOME)
    old = Candidate("sitemap", HOME + "old.xml", "robots.txt", ok=True, items=9, stale=True)
    found.add(old)
    assert found.proposals() == []


LISTING_LINKS = "".join(
    f'<li><a href="/press/2026/11/{n:02d}/release-number-{n}">Release number {n} '
    "about the harbour</a></li>"
    for n in range(1, 7)
)


def test_a_single_article_page_is_never_a_section() -> None:
    article = html(
        HOME + "press/annual-report",
        '<html><head><meta property="og:type" content="article"></head>'
        f"<body><article><h1>Annual report</h1></article><ul>{LISTING_LINKS}</ul></body></html>",
    )
    candidate = check_section(Candidate("section", article.url, "linked"), article)
    assert not candidate.ok and candidate.error == "a single article page, not a listing"
    ld = html(
        HOME + "about",
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
        f'"headline": "x"}}</script></head><body><ul>{LISTING_LINKS}</ul></body></html>',
    )
    assert not check_section(Candidate("section", ld.url, "linked"), ld).ok
    listing = html(HOME + "press/", f"<html><body><ul>{LISTING_LINKS}</ul></body></html>")
    assert check_section(Candidate("section", listing.url, "linked"), listing).ok
