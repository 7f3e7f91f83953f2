"""Feeds: feedparser's corpus read without a crash, plus targeted cases for
links, encodings, dates, entry keys, broken bodies and hostile entities."""

from __future__ import annotations

import ast
import codecs
import dataclasses
import hashlib
import io
import re
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urljoin

import feedparser
import pytest
from w3lib.url import safe_url_string

from scraper.feeds import FeedEntry, ParsedFeed, body_hash, parse_feed
from scraper.urls import is_http_url

FEED_URL = "https://news.example.com/feeds/main.xml"

# -- helpers -------------------------------------------------------------------


@contextmanager
def feedparser_calls() -> Iterator[list[tuple[Any, dict[str, Any], Any]]]:
    """Record each ``feedparser.parse`` call: its source, keywords and result."""
    calls: list[tuple[Any, dict[str, Any], Any]] = []
    real = feedparser.parse

    def spy(source: Any, **kwargs: Any) -> Any:
        result = real(source, **kwargs)
        calls.append((source, kwargs, result))
        return result

    with mock.patch.object(feedparser, "parse", spy):
        yield calls


def strings(value: Any) -> Iterator[str]:
    """Every string inside a ParsedFeed, FeedEntry or list of them."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def assert_clean(feed: ParsedFeed) -> None:
    for s in strings(feed):
        s.encode("utf-8")  # raises on a lone surrogate
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", s), repr(s)
    for entry in feed.entries:
        assert entry.link is None or is_http_url(entry.link)
        assert entry.published_at is None or entry.published_at.utcoffset() == timedelta(0)
        assert entry.entry_key


def rss(items: str, channel: str = "") -> bytes:
    return f'<rss version="2.0"><channel>{channel}{items}</channel></rss>'.encode()


def one(body: bytes, **kwargs: Any) -> FeedEntry:
    feed = parse_feed(body, url=FEED_URL, **kwargs)
    assert len(feed.entries) == 1, feed
    return feed.entries[0]


# -- the corpus ----------------------------------------------------------------

CORPUS = Path(__file__).parent / "fixtures" / "feeds"
#: feedparser 6 does not read JSON Feed, so json/ is left out.
CORPUS_FILES = sorted(
    path.relative_to(CORPUS).as_posix()
    for path in CORPUS.rglob("*.xml")
    if path.relative_to(CORPUS).parts[0] != "json"
)
#: Where feedparser's own tests serve the corpus from.
CORPUS_BASE = "http://127.0.0.1:8097/tests/"

_EXPECT = re.compile(r"Description:\s*(.*?)\s*Expect:\s*(.*)\s*-->")
_HEADER = re.compile(r"^Header:\s+([^:]+):(.*)$", re.MULTILINE)
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32be"),
    (codecs.BOM_UTF32_LE, "utf-32le"),
    (b"\x00\x00\x00\x3c", "utf-32be"),
    (b"\x3c\x00\x00\x00", "utf-32le"),
    (b"\x00\x3c\x00\x3f", "utf-16be"),
    (b"\x3c\x00\x3f\x00", "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
)
_DATES = ("published", "updated", "created")


def comment_text(data: bytes) -> str:
    """The document as text, enough to read its leading comment."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "ignore").lstrip("\ufeff")
    return data.decode("utf-8", "ignore")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def squash(text: str | None) -> str:
    return "".join((text or "").split())


def expectations(expr: str) -> Iterator[tuple[int, str, Any]]:
    """``(entry index, field, expected value)`` for each ``entries[i][field]
    == literal`` in an Expect expression; ``title_detail['value']`` counts as
    ``title``."""
    for node in ast.walk(ast.parse(expr, mode="eval")):
        if not isinstance(node, ast.Compare) or not all(isinstance(o, ast.Eq) for o in node.ops):
            continue
        operands = [node.left, *node.comparators]
        literals = [o for o in operands if not any(isinstance(n, ast.Name) for n in ast.walk(o))]
        if len(literals) != 1:
            continue
        expected = eval(compile(ast.Expression(literals[0]), "<expect>", "eval"), {})
        for operand in operands:
            if (access := _entry_field(operand)) is not None:
                yield (*access, expected)


