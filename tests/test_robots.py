"""robots.txt kept between rounds (issue #12, part 5; RFC 9309): a copy is
used without a request while its caching headers say it is fresh (never
past 24 h), asked for again conditionally once stale; a 5xx means "try
later": nothing is fetched from the host this round, and everything is
fetched next round; a 4xx means everything is allowed."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.http import Headers

from scraper.robots import MAX_AGE, lifetime
from storage import RobotsCopy, Store, open_store
from tests.faultcrawl import article, crawl_round, rss, sources, stored, write_config
from tests.faultserver import FaultServer

HTML = "text/html; charset=utf-8"
TEXT = "text/plain"
NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
RULES = "User-agent: *\nDisallow: /private/\n"


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=2) as server:
        yield server


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Cache-Control": "public, max-age=600"}, 600.0),
        ({"Cache-Control": "max-age=604800"}, MAX_AGE),  # a week asked: 24 h kept
        ({"Cache-Control": "no-cache"}, 0.0),
        ({"Cache-Control": "no-store, max-age=600"}, 0.0),
        ({"Cache-Control": "max-age=soon"}, 0.0),
        (
            {"Date": "Tue, 08 Dec 2026 12:00:00 GMT", "Expires": "Tue, 08 Dec 2026 14:00:00 GMT"},
            7200.0,
        ),
        ({"Expires": "0"}, 0.0),  # an unreadable date is in the past
        ({}, MAX_AGE),
    ],
)
def test_freshness_follows_the_caching_headers_up_to_a_day(
    headers: dict[str, str], seconds: float
) -> None:
    assert lifetime(Headers(headers), NOW) == seconds


def test_a_copy_is_kept_per_host_and_replaced(store: Store) -> None:
    host = "https://news.example:8443"
    first = RobotsCopy(
        host=host,
        status=200,
        body=b"User-agent: *\nDisallow: /private/\n\xff",  # bytes as served
        etag='"r1"',
        last_modified=None,
        fetched_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        lifetime_s=3600.0,
    )
    store.save_robots_copy(first)
    assert store.robots_copy(host) == first
    assert store.robots_copy("http://news.example:8443") is None  # another scheme
    later = dataclasses.replace(first, status=404, body=b"", etag=None, fetched_at=NOW)
    store.save_robots_copy(later)
    assert store.robots_copy(host) == later


def robots_copy(db: str, base: str) -> RobotsCopy | None:
    store = open_store(db)
    try:
        return store.robots_copy(base)
    finally:
        store.close()


def site(faults: FaultServer, tmp_path: Path, *links: tuple[str, str]) -> tuple[str, Path]:
    """A feed on host 0 listing ``links`` (title, path on host 0), each an
    article; the database URL and the config folder."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(0)
    for title, path in links:
        faults.put(path, article(title), content_type=HTML)
    faults.put("/feed.xml", rss(base, list(links)), headers={"ETag": '"v1"'})
    return db, write_config(tmp_path / "config", db, {"news": faults.url("/feed.xml")})


def test_a_fresh_copy_is_used_without_a_request_and_its_rules_hold(
    tmp_path: Path, faults: FaultServer
) -> None:
    headers = {"Cache-Control": "max-age=3600", "ETag": '"r1"'}
    faults.put("/robots.txt", RULES + "Crawl-delay: 1\n", content_type=TEXT, headers=headers)
    db, config = site(faults, tmp_path, ("Open", "/a/open.html"), ("Kept", "/private/k.html"))
    first = crawl_round(config)
    assert first.status == "finished", first.output
    assert len(faults.served("/robots.txt")) == 1
    assert [c.url for c in stored(db)] == [faults.url("/a/open.html")]
    assert not faults.served("/private/k.html")
    copy = robots_copy(db, faults.base_url(0))
    assert copy is not None and copy.status == 200 and copy.etag == '"r1"'
    assert copy.expires_at - copy.fetched_at == timedelta(seconds=3600)

    # Second round, a new feed listing another private article: no robots.txt
    # request, and the kept rules still refuse the article.
    faults.log.clear()
    links = [("Open", "/a/open.html"), ("Kept", "/private/k.html"), ("More", "/private/m.html")]
    faults.put("/feed.xml", rss(faults.base_url(0), links), headers={"ETag": '"v2"'})
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert faults.served("/robots.txt") == []
    assert faults.served("/feed.xml") and not faults.served("/private/m.html")
    assert second.stats.get("robotstxt/kept") == 1
    # The kept copy's Crawl-delay holds as a fetched one's does.
    host = urlsplit(faults.base_url(0)).hostname
    assert second.stats.get(f"politeness/crawl_delay/{host}") == 1.0


def test_a_stale_copy_is_asked_for_again_conditionally(
    tmp_path: Path, faults: FaultServer
) -> None:
    headers = {"Cache-Control": "max-age=1", "ETag": '"r1"'}
    faults.put("/robots.txt", RULES, content_type=TEXT, headers=headers)
    db, config = site(faults, tmp_path, ("Open", "/a/open.html"))
    assert crawl_round(config).status == "finished"
    before = robots_copy(db, faults.base_url(0))
    assert before is not None
    time.sleep(1.2)

    faults.log.clear()
    links = [("Open", "/a/open.html"), ("Kept", "/private/k.html")]
    faults.put("/feed.xml", rss(faults.base_url(0), links), headers={"ETag": '"v2"'})
    second = crawl_round(config)
    assert second.status == "finished", second.output
    [asked] = faults.served("/robots.txt")
    assert asked.headers.get("If-None-Match") == '"r1"'  # answered 304
    assert not faults.served("/private/k.html")  # the kept rules, renewed
    after = robots_copy(db, faults.base_url(0))
    assert after is not None and after.fetched_at > before.fetched_at
    assert after.body == before.body and after.lifetime_s == 1.0


