"""Article extraction (`scraper.extract`) and ``presscut extract`` (`cli.extract`).

The recorded pages under ``fixtures/extract/`` carry their ground truth in
``<id>.expected.json`` (see the README there); every annotated field of every
page must come out right.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import pickle
import re
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli.extract import ExcerptOptions, extract, lead_paragraphs, run_listing
from scraper.authors import fold
from scraper.excerpt import pick_excerpt
from scraper.extract import MAX_PAGE_BYTES, ExtractionError, extract_article, trim_title
from scraper.items import PROVENANCES, Clipping

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
PAGES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def load(name: str) -> tuple[bytes, dict[str, Any]]:
    record = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return gzip.decompress((FIXTURES / f"{name}.html.gz").read_bytes()), record


def norm(text: str) -> str:
    """Case, width, quotes, punctuation and white space folded."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[‘’'`´]", "'", re.sub(r"[“”„«»]", '"', text))
    return " ".join(re.sub(r"[^\w'\"]+", " ", text).split())


def token_f1(predicted: str, expected: str) -> float:
    pred, gold = Counter(re.findall(r"\w+", predicted)), Counter(re.findall(r"\w+", expected))
    hits = sum((pred & gold).values())
    if not hits:
        return 0.0
    precision, recall = hits / sum(pred.values()), hits / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


def test_there_are_fixtures() -> None:
    assert len(PAGES) >= 8


@pytest.mark.parametrize("name", PAGES)
def test_fixture_is_intact(name: str) -> None:
    html, record = load(name)
    assert hashlib.sha256(html).hexdigest() == record["sha256"]


@pytest.mark.parametrize("name", PAGES)
def test_recorded_page(name: str) -> None:
    html, record = load(name)
    expected = record["expected"]
    clipping = extract_article(html, record["url"])
    if expected["title"] is not None:
        assert clipping.title is not None and norm(clipping.title) == norm(expected["title"])
    if expected["authors"] is not None:
        assert sorted(map(norm, clipping.authors)) == sorted(map(norm, expected["authors"]))
    if expected["date"] is not None:
        assert clipping.published_at is not None
        assert clipping.published_at.date().isoformat() == expected["date"]
    if expected["body"] is not None:
        assert token_f1(clipping.text, expected["body"]) >= 0.9
    segments = expected.get("segments") or {}
    flat = " ".join(clipping.text.split())
    for snippet in segments.get("with", []):
        assert " ".join(snippet.split()) in flat
    for snippet in segments.get("without", []):
        assert " ".join(snippet.split()) not in flat


@pytest.mark.parametrize("name", PAGES)
def test_recorded_page_contract(name: str) -> None:
    html, record = load(name)
    clipping = extract_article(html, record["url"])
    assert clipping.url == record["url"]
    assert clipping.text and "\n\n" not in clipping.text
    assert all(line == line.strip() for line in clipping.text.split("\n"))
    # The text chain (issue #12) names trafilatura's mode that read the page.
    assert clipping.text_from in ("trafilatura", "trafilatura-recall", "json-ld")
    for field in ("title", "authors", "published", "language", "text"):
        origin = getattr(clipping, f"{field}_from")
        assert origin is None or origin in PROVENANCES
    if clipping.published_at is not None:
        assert clipping.published_at.tzinfo is not None
        assert clipping.published_raw
    if clipping.authors:
        assert clipping.authors_raw
    assert clipping.language == record["language"]


def test_text_only_page_is_also_accepted_as_str() -> None:
    html, record = load(PAGES[0])
    from_str = extract_article(html.decode("utf-8"), record["url"])
    assert from_str.text == extract_article(html, record["url"]).text


# -- the feed entry as base ---------------------------------------------------

BARE_PAGE = (
    "<html><head><title>x</title></head><body><article>"
    + "<p>The council met on Tuesday to discuss the new bridge over the river.</p>" * 8
    + "</article></body></html>"
)


def feed_base(**fields: Any) -> Clipping:
    return Clipping(
        url="https://example.com/feed-link",
        source_id="balkanista",
        outlet="The Balkanista",
        entry_key="guid-1",
        feed_url="https://example.com/feed.xml",
        **fields,
    )