def _entry_field(node: ast.AST) -> tuple[int, str] | None:
    path: list[Any] = []
    while True:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            path.insert(0, node.slice.value)
            node = node.value
        elif isinstance(node, ast.Attribute):
            path.insert(0, node.attr)
            node = node.value
        else:
            break
    if not (isinstance(node, ast.Name) and node.id == "entries" and path):
        return None
    if not isinstance(path[0], int):
        return None
    fields = path[1:]
    if fields == ["title_detail", "value"]:
        fields = ["title"]
    if len(fields) == 1 and fields[0] in {"title", "link"} | {
        f"{d}{s}" for d in _DATES for s in ("", "_parsed")
    }:
        return path[0], fields[0]
    return None


def corpus_case(relpath: str) -> tuple[bytes, dict[str, str], str]:
    """Body, response headers and Expect expression, as feedparser's tests
    use them: files under an ``http`` path are served as text/xml unless a
    ``Header:`` line says otherwise."""
    data = (CORPUS / relpath).read_bytes()
    text = comment_text(data)
    headers = {k.strip(): v.strip() for k, v in _HEADER.findall(text)}
    if "http" in relpath:
        headers.setdefault("Content-type", "text/xml")
    match = _EXPECT.search(text)
    return data, headers, match.group(2).strip() if match else ""


def test_corpus_is_complete() -> None:
    assert (CORPUS / "LICENSE").is_file()
    assert len(CORPUS_FILES) > 2000


@pytest.mark.parametrize("relpath", CORPUS_FILES)
def test_corpus(relpath: str) -> None:
    data, headers, expect = corpus_case(relpath)
    url = CORPUS_BASE + relpath
    with feedparser_calls() as calls:
        feed = parse_feed(data, url=url, headers=headers)
    assert_clean(feed)
    if not calls:
        return
    raw = calls[0][2]
    if expect.startswith("not bozo"):
        assert feed.error is None
    # The corpus resolves against a served Content-Location; presscut resolves
    # against the feed URL only (see parse_feed), so those links differ.
    resolves_elsewhere = any(k.lower() == "content-location" for k in headers)
    for index, name, expected in expectations(expect):
        entry = feed.entries[index]
        raw_entry = raw["entries"][index]
        if name == "title":
            content_type = dict.get(raw_entry, "title_detail", {}).get("type")
            is_html = content_type in ("text/html", "application/xhtml+xml")
            text = html_text(expected) if is_html else expected
            assert squash(entry.title) == squash(text)
        elif name == "link" and not resolves_elsewhere:
            absolute = safe_url_string(urljoin(url, expected))
            assert entry.link == (absolute if is_http_url(absolute) else None)
        elif name.removesuffix("_parsed") in _DATES:
            source = next(d for d in _DATES if dict.get(raw_entry, d))
            if name == source:
                assert entry.published_raw == expected
            elif name == f"{source}_parsed":
                moment = datetime(*expected[:6], tzinfo=UTC)
                assert entry.published_at == (moment if moment.year >= 1990 else None)


def test_corpus_runs_the_expected_checks() -> None:
    """The Expect parsing finds the title, link and date expectations."""
    found = [e for p in CORPUS_FILES for e in expectations(corpus_case(p)[2])]
    names = {name for _, name, _ in found}
    assert {"title", "link", "published_parsed", "updated_parsed", "published"} <= names
    assert len(found) > 100


# -- formats -------------------------------------------------------------------


