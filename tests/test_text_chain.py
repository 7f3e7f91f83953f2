"""The text fallback chain (issue #12, part 1): trafilatura -> its recall mode
-> JSON-LD ``articleBody`` -> the feed's full content -> the feed summary or
page description, the winner named in ``text_from``; the topic check reads
title and whatever text was found."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from config.schema import Topic
from scraper.analysis import analyse
from scraper.extract import MIN_TEXT_WORDS, extract_article
from scraper.feeds import parse_feed
from scraper.items import Clipping
from scraper.topics import TopicMatcher
from tests.faultcrawl import prose

URL = "https://news.example.com/2026/harbour"
FIXTURES = Path(__file__).parent / "fixtures" / "extract"
BODY = prose("chain", 150)


def page(body: str = "", head: str = "") -> str:
    return (
        f"<!doctype html><html lang='en'><head><title>Harbour wall</title>{head}</head>"
        f"<body><h1>Harbour wall</h1>{body}</body></html>"
    )


def jsonld(node: dict[str, object]) -> str:
    return f"<script type='application/ld+json'>{json.dumps(node)}</script>"


def test_a_readable_page_is_read_by_trafilatura() -> None:
    clipping = extract_article(page(f"<article><p>{BODY}</p></article>"), URL)
    assert clipping.text_from == "trafilatura"
    assert len(clipping.text.split()) >= MIN_TEXT_WORDS


def test_recall_mode_reads_a_page_the_default_reading_misses() -> None:
    """A real page (copied from the evaluation corpus, see the fixtures'
    README) on which trafilatura's default reading finds 8 words."""
    name = "hd-d9e5b4dafff2"
    record = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    html = gzip.decompress((FIXTURES / f"{name}.html.gz").read_bytes())
    clipping = extract_article(html, record["url"])
    assert clipping.text_from == "trafilatura-recall"
    assert len(clipping.text.split()) >= MIN_TEXT_WORDS


def test_a_body_only_in_json_ld_is_read_from_article_body() -> None:
    node = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Harbour wall",
        "articleBody": "<p>" + BODY.replace(". ", ".</p><p>", 3) + "</p> &amp; more",
    }
    clipping = extract_article(page("<p>Subscribe.</p>", jsonld(node)), URL)
    assert clipping.text_from == "json-ld"
    assert clipping.text.startswith(BODY.split(". ")[0] + ".\n")
    assert clipping.text.endswith("& more")


def test_the_feed_content_then_its_summary_then_the_description() -> None:
    line = "The harbour wall is mended, a week late."
    empty = page("<p>Subscribe.</p>", f"<meta name='description' content='{line}'>")
    full = Clipping(url=URL, text=BODY, text_from="feed")
    assert (extract_article(empty, URL, base=full).text_from) == "feed"
    teaser = "The wall is mended at last, and the quay is open again to boats."
    summary = Clipping(url=URL, text=teaser, text_from="feed-summary")
    read = extract_article(empty, URL, base=summary)
    # Nothing reaches the threshold: the longest reading wins.
    assert (read.text, read.text_from) == (teaser, "feed-summary")
    alone = extract_article(empty, URL)
    assert (alone.text, alone.text_from) == (line, "meta")


def test_a_feed_entry_carries_its_full_content_as_paragraphs() -> None:
    feed = parse_feed(
        b"""<?xml version="1.0"?><rss version="2.0"
        xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>F</title>
        <item><title>Harbour</title><link>https://news.example.com/h</link>
        <description>Short summary.</description>
        <content:encoded><![CDATA[<p>First &amp; one.</p><p>Second<br>third.</p>]]>
        </content:encoded></item>
        <item><title>Quay</title><link>https://news.example.com/q</link>
        <description>Only a summary.</description></item></channel></rss>""",
        url="https://news.example.com/feed.xml",
    )
    first, second = (e.to_clipping("news", "News") for e in feed.entries)
    assert (first.text, first.text_from) == ("First & one.\nSecond\nthird.", "feed")
    assert (second.text, second.text_from) == ("Only a summary.", "feed-summary")


def test_the_topic_check_reads_the_text_the_chain_found() -> None:
    matcher = TopicMatcher(Topic(name="lifeboats", include=["lifeboat"]))
    text = BODY + " The lifeboat crew was there."
    base = Clipping(url=URL, text=text, text_from="feed")
    clipping = extract_article(page("<p>Subscribe.</p>"), URL, base=base)
    analysis = analyse(clipping, [matcher], min_words=60, max_words=140).analysis
    assert analysis.matches["lifeboats"].matched
