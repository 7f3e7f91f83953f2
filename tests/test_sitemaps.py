"""Sitemap sources: `read_sitemap` alone, then a crawl of the mock gazette's
sitemap index (plain, gzip'd, undated and year-old child sitemaps) and its
Google News sitemap: what is fetched, what never is, what is stored."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import Source
from demo.server import LocalWeb
from scraper import sitemaps
from scraper.sitemaps import MAX_ENTRIES, read_sitemap
from scraper.sitemaps import base_clipping as _clipping
from scraper.urls import canonical_url
from storage import open_store
from tests.crawling import presscut
from tests.mock_sites import fetched, paths, serve, stored, write_config

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
URL = "https://paper.example/sitemap.xml"


def test_urlset_entries_with_dates_resolved_and_bad_locs_skipped() -> None:
    body = f"""<?xml version="1.0"?><urlset {NS}>
    <url><loc> https://paper.example/a.html </loc><lastmod>2026-11-20</lastmod></url>
    <url><loc>/b.html</loc><lastmod>2026-11-21T10:00:00+02:00</lastmod></url>
    <url><lastmod>2026-11-21</lastmod></url>
    <url><loc>javascript:alert(1)</loc></url>
    <url><loc>https://paper.example/c.html</loc><lastmod>not a date</lastmod></url>
    </urlset>""".encode()
    doc = read_sitemap(body, url=URL)
    assert doc.kind == "urlset" and doc.error is None and not doc.news
    assert [e.loc for e in doc.entries] == [
        "https://paper.example/a.html",
        "https://paper.example/b.html",
        "https://paper.example/c.html",
    ]
    assert doc.entries[0].lastmod == datetime(2026, 11, 20, tzinfo=UTC)
    assert doc.entries[1].lastmod == datetime(2026, 11, 21, 8, tzinfo=UTC)
    assert doc.entries[2].lastmod is None and doc.entries[2].lastmod_raw == "not a date"


def test_news_sitemap_title_and_publication_date() -> None:
    body = f"""<urlset {NS} {NEWS_NS}><url><loc>https://paper.example/x.html</loc>
      <lastmod>2026-11-01</lastmod>
      <news:news><news:publication><news:name>Paper</news:name></news:publication>
      <news:publication_date>2026-11-22T06:30:00Z</news:publication_date>
      <news:title>Flood  &amp; tide</news:title></news:news></url></urlset>""".encode()
    doc = read_sitemap(body, url=URL)
    (entry,) = doc.entries
    assert doc.news
    assert entry.news_title == "Flood & tide"
    assert entry.news_published == datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
    # the publication date, not the older lastmod, places the entry in time
    assert entry.dated == entry.news_published
    source = Source(id="paper", outlet="Paper", kind="sitemap", url=URL)
    base = _clipping(entry, source, URL)
    assert (base.title, base.title_from, base.published_from) == ("Flood & tide", "feed", "feed")
    assert base.entry_key == canonical_url(entry.loc) and base.feed_url == URL


def test_index_gzip_and_its_size_cap() -> None:
    index = f"""<sitemapindex {NS}><sitemap><loc>https://paper.example/s1.xml.gz</loc>
      <lastmod>2026-11-02</lastmod></sitemap></sitemapindex>""".encode()
    doc = read_sitemap(gzip.compress(index), url=URL)
    assert doc.kind == "sitemapindex"
    assert [e.loc for e in doc.entries] == ["https://paper.example/s1.xml.gz"]
    big = gzip.compress(b"<urlset " + NS.encode() + b">" + b" " * 200_000 + b"</urlset>")
    capped = read_sitemap(big, url=URL, max_size=50_000)
    assert capped.kind is None and "inflates beyond 50000" in (capped.error or "")
    broken = read_sitemap(b"\x1f\x8b\x08\x00garbage", url=URL)
    assert broken.kind is None and "gzip" in (broken.error or "")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "empty body"),
        (b"<html><body>Not found</body></html>", "root element <html>"),
        (b"<rss version='2.0'><channel/></rss>", "root element <rss>"),
        (b"plain text", "not a sitemap"),
    ],
)
def test_what_is_no_sitemap_is_reported_not_raised(body: bytes, error: str) -> None:
    doc = read_sitemap(body, url=URL)
    assert doc.kind is None and doc.entries == []
    assert error in (doc.error or "")


def test_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("https://paper.example/leaked.html")
    body = f"""<?xml version="1.0"?><!DOCTYPE urlset [
      <!ENTITY ext SYSTEM "file://{secret}"><!ENTITY a "https://paper.example/&ext;">]>
      <urlset {NS}><url><loc>&ext;</loc></url><url><loc>&a;</loc></url>
      <url><loc>https://paper.example/ok.html</loc></url></urlset>""".encode()
    doc = read_sitemap(body, url=URL)
    assert all("leaked" not in e.loc for e in doc.entries)
    assert "https://paper.example/ok.html" in [e.loc for e in doc.entries]


