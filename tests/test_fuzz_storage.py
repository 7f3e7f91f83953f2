"""Fuzzing the ways text enters the store: ``presscut import`` and the
crawl's store stage, fed arbitrary Unicode (lone surrogates, NUL and other
controls, non-characters included).  Whatever the text, nothing crashes,
the hostile row is stored clean or refused with a reason, and the good row
beside it is always stored."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from cli.importer import import_lines
from pipelines.store import StoreStage
from scraper.items import Clipping
from scraper.polling import PollingPolicy
from scraper.source_states import SourceStates
from scraper.text import clean_text
from storage import Store, open_store

BODY = " ".join(f"harbour{i} flood water rose over the sea wall" for i in range(8))
HOSTILE = ["\x00", "\ud800", "\udfff", "\x1b", "\x7f", "\x9b", "\r", "\ufffe", "\U0010ffff"]

#: Any code point, surrogates included, with the known troublemakers often
#: (joined lists: ``st.text`` leaves surrogates out whatever its alphabet).
hostile_text = st.lists(
    st.one_of(st.characters(codec=None, exclude_categories=()), st.sampled_from(HOSTILE)),
    max_size=60,
).map("".join)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_numbers = itertools.count()


@pytest.fixture
def migrated(db_url: str) -> Iterator[Store]:
    with open_store(db_url) as store:
        store.upgrade()
        yield store


def urls(store: Store) -> set[str]:
    return {c.url for _, c in store.iter_clippings()}


@FUZZ
@given(title=hostile_text, outlet=hostile_text, author=hostile_text, extra=hostile_text)
def test_import_survives_any_text(
    migrated: Store, title: str, outlet: str, author: str, extra: str
) -> None:
    n = next(_numbers)
    good = {"url": f"https://good.example/{n}", "title": "Good", "text": f"good {n} {BODY}"}
    hostile = {
        "url": f"https://evil.example/{n}",
        "title": title,
        "outlet": outlet,
        "authors": [author],
        "text": f"evil {n} {extra} {BODY}",
    }
    lines = [json.dumps(hostile), json.dumps(good)]
    report = import_lines(migrated, lines, "fuzz.jsonl", UTC)
    stored = urls(migrated)
    assert good["url"] in stored
    assert hostile["url"] in stored or any(p.startswith("fuzz.jsonl:1: ") for p in report.problems)
    for _, clipping in migrated.iter_clippings():
        for value in (clipping.title, clipping.outlet, clipping.text, *clipping.authors):
            assert value is None or clean_text(value) == value


@FUZZ
@given(title=hostile_text, author=hostile_text, text=hostile_text)
def test_store_stage_survives_any_text(
    migrated: Store, title: str, author: str, text: str
) -> None:
    n = next(_numbers)
    crawler = get_crawler()
    stage = StoreStage(migrated, SourceStates(migrated, PollingPolicy()), crawler.stats)
    now = datetime(2026, 10, 3, tzinfo=UTC)
    hostile = Clipping(
        url=f"https://evil.example/s{n}",
        url_hash=f"e{n:039x}",
        source_id="evil",
        entry_key=f"e{n}",
        title=title,
        authors=[author],
        text=text,
        fetched_at=now,
    )
    good = Clipping(
        url=f"https://good.example/s{n}",
        url_hash=f"a{n:039x}",
        source_id="good",
        entry_key=f"g{n}",
        title="Good",
        text=BODY,
        fetched_at=now,
    )
    stage.process_item(hostile)
    stage.process_item(good)
    stage.close_spider()
    summary = stage.states.summary
    assert summary["good"]["new"] == 1
    assert summary["evil"]["new"] + summary["evil"]["failed"] == 1
    assert good.url in urls(migrated)
