"""Reading a page's own metadata (`scraper.metadata`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import html as lxml_html

from scraper.dates import parse_date
from scraper.metadata import language_code, parse_json, read_metadata


def tree(head: str, body: str = "<p>text</p>", lang: str = "") -> lxml_html.HtmlElement:
    attr = f' lang="{lang}"' if lang else ""
    return lxml_html.fromstring(f"<html{attr}><head>{head}</head><body>{body}</body></html>")


def ld(json_text: str) -> str:
    return f'<script type="application/ld+json">{json_text}</script>'


def values(candidates: list) -> list[tuple[str, str]]:
    return [(c.value, c.source) for c in candidates]


def test_jsonld_news_article() -> None:
    meta = read_metadata(
        tree(
            ld(
                """{"@context": "https://schema.org", "@type": "NewsArticle",
                "headline": "Floods in the valley", "datePublished": "2024-05-03T10:02:00+02:00",
                "inLanguage": "de-AT",
                "author": [{"@type": "Person", "name": "Anna Berger"},
                           {"@type": "Organization", "name": "Der Standard"}, "Jan Marchart"],
                "publisher": {"@type": "Organization", "name": "Der Standard"}}"""
            )
        )
    )
    assert values(meta.titles) == [("Floods in the valley", "json-ld")]
    assert [(c.value, c.kind) for c in meta.authors] == [
        ("Anna Berger", "Person"),
        ("Der Standard", "Organization"),
        ("Jan Marchart", None),
    ]
    assert meta.published[0].value == "2024-05-03T10:02:00+02:00"
    assert meta.published[0].key == "NewsArticle.datePublished"
    assert values(meta.languages) == [("de-AT", "json-ld")]
    assert values(meta.site_names) == [("Der Standard", "json-ld")]
    assert meta.article_types == ["NewsArticle"]


def test_jsonld_graph_with_author_reference_and_type_list() -> None:
    meta = read_metadata(
        tree(
            ld(
                """{"@context": "https://schema.org", "@graph": [
                  {"@type": "WebSite", "name": "Site", "@id": "#site"},
                  {"@type": ["Article", "BlogPosting"], "headline": "A post",
                   "author": {"@id": "#person-1"}, "datePublished": "2023-01-02"},
                  {"@type": "Person", "@id": "#person-1", "name": "Kim Lee"}]}"""
            )
        )
    )
    assert values(meta.titles) == [("A post", "json-ld")]
    assert [(c.value, c.kind) for c in meta.authors] == [("Kim Lee", "Person")]
    assert meta.article_types == ["Article"]


def test_jsonld_lists_main_entity_and_nested_names() -> None:
    meta = read_metadata(
        tree(
            ld(
                """[{"@type": "WebPage", "mainEntity": {"@type": "ReportageNewsArticle",
                   "headline": "Inside", "author": {"@type": "Person",
                   "givenName": "Ada", "familyName": "Lovelace"}}}]"""
            )
        )
    )
    assert values(meta.titles) == [("Inside", "json-ld")]
    assert [c.value for c in meta.authors] == ["Ada Lovelace"]


def test_jsonld_non_article_types_are_ignored() -> None:
    meta = read_metadata(tree(ld('{"@type": "Recipe", "name": "Soup", "author": "Cook"}')))
    assert meta.titles == [] and meta.authors == []


@pytest.mark.parametrize(
    "script",
    [
        '{"@type": "NewsArticle", "headline": "Broken",}',
        '<!-- {"@type": "NewsArticle", "headline": "Broken"} -->',
        '{"@type": "WebSite"} {"@type": "NewsArticle", "headline": "Broken"}',
        '{"@type": "NewsArticle", "headline": "Broken"};',
        '{"@type": "NewsArticle", "headline": "Bro\nken"}',
    ],
)
def test_broken_jsonld_is_repaired(script: str) -> None:
    meta = read_metadata(tree(ld(script)))
    assert [c.value.replace(" ", "") for c in meta.titles] == ["Broken"]


@pytest.mark.parametrize(
    "script",
    ["{not json at all", "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000, ""],
)
def test_unreadable_jsonld_is_skipped(script: str) -> None:
    meta = read_metadata(tree(ld(script)))
    assert meta.titles == [] and meta.authors == []


def test_parse_json_reads_concatenated_values() -> None:
    assert parse_json('{"a": 1}\n{"b": 2}') == [{"a": 1}, {"b": 2}]
    assert parse_json("nope") == []


def test_opengraph_and_meta_tags() -> None:
    meta = read_metadata(
        tree(
            """
            <meta property="og:title" content="OG title">
            <meta property="og:site_name" content="The Balkanista">
            <meta property="og:locale" content="en_GB">
            <meta property="article:published_time" content="2019-09-17T10:02:00+02:00">
            <meta property="article:author" content="https://example.com/authors/jane">
            <meta property="article:author" content="Jane Roe">
            <meta name="author" content="By Alice Taylor">
            <meta name="parsely-author" content="Bob Roe">
            <meta name="sailthru.date" content="2019-09-17 08:02:00">
            <meta name="dc.date" content="2019-09-16">
            <meta name="twitter:title" content="Twitter title">
            <meta http-equiv="Content-Language" content="en">
            """,
            lang="en-GB",
        )
    )
    assert values(meta.titles) == [("OG title", "opengraph"), ("Twitter title", "meta")]
    # The profile URL is no name.
    assert values(meta.authors) == [
        ("Jane Roe", "opengraph"),
        ("By Alice Taylor", "meta"),
        ("Bob Roe", "meta"),
    ]
    assert [c.key for c in meta.published] == [
        "article:published_time",
        "name=sailthru.date",
        "name=dc.date",
    ]
    assert values(meta.site_names) == [("The Balkanista", "opengraph")]
    assert [c.value for c in meta.languages] == ["en_GB", "en-GB", "en"]


def test_parsely_page_microdata_and_headings() -> None:
    meta = read_metadata(
        tree(
            """<meta name="parsely-page" content='{"title": "P title",
               "pub_date": "2020-01-02T03:04:05Z", "authors": ["Pat Doe"]}'>""",
            body="""<h1>  The <em>headline</em> </h1>
                    <time itemprop="datePublished" datetime="2020-01-02">2 Jan</time>
                    <meta itemprop="author" content="Sam Poe">""",
        )
    )
    assert values(meta.titles) == [("P title", "meta")]
    assert [c.value for c in meta.authors] == ["Pat Doe", "Sam Poe"]
    assert [c.value for c in meta.published] == ["2020-01-02T03:04:05Z", "2020-01-02"]
    assert meta.headings == ["The headline"]


