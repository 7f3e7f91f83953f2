"""Byline elements (`scraper.bylines`), on the hand-written pages of
``fixtures/credits/`` (expected candidates beside each page)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scraper.bylines import MAX_BYLINE, read_bylines
from scraper.extract import parse_page

FIXTURES = Path(__file__).parent / "fixtures" / "credits"
PAGES = sorted(
    p.name.removesuffix(".expected.json")
    for p in FIXTURES.glob("*.expected.json")
    if "bylines" in json.loads(p.read_text(encoding="utf-8"))
)


def bylines_of(html: str) -> list[list[str]]:
    return [[c.value, c.key] for c in read_bylines(parse_page(html))]


@pytest.mark.parametrize("name", PAGES)
def test_fixture_bylines(name: str) -> None:
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    assert bylines_of(html) == expected["bylines"]


def test_there_are_byline_fixtures() -> None:
    assert len(PAGES) >= 3


def test_comment_authors_are_no_bylines() -> None:
    html = (
        "<html><body><h1>T</h1><div class='comments'>"
        "<span class='comment-author vcard'><b class='fn'>Reader One</b></span>"
        "<a rel='author' href='/u/2'>Reader Two</a></div></body></html>"
    )
    assert bylines_of(html) == []


def test_author_markup_outranks_a_class_name() -> None:
    html = (
        "<html><body><h1>T</h1><p class='byline'>Posted on Monday</p>"
        "<a rel='author' href='/a/x'>Ann Writer</a></body></html>"
    )
    assert bylines_of(html)[0] == ["Ann Writer", "rel=author"]


def test_the_byline_after_the_headline_comes_first() -> None:
    html = (
        "<html><body><span class='byline'>Sidebar Person</span><h1>T</h1>"
        "<span class='byline'>Article Person</span></body></html>"
    )
    assert [v for v, _ in bylines_of(html)] == ["Article Person", "Sidebar Person"]


def test_a_biography_is_no_byline() -> None:
    long_text = "word " * (MAX_BYLINE // 4)
    html = f"<html><body><h1>T</h1><div class='author'>{long_text}</div></body></html>"
    assert bylines_of(html) == []


def test_a_photo_credit_is_no_byline() -> None:
    html = (
        "<html><body><h1>T</h1><span itemprop='author'>Ann Writer</span><figure>"
        "<figcaption><span itemprop='author'>Image: Pix Agency</span></figcaption>"
        "</figure></body></html>"
    )
    assert bylines_of(html) == [["Ann Writer", "itemprop=author"]]