def test_feed_fills_gaps_and_base_fields_are_kept() -> None:
    published = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    base = feed_base(
        title="Bridge plans approved",
        title_from="feed",
        authors=["Ana Kovač"],
        authors_raw="Ana Kovač",
        authors_from="feed",
        published_at=published,
        published_raw="Fri, 01 Mar 2024 09:30:00 GMT",
        published_from="feed",
        language="en",
        language_from="feed",
    )
    clipping = extract_article(BARE_PAGE, "https://example.com/bridge", base=base)
    assert (clipping.source_id, clipping.outlet, clipping.entry_key, clipping.feed_url) == (
        "balkanista",
        "The Balkanista",
        "guid-1",
        "https://example.com/feed.xml",
    )
    assert clipping.url == "https://example.com/bridge"
    assert clipping.authors == ["Ana Kovač"] and clipping.authors_from == "feed"
    assert clipping.published_at == published and clipping.published_from == "feed"
    assert clipping.language == "en" and clipping.language_from == "feed"
    assert "new bridge" in clipping.text
    assert base.text == ""  # the base itself is left alone


def test_page_metadata_wins_over_feed_and_feed_title_trims() -> None:
    page = BARE_PAGE.replace(
        "<title>x</title>",
        '<meta property="og:title" content="Bridge plans approved | The Balkanista">'
        '<meta property="article:published_time" content="2024-03-01T08:00:00+01:00">'
        '<meta name="author" content="By Mira Horvat, The Balkanista">',
    )
    base = feed_base(
        title="Bridge plans approved",
        title_from="feed",
        authors=["Staff"],
        authors_from="feed",
        published_at=datetime(2024, 3, 2, tzinfo=UTC),
        published_from="feed",
    )
    clipping = extract_article(page, "https://example.com/bridge", base=base)
    assert clipping.title == "Bridge plans approved"
    assert clipping.authors == ["Mira Horvat"]
    assert clipping.authors_raw == "By Mira Horvat, The Balkanista"
    assert clipping.published_at == datetime(2024, 3, 1, 7, 0, tzinfo=UTC)
    assert clipping.published_raw == "2024-03-01T08:00:00+01:00"
    assert clipping.published_from == "opengraph"


def test_date_only_value_becomes_midnight_utc() -> None:
    page = BARE_PAGE.replace("<title>x</title>", '<meta name="date" content="2021-06-05">')
    clipping = extract_article(page, "https://example.com/a")
    assert clipping.published_at == datetime(2021, 6, 5, tzinfo=UTC)
    assert clipping.published_from == "meta"


def test_page_without_article_keeps_metadata_and_url_date() -> None:
    page = "<html><head><title>Bridge plans</title></head><body><img src=x></body></html>"
    clipping = extract_article(page, "https://example.com/news/2019/12/09/bridge-plans/")
    assert clipping.text == "" and clipping.text_from is None
    assert clipping.title == "Bridge plans" and clipping.title_from == "meta"
    assert clipping.published_at == datetime(2019, 12, 9, tzinfo=UTC)
    assert clipping.published_from == "url"
    assert clipping.published_raw == "/2019/12/09"


@pytest.mark.parametrize(
    ("title", "shorter", "trimmed"),
    [
        (
            "Bridge plans approved | The Balkanista",
            "Bridge plans approved",
            "Bridge plans approved",
        ),
        ("Bridge plans approved：中日新聞Web", "Bridge plans approved", "Bridge plans approved"),
        ("News | Bridge plans approved", "Bridge plans approved", "Bridge plans approved"),
        # A kicker is part of the title.
        ("Vienna: Bridge plans approved", "Bridge plans approved", None),
        ("Bridge plans approved again", "Bridge plans approved", None),
        ("Sport | News", "Sport", None),
    ],
)
def test_trim_title(title: str, shorter: str, trimmed: str | None) -> None:
    assert trim_title(title, shorter) == trimmed