def test_document_title_is_the_last_title() -> None:
    page = tree(
        '<title>Head title</title><meta property="og:title" content="OG">',
        body="<svg><title>Icon</title></svg>",
    )
    assert values(read_metadata(page).titles) == [("OG", "opengraph"), ("Head title", "meta")]
    assert read_metadata(tree("", body="<svg><title>Icon</title></svg>")).titles == []


def test_values_are_unescaped_and_stripped_of_tags() -> None:
    meta = read_metadata(
        tree(ld('{"@type": "NewsArticle", "headline": "It&amp;#039;s <b>here</b>"}'))
    )
    assert meta.titles[0].value == "It's here"


def test_reading_leaves_the_tree_unchanged() -> None:
    page = tree(ld('{"@type": "NewsArticle", "headline": "X"}'), body="<h1>X</h1><p>y</p>")
    before = lxml_html.tostring(page)
    read_metadata(page)
    assert lxml_html.tostring(page) == before


def test_first() -> None:
    meta = read_metadata(
        tree('<meta property="og:title" content="A"><meta name="dc.title" content="B">')
    )
    assert meta.first("titles").value == "A"
    assert meta.first("titles", "meta").value == "B"
    assert meta.first("authors") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "2024-04-25T19:30:04+02:00",
            datetime(2024, 4, 25, 19, 30, 4, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2024-04-26", datetime(2024, 4, 26, tzinfo=UTC)),
        (
            "Tue, 15 Sep 2020 10:01:41 EDT",
            datetime(2020, 9, 15, 10, 1, 41, tzinfo=timezone(timedelta(hours=-4))),
        ),
        ("20200414T00:38:07Z", datetime(2020, 4, 14, 0, 38, 7, tzinfo=UTC)),
        ("10.12.2022, 07:00:03", datetime(2022, 12, 10, 7, 0, 3, tzinfo=UTC)),
        ("Sept 17, 2019", datetime(2019, 9, 17, tzinfo=UTC)),
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2022-05-10T23:35:55", datetime(2022, 5, 10, 23, 35, 55, tzinfo=UTC)),
    ],
)
def test_parse_date(raw: str, expected: datetime) -> None:
    value = parse_date(raw)
    assert value == expected
    assert value is not None and value.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("raw", [None, "", "garbage", "0000-00-00", "yesterday", "99/99/9999"])
def test_parse_date_rejects(raw: str | None) -> None:
    assert parse_date(raw) is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("de-AT", "de"),
        ("en_US", "en"),
        ("FR", "fr"),
        ("pt-BR, en", "pt"),
        ("x", None),
        ("", None),
        ("deu", None),
    ],
)
def test_language_code(raw: str, code: str | None) -> None:
    assert language_code(raw) == code