def test_entry_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_ENTRIES == 50_000  # the protocol's own limit
    monkeypatch.setattr(sitemaps, "MAX_ENTRIES", 7)
    many = "".join(f"<url><loc>https://paper.example/{i}</loc></url>" for i in range(20))
    doc = read_sitemap(f"<urlset {NS}>{many}</urlset>".encode(), url=URL)
    assert [e.loc for e in doc.entries] == [f"https://paper.example/{i}" for i in range(7)]


# -- a crawl of the mock gazette -------------------------------------------------

SOURCES = """
[[sources]]
id = "gazette-sitemaps"
outlet = "The Tidewater Gazette"
kind = "sitemap"
url = "{{base:tidewater-gazette}}/sitemap_index.xml"
url_pattern = "/news/"

[[sources]]
id = "gazette-news"
outlet = "The Tidewater Gazette"
kind = "sitemap"
url = "{{base:tidewater-gazette}}/news-sitemap.xml"
poll_interval = "30m"
"""

STORED = {
    "/news/2026/harbour-dredging-resumes.html",
    "/news/2026/lifeboat-crew-rescues-kayakers.html",
    "/news/2026/new-tide-gauge-installed.html",  # from the gzip'd child sitemap
    "/news/2026/storm-warning-for-weekend.html",  # from the news sitemap
    "/news/2026/council-approves-flood-barrier.html",
}
NEVER_FETCHED = {
    "/news/drafts/embargoed-budget-story.html",  # robots.txt
    "/news/2026/ferry-timetable-changes.html",  # lastmod before the window
    "/news/2026/old-pier-demolition-approved.html",
    "/news/2026/winter-ferry-schedule.html",  # news date before the window
    "/sitemaps/posts-2025.xml.gz",  # child sitemap dated before the window
    "/news/2025/archive-story.html",
    "/about/",  # not matching url_pattern
    "/contact/",
}


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    web = serve(["tidewater-gazette"])
    yield web
    web.stop()


def test_sitemap_sources_crawl(tmp_path: Path, web: LocalWeb) -> None:
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = write_config(tmp_path / "config", web, db_url, SOURCES)
    result = presscut("crawl", "--all", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr

    requested = paths(fetched(web, "tidewater-gazette"))
    assert set(stored(db_url)) == STORED
    assert not NEVER_FETCHED & set(requested), requested
    for path in ("/sitemap_index.xml", "/sitemaps/posts-recent.xml", "/news-sitemap.xml"):
        assert path in requested
    assert "/sitemaps/posts-older.xml.gz" in requested  # gzip'd, read
    assert "/sitemaps/pages.xml" in requested  # undated in the index: read
    # Undated entry: fetched once, its page date (20 days ago) drops it.
    assert requested.count("/news/2026/seal-pup-season-begins.html") == 1
    assert len(requested) == len(set(requested)), "something was fetched twice"
    clippings = stored(db_url)
    storm = clippings["/news/2026/storm-warning-for-weekend.html"]
    assert storm.source_id == "gazette-news" and storm.outlet == "The Tidewater Gazette"
    assert storm.title == "Storm warning issued for the weekend"
    assert clippings["/news/2026/new-tide-gauge-installed.html"].source_id == "gazette-sitemaps"

    store = open_store(db_url)
    try:
        seal = canonical_url(
            web.url("tidewater-gazette", "/news/2026/seal-pup-season-begins.html")
        )
        known, _ = store.known_entries("gazette-sitemaps", [seal], [])
        assert known == {seal}, "the out-of-window drop was not recorded"
    finally:
        store.close()

    # Second round: no article is fetched again; the news sitemap (a urlset)
    # is asked conditionally, the index (no validators kept) read again.
    web.clear_requests()
    result = presscut("crawl", "--all", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    again = fetched(web, "tidewater-gazette")
    assert not [r.path for r in again if r.path.startswith("/news/")]
    news = [r for r in again if r.path == "/news-sitemap.xml"]
    assert [r.status for r in news] == [304]
    assert [r.status for r in again if r.path == "/sitemap_index.xml"] == [200]
    assert set(stored(db_url)) == STORED