def test_trim_title_never_keeps_a_site_name() -> None:
    title = "Bridge plans approved | The Balkanista"
    assert trim_title(title, "The Balkanista", {fold("The Balkanista")}) is None


def test_site_name_heading_does_not_replace_title() -> None:
    page = BARE_PAGE.replace(
        "<title>x</title>",
        '<meta property="og:title" content="Rasende Polizisten - strafprozess.ch">',
    ).replace("<article>", "<h1>strafprozess.ch</h1><article>")
    clipping = extract_article(page, "https://www.strafprozess.ch/rasende-polizisten/")
    # The heading names the site, so is no title; the title's part naming
    # the site (the host's name) is cut off.
    assert clipping.title == "Rasende Polizisten"


# -- hostile input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "cause"),
    [
        (b"", "empty"),
        (b"  \n\t", "empty"),
        (os.urandom(50_000), "not an HTML document"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "not an HTML document"),
        (b"<p>" + b"x" * MAX_PAGE_BYTES, "too large"),
        (None, "not bytes or str"),
    ],
)
def test_non_html_raises_extraction_error(page: Any, cause: str) -> None:
    with pytest.raises(ExtractionError, match=cause):
        extract_article(page, "https://example.com/a")
    assert issubclass(ExtractionError, ValueError)


@pytest.mark.parametrize(
    "page",
    [
        b"<html><body>" + b"<div>" * 20_000 + b"deep" + b"</div>" * 20_000 + b"</body></html>",
        b"<html><body>" + b"<div><span><b>" * 20_000 + b"unclosed",
        b'<html><head><script type="application/ld+json">'
        + b"[" * 100_000
        + b"</script></head></html>",
        b"<html><body><p>nul \x00 byte</p></body></html>",
        "<html><body><p>lone surrogate \ud800</p></body></html>",
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>declared</p></body></html>',
        "<html><body><p>UTF-16</p></body></html>".encode("utf-16"),
        b"<html><head><meta name='date' content='9999-99-99'></head><body></body></html>",
    ],
)
def test_odd_html_gives_a_clipping(page: bytes | str) -> None:
    clipping = extract_article(page, "https://example.com/a")
    assert isinstance(clipping, Clipping)
    assert isinstance(clipping.text, str)


def test_extract_article_runs_in_a_spawned_process_pool() -> None:
    html, record = load(PAGES[0])
    assert pickle.loads(pickle.dumps(extract_article)) is extract_article
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        remote = pool.submit(extract_article, html, record["url"], base=feed_base()).result()
    assert remote == extract_article(html, record["url"], base=feed_base())


# -- presscut extract ---------------------------------------------------------


def cli(*args: str) -> Any:
    app = typer.Typer()
    app.command()(extract)
    return CliRunner().invoke(app, list(args))


