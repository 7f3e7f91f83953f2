"""Section sources: listing pages read alone (article links, noise, dates
beside links, pagination), the source config rules, then a crawl of the mock
council's press releases over their pagination."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from parsel import Selector
from scrapy.utils.test import get_crawler

from config import ConfigError, Source, load_config
from demo.server import LocalWeb
from pipelines.window import WindowStage
from scraper.errors import Drop
from scraper.items import Clipping
from scraper.sections import (
    article_links,
    article_score,
    is_article_url,
    is_noise,
    next_page,
)
from tests.crawling import presscut
from tests.mock_sites import SITES, dated, fetched, paths, serve, stored, write_config

BASE = "http://127.0.0.9:8123"
COUNCIL = SITES / "saltmarsh-council"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def listing(path: str) -> Selector:
    """A council listing page as served, placeholders filled in."""
    file = COUNCIL / path.lstrip("/") / "index.html"
    text = dated(file.read_text(encoding="utf-8"), NOW).replace("{{base:saltmarsh-council}}", BASE)
    return Selector(text=text)


def test_article_links_leave_out_noise_and_keep_listing_dates() -> None:
    links = article_links(listing("/press/"), BASE + "/press/")
    assert [link.url for link in links] == [
        BASE + "/press/releases/2026/flood-barrier-works-start-on-marsh-road/",
        BASE + "/press/releases/2026/new-recycling-centre-opening-hours/",
        BASE + "/press/internal/draft-statement-on-budget-cuts/",
    ]
    assert links[0].text == "Flood barrier works start on Marsh Road"
    assert [link.dated for link in links] == [
        datetime(2026, 11, 22, 12, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
        datetime(2026, 11, 22, 12, tzinfo=UTC),
    ]
    undated = article_links(listing("/press/page/3/"), BASE + "/press/page/3/")
    assert [(link.url.rsplit("/", 2)[-2], link.dated is None) for link in undated] == [
        ("summer-beach-lifeguard-season-review", False),
        ("community-grants-round-opens", True),
    ]


def test_url_pattern_decides_alone() -> None:
    links = article_links(listing("/press/"), BASE + "/press/", pattern=r"/press/releases/\d{4}/")
    assert len(links) == 2 and all("/releases/" in link.url for link in links)
    # a pattern also admits what article-likeness would not
    tags = article_links(listing("/press/"), BASE + "/press/", pattern=r"/tag/")
    assert {link.url for link in tags} == {
        f"{BASE}/tag/flooding/",
        f"{BASE}/tag/roads/",
        f"{BASE}/tag/council/",
    }


def test_date_beside_a_link_needs_one_time_and_one_article() -> None:
    html = """<main>
    <article><h2><a href="/2026/11/a-first-long-story.html">A first long story here</a></h2>
      <time datetime="2026-11-20T08:00:00Z">x</time> <a href="/tag/sea/">sea</a></article>
    <div><a href="/2026/11/a-second-long-story.html">A second long story here</a>
      <a href="/2026/11/a-third-long-story.html">A third long story here</a>
      <time datetime="2026-11-19T08:00:00Z">x</time></div>
    </main>"""
    links = article_links(Selector(text=html), BASE + "/news/")
    assert [(link.url.rsplit("/", 1)[-1], link.dated) for link in links] == [
        ("a-first-long-story.html", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        ("a-second-long-story.html", None),  # which of the two is it the date of?
        ("a-third-long-story.html", None),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/tag/flooding/",
        "/tags/flooding",
        "/author/jane-roe/",
        "/category/press-releases/",
        "/topics/coast/",
        "/login",
        "/login?next=/press/",
        "/wp-login.php",
        "/my-account/",
        "/search?q=flood",
        "/press/page/2/",
        "/press/?page=2",
        "/feed/",
        "/documents/annual-report-2026.pdf",
        "/2026/11/story.html?replytocom=123",
    ],
)
def test_noise(url: str) -> None:
    assert is_noise(BASE + url)
    assert not is_article_url(BASE + url, BASE + "/press/", "A title long enough to count")


@pytest.mark.parametrize(
    ("url", "text", "article"),
    [
        ("/news/2026/11/20/harbour-works.html", "", True),  # a date (2) and depth (1)
        ("/press/releases/minister-opens-flood-barrier", "Minister opens flood barrier", True),
        ("/story/48213", "Minister opens the new flood barrier", True),
        # slug and depth alone, no text (an image link): not enough
        ("/press/releases/minister-opens-flood-barrier", "", False),
        ("/minister-opens-flood-barrier", "More", False),  # root slug alone: give url_pattern
        ("/bins/", "Bins and recycling", False),
        ("/press/", "Press releases", False),  # the listing itself
        ("/", "Home", False),
    ],
)
def test_article_likeness(url: str, text: str, article: bool) -> None:
    assert is_article_url(BASE + url, BASE + "/press/", text) is article, article_score(
        BASE + url, text
    )


def test_other_sites_are_not_articles() -> None:
    url = "https://elsewhere.example/news/2026/11/a-long-story-slug.html"
    assert article_score(url, "A long story on another site") >= 3
    assert not is_article_url(url, BASE + "/news/", "A long story on another site")


def test_next_page() -> None:
    assert (
        next_page(listing("/press/"), BASE + "/press/", 1) == BASE + "/press/page/2/"
    )  # rel=next
    # "Older releases ›", not "Newer releases"
    assert (
        next_page(listing("/press/page/2/"), BASE + "/press/page/2/", 2) == BASE + "/press/page/3/"
    )
    # only numbered links: the one numbered 4
    assert (
        next_page(listing("/press/page/3/"), BASE + "/press/page/3/", 3) == BASE + "/press/page/4/"
    )
    assert next_page(listing("/press/page/4/"), BASE + "/press/page/4/", 4) is None
    query = '<p><a href="?page=1">1</a> <a href="?page=3">3</a> <a href="?page=2">2</a></p>'
    assert next_page(Selector(text=query), BASE + "/news/", 1) == BASE + "/news/?page=2"
    arrow = '<a href="/news/?page=2" aria-label="Next page">›</a>'
    assert next_page(Selector(text=arrow), BASE + "/news/", 1) == BASE + "/news/?page=2"
    offsite = '<link rel="next" href="https://elsewhere.example/news/2">'
    assert next_page(Selector(text=offsite), BASE + "/news/", 1) is None
    assert (
        next_page(Selector(text='<a href="/news/?page=1">Previous</a>'), BASE + "/news/?page=2", 2)
        is None
    )


# -- the source config -------------------------------------------------------------

HEAD = '[[sources]]\nid = "s"\noutlet = "S"\nurl = "https://s.example/"\n'


@pytest.mark.parametrize(
    ("extra", "key", "rule"),
    [
        (
            'kind = "section"\nurl_pattern = "/news/(["\n',
            "sources[0].url_pattern",
            "not a valid regular expression",
        ),
        (
            'kind = "feed"\nurl_pattern = "/news/"\n',
            "sources[0].url_pattern",
            'only for kind = "sitemap" or "section"',
        ),
        ('kind = "sitemap"\nmax_pages = 4\n', "sources[0].max_pages", 'only for kind = "section"'),
        (
            'kind = "section"\nmax_pages = 0\n',
            "sources[0].max_pages",
            "greater than or equal to 1",
        ),
        ('kind = "page"\n', "sources[0].kind", "'feed', 'sitemap' or 'section'"),
        ('kind = "sitemap"\nsince = "a week"\n', "sources[0].since", "must be a duration"),
        (
            'kind = "section"\nignore_robots = "sometimes"\n',
            "sources[0].ignore_robots",
            "valid boolean",
        ),
    ],
)
def test_source_rules_name_file_key_and_rule(
    tmp_path: Path, extra: str, key: str, rule: str
) -> None:
    (tmp_path / "sources.toml").write_text(HEAD + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ={})
    message = str(caught.value)
    assert str(tmp_path / "sources.toml") in message and key in message and rule in message, (
        message
    )


def test_since_defaults_by_kind() -> None:
    def source(**kw: object) -> Source:
        return Source.model_validate({"id": "s", "outlet": "S", "url": "https://s.example/", **kw})

    assert source(kind="section").since_s == 7 * 86400
    assert source(kind="sitemap").since_s == 7 * 86400
    assert source(kind="feed").since_s is None  # a feed lists only its latest items
    assert source(kind="feed", since="2d").since_s == 2 * 86400
    assert source(kind="section", since="36h").since_s == 36 * 3600
    assert source(kind="section").ignore_robots is False


# -- a crawl of the mock council ------------------------------------------------------

SOURCES = """
[[sources]]
id = "council-press"
outlet = "Saltmarsh District Council"
kind = "section"
url = "{{base:saltmarsh-council}}/press/"
"""
RELEASES = "/press/releases/2026/"
STORED = {
    RELEASES + "flood-barrier-works-start-on-marsh-road/",
    RELEASES + "new-recycling-centre-opening-hours/",
    RELEASES + "harbour-wall-inspection-report-published/",  # page 2
    RELEASES + "winter-gritting-routes-announced/",
}
NEVER_FETCHED = {
    "/press/internal/draft-statement-on-budget-cuts/",  # robots.txt
    RELEASES + "summer-beach-lifeguard-season-review/",  # dated before the window on its listing
    RELEASES + "spring-tide-advice-for-residents/",  # on page 4, past max_pages
    "/press/page/4/",
    "/tag/flooding/",
    "/tag/council/",
    "/author/press-office/",
    "/category/press-releases/",
    "/login",
    "/documents/annual-report-2026.pdf",
    "/press/feed/",
    "/about-us/",
    "/privacy/",
}


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    web = serve(["saltmarsh-council"])
    yield web
    web.stop()


def test_section_source_crawl(tmp_path: Path, web: LocalWeb) -> None:
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = write_config(tmp_path / "config", web, db_url, SOURCES)
    result = presscut("crawl", "--all", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr

    records = fetched(web, "saltmarsh-council")
    requested = paths(records)
    assert set(stored(db_url)) == STORED
    assert not NEVER_FETCHED & set(requested), requested
    assert [p for p in requested if p.startswith("/press/") and "/releases/" not in p] == [
        "/press/",
        "/press/page/2/",
        "/press/page/3/",
    ]
    # Undated on its listing: fetched once, then dropped by its page's date.
    assert requested.count(RELEASES + "community-grants-round-opens/") == 1
    # Crawl-delay: 0.5 holds between every two requests to the host.  Arrival
    # times are taken by server threads on a loaded machine (a stamp can
    # land 0.15 s late), so one gap may read short; no second one may, and
    # the median may not.
    gaps = sorted(b.time - a.time for a, b in pairwise(records))
    assert gaps[0] >= 0.3 and gaps[1] >= 0.45, gaps
    assert gaps[len(gaps) // 2] >= 0.48, gaps
    clipping = stored(db_url)[RELEASES + "winter-gritting-routes-announced/"]
    assert (
        clipping.outlet == "Saltmarsh District Council" and clipping.source_id == "council-press"
    )
    assert clipping.feed_url == web.url("saltmarsh-council", "/press/page/2/")

    # Second round: the first listing page answers 304, nothing else is
    # asked, robots.txt included (its copy is kept between rounds).
    web.clear_requests()
    result = presscut("crawl", "--all", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    again = [(r.path, r.status) for r in fetched(web, "saltmarsh-council")]
    assert again == [("/press/", 304)]


def test_window_stage_drops_what_the_page_dates_before_the_window() -> None:
    crawler = get_crawler()
    start = datetime(2026, 11, 16, tzinfo=UTC)
    stage = WindowStage({"council-press": start}, crawler.stats)

    def item(source: str, published: datetime | None) -> Clipping:
        return Clipping(url="https://s.example/a", source_id=source, published_at=published)

    with pytest.raises(Drop) as caught:
        stage.process_item(item("council-press", start - timedelta(seconds=1)))
    assert caught.value.outcome == "out_of_window" and "2026-11-15" in str(caught.value)
    for kept in (
        item("council-press", start),
        item("council-press", None),  # undated: kept
        item("wire", start - timedelta(days=400)),  # a source without a window
    ):
        assert stage.process_item(kept) is kept
    assert crawler.stats.get_value("window/dropped/out_of_window") == 1
    assert crawler.stats.get_value("window/passed") == 3
