"""The extraction pool: a page read in a worker comes back finished
(normalized, matched, excerpted, the same as the stages would make it); a
page past ``crawl.extract_timeout`` has its worker stopped, is recorded as
``parse_error`` with the reason, and the pool and the round go on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.schema import Excerpt, Topic
from scraper import blocks, extraction_pool
from scraper.analysis import AnalysedClipping, analysis_of
from scraper.extraction_pool import ExtractionPool, Page, read_page
from scraper.items import Clipping
from tests.faultcrawl import article, crawl_round, rss, stored, write_config
from tests.faultserver import FaultServer
from tests.slow_extraction import STALL, stalling_reader

HARBOUR = Topic(name="harbour", include=["harbour", "quay"])
BIKES = Topic(name="bikes", include=["bicycle lane"])


def page(title: str, url: str = "https://news.example/2026/11/a.html", **kw: object) -> Page:
    body = article(title).encode()
    base = Clipping(url=url, source_id="news", outlet="News")
    return Page(url=url, body=body, status=200, headers={}, base=base, **kw)  # type: ignore[arg-type]


@pytest.fixture
def topics(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a worker started with two topics."""
    monkeypatch.setattr(extraction_pool, "_worker", extraction_pool._Worker())
    extraction_pool._start_worker({"harbour": HARBOUR, "bikes": BIKES}, 20, 60)


def test_a_page_comes_back_normalized_matched_and_excerpted(topics: None) -> None:
    reading = read_page(page("Harbour board meets", topics=("harbour", "bikes")))
    clipping = reading.clipping
    assert isinstance(clipping, AnalysedClipping)
    assert reading.block is None and reading.error is None
    assert clipping.url_hash and clipping.content_hash and clipping.simhash is not None
    assert clipping.title == "Harbour board meets"
    analysis = analysis_of(clipping)
    assert analysis is not None
    assert analysis.topics == ["harbour"]
    assert not analysis.matches["bikes"].matched
    assert analysis.excerpt is not None and analysis.excerpt[1] == "topic"
    assert 20 <= len(analysis.excerpt[0].split()) <= 60
    # Storage sees a plain clipping's fields only.
    assert set(clipping.to_dict()) == set(Clipping(url="x").to_dict())


def test_an_analysis_holds_only_for_the_text_it_was_made_of(topics: None) -> None:
    clipping = read_page(page("Harbour board meets", topics=("harbour",))).clipping
    assert clipping is not None and analysis_of(clipping) is not None
    clipping.text += "\nA late paragraph about the quay."
    assert analysis_of(clipping) is None


def test_no_excerpt_is_picked_for_an_article_no_topic_matches(topics: None) -> None:
    clipping = read_page(page("Harbour board meets", topics=("bikes",))).clipping
    analysis = analysis_of(clipping) if clipping else None
    assert analysis is not None and analysis.topics == [] and analysis.excerpt is None


def test_a_block_page_and_garbage_are_told_apart_from_articles() -> None:
    challenge = Page(
        url="https://news.example/a",
        body=b"<html><script>window._cf_chl_opt={}</script></html>",
        status=200,
        headers={"Content-Type": "text/html"},
        base=Clipping(url="https://news.example/a"),
    )
    # Issue #12: the article behind a challenge is stored, flagged.
    behind = read_page(challenge)
    assert behind.block is not None and behind.block.kind == "challenge"
    assert behind.clipping is not None and behind.clipping.flags == ["blocked"]
    empty = Page(
        url="https://news.example/b", body=b"", status=200, headers={}, base=challenge.base
    )
    assert read_page(empty).error == "empty page"


BLOCKS = Path(__file__).parent / "fixtures" / "blocks"
EXPECTED: dict[str, dict[str, Any]] = json.loads((BLOCKS / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_block_pages_are_told_from_the_one_parse(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = EXPECTED[name]

    def parsed_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the page was parsed a second time")

    monkeypatch.setattr(blocks.lxml.html, "fromstring", parsed_again)
    url = "https://news.example/2026/11/story.html"
    reading = read_page(
        Page(
            url=url,
            body=(BLOCKS / name).read_bytes(),
            status=case["status"],
            headers=case["headers"],
            base=Clipping(url=url),
        )
    )
    assert (reading.block.kind if reading.block else None) == case["blocked"]
    # Issue #12: an article behind a wall is read, flagged; a soft 404 is not.
    assert (reading.clipping is not None) == (case["blocked"] != "not_found")


@pytest.fixture
def stalling_pool() -> Iterator[ExtractionPool]:
    pool = ExtractionPool(1, timeout=1.0, reader=stalling_reader, excerpt=Excerpt())
    yield pool
    pool.close()


def test_a_page_past_the_time_limit_is_stopped_and_the_next_one_is_read(
    stalling_pool: ExtractionPool,
) -> None:
    async def both() -> tuple[float, list[extraction_pool.Reading]]:
        start = time.monotonic()
        readings = await asyncio.gather(
            stalling_pool.read(page("Stalled", url=f"https://news.example{STALL}")),
            stalling_pool.read(page("Harbour board meets")),
        )
        return time.monotonic() - start, readings

    # A pool without the time limit would hang here: fail instead.
    elapsed, (stalled, good) = asyncio.run(asyncio.wait_for(both(), 60))
    assert stalled.clipping is None
    assert stalled.error == "page extraction stopped after 1 s (crawl.extract_timeout)"
    # The one worker was replaced: the page queued behind the stalled one is read.
    assert good.clipping is not None and good.clipping.title == "Harbour board meets"
    assert elapsed < 30


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=1) as server:
        yield server


def test_a_round_records_a_stalled_page_as_parse_error_and_goes_on(
    tmp_path: Path, faults: FaultServer
) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(0)
    html = "text/html; charset=utf-8"
    faults.put("/good.html", article("Harbour lights switched on"), content_type=html)
    faults.put(STALL, article("Never read"), content_type=html)
    faults.put("/later.html", article("Quay repairs begin"), content_type=html)
    items = [("Good", "/good.html"), ("Stalled", STALL), ("Later", "/later.html")]
    faults.put("/feed.xml", rss(base, items))
    config = write_config(
        tmp_path / "config", db, {"pages": faults.url("/feed.xml")}, crawl={"extract_timeout": 2}
    )

    start = time.monotonic()
    result = crawl_round(config, env={"PRESSCUT_TEST_STALL_EXTRACTION": "1"})
    assert result.status == "finished", result.output
    assert time.monotonic() - start < 90
    assert {c.title for c in stored(db)} == {"Harbour lights switched on", "Quay repairs begin"}
    assert result.summary["pages"]["failed"] == 1
    assert result.stats["article/failed/parse_error"] == 1
    assert result.errors["pages"] == (
        "parse_error: page extraction stopped after 2 s (crawl.extract_timeout)"
    )