def test_rss_091() -> None:
    body = b"""<?xml version="1.0"?>
    <rss version="0.91"><channel>
      <title>Harbour Gazette</title><link>https://news.example.com/</link>
      <language>en-gb</language>
      <item><title>Sea wall &amp; the storm</title>
        <link>https://news.example.com/2024/sea-wall</link>
        <description>The &lt;b&gt;council&lt;/b&gt; met.</description></item>
    </channel></rss>"""
    feed = parse_feed(body, url=FEED_URL)
    assert (feed.version, feed.title, feed.link, feed.language) == (
        "rss091u",
        "Harbour Gazette",
        "https://news.example.com/",
        "en",
    )
    assert not feed.bozo and feed.error is None
    entry = feed.entries[0]
    assert entry.title == "Sea wall & the storm"
    assert entry.summary == "The council met."
    assert entry.link == entry.entry_key == "https://news.example.com/2024/sea-wall"
    assert entry.language == "en"


def test_rss_10() -> None:
    body = b"""<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
             xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://news.example.com/"><title>Gazette</title>
        <link>https://news.example.com/</link><dc:language>de-DE</dc:language></channel>
      <item rdf:about="https://news.example.com/a/1">
        <title>Hochwasser</title><link>https://news.example.com/a/1</link>
        <dc:creator>Anna Beck</dc:creator><dc:creator>Ben Roe</dc:creator>
        <dc:date>2024-03-01T08:30:00+01:00</dc:date></item>
    </rdf:RDF>"""
    feed = parse_feed(body, url=FEED_URL)
    assert feed.version == "rss10" and feed.language == "de"
    entry = feed.entries[0]
    assert entry.title == "Hochwasser"
    assert entry.authors == ["Anna Beck", "Ben Roe"]
    assert entry.published_raw == "2024-03-01T08:30:00+01:00"
    assert entry.published_at == datetime(2024, 3, 1, 7, 30, tzinfo=UTC)


def test_rss_20() -> None:
    body = rss(
        """<item><title>Budget passed</title>
        <link>https://news.example.com/budget?utm_source=rss</link>
        <guid isPermaLink="false">tag:news.example.com,2024:1234</guid>
        <author>jane@example.com (Jane Roe)</author>
        <pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate>
        <description><![CDATA[<p>First.</p><p>Second &amp; last.</p>]]></description></item>""",
        "<title>Gazette</title><language>fr</language>",
    )
    feed = parse_feed(body, url=FEED_URL)
    assert feed.version == "rss20" and feed.language == "fr"
    entry = feed.entries[0]
    assert entry.guid == entry.entry_key == "tag:news.example.com,2024:1234"
    assert entry.link == "https://news.example.com/budget?utm_source=rss"
    assert entry.authors == ["jane@example.com (Jane Roe)"]
    assert entry.summary == "First. Second & last."
    assert entry.published_at == datetime(2024, 3, 5, 10, tzinfo=UTC)
    assert entry.feed_url == FEED_URL


def test_atom_10() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nl">
      <title type="html">Het &lt;i&gt;Dagblad&lt;/i&gt;</title>
      <link rel="alternate" href="https://news.example.com/"/>
      <entry>
        <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
        <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"
          >Dijk <b>breekt</b></div></title>
        <link rel="alternate" href="https://news.example.com/dijk"/>
        <link rel="enclosure" href="https://news.example.com/dijk.mp3"/>
        <author><name>Piet de Vries</name><email>piet@example.com</email></author>
        <author><name>Els Bos</name></author>
        <updated>2024-01-02T03:04:05Z</updated>
        <published>2024-01-01T23:00:00-02:00</published>
        <summary type="html">&lt;p&gt;Het water&lt;/p&gt;</summary>
      </entry>
    </feed>"""
    feed = parse_feed(body, url=FEED_URL)
    assert feed.version == "atom10"
    assert feed.title == "Het Dagblad" and feed.link == "https://news.example.com/"
    entry = feed.entries[0]
    assert entry.entry_key == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry.title == "Dijk breekt"
    assert entry.link == "https://news.example.com/dijk"
    assert entry.authors == ["Piet de Vries", "Els Bos"]
    assert entry.published_raw == "2024-01-01T23:00:00-02:00"
    assert entry.published_at == datetime(2024, 1, 2, 1, 0, tzinfo=UTC)
    assert entry.summary == "Het water"
    assert entry.language == "nl"


# -- links ---------------------------------------------------------------------


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = rss("<item><link>../2024/one</link></item><item><link>/two</link></item>")
    links = [e.link for e in parse_feed(body, url=FEED_URL).entries]
    assert links == ["https://news.example.com/2024/one", "https://news.example.com/two"]


def test_relative_links_resolve_against_xml_base() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://cdn.example.org/base/">
      <entry xml:base="stories/"><id>a</id><link href="one.html"/></entry>
      <entry><id>b</id><link href="/two.html"/></entry>
    </feed>"""
    links = [e.link for e in parse_feed(body, url=FEED_URL).entries]
    assert links == [
        "https://cdn.example.org/base/stories/one.html",
        "https://cdn.example.org/two.html",
    ]