def test_cli_single_page(tmp_path: Path) -> None:
    name = "fundus-de-Heise_2024_04_19"
    _, record = load(name)
    result = cli(str(FIXTURES / f"{name}.html.gz"), "--url", record["url"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"title", "authors", "date", "text", "excerpt", "language", "provenance"} <= set(out)
    assert out["authors"] == ["Dirk Knop"]
    assert datetime.fromisoformat(out["date"]).date().isoformat() == record["expected"]["date"]
    assert out["provenance"]["authors"] == "json-ld"
    assert out["provenance"]["excerpt"] == "lead"
    assert " ".join(out["excerpt"].split()) in " ".join(out["text"].split())


@pytest.mark.parametrize(("min_words", "max_words"), [(60, 140), (5, 20), (1, 3)])
def test_lead_paragraphs_give_the_same_lead_excerpt(min_words: int, max_words: int) -> None:
    texts = []
    for name in PAGES:
        html, record = load(name)
        texts.append(extract_article(html, record["url"]).text)
    texts += ["One two three.\nFour five six seven eight nine ten eleven twelve.", "", "x"]
    for text in texts:
        lead = lead_paragraphs(text, max_words)
        assert text.startswith(lead)
        assert pick_excerpt(lead, min_words=min_words, max_words=max_words) == pick_excerpt(
            text, min_words=min_words, max_words=max_words
        )


def test_cli_rejects_a_missing_or_empty_page(tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    assert cli(str(empty)).exit_code == 1
    assert cli(str(tmp_path / "missing.html")).exit_code == 1
    assert cli().exit_code != 0
    assert cli("--jsonl", str(tmp_path / "missing.jsonl")).exit_code == 2


def test_cli_jsonl_keeps_ids_order_and_survives_bad_pages(tmp_path: Path) -> None:
    listing = tmp_path / "pages.jsonl"
    plain = tmp_path / "plain.html"
    plain.write_text(BARE_PAGE, encoding="utf-8")
    (tmp_path / "empty.html").write_bytes(b"")
    lines = [
        {
            "id": "heise",
            "path": str(FIXTURES / "fundus-de-Heise_2024_04_19.html.gz"),
            "url": "https://www.heise.de/x",
        },
        {"id": 7, "path": "plain.html", "url": "https://example.com/plain"},
        {"id": "missing", "path": "missing.html", "url": "https://example.com/m"},
        {"id": "empty", "path": "empty.html"},
    ]
    listing.write_text(
        "\n".join(json.dumps(line) for line in lines) + "\nnot json\n\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    result = cli("--jsonl", str(listing), "-o", str(out), "--workers", "2")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["heise", 7, "missing", "empty", None]
    assert records[0]["authors"] == ["Dirk Knop"] and "error" not in records[0]
    assert "new bridge" in records[1]["text"]
    assert "No such file" in records[2]["error"]
    assert "empty page" in records[3]["error"]
    assert "line 5 unreadable" in records[4]["error"]


def _crash_on_boom(path: str, url: str, options: ExcerptOptions) -> dict[str, Any]:
    if path.endswith("boom.html"):
        os._exit(3)
    return {"path": Path(path).name}


def test_a_page_that_kills_its_worker_is_reported_alone(tmp_path: Path) -> None:
    listing = tmp_path / "pages.jsonl"
    names = ["a.html", "boom.html", "b.html", "c.html"]
    listing.write_text(
        "".join(
            json.dumps({"id": n, "path": n, "url": "https://example.com/"}) + "\n" for n in names
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        pages, errors = run_listing(listing, handle, 2, ExcerptOptions(), run=_crash_on_boom)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (pages, errors) == (4, 1)
    assert [r["id"] for r in records] == names
    assert "crashed" in records[1]["error"]
    assert [r.get("path") for r in records if r["id"] != "boom.html"] == [
        "a.html",
        "b.html",
        "c.html",
    ]


def test_cli_topic_steers_the_excerpt(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("[excerpt]\nmin_words = 5\nmax_words = 20\n")
    (tmp_path / "sources.toml").write_text(
        '[[topics]]\nname = "bridges"\ninclude = ["bridge"]\n', encoding="utf-8"
    )
    page = tmp_path / "page.html"
    page.write_text(
        BARE_PAGE.replace(
            "<article>", "<article><p>" + "Weather was mild all week. " * 12 + "</p>"
        ),
        encoding="utf-8",
    )
    result = cli(str(page), "--topic", "bridges", "--config-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["topics"] == ["bridges"]
    assert out["provenance"]["excerpt"] == "topic"
    assert "bridge" in out["excerpt"] and len(out["excerpt"].split()) <= 20

    unknown = cli(str(page), "--topic", "rivers", "--config-dir", str(tmp_path))
    assert unknown.exit_code == 2


def test_canonical_link_is_carried_for_normalize() -> None:
    body = "".join(
        f"<p>Paragraph {i} of the article about the harbour wall.</p>" for i in range(20)
    )
    html = (
        '<html><head><link rel="Canonical" href="/story/1"><title>T</title></head>'
        f"<body><article><h1>T</h1>{body}</article></body></html>"
    )
    clipping = extract_article(html, "https://x.example/amp/story/1?utm_source=a")
    assert clipping.canonical_url == "https://x.example/story/1"
    bare = extract_article(
        html.replace('rel="Canonical"', 'rel="alternate"'), "https://x.example/a"
    )
    assert bare.canonical_url is None
