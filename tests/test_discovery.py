"""``presscut sources discover``: the naming and candidate rules alone, then
discovery on the mock gazette, and its output pasted into a config that
crawls."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from parsel import Selector

from config import load_config
from scraper.discovery import (
    Candidate,
    Discovery,
    is_recent,
    outlet_name,
    render,
    section_candidates,
    slug,
)
from storage import open_store
from tests.crawling import presscut
from tests.mock_sites import fetched, paths, serve, stored, write_config

HOME = "https://paper.example/"


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (
            '<meta property="og:site_name" content=" The  Paper "><title>Home | X</title>',
            "The Paper",
        ),
        (
            '<script type="application/ld+json">{"@graph": [{"@type": "WebPage", "name": "Home"},'
            ' {"@type": "NewsMediaOrganization", "name": "Paper Daily"}]}</script>',
            "Paper Daily",
        ),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
            ' "publisher": {"@type": "Organization", "name": "Paper Weekly"}}</script>',
            "Paper Weekly",
        ),
        ('<meta name="application-name" content="Paper App">', "Paper App"),
        ("<title>Home – Saltmarsh District Council</title>", "Saltmarsh District Council"),
        ("<title>The Harbour Herald | News from Port Merrow</title>", "The Harbour Herald"),
        ("<title></title>", "paper.example"),
    ],
)
def test_outlet_name_as_the_site_names_itself(head: str, name: str) -> None:
    assert outlet_name(Selector(text=f"<html><head>{head}</head></html>"), HOME) == name


def test_section_candidates_skip_articles_noise_and_other_sites() -> None:
    html = """<nav><a href="/news/">News</a> <a href="/press/releases/">Press</a>
    <a href="/tag/sea/">Sea</a> <a href="/login">Sign in</a> <a href="/about/">About</a>
    <a href="/news/2026/11/a-long-story.html">A long story</a> <a href="/a/b/c/">Deep</a>
    <a href="/search?q=x">Search</a> <a href="https://other.example/news/">Other</a>
    <a href="/news/">News again</a> <a href="#top">Top</a></nav>"""
    assert section_candidates(Selector(text=html), HOME) == [
        "https://paper.example/news/",
        "https://paper.example/press/releases/",
    ]


def test_slug_and_recency() -> None:
    assert slug("The Tidewater Gazette") == "tidewater-gazette"
    assert slug("Ελληνικά Νέα") == "site"  # nothing ASCII left
    assert slug("Café du Port — Édition") == "cafe-du-port-edition"
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert is_recent(None, now) and is_recent(now - timedelta(days=29), now)
    assert not is_recent(now - timedelta(days=31), now)


def test_render_is_a_valid_sources_file(tmp_path: Path) -> None:
    found = Discovery(home=HOME, outlet='Paper "Daily"', language="en")
    feed = Candidate(
        "feed", HOME + "feed.xml", "homepage", ok=True, items=3, detail="RSS 2.0 feed"
    )
    news = Candidate("sitemap", HOME + "news.xml", "robots.txt", ok=True, items=2, news=True)
    old = Candidate("sitemap", HOME + "old.xml", "robots.txt", ok=True, items=9, stale=True)
    big = Candidate(
        "section", HOME + "news/", "homepage", ok=True, items=5, links=frozenset("abcde")
    )
    small = Candidate("section", HOME, "homepage", ok=True, items=3, links=frozenset("abc"))
    broken = Candidate("feed", HOME + "rss", "usual path", error="http_4xx: HTTP 404")
    for candidate in (feed, news, old, big, small, broken):
        found.add(candidate)
    assert [c.url for c in found.proposals()] == [feed.url, news.url, big.url]
    text = render(found)
    blocks = tomllib.loads(text)["sources"]
    assert [(b["id"], b["kind"], b["poll_interval"]) for b in blocks] == [
        ("paper-daily-feed", "feed", "30m"),
        ("paper-daily-news-sitemap", "sitemap", "30m"),
        ("paper-daily-news", "section", "1h"),
    ]
    assert {b["outlet"] for b in blocks} == {'Paper "Daily"'}
    assert f"#   feed {broken.url}: http_4xx: HTTP 404" in text
    assert f"#   sitemap {old.url}: " in text
    (tmp_path / "sources.toml").write_text(text, encoding="utf-8")
    assert [s.id for s in load_config(tmp_path, environ={}).sources] == [b["id"] for b in blocks]


def test_discover_the_mock_gazette_and_crawl_what_it_proposes(tmp_path: Path) -> None:
    web = serve(["tidewater-gazette"])
    try:
        db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
        empty = write_config(tmp_path / "discover", web, db_url, "")
        home = web.url("tidewater-gazette", "/")
        result = presscut("sources", "discover", home, "--config", str(empty))
        assert result.returncode == 0, result.stdout + result.stderr
        asked = paths(fetched(web, "tidewater-gazette"))

        proposed = tomllib.loads(result.stdout)["sources"]
        base = web.base_url("tidewater-gazette")
        assert {(s["kind"], s["url"].removeprefix(base)) for s in proposed} == {
            ("feed", "/feed.xml"),  # announced by <link rel=alternate>
            ("sitemap", "/sitemap_index.xml"),  # from robots.txt
            ("sitemap", "/news-sitemap.xml"),
            ("section", "/news/"),  # linked from the homepage; the homepage's own list repeats it
        }
        assert {s["outlet"] for s in proposed} == {"The Tidewater Gazette"}  # og:site_name
        assert {s["language"] for s in proposed} == {"en"}
        # Discovery reads what it proposes and no article; the comments feed
        # is not even tried, nor noise links (tag, author, login).
        assert set(asked) <= {"/", "/robots.txt", *(s["url"].removeprefix(base) for s in proposed)}
        assert "/comments/feed.xml" not in asked and "/tag/harbour/" not in asked

        web.clear_requests()
        config = write_config(tmp_path / "config", web, db_url, result.stdout)
        crawled = presscut("crawl", "--all", "--config", str(config))
        assert crawled.returncode == 0, crawled.stdout + crawled.stderr
        requested = paths(fetched(web, "tidewater-gazette"))
    finally:
        web.stop()
    assert set(stored(db_url)) == {
        "/news/2026/harbour-dredging-resumes.html",
        "/news/2026/lifeboat-crew-rescues-kayakers.html",
        "/news/2026/new-tide-gauge-installed.html",
        "/news/2026/storm-warning-for-weekend.html",
        "/news/2026/council-approves-flood-barrier.html",
    }
    assert "/news/drafts/embargoed-budget-story.html" not in requested
    store = open_store(db_url)
    try:
        rows = {row.id: row for row in store.list_sources()}
    finally:
        store.close()
    assert set(rows) == {s["id"] for s in proposed}
    for row in rows.values():  # every proposed source read fine
        assert row.last_success_at is not None and row.last_error is None, row