def test_content_location_header_does_not_move_the_base() -> None:
    body = rss("<item><link>/story</link></item>")
    entry = one(body, headers={"Content-Location": "https://elsewhere.example.net/x"})
    assert entry.link == "https://news.example.com/story"


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:void(0)",
        "data:text/html,<b>x</b>",
        "mailto:desk@example.com",
        "ftp://files.example.com/a.txt",
    ],
)
def test_links_of_other_schemes_are_dropped(link: str) -> None:
    body = rss(f"<item><title>T</title><link>{link}</link><guid>g-1</guid></item>")
    entry = one(body)
    assert entry.link is None
    assert entry.entry_key.endswith("g-1")
    with pytest.raises(ValueError):
        entry.to_clipping("src", "Outlet")


# -- encodings -----------------------------------------------------------------


def test_undeclared_windows_1252() -> None:
    title = "Caf\u00e9 \u201cquotes\u201d \u2013 \u20ac5"
    body = f'<rss version="2.0"><channel><item><title>{title}</title></item></channel></rss>'
    entry = one(body.encode("windows-1252"))
    assert entry.title == title


def test_undeclared_windows_1252_served_as_bare_text_xml() -> None:
    title = "Caf\u00e9 \u2019s"
    body = f'<rss version="2.0"><channel><item><title>{title}</title></item></channel></rss>'
    feed = parse_feed(
        body.encode("windows-1252"), url=FEED_URL, headers={"Content-Type": "text/xml"}
    )
    assert feed.entries[0].title == title
    assert feed.error is None  # a wrong guess at the charset is a notice, not breakage


def test_declared_iso_8859_1() -> None:
    title = "Gr\u00fc\u00dfe aus K\u00f6ln \u00bd"
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        f'<rss version="2.0"><channel><item><title>{title}</title></item></channel></rss>'
    )
    feed = parse_feed(body.encode("iso-8859-1"), url=FEED_URL)
    assert feed.entries[0].title == title
    assert not feed.bozo


def test_charset_from_content_type_header() -> None:
    body = rss("<item><title>XX</title></item>").replace(b"XX", "\u00e9t\u00e9".encode("latin-1"))
    headers = {"Content-Type": "application/rss+xml; charset=ISO-8859-1"}
    entry = one(body, headers=headers)
    assert entry.title == "\u00e9t\u00e9"


@pytest.mark.parametrize(
    "ref", ["&#xD800;", "&#56320;", "&#x110000;", "&#99999999999999999999;", "&#x1;"]
)
def test_references_to_impossible_characters_do_not_lose_the_feed(ref: str) -> None:
    body = rss(
        f"<item><title>a{ref}b</title><guid>g{ref}</guid>"
        f"<description>&lt;p&gt;{ref}&lt;/p&gt;</description></item>"
        "<item><title>next</title></item>"
    )
    feed = parse_feed(body, url=FEED_URL)
    assert [e.title for e in feed.entries][1] == "next"
    assert feed.entries[0].title is not None and feed.entries[0].title.startswith("a")
    assert_clean(feed)


