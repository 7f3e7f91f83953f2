"""Hostile text against the store: one bad row never sinks a batch.

Inputs rebuilt from the hostile-content probes: a JSON-LD author
``"Eve \\udfff"`` (a lone surrogate, valid JSON), a NUL (which PostgreSQL
refuses in text), a character reference to a C0 control in an article body,
and a database reached through a symlink.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from config import Source
from pipelines.store import StoreStage
from scraper.extract import extract_article
from scraper.items import Clipping
from scraper.polling import PollingPolicy
from scraper.source_states import SourceStates
from scraper.text import _REMOVED, clean_fields, clean_text
from storage import EntryOutcome, Store, open_store
from storage.locks import round_lock

T0 = datetime(2026, 10, 3, 7, 0, tzinfo=UTC)
# Year 1 at +14:00: a date no change of offset can bring into range.
YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
WORDS = " ".join(f"flood{i} water rose over the harbour wall" for i in range(60))


def clip(n: int, source_id: str = "herald", **changes: Any) -> Clipping:
    values: dict[str, Any] = {
        "url": f"https://{source_id}.example/news/{n}",
        "source_id": source_id,
        "outlet": source_id.title(),
        "url_hash": f"{source_id[:4]}{n:036x}",
        "entry_key": f"guid-{n}",
        "title": f"Story {n}",
        "authors": ["Mara Quill"],
        "text": f"Body of story {n}.",
        "fetched_at": T0,
    }
    values.update(changes)
    return Clipping(**values)


# -- clean_text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Eve \udfff", "Eve "),
        ("Nul\x00Author", "NulAuthor"),
        ("a\x01b\x1b[2Jc\x7fd\x9b1m", "abcd"),  # escape sequences go whole
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("crlf\r\nand cr\rend", "crlf\nand cr\nend"),
        ("non\ufdd0char\uffff\U0010fffe", "nonchar"),
        (
            "right\u202eleft \u200b zero-width, é, 中文, 🙂",
            "right\u202eleft \u200b zero-width, é, 中文, 🙂",
        ),
    ],
)
def test_clean_text_removes_what_cannot_be_stored(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert clean_text(clean) == clean  # idempotent
    clean.encode("utf-8")  # no lone surrogate left


def test_clean_text_keeps_every_character_it_does_not_remove() -> None:
    # Each code point alone and inside text with tabs and newlines: the
    # quick path for printable text keeps exactly what the full scan keeps.
    for point in range(0x110000):
        char = chr(point)
        removed = bool(_REMOVED.match(char)) or char == "\x1b"
        kept = "\n" if char == "\r" else "" if removed else char
        assert clean_text(char) == kept, hex(point)
        if kept == char:
            assert clean_text(f"a\tb\n{char}\nc") == f"a\tb\n{char}\nc", hex(point)


def test_clean_fields_cleans_strings_and_lists_in_place() -> None:
    item = clip(1, title="T\x00itle", authors=["Eve \udfff", "\x00"])
    assert sorted(clean_fields(item)) == ["authors", "title"]
    assert item.title == "Title" and item.authors == ["Eve "]


# -- the store -------------------------------------------------------------------


def test_surrogate_and_nul_among_good_rows_are_all_stored(store: Store) -> None:
    """The poison rows of the probe are cleaned at the store: every row of
    the batch is written, on SQLite and on PostgreSQL."""
    batch = [
        clip(1),
        clip(2, authors=["Eve \udfff"]),
        clip(3, title="Nul\x00Author", text="Body\x00 with NUL."),
        clip(4),
    ]
    result = store.store_batch(batch, [], [])
    assert result.inserted == 4 and result.rejected == []
    stored = {c.url: c for _, c in store.iter_clippings()}
    assert stored[batch[1].url].authors == ["Eve "]
    assert stored[batch[2].url].title == "NulAuthor"
    assert stored[batch[2].url].text == "Body with NUL."


def test_a_row_the_database_refuses_leaves_the_others_written(store: Store) -> None:
    """A row that still fails (a date outside the stored years) is left out
    with its reason; the others are written and its entry is logged failed
    (not stored, so it is fetched again), not "stored"."""
    store.sync_sources([_source("herald"), _source("evil")])
    batch = [clip(1), clip(2, source_id="evil", published_at=YEAR_ONE), clip(3)]
    outcomes = [
        EntryOutcome(source_id=c.source_id or "", entry_key=c.entry_key or "", outcome="stored")
        for c in batch
    ]
    result = store.store_batch(batch, outcomes, [])
    assert result.inserted == 2
    [(refused, cause)] = result.rejected
    assert refused is batch[1]
    assert "outside the years 1900-2200" in cause
    assert store.count_clippings() == 2
    settled, _ = store.known_entries("evil", ["guid-2"], [])
    assert settled == set()  # "failed" does not settle the entry
    assert store.known_entries("herald", ["guid-1", "guid-3"], [])[0] == {"guid-1", "guid-3"}


def _source(source_id: str) -> Source:
    return Source(
        id=source_id,
        outlet=source_id.title(),
        kind="feed",
        url=f"https://{source_id}.example/feed.xml",
        language="en",
        poll_interval=1800.0,
    )


@pytest.fixture
def stage(store: Store) -> Iterator[StoreStage]:
    crawler = get_crawler()
    states = SourceStates(store, PollingPolicy())
    yield StoreStage(store, states, crawler.stats)


def test_round_stores_healthy_sources_beside_a_hostile_one(stage: StoreStage) -> None:
    """The crawl's store stage: a hostile source's rows (surrogate, NUL, an
    impossible date) never make the healthy source "nothing new"."""
    items = [
        clip(1),
        clip(1, source_id="evil", authors=["Eve \udfff"]),
        clip(2, source_id="evil", title="Nul\x00Author"),
        clip(3, source_id="evil", published_at=YEAR_ONE),
        clip(2),
    ]
    for item in items:
        stage.process_item(item)
    stage.close_spider()
    states = stage.states
    assert states.summary["herald"]["new"] == 2
    assert states.summary["evil"]["new"] == 2
    assert states.summary["evil"]["failed"] == 1
    assert "outside the years" in states.errors["evil"]
    assert "herald" not in states.errors
    assert stage.store.count_clippings() == 4
    assert stage.stats.get_value("store/rejected") == 1


# -- extraction ------------------------------------------------------------------


def page(head: str = "", body_ref: str = "") -> str:
    return (
        f"<html><head><title>Flood</title>{head}</head><body><article>"
        f"<h1>Harbour {body_ref} flood</h1><p>H {body_ref} x</p><p>{WORDS}</p>"
        "</article></body></html>"
    )


def test_jsonld_author_with_lone_surrogate_is_cleaned() -> None:
    jsonld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": '
        '"Flood surrogate \\ud800 author", "author": {"@type": "Person", "name": "Eve \\udfff"}}'
        "</script>"
    )
    item = extract_article(page(head=jsonld).encode(), "https://evil.example/a")
    assert item.authors == ["Eve"]
    for value in (item.title, item.text, *item.authors):
        assert value is not None
        value.encode("utf-8")


@pytest.mark.parametrize("ref", ["&#1;", "&#27;", "&#x1b;", "&#X1F", "&#0000031;"])
def test_reference_to_a_control_character_keeps_the_text(ref: str) -> None:
    item = extract_article(page(body_ref=ref).encode(), "https://evil.example/a")
    assert item.text and len(item.text.split()) > 400
    assert "H x" in item.text
    assert item.text == clean_text(item.text)


def test_references_to_tab_and_newline_are_kept() -> None:
    item = extract_article(page(body_ref="A&#9;B&#10;C").encode(), "https://evil.example/a")
    assert "A" in (item.text or "") and len((item.text or "").split()) > 400


# -- the round lock --------------------------------------------------------------


def test_round_lock_is_shared_through_a_symlinked_path(tmp_path: Path) -> None:
    real = tmp_path / "k.db"
    link = tmp_path / "k2.db"
    first, second = open_store(f"sqlite:///{real}"), open_store(f"sqlite:///{link}")
    first.upgrade()
    os.symlink(real, link)
    try:
        with round_lock(first.engine) as held, round_lock(second.engine) as also:
            assert held and not also
        with round_lock(second.engine) as again:
            assert again  # released with the first
    finally:
        first.close()
        second.close()
    assert not (tmp_path / "k2.db.round-lock").exists()


def test_a_curator_s_edit_is_cleaned_too(store: Store) -> None:
    store.write_batch([clip(1)], [], [])
    [(clipping_id, _)] = list(store.iter_clippings())
    edited = store.edit_clipping(
        clipping_id, {"title": "Edited \x1b]52;c;cm0K\x07 \udfff", "authors": ["A\x00B"]}
    )
    assert edited.title == "Edited  " and edited.authors == ["AB"]
