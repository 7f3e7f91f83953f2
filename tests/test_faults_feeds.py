"""Hostile and broken feeds, through ingestion and through the crawl.

* feedparser's corpus (tests/fixtures/feeds/, see its README) through the
  whole ingestion path: `parse_feed` -> `FeedEntry.to_clipping` -> the
  normalize stage -> `Store.write_batch` into SQLite -> read back: nothing
  raises, every stored string is valid Unicode, the round trip keeps every
  value, and where a file states its expectation (``Expect:``) the stored
  title, link and date agree (tests/test_feeds.py checks `parse_feed` alone);
* bounded-time parsing: `FeedParsePool` stops a parse at its deadline;
* crawl rounds over feeds that are hostile (billion laughs, external
  entities, a ReDoS-sized ``<author>``), huge (50,000 entries), broken
  (truncated XML, HTML at a feed URL) or odd (duplicate GUIDs, absurd and
  future dates, ``javascript:`` and relative links): each source ends with
  the right outcome and the others are unaffected.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
from w3lib.url import add_or_replace_parameter, safe_url_string

from pipelines.normalize import normalize_clipping
from scraper.feed_pool import FeedParsePool
from scraper.feeds import parse_feed
from scraper.items import Clipping
from scraper.urls import is_http_url
from storage import EntryOutcome, open_store
from tests.faultcrawl import REPO, article, crawl_round, sources, stored, write_config
from tests.faultserver import FaultServer
from tests.test_feeds import (
    CORPUS_BASE,
    CORPUS_FILES,
    billion_laughs,
    corpus_case,
    expectations,
    html_text,
    squash,
)

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# -- the corpus through ingestion -------------------------------------------------


def corpus_group(relpath: str) -> str:
    parts = relpath.split("/")
    return "/".join(parts[:2]) if parts[0] == "wellformed" else parts[0]


GROUPS: dict[str, list[str]] = defaultdict(list)
for _path in CORPUS_FILES:
    GROUPS[corpus_group(_path)].append(_path)


def ingest(relpath: str, source_id: str) -> list[Clipping]:
    """The clippings the corpus file becomes, as the spider and the
    normalize stage make them.

    Two liberties, so that every entry's strings reach the database: an
    entry without an http(s) link (nine in ten here; the spider skips them)
    stands in with the feed's URL as its link, and each URL gets a query
    parameter naming its file and entry (`TAG`), as the corpus reuses a few
    links (such as http://example.com/) in hundreds of files and storage
    keeps one clipping per URL."""
    data, headers, _ = corpus_case(relpath)
    feed = parse_feed(data, url=CORPUS_BASE + relpath, headers=headers)
    out = []
    for number, entry in enumerate(feed.entries):
        if entry.link is None:
            with pytest.raises(ValueError):
                entry.to_clipping(source_id, "Corpus")
            entry = dataclasses.replace(entry, link=CORPUS_BASE + relpath)
        clipping = entry.to_clipping(source_id, "Corpus")
        clipping.url = tagged(clipping.url, f"{source_id}.{number}")
        normalize_clipping(clipping)
        clipping.cluster = clipping.url_hash  # what the dedupe stage gives a first copy
        out.append(clipping)
    return out


def assert_valid_text(value: object, where: str) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # raises on a lone surrogate
        assert not _CONTROL.search(value), f"{where}: control character in {value!r}"
        assert unicodedata.is_normalized("NFC", value) or where.endswith(("url", "raw")), where
    elif isinstance(value, list):
        for item in value:
            assert_valid_text(item, where)


TAG = "presscut-corpus"


def tagged(url: str, tag: str) -> str:
    return add_or_replace_parameter(url, TAG, tag)


KEPT = ("url", "canonical_url", "url_hash", "entry_key", "feed_url", "title", "authors")


@dataclasses.dataclass
class Ingested:
    """The whole corpus ingested into one SQLite database: what was made,
    by file, and what was read back, by URL hash."""

    made: dict[str, list[Clipping]]
    back: dict[str | None, Clipping]
    entries: int


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'corpus.db'}")
    try:
        store.upgrade()
        made: dict[str, list[Clipping]] = {}
        entries = 0
        for group, files in GROUPS.items():
            for index, relpath in enumerate(files):
                made[relpath] = ingest(relpath, f"{group}-{index}")
                entries += len(made[relpath])
            batch = [c for path in files for c in made[path]]
            outcomes = [
                EntryOutcome(
                    source_id=c.source_id or "", entry_key=c.entry_key or "", outcome="stored"
                )
                for c in batch
            ]
            store.write_batch(batch, outcomes, [])
        back = {row.url_hash: row for _, row in store.iter_clippings()}
    finally:
        store.close()
    return Ingested(made, back, entries)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_corpus_ingests_stores_and_reads_back(ingested: Ingested, group: str) -> None:
    keys = {(c.source_id, c.entry_key) for c in ingested.back.values()}
    for relpath in GROUPS[group]:
        clippings = ingested.made[relpath]
        for written in clippings:
            row = ingested.back.get(written.url_hash)
            if row is None:
                # Not stored only when an entry of the same feed with the
                # same GUID came first.
                assert (written.source_id, written.entry_key) in keys, relpath
                continue
            for name in KEPT:
                assert getattr(row, name) == getattr(written, name), (relpath, name)
            assert row.published_at == written.published_at, relpath
            for name in ("title", "authors", "authors_raw", "published_raw", "outlet", "url"):
                assert_valid_text(getattr(row, name), f"{relpath}: {name}")
        check_expectations(relpath, clippings, ingested.back)


def check_expectations(
    relpath: str, clippings: list[Clipping], by_hash: dict[str | None, Clipping]
) -> None:
    """Expect: lines about an entry's title, link and date, against the
    stored clipping of that entry (entries without an http(s) link are not
    ingested: their expectations are about a link presscut drops)."""
    data, headers, expect = corpus_case(relpath)
    url = CORPUS_BASE + relpath
    feed = parse_feed(data, url=url, headers=headers)
    resolves_elsewhere = any(k.lower() == "content-location" for k in headers)
    made = {c.url: c for c in clippings}
    for index, name, expected in expectations(expect):
        if index >= len(feed.entries):
            continue
        entry = feed.entries[index]
        source_id = clippings[0].source_id if clippings else ""
        written = next(
            (c for u, c in made.items() if u.endswith(f"{TAG}={source_id}.{index}")), None
        )
        row = by_hash.get(written.url_hash) if written is not None else None
        if row is None:
            continue  # an entry of the same feed with the same GUID came first
        if name == "title" and isinstance(expected, str):
            plain = html_text(expected) if "<" in expected else expected
            assert squash(row.title) == squash(unicodedata.normalize("NFC", plain)) or (
                squash(row.title) == squash(entry.title)
            ), relpath
        elif (
            name == "link" and entry.link and not resolves_elsewhere and isinstance(expected, str)
        ):
            absolute = safe_url_string(urljoin(url, expected))
            if is_http_url(absolute):
                assert row.url == tagged(absolute, f"{source_id}.{index}"), relpath
        elif name.endswith("_parsed") and expected:
            moment = datetime(*expected[:6], tzinfo=UTC)
            if row.published_raw == entry.published_raw and entry.published_at is not None:
                plausible = moment.year >= 1990 and moment <= datetime.now(UTC) + timedelta(2)
                assert row.published_at == (moment if plausible else None), relpath


def test_corpus_ingestion_is_not_vacuous(ingested: Ingested) -> None:
    """Nearly every entry of the corpus was stored, titles, authors and
    dates among them."""
    rows = list(ingested.back.values())
    assert ingested.entries > 1000
    assert len(rows) > 0.95 * ingested.entries
    assert sum(1 for c in rows if c.title) > 150
    assert sum(1 for c in rows if c.authors) > 30
    assert sum(1 for c in rows if c.published_at) > 40


# -- bounded parsing ---------------------------------------------------------------


def redos_feed(length: int) -> bytes:
    """An RSS item whose author makes feedparser's e-mail pattern
    backtrack: time grows with the square of ``length``."""
    author = "a." * (length // 2) + "!"
    return (
        '<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<link>http://example.com/1</link><author>{author}</author></item></channel></rss>"
    ).encode()


def test_parse_pool_stops_a_pathological_feed_at_its_deadline() -> None:
    pool = FeedParsePool(workers=1, timeout=2)
    try:
        started = time.monotonic()
        feed = asyncio.run(pool.parse(redos_feed(400_000), url="http://example.com/f"))
        took = time.monotonic() - started
        assert feed.error and "stopped after 2 s" in feed.error
        assert not feed.entries
        assert took < 15
        # The pool replaced the killed worker: the next feed parses.
        ok = asyncio.run(pool.parse(redos_feed(100), url="http://example.com/f"))
        assert ok.error is None and len(ok.entries) == 1
    finally:
        pool.close()


# -- hostile feeds through the crawl -----------------------------------------------


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=2) as server:
        yield server


def item(title: str, link: str, guid: str | None = None, extra: str = "") -> str:
    guid_tag = f"<guid isPermaLink='false'>{guid}</guid>" if guid else ""
    return f"<item><title>{title}</title><link>{link}</link>{guid_tag}{extra}</item>"


def channel(*items: str, prolog: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel>'
        f"<title>t</title>{''.join(items)}</channel></rss>"
    )


def cut_inside_last_item(feed: str) -> str:
    return feed[: feed.rindex("<item>") + 20]


def test_hostile_feeds_through_the_crawl(tmp_path: Path, faults: FaultServer) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(0)
    html = "text/html; charset=utf-8"

    def story(name: str) -> str:
        faults.put(f"/s/{name}.html", article(f"Story {name}"), content_type=html)
        return f"{base}/s/{name}.html"

    def relative(number: int) -> str:
        story(f"huge{number % 5}")
        return f"/s/huge{number % 5}.html"

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4f1c2a")
    feeds = {
        "laughs": billion_laughs("").replace("https://news.example.com/lol", story("lol")),
        "xxe": channel(
            item("a &xxe; b", story("xxe"), extra="<description>&leak;</description>"),
            prolog=(
                f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">'
                f'<!ENTITY leak SYSTEM "{base}/dtd/leak.txt">]>'
            ),
        ),
        # Terse entries (relative links, no titles) keep the parse short.
        "huge": channel(
            *(f"<item><link>{relative(i)}</link><guid>{i}</guid></item>" for i in range(50_000))
        ),
        "truncated": cut_inside_last_item(
            channel(*(item(f"Cut {i}", story(f"cut{i}")) for i in range(4)))
        ),
        "html": article("Not a feed at all"),
        "dupes": channel(
            item("First", story("dup1"), "same-guid"),
            item("Second", story("dup2"), "same-guid"),
            item("Third", story("dup3"), "other-guid"),
        ),
        "dates": channel(
            item("Old", story("old"), extra="<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>"),
            item("Far", story("far"), extra="<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>"),
            item("Soon", story("soon"), extra="<pubDate>Tue, 01 Jan 2999 00:00:00 GMT</pubDate>"),
            item("Junk", story("junk"), extra="<pubDate>the day after tomorrow</pubDate>"),
        ),
        "links": channel(
            item("Script", "javascript:alert(document.cookie)"),
            item("Mail", "mailto:editor@news.example"),
            item("Data", "data:text/html,<script>alert(1)</script>"),
            item("Relative", "/s/relative.html"),
        ),
    }
    faults.put("/s/relative.html", article("Story relative"), content_type=html)
    urls = {}
    for name, body in feeds.items():
        faults.put(
            f"/feeds/{name}.xml",
            body,
            content_type=html if name == "html" else "application/rss+xml",
        )
        urls[name] = faults.url(f"/feeds/{name}.xml")
    config = write_config(tmp_path / "config", db, urls, crawl={"max_response_bytes": 10_000_000})

    started = time.monotonic()
    result = crawl_round(config, timeout=180)
    assert time.monotonic() - started < 60
    assert result.status == "finished", result.output
    assert result.peak_rss_mb < 500 and result.workers_peak_rss_mb < 500
    rows = sources(db)
    clippings = stored(db)
    by_source: dict[str, list[Clipping]] = defaultdict(list)
    for clipping in clippings:
        by_source[clipping.source_id or ""].append(clipping)

    # Nothing expanded, nothing read from disk or fetched for an entity.
    for clipping in clippings:
        for value in (clipping.title, clipping.text, *clipping.authors):
            assert "TOP-SECRET" not in (value or "") and "lollol" not in (value or "")
    assert all("TOP-SECRET" not in (row.last_error or "") for row in rows.values())
    assert not faults.served("/dtd/leak.txt")
    # 50,000 entries: read whole; five distinct articles, the rest repeats.
    assert sorted(c.title for c in by_source["huge"]) == [f"Story huge{i}" for i in range(5)]
    assert result.summary["huge"]["duplicate"] == 50_000 - 5
    # A truncated feed keeps the entries closed before the cut.
    assert sorted(c.title for c in by_source["truncated"]) == [
        "Story cut0",
        "Story cut1",
        "Story cut2",
    ]
    # HTML at a feed URL is no feed.
    assert rows["html"].last_error_kind == "parse_error"
    assert "not an RSS or Atom feed" in (rows["html"].last_error or "")
    # Two entries with one GUID make one clipping.
    dupes = sorted(c.title for c in by_source["dupes"])
    assert dupes in (["Story dup1", "Story dup3"], ["Story dup2", "Story dup3"])
    # Impossible dates are dropped, kept raw; none is stored as a date.
    assert len(by_source["dates"]) == 4
    latest = datetime.now(UTC) + timedelta(days=2)
    for clipping in by_source["dates"]:
        assert clipping.published_at is None or (
            clipping.published_at.year >= 1990 and clipping.published_at <= latest
        ), clipping.published_at
    # Only the relative link is an article; the others were never requested.
    assert [c.url for c in by_source["links"]] == [f"{base}/s/relative.html"]
    for name in feeds:
        if name != "html":
            assert rows[name].last_error_kind is None, (name, rows[name].last_error)

    # The next round runs too, and a feed built to make the parser backtrack
    # for ever (a ReDoS-sized <author>) is stopped at the parse deadline
    # while the other sources of the round are read.
    redos = channel(item("x", story("redos"), extra=f"<author>{'a.' * 200_000}!</author>"))
    faults.put("/feeds/redos.xml", redos)
    faults.put("/feeds/later.xml", channel(item("Later", story("later"))))
    urls = {"redos": faults.url("/feeds/redos.xml"), "later": faults.url("/feeds/later.xml")}
    config = write_config(tmp_path / "config-2", db, urls, crawl={"parse_timeout": 3})
    started = time.monotonic()
    second = crawl_round(config)
    assert time.monotonic() - started < 30
    assert second.status == "finished", second.output
    rows = sources(db)
    assert rows["redos"].last_error_kind == "parse_error"
    assert "stopped after 3 s" in (rows["redos"].last_error or "")
    assert "Story later" in {c.title for c in stored(db)}


def test_sources_check_bounds_a_hostile_feed(tmp_path: Path, faults: FaultServer) -> None:
    """``presscut sources check`` parses feeds in the same killable worker
    as a crawl: a ReDoS-sized feed is stopped at ``crawl.parse_timeout``
    and reported, beside a good feed, an HTML page and a dead server."""
    faults.put("/feeds/good.xml", channel(item("Good", story_url(faults, "good"))))
    redos = channel(item("x", story_url(faults, "r"), extra=f"<author>{'a.' * 200_000}!</author>"))
    faults.put("/feeds/redos.xml", redos)
    faults.put("/feeds/page.html", article("Not a feed"), content_type="text/html")
    urls = {
        "good": faults.url("/feeds/good.xml"),
        "redos": faults.url("/feeds/redos.xml"),
        "page": faults.url("/feeds/page.html"),
        "dead": "http://127.0.0.1:9/feed.xml",
    }
    config = write_config(
        tmp_path / "config", f"sqlite:///{tmp_path / 'p.db'}", urls, crawl={"parse_timeout": 3}
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "sources", "check", "--config", str(config)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert time.monotonic() - started < 60
    assert result.returncode == 1, result.stdout + result.stderr
    # piped: a header line, then one tab-separated line per source
    rows = {line.split("\t")[0]: line for line in result.stdout.splitlines()
            if line.count("\t") >= 4}  # fmt: skip
    assert rows["good"].split("\t")[1] == "ok", result.stdout
    assert "FAILED" in rows["redos"] and "stopped after 3 s" in rows["redos"], result.stdout
    assert "FAILED" in rows["page"] and "parse_error" in rows["page"], result.stdout
    assert "FAILED" in rows["dead"] and "connection" in rows["dead"], result.stdout


def story_url(faults: FaultServer, name: str) -> str:
    faults.put(f"/s/{name}.html", article(f"Story {name}"), content_type="text/html")
    return f"{faults.base_url(0)}/s/{name}.html"