# -- entry keys ----------------------------------------------------------------


def test_duplicate_guids_give_the_same_key() -> None:
    items = (
        "<item><guid>https://news.example.com/?p=42</guid><title>First</title></item>"
        "<item><guid>https://news.example.com/?p=42</guid><title>Edited</title>"
        "<link>https://news.example.com/edited</link></item>"
    )
    a, b = parse_feed(rss(items), url=FEED_URL).entries
    assert a.entry_key == b.entry_key == "https://news.example.com/?p=42"


def test_entry_key_falls_back_guid_then_link_then_content() -> None:
    items = (
        "<item><guid isPermaLink='false'>id-7</guid><link>https://news.example.com/7</link>"
        "<title>T</title></item>"
        "<item><link>https://news.example.com/8</link><title>T</title></item>"
        "<item><title>Only a title</title><description>and a summary</description></item>"
        "<item><title>Only a title</title><description>and a summary</description></item>"
        "<item><title>Only a title</title><description>another summary</description></item>"
    )
    keys = [e.entry_key for e in parse_feed(rss(items), url=FEED_URL).entries]
    assert keys[0] == "id-7"
    assert keys[1] == "https://news.example.com/8"
    digest = hashlib.sha1(b"Only a title\nand a summary").hexdigest()
    assert keys[2] == keys[3] == digest
    assert keys[4] != digest


def test_permalink_guid_is_kept_as_is() -> None:
    guid = "https://news.example.com/2024/03/story/?utm_source=rss"
    entry = one(rss(f"<item><guid>{guid}</guid></item>"))
    assert entry.entry_key == entry.guid == guid
    assert entry.link == guid  # an RSS permalink GUID doubles as the link


# -- dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("Tue, 10 Jun 2003 04:00:00 +0200", datetime(2003, 6, 10, 2, 0, tzinfo=UTC)),
        ("Tue, 10 Jun 2003 04:00:00 EST", datetime(2003, 6, 10, 9, 0, tzinfo=UTC)),
        ("2003-12-31T10:14:55-08:00", datetime(2003, 12, 31, 18, 14, 55, tzinfo=UTC)),
        ("2003-12-31T23:59:59+05:30", datetime(2003, 12, 31, 18, 29, 59, tzinfo=UTC)),
    ],
)
def test_dates_with_offsets_become_utc(raw: str, utc: datetime) -> None:
    entry = one(rss(f"<item><pubDate>{raw}</pubDate></item>"))
    assert entry.published_raw == raw
    assert entry.published_at == utc
    assert entry.published_at.tzinfo is not None
    assert entry.published_at.utcoffset() == timedelta(0)


