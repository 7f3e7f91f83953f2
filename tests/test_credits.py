"""The credit line a clipping carries (title, authors, date) as
`scraper.extract.extract_article` picks it, on the hand-written pages of
``fixtures/credits/`` (expected fields beside each page), and the rules
behind each pick."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scraper.extract import extract_article, parse_page, site_offset
from scraper.items import Clipping
from scraper.metadata import read_metadata

FIXTURES = Path(__file__).parent / "fixtures" / "credits"
PAGES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
URL = "https://example.org/news/story"


def expected_of(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", PAGES)
def test_fixture_credit_line(name: str) -> None:
    expected = expected_of(name)
    clipping = extract_article((FIXTURES / f"{name}.html").read_bytes(), URL)
    if "title" in expected:
        assert clipping.title == expected["title"]
    if "authors" in expected:
        assert clipping.authors == expected["authors"]
    if "credit" in expected:
        assert clipping.credit == expected["credit"]
    if "date" in expected:
        assert clipping.published_at is not None
        assert clipping.published_at.date().isoformat() == expected["date"]


def test_site_offset_is_the_first_non_utc_offset() -> None:
    html = (
        "<html><head><meta property='article:published_time' content='2023-01-01T10:00:00Z'>"
        "</head><body><time datetime='2023-01-01T05:00:00-05:00'>x</time></body></html>"
    )
    offset = site_offset(read_metadata(parse_page(html)))
    assert offset is not None and offset.total_seconds() == -5 * 3600


def test_no_site_offset_when_every_date_is_utc() -> None:
    html = "<html><body><time datetime='2023-01-01T05:00:00Z'>x</time><p>y</p></body></html>"
    assert site_offset(read_metadata(parse_page(html))) is None


AGREEING = b"""<html lang="en"><head><title>Bridge reopens after repairs | Valley Post</title>
<meta property="og:title" content="Bridge reopens after repairs">
<meta property="og:site_name" content="Valley Post">
<meta property="article:published_time" content="2024-03-05T08:00:00+01:00">
<meta name="author" content="Ann Lee">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Bridge reopens
after repairs", "datePublished": "2024-03-05T08:00:00+01:00",
"author": {"@type": "Person", "name": "Ann Lee"}}</script></head>
<body><h1>Bridge reopens after repairs</h1><p>Traffic crossed the bridge again.</p></body></html>
"""
URL_DATED_ONLY = b"""<html lang="en"><head><title>A note</title></head>
<body><p>Short note with no date and no author.</p></body></html>"""


def test_candidates_keep_every_source_with_its_provenance() -> None:
    clipping = extract_article(AGREEING, URL)
    title_keys = {o["key"] for o in clipping.candidates["title"]["options"]}
    assert {"NewsArticle.headline", "og:title", "title", "h1"} <= title_keys
    authors = clipping.candidates["authors"]["options"]
    assert {(o["from"], o["key"]) for o in authors} >= {
        ("json-ld", "NewsArticle.author"),
        ("meta", "name=author"),
    }
    assert all(o["names"] == ["Ann Lee"] for o in authors if o["from"] != "trafilatura")
    days = {o["day"] for o in clipping.candidates["date"]["options"]}
    assert "2024-03-05" in days


def test_agreement_makes_a_pick_sure() -> None:
    clipping = extract_article(AGREEING, URL)
    for name in ("title", "authors", "date"):
        assert clipping.candidates[name]["confidence"] >= 0.8, name
    assert clipping.doubts == []


def test_a_date_only_guessed_from_the_url_is_doubtful() -> None:
    clipping = extract_article(URL_DATED_ONLY, "https://example.org/2024/03/05/a-note")
    assert clipping.published_from in ("trafilatura", "url")  # guesses only
    assert "date" in clipping.doubts


def test_no_date_is_doubtful_and_flags_the_clipping_on_the_desk() -> None:
    from storage.desk import row_flags

    clipping = extract_article(URL_DATED_ONLY, URL)
    assert clipping.published_at is None
    assert clipping.doubts[-1] == "date"
    assert "low-confidence" in row_flags(clipping, 1)
    sure = extract_article(AGREEING, URL)
    assert sure.text and "low-confidence" not in row_flags(sure, 1)


def test_agency_credit_is_kept_apart_from_the_authors() -> None:
    html = b"""<html><head><meta name="author" content="Von Anna M\xc3\xbcller, dpa">
    </head><body><h1>Neue Linie</h1><p>Die Bahn f\xc3\xa4hrt.</p></body></html>"""
    clipping = extract_article(html, URL)
    assert clipping.authors == ["Anna Müller"]
    assert clipping.credit == "dpa"


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Storm shuts port - Valley Post online", "Valley Post", "Storm shuts port"),
        ("Valley Post | Storm closes the harbour", "Valley Post", "Storm closes the harbour"),
        ("港口因风暴关闭-山谷日报", "山谷日报", "港口因风暴关闭"),
        # The site's name inside the headline is part of it.
        ("Valley Post editor wins the award", "Valley Post", "Valley Post editor wins the award"),
        (
            "A well-known valleypost-style story",
            "Valley Post",
            "A well-known valleypost-style story",
        ),
        # Nothing but the site name would be left.
        ("News | Valley Post", "Valley Post", "News | Valley Post"),
    ],
)
def test_site_name_parts_are_cut_off_titles(title: str, site: str, expected: str) -> None:
    from scraper.authors import fold
    from scraper.extract import without_site_name

    assert without_site_name(title, {fold(site)}) == expected


def test_a_curator_edit_settles_the_doubt_on_the_desk(db_url: str) -> None:
    from storage import open_store
    from storage.desk_store import DeskStore

    with open_store(db_url) as store:
        store.upgrade()
        doubtful = Clipping(
            url="https://example.org/a", url_hash="d" * 40, title="A title",
            title_from="json-ld", authors_from="json-ld", text="Body.",
            text_from="trafilatura", published_at=datetime(2024, 3, 5, tzinfo=UTC),
            published_from="json-ld", doubts=["authors"],
        )  # fmt: skip
        store.write_batch([doubtful], [], [])
        desk = DeskStore(store)
        assert [r.id for r in desk.queue(flag="low-confidence")] == [1]
        store.edit_clipping(1, {"title": "A better title"})
        assert store.get_clipping(1).doubts == ["authors"]
        store.edit_clipping(1, {"authors": ["Ann Lee"]})
        assert store.get_clipping(1).doubts == []
        assert desk.queue(flag="low-confidence") == []