@pytest.mark.parametrize("status", [503, 429])
def test_a_5xx_robots_txt_holds_the_host_back_until_the_next_round(
    tmp_path: Path, faults: FaultServer, status: int
) -> None:
    faults.put("/robots.txt", "busy", content_type=TEXT, status=status)
    db, config = site(faults, tmp_path, ("Open", "/a/open.html"))
    first = crawl_round(config)
    assert first.status == "finished", first.output
    assert {s.path for s in faults.log} == {"/robots.txt"}  # once, not retried
    assert len(faults.served("/robots.txt")) == 1
    assert first.error_kind("news") == "robots_unavailable"
    assert f"HTTP {status}" in first.errors["news"]
    assert robots_copy(db, faults.base_url(0)) is None
    assert stored(db) == []

    faults.put("/robots.txt", RULES, content_type=TEXT)
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert [c.url for c in stored(db)] == [faults.url("/a/open.html")]
    assert sources(db)["news"].failure_score == 0


def test_articles_held_back_by_a_5xx_robots_txt_come_back_next_round(
    tmp_path: Path, faults: FaultServer
) -> None:
    """The feed's host answers; the articles' host's robots.txt does not.
    The feed is read (and answers 304 next round), its articles wait on
    their entries and are fetched next round, costing no attempt."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    other = faults.base_url(1)
    faults.put("/a/one.html", article("Harbour wall repaired"), content_type=HTML)
    faults.put("/feed.xml", rss(other, [("One", "/a/one.html")]), headers={"ETag": '"v1"'})
    faults.put("/robots.txt", "down", content_type=TEXT, status=500, on=1)
    config = write_config(tmp_path / "config", db, {"news": faults.url("/feed.xml")})
    first = crawl_round(config)
    assert first.status == "finished", first.output
    assert not faults.served("/a/one.html") and stored(db) == []
    assert first.summary["news"]["failed"] == 1
    assert sources(db)["news"].etag == '"v1"'

    faults.log.clear()
    faults.put("/robots.txt", "", content_type=TEXT, status=404, on=1)
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert [s.headers.get("If-None-Match") for s in faults.served("/feed.xml")] == ['"v1"']
    assert [c.url for c in stored(db)] == [f"{other}/a/one.html"]


def test_a_robots_txt_that_never_answers_holds_the_host_back_too(
    tmp_path: Path, faults: FaultServer
) -> None:
    """A timeout is no answer: the articles' host is held back (never asked
    twice in the round), the feed's host is not; a host where nothing
    listens fails with its own error."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    faults.put("/a/one.html", article("Harbour wall repaired"), content_type=HTML)
    faults.put("/feed.xml", rss(faults.base_url(1), [("One", "/a/one.html")]))
    faults.fail("/robots.txt", "/fault/silent", on=1)
    refused = faults.refused_url()
    urls = {"news": faults.url("/feed.xml"), "closed": refused}
    config = write_config(tmp_path / "config", db, urls)
    first = crawl_round(config)
    assert first.status == "finished", first.output
    assert len(faults.served("/robots.txt")) == 2  # each host once: no retry
    assert not faults.served("/a/one.html")
    assert first.error_kind("news") == "robots_unavailable"
    assert "timeout" in first.errors["news"]
    assert first.error_kind("closed") == "connection"
    assert "refused" in first.errors["closed"]

    faults.put("/robots.txt", "", content_type=TEXT, status=404, on=1)
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert [c.title for c in stored(db)] == ["Harbour wall repaired"]


def test_a_5xx_after_a_stale_copy_uses_the_copy(tmp_path: Path, faults: FaultServer) -> None:
    faults.put("/robots.txt", RULES, content_type=TEXT, headers={"Cache-Control": "max-age=1"})
    db, config = site(faults, tmp_path, ("Open", "/a/open.html"))
    assert crawl_round(config).status == "finished"
    time.sleep(1.2)
    faults.put("/robots.txt", "busy", content_type=TEXT, status=502)
    links = [("Open", "/a/open.html"), ("Kept", "/private/k.html"), ("New", "/a/new.html")]
    faults.put("/a/new.html", article("Ferry timetable changes"), content_type=HTML)
    faults.put("/feed.xml", rss(faults.base_url(0), links), headers={"ETag": '"v2"'})
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert second.stats.get("robotstxt/kept_on_error") == 1
    assert faults.url("/a/new.html") in {c.url for c in stored(db)}
    assert not faults.served("/private/k.html")


def test_a_4xx_robots_txt_allows_everything(tmp_path: Path, faults: FaultServer) -> None:
    # A 403 whose body would forbid everything, were it read as rules.
    forbidding = "User-agent: *\nDisallow: /\n"
    faults.put("/robots.txt", forbidding, content_type=TEXT, status=403)
    db, config = site(faults, tmp_path, ("Open", "/a/open.html"), ("Also", "/private/a.html"))
    first = crawl_round(config)
    assert first.status == "finished", first.output
    assert len(stored(db)) == 2
    copy = robots_copy(db, faults.base_url(0))
    assert copy is not None and (copy.status, copy.body) == (403, b"")
    assert copy.expires_at - copy.fetched_at == timedelta(seconds=MAX_AGE)

    faults.log.clear()
    assert crawl_round(config).status == "finished"
    assert faults.served("/robots.txt") == []
