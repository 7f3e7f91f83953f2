"""Nothing listed is dropped for being hard to read (issue #12, part 2): a
paywalled article with a lead, a short article and an article whose body is
only in JSON-LD are all stored, the first two flagged and waiting under
"needs text"; a second round fetches none of them again; a curator's text
clears the flags."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scraper.items import TEXT_FLAGS
from storage import open_store
from tests.faultcrawl import crawl_round, prose, rss, stored, write_config
from tests.faultserver import FaultServer
from tests.publishing import ok, presscut

HTML = "text/html; charset=utf-8"


def html(title: str, body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"{head}</head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def jsonld(node: dict[str, object]) -> str:
    return f"<script type='application/ld+json'>{json.dumps(node)}</script>"


def paragraphs(seed: str, words: int) -> str:
    sentences = prose(seed, words).split(". ")
    return "".join(
        f"<p>{'. '.join(sentences[i : i + 3])}.</p>" for i in range(0, len(sentences), 3)
    )


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=2) as server:
        yield server


def test_hard_to_read_articles_are_stored_flagged_and_not_fetched_again(
    tmp_path: Path, faults: FaultServer
) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(1)
    paywall = {"@type": "NewsArticle", "headline": "Quay tolls", "isAccessibleForFree": False}
    faults.put(
        "/a/paywalled.html",
        html("Quay tolls", paragraphs("lead", 250), jsonld(paywall)),
        content_type=HTML,
    )
    short = html("Ferry late", "<p>The ferry was late again today.</p>")
    faults.put("/a/short.html", short, content_type=HTML)
    body = {"@type": "NewsArticle", "headline": "Pier reopens", "articleBody": prose("ld", 200)}
    faults.put(
        "/a/jsonld.html",
        html("Pier reopens", "<p>Subscribe.</p>", jsonld(body)),
        content_type=HTML,
    )
    links = [("Quay tolls", "/a/paywalled.html"), ("Ferry late", "/a/short.html")]
    links.append(("Pier reopens", "/a/jsonld.html"))
    faults.put("/feed.xml", rss(base, links))
    config = write_config(tmp_path / "config", db, {"news": faults.url("/feed.xml")})

    first = crawl_round(config)
    assert first.status == "finished", first.output
    assert first.summary["news"]["new"] == 3, first.summary
    by_title = {c.title: c for c in stored(db)}
    assert by_title["Quay tolls"].flags == ["paywalled"]
    assert len(by_title["Quay tolls"].text.split()) >= 200
    assert by_title["Ferry late"].flags == ["short_text"]
    assert (by_title["Pier reopens"].flags, by_title["Pier reopens"].text_from) == ([], "json-ld")

    faults.log.clear()
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert not [s.path for s in faults.log if s.path.startswith("/a/")]

    queue = ok("queue", "--config", str(config)).stdout
    assert "needs text (paywalled)" in queue and "needs text (short_text)" in queue

    store = open_store(db)
    try:
        short_id = next(i for i, c in store.iter_clippings() if c.title == "Ferry late")
    finally:
        store.close()
    text_file = tmp_path / "ferry.txt"
    text_file.write_text(prose("ferry", 120).replace(". ", ".\n", 3), encoding="utf-8")
    ok("edit", str(short_id), "--text-file", str(text_file), "--config", str(config))
    store = open_store(db)
    try:
        edited = store.get_clipping(short_id)
    finally:
        store.close()
    assert edited is not None
    assert (edited.flags, edited.text_from) == ([], "curator")
    assert edited.text.split("\n")[0] == prose("ferry", 120).split(". ")[0] + "."

    missing = presscut(
        "edit", str(short_id), "--text-file", str(tmp_path / "none.txt"), "--config", str(config)
    )
    assert missing.exit_code == 1
    assert "none.txt: cannot read the text" in missing.stderr


def test_text_flags_are_the_documented_vocabulary() -> None:
    errors = (Path(__file__).parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    for flag in TEXT_FLAGS:
        assert f"`{flag}`" in errors, flag
