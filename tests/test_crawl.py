"""End to end: the demo sites served on loopback, crawled by ``presscut crawl``
into SQLite and into PostgreSQL, checked against demo/sites/expected.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from demo.server import LocalWeb
from scraper.urls import canonical_url, url_hash
from storage import open_store
from tests.crawling import DEMO_SITES, presscut, write_config

EXPECTED = json.loads((DEMO_SITES / "expected.json").read_text(encoding="utf-8"))


def expected_articles() -> list[dict[str, Any]]:
    out = []
    for site, info in EXPECTED.items():
        for article in info["articles"]:
            out.append({**article, "site": site})
    return out


def stored(db_url: str) -> list[Any]:
    store = open_store(db_url)
    try:
        return [c for _, c in store.iter_clippings()]
    finally:
        store.close()


def crawl(config_dir: Path) -> str:
    result = presscut("crawl", "--all", "--config", str(config_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def web() -> Any:
    with LocalWeb(DEMO_SITES) as web:
        yield web


def path_of(web: LocalWeb, site: str, url: str) -> str:
    base = web.base_url(site)
    return url[len(base) :] if url.startswith(base) else url


def check_first_crawl(web: LocalWeb, db_url: str) -> None:
    clippings = stored(db_url)
    on_topic = [a for a in expected_articles() if a["on_topic"] and not a.get("url_variant_of")]
    by_path = {
        (c.source_id, path_of(web, c.source_id or "", c.canonical_url or "")): c for c in clippings
    }
    assert len(clippings) == len(on_topic), sorted(by_path)
    for article in on_topic:
        c = by_path.get((article["site"], article["path"]))
        assert c is not None, f"{article['site']}{article['path']} not stored"
        assert c.title == article["title"]
        assert c.authors == article["authors"]
        assert c.published_at is not None
        assert c.published_at.date().isoformat() == article["date"]
        assert c.outlet == EXPECTED[article["site"]]["outlet"]
        assert c.excerpt and len(c.excerpt.split()) >= 20
        assert c.excerpt_from == "topic"
        assert c.status == "new"
    # syndicated copies share the original's cluster
    for article in on_topic:
        if article.get("syndicated_from"):
            site, path = article["syndicated_from"]
            copy = by_path[(article["site"], article["path"])]
            original = by_path[(site, path)]
            assert copy.cluster == original.cluster
    # every URL key unique
    assert len({c.url_hash for c in clippings}) == len(clippings)


def run_three_rounds(tmp_path: Path, web: LocalWeb, db_url: str) -> None:
    config_dir = write_config(tmp_path / "config", web, db_url)
    crawl(config_dir)
    check_first_crawl(web, db_url)
    first_count = len(stored(db_url))

    # Second poll of unchanged feeds: conditional requests only, no article.
    web.clear_requests()
    crawl(config_dir)
    feed_requests = [r for r in web.requests if not r.path.endswith("robots.txt")]
    assert feed_requests, "the second round polled nothing"
    for record in feed_requests:
        assert "If-None-Match" in record.headers or "If-Modified-Since" in record.headers, record
        assert record.status == 304, record
    assert len(feed_requests) == len(EXPECTED)
    assert len(stored(db_url)) == first_count

    # New items appear: exactly those are fetched and stored.
    site = next(iter(EXPECTED))
    info = EXPECTED[site]
    article = (
        "<html><head><title>Sea wall works begin</title></head><body><article>"
        "<h1>Sea wall works begin</h1><p class='byline'>By Ines Harrow</p>"
        "<time datetime='2026-11-20T09:00:00+00:00'>20 November 2026</time>"
        + "".join(
            f"<p>Paragraph {i}: crews started rebuilding the sea wall after the flood, "
            "working between tides on the harbour front with cranes and barges.</p>"
            for i in range(8)
        )
        + "</article></body></html>"
    )
    web.set_file(site, "/news/sea-wall-works.html", article)
    feed_path = info["feed"]
    feed = (DEMO_SITES / site / feed_path.lstrip("/")).read_text(encoding="utf-8")
    new_item = (
        "<item><title>Sea wall works begin</title>"
        f"<link>{{{{base:{site}}}}}/news/sea-wall-works.html</link>"
        "<guid>sea-wall-works-2026</guid><dc:creator>Ines Harrow</dc:creator>"
        "<pubDate>Fri, 20 Nov 2026 09:00:00 +0000</pubDate></item>"
    )
    web.set_file(site, feed_path, feed.replace("<item>", new_item + "<item>", 1))
    web.clear_requests()
    crawl(config_dir)
    after = stored(db_url)
    assert len(after) == first_count + 1
    new = [c for c in after if c.title == "Sea wall works begin"]
    assert len(new) == 1 and new[0].authors == ["Ines Harrow"]
    article_requests = [r for r in web.requests if r.path.endswith(".html")]
    assert [r.path for r in article_requests] == ["/news/sea-wall-works.html"]
    expected_key = url_hash(canonical_url(web.base_url(site) + "/news/sea-wall-works.html"))
    assert new[0].url_hash == expected_key


def test_crawl_demo_sites_into_sqlite(tmp_path: Path, web: LocalWeb) -> None:
    run_three_rounds(tmp_path, web, f"sqlite:///{tmp_path / 'presscut.db'}")


@pytest.mark.postgres
def test_crawl_demo_sites_into_postgres(tmp_path: Path, web: LocalWeb, postgres_url: str) -> None:
    run_three_rounds(tmp_path, web, postgres_url)


def test_a_crawl_by_hand_waits_for_no_round_but_never_overlaps_one(
    tmp_path: Path, web: LocalWeb
) -> None:
    """``presscut crawl`` takes the round lock that scheduled rounds take:
    while another round holds it, the command fetches nothing and says why
    (exit status 3); once it is free, the crawl runs."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = write_config(tmp_path / "config", web, db)
    store = open_store(db)
    store.upgrade()
    web.clear_requests()
    try:
        with store.round_lock() as held:
            assert held
            busy = presscut("crawl", "--all", "--config", str(config))
    finally:
        store.close()
    assert busy.returncode == 3, busy.stdout + busy.stderr
    assert "another crawl round is running" in busy.stderr
    assert web.requests == []
    free = presscut("crawl", "--all", "--config", str(config))
    assert free.returncode == 0, free.stdout + free.stderr
    assert web.requests