def test_same_instant_in_two_offsets_is_equal() -> None:
    a = one(rss("<item><pubDate>Tue, 10 Jun 2003 04:00:00 +0200</pubDate></item>"))
    b = one(rss("<item><pubDate>Mon, 09 Jun 2003 21:00:00 -0500</pubDate></item>"))
    assert a.published_at == b.published_at
    assert a.published_at == datetime(2003, 6, 10, 4, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize(
    "raw",
    [
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "1899-12-30T00:00:00Z",
        (datetime.now(UTC) + timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "not a date at all",
    ],
)
def test_implausible_dates_are_kept_raw_only(raw: str) -> None:
    entry = one(rss(f"<item><pubDate>{raw}</pubDate></item>"))
    assert entry.published_raw == raw
    assert entry.published_at is None


def test_updated_stands_in_for_published() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id>
      <updated>2024-05-06T07:08:09+02:00</updated></entry></feed>"""
    entry = one(body)
    assert entry.published_raw == "2024-05-06T07:08:09+02:00"
    assert entry.published_at == datetime(2024, 5, 6, 5, 8, 9, tzinfo=UTC)


# -- broken bodies -------------------------------------------------------------


def test_truncated_feed_keeps_the_entries_before_the_cut() -> None:
    whole = rss(
        "".join(
            f"<item><title>Story {i}</title><link>https://news.example.com/{i}</link></item>"
            for i in range(5)
        )
    )
    cut = whole[: whole.index(b"<link>https://news.example.com/3") + 30]
    feed = parse_feed(cut, url=FEED_URL)
    assert [e.title for e in feed.entries] == ["Story 0", "Story 1", "Story 2"]
    assert feed.bozo
    assert feed.error and "malformed XML" in feed.error


def test_truncated_between_entries() -> None:
    whole = rss("".join(f"<item><title>S{i}</title></item>" for i in range(3)))
    feed = parse_feed(whole[: whole.index(b"<item><title>S2")], url=FEED_URL)
    assert [e.title for e in feed.entries] == ["S0", "S1"]
    assert feed.error


def test_unescaped_ampersand_is_read_with_an_error() -> None:
    body = rss("<item><title>Q&A</title><link>https://x.example/a</link></item>")
    feed = parse_feed(body, url=FEED_URL)
    assert feed.bozo and feed.error
    assert [e.link for e in feed.entries] == ["https://x.example/a"]
    assert feed.entries[0].title and feed.entries[0].title.startswith("Q&A")


@pytest.mark.parametrize("headers", [{"Content-Type": "text/html; charset=utf-8"}, None])
def test_html_page_at_a_feed_url(headers: dict[str, str] | None) -> None:
    page = b"""<!DOCTYPE html><html><head><title>Gazette</title>
      <link rel="alternate" type="application/rss+xml" href="/feed"></head>
      <body><h1>Gazette</h1><p>Welcome &mdash; <a href="/a">news</a></p><br></body></html>"""
    feed = parse_feed(page, url=FEED_URL, headers=headers)
    assert feed.entries == []
    assert feed.error and "not an RSS or Atom feed" in feed.error


@pytest.mark.parametrize("body", [b"", b"   \n", b"\x00\xff\xfe garbage", b"{}"])
def test_garbage_gives_an_error_not_an_exception(body: bytes) -> None:
    feed = parse_feed(body, url=FEED_URL)
    assert feed.entries == [] and feed.error
    assert_clean(feed)


def test_empty_feed_is_not_an_error() -> None:
    feed = parse_feed(rss("", "<title>Quiet</title>"), url=FEED_URL)
    assert feed.entries == [] and feed.error is None and feed.version == "rss20"


# -- hostile bodies ------------------------------------------------------------


def billion_laughs(separator: str, first: str = "") -> str:
    levels = [first, '<!ENTITY lol0 "lol">']
    levels += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss ['
        + separator.join(levels)
        + "]>\n"
        + '<rss version="2.0"><channel><title>&lol9;</title>'
        + "<item><title>&lol9;</title><description>&lol5;&lol9;</description>"
        + "<link>https://news.example.com/lol</link></item>"
        + "</channel></rss>"
    )


@pytest.mark.parametrize(
    "body",
    [
        billion_laughs("\n").encode(),
        billion_laughs("").encode(),
        billion_laughs("", first='<!ENTITY tag "<b>bold</b>">').encode(),
        billion_laughs("").replace("utf-8", "utf-16").encode("utf-16"),
    ],
    ids=["one-per-line", "one-line", "markup-entity-first", "utf-16"],
)
def test_billion_laughs_is_not_expanded(body: bytes) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        feed = parse_feed(body, url=FEED_URL)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 5 * 1024 * 1024
    assert max(len(s) for s in strings(feed)) < 200
    assert all("lollol" not in s for s in strings(feed))
    assert [e.link for e in feed.entries] == ["https://news.example.com/lol"]
    assert feed.error  # the undefined references are reported


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4f1c2a")
    passwd = Path("/etc/passwd")
    passwd_lines = (
        [line for line in passwd.read_text(errors="ignore").splitlines() if len(line) > 8]
        if passwd.is_file()
        else []
    )
    body = (
        '<?xml version="1.0"?>'
        "<!DOCTYPE rss ["
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        f'<!ENTITY leak SYSTEM "{secret.as_uri()}">'
        f'<!ENTITY % remote SYSTEM "{secret.as_uri()}"> %remote;'
        "]>"
        '<rss version="2.0"><channel><title>&xxe;</title>'
        "<item><title>a &xxe; b</title><description>&leak;</description>"
        "<guid>&leak;</guid><author>&xxe;</author></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, url=FEED_URL)
    for s in strings(feed):
        assert "TOP-SECRET" not in s
        assert "root:" not in s
        assert not any(line in s for line in passwd_lines)


def test_feedparser_only_ever_gets_a_file_object(tmp_path: Path) -> None:
    real_feed = tmp_path / "feed.xml"
    real_feed.write_bytes(rss("<item><title>From disk</title></item>"))
    urlopen = mock.Mock(side_effect=AssertionError("feedparser fetched"))
    with (
        feedparser_calls() as calls,
        mock.patch("urllib.request.urlopen", urlopen),
        mock.patch("feedparser.http.get", urlopen),
    ):
        by_path = parse_feed(str(real_feed).encode(), url=FEED_URL)
        by_url = parse_feed(b"http://127.0.0.1:9/feed.xml", url=FEED_URL)
        by_feed_url = parse_feed(b"feed://127.0.0.1:9/feed.xml", url=FEED_URL)
    assert urlopen.call_count == 0
    assert all(isinstance(source, io.BytesIO) for source, _, _ in calls)
    for feed in (by_path, by_url, by_feed_url):
        assert feed.entries == [] and feed.error


def test_a_crashing_parser_is_reported_not_raised() -> None:
    with mock.patch.object(feedparser, "parse", side_effect=RecursionError("too deep")):
        feed = parse_feed(rss("<item/>"), url=FEED_URL)
    assert feed.entries == [] and feed.bozo
    assert feed.error and "too deep" in feed.error


# -- clippings and hashes ------------------------------------------------------


def test_to_clipping() -> None:
    body = rss(
        """<item><title>Budget &amp; more</title><link>https://news.example.com/b</link>
        <guid>tag:b</guid><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">By Ann Lee
        </dc:creator><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Bo Tan | Staff
        </dc:creator><pubDate>Tue, 05 Mar 2024 10:00:00 +0100</pubDate>
        <description>Summary text</description></item>""",
        "<language>en-US</language>",
    )
    clipping = one(body).to_clipping("gazette", "The Gazette")
    assert clipping.url == "https://news.example.com/b"
    assert (clipping.source_id, clipping.outlet) == ("gazette", "The Gazette")
    assert clipping.entry_key == "tag:b" and clipping.feed_url == FEED_URL
    assert (clipping.title, clipping.title_from) == ("Budget & more", "feed")
    assert clipping.authors == ["By Ann Lee", "Bo Tan | Staff"]
    assert clipping.authors_raw == "By Ann Lee; Bo Tan | Staff"
    assert clipping.authors_from == "feed"
    assert clipping.published_raw == "Tue, 05 Mar 2024 10:00:00 +0100"
    assert clipping.published_at == datetime(2024, 3, 5, 9, tzinfo=UTC)
    assert clipping.published_from == "feed"
    assert (clipping.language, clipping.language_from) == ("en", "feed")
    # Issue #12: the summary is carried, as the last resort of the text chain.
    assert (clipping.text, clipping.text_from) == ("Summary text", "feed-summary")


def test_to_clipping_leaves_unknown_fields_unsourced() -> None:
    clipping = one(rss("<item><link>https://news.example.com/x</link></item>")).to_clipping(
        None, None
    )
    assert clipping.title is None and clipping.title_from is None
    assert clipping.authors == [] and clipping.authors_raw is None
    assert clipping.published_from is None and clipping.language_from is None


def test_body_hash() -> None:
    assert body_hash(b"abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert body_hash(b"abc") != body_hash(b"abd")
