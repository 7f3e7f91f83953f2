"""Each pipeline stage alone: what it passes, what it drops and why, what it counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from config import load_config
from pipelines.dedupe import DedupeStage
from pipelines.excerpt import ExcerptStage
from pipelines.normalize import NormalizeStage
from pipelines.store import StoreStage
from pipelines.topic import TopicStage
from pipelines.validate import ValidateStage
from scraper.context import RoundContext
from scraper.errors import Deferred, Drop
from scraper.excerpt import is_verbatim
from scraper.items import Clipping
from scraper.spiders.round import RoundSpider
from storage import DatabaseUnavailable, open_store

SOURCES = """
[[topics]]
name = "floods"
include = ["flood", "storm surge", "sea wall"]
exclude = ["flood of applications"]

[[sources]]
id = "herald"
outlet = "The Harbour Herald"
url = "https://herald.example/feed.rss"
topics = ["floods"]

[[sources]]
id = "ledger"
outlet = "Valley Ledger"
url = "https://ledger.example/feed.atom"
topics = ["floods"]

[[sources]]
id = "everything"
outlet = "Everything Weekly"
url = "https://everything.example/feed.rss"
"""

BODY = (
    "The storm surge arrived shortly after midnight and pushed the sea over the old "
    "harbour wall. By dawn the flood had reached the fish market, where traders waded "
    "through knee-deep water to rescue their stock. Council engineers said the sea wall "
    "had been due for repair since the spring survey found cracks along its length. "
    "Residents of the lower town were moved to the school hall, and the ferry service "
    "was suspended until the tide turned in the afternoon.\n"
    "Harbour master Ellen Voss said the water had risen faster than any tide table "
    "predicted, and that boats moored inside the basin had been lifted onto the quay. "
    "Volunteers from the lifeboat station checked every house on Dock Row before first "
    "light. The county has asked the national agency for an emergency grant to rebuild "
    "the damaged section before the winter storms, which forecasters expect to be "
    "stronger than last year's."
)


def clipping(**kw: Any) -> Clipping:
    base: dict[str, Any] = {
        "url": "https://herald.example/2026/10/flood.html?utm_source=rss#top",
        "source_id": "herald",
        "outlet": "The Harbour Herald",
        "entry_key": "guid-1",
        "title": "  Storm surge floods  the harbour ",
        "authors": ["Mara Quill"],
        "text": BODY,
        "published_at": datetime(2026, 10, 3, 7, 0, tzinfo=UTC),
    }
    base.update(kw)
    return Clipping(**base)


@pytest.fixture
def crawler(tmp_path: Path) -> Any:
    (tmp_path / "sources.toml").write_text(SOURCES, encoding="utf-8")
    db = tmp_path / "p.db"
    (tmp_path / "settings.toml").write_text(f'[database]\nurl = "sqlite:///{db}"\n')
    config = load_config(tmp_path, environ={})
    store = open_store(config.settings.database.url)
    store.upgrade()
    crawler = get_crawler(RoundSpider)
    # The round spider as a round builds it; its pools start only when used.
    crawler.spider = RoundSpider(context=RoundContext.open(config, store))
    yield crawler
    store.close()


def stats(crawler: Any) -> dict[str, Any]:
    return crawler.stats.get_stats()


def run(stage_cls: type, crawler: Any, item: Clipping) -> Clipping:
    return stage_cls.from_crawler(crawler).process_item(item)


def test_normalize_sets_keys_and_folds_text(crawler: Any) -> None:
    item = run(NormalizeStage, crawler, clipping(text="One  para.\n\n\nTwo\tpara."))
    assert item.canonical_url == "https://herald.example/2026/10/flood.html"
    assert item.url_hash and len(item.url_hash) == 40
    assert item.title == "Storm surge floods the harbour"
    assert item.headline == item.title
    assert item.text == "One para.\nTwo para."
    assert item.content_hash
    assert stats(crawler)["normalize/items"] == 1


def test_normalize_variants_share_one_key(crawler: Any) -> None:
    a = run(NormalizeStage, crawler, clipping())
    b = run(NormalizeStage, crawler, clipping(url="HTTPS://Herald.Example:443/2026/10/flood.html"))
    assert a.url_hash == b.url_hash


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": None}, "no title"),
        # Issue #12: only an undated short page is dropped (an "about" page).
        ({"text": "Too short to be an article.", "published_at": None}, "text too short"),
        ({"url": "javascript:alert(1)"}, r"not an http\(s\) URL"),
    ],
)
def test_validate_drops_with_reason(crawler: Any, changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(Drop, match=reason) as info:
        run(ValidateStage, crawler, clipping(**changes))
    assert info.value.outcome == "invalid"
    assert stats(crawler)["validate/dropped/invalid"] == 1


def test_validate_keeps_a_short_text_flagged(crawler: Any) -> None:
    """Issue #12: a short text is stored flagged ``short_text`` (it was
    dropped as invalid), and takes no part in body deduplication."""
    item = run(ValidateStage, crawler, clipping(text="Too short to be an article."))
    assert item.flags == ["short_text"]
    assert item.content_hash is None and item.simhash is None
    assert stats(crawler)["validate/short_text"] == 1


@pytest.mark.parametrize("flag", ["blocked", "paywalled"])
def test_validate_keeps_a_walled_article_undated_and_short(crawler: Any, flag: str) -> None:
    """A listed article behind a wall (a 403, a block page) with only its
    feed title is kept flagged for a curator, not dropped as an "about"
    page."""
    walled = clipping(text="", published_at=None, flags=[flag])
    item = run(ValidateStage, crawler, walled)
    assert flag in item.flags and "short_text" in item.flags
    assert stats(crawler)["validate/passed"] == 1


def test_validate_discards_future_dates(crawler: Any) -> None:
    future = datetime.now(UTC) + timedelta(days=30)
    item = run(ValidateStage, crawler, clipping(published_at=future, published_raw="2099"))
    assert item.published_at is None and item.published_raw == "2099"


def test_topic_keeps_matches_and_records_terms(crawler: Any) -> None:
    item = run(TopicStage, crawler, clipping())
    assert item.topics == ["floods"]
    assert item.matched_terms == ["flood", "storm surge", "sea wall"]
    assert stats(crawler)["topic/matched"] == 1


def test_topic_drops_off_topic_and_excluded(crawler: Any) -> None:
    stage = TopicStage.from_crawler(crawler)
    with pytest.raises(Drop) as info:
        stage.process_item(clipping(title="Cup final", text="The home side won. " * 20))
    assert info.value.outcome == "off_topic"
    with pytest.raises(Drop):
        stage.process_item(clipping(title="Permits", text="A flood of applications. " * 20))
    assert stats(crawler)["topic/dropped/off_topic"] == 2


def test_topic_keeps_everything_for_a_source_without_topics(crawler: Any) -> None:
    item = run(TopicStage, crawler, clipping(source_id="everything", text="Cup final. " * 50))
    assert item.topics == []


def test_excerpt_quotes_the_match_verbatim(crawler: Any) -> None:
    item = run(TopicStage, crawler, clipping())
    item = run(ExcerptStage, crawler, item)
    assert item.excerpt_from == "topic"
    assert is_verbatim(item.excerpt or "", item.text)
    assert "storm surge" in (item.excerpt or "").lower()


def test_excerpt_keeps_a_given_excerpt(crawler: Any) -> None:
    item = run(ExcerptStage, crawler, clipping(excerpt="Chosen by hand.", excerpt_from="curator"))
    assert item.excerpt == "Chosen by hand."


def prepared(crawler: Any, **kw: Any) -> Clipping:
    return run(NormalizeStage, crawler, clipping(**kw))


def test_dedupe_drops_url_variants_in_one_round(crawler: Any) -> None:
    stage = DedupeStage.from_crawler(crawler)
    first = stage.process_item(prepared(crawler))
    assert first.cluster == first.url_hash
    with pytest.raises(Drop, match="URL already stored"):
        stage.process_item(prepared(crawler, url="https://HERALD.example/2026/10/flood.html"))


def test_dedupe_clusters_syndicated_copies_across_outlets(crawler: Any) -> None:
    stage = DedupeStage.from_crawler(crawler)
    original = stage.process_item(prepared(crawler))
    copy = stage.process_item(
        prepared(
            crawler,
            url="https://ledger.example/wire/harbour-flood",
            source_id="ledger",
            entry_key="ledger-1",
            text=BODY.replace("shortly after midnight", "after midnight")
            + " The ferry company said it would publish a new timetable.",
        )
    )
    assert copy.cluster == original.cluster
    assert stats(crawler)["dedupe/clustered"] == 1


def test_dedupe_drops_same_body_from_same_source(crawler: Any) -> None:
    stage = DedupeStage.from_crawler(crawler)
    stage.process_item(prepared(crawler))
    with pytest.raises(Drop) as info:
        stage.process_item(
            prepared(crawler, url="https://herald.example/amp/flood", entry_key="g2")
        )
    assert info.value.outcome == "duplicate"


def test_dedupe_sees_what_is_stored(crawler: Any) -> None:
    item = prepared(crawler)
    item.cluster = item.url_hash
    crawler.spider.context.store.write_batch([item], [], [])
    stage = DedupeStage.from_crawler(crawler)
    with pytest.raises(Drop):
        stage.process_item(prepared(crawler))
    copy = stage.process_item(
        prepared(crawler, url="https://ledger.example/copy", source_id="ledger", entry_key="x")
    )
    assert copy.cluster == item.cluster


def test_store_writes_batches_and_records_drops(crawler: Any) -> None:
    stage = StoreStage.from_crawler(crawler)
    item = prepared(crawler)
    item.cluster = item.url_hash
    stage.process_item(item)
    dropped = prepared(crawler, url="https://herald.example/sport", entry_key="g9")
    stage.item_dropped(dropped, None, Drop("off", "off_topic"), None)
    stage.close_spider()
    store = crawler.spider.context.store
    assert [c.url_hash for _, c in store.iter_clippings()] == [item.url_hash]
    keys, _ = store.known_entries("herald", ["guid-1", "g9"], [])
    assert keys == {"guid-1", "g9"}
    assert stats(crawler)["store/inserted"] == 1
    assert crawler.spider.context.summary["herald"] == {"new": 1, "off_topic": 1}


def test_a_clipping_read_in_a_worker_passes_the_stages_unchanged_and_unredone(
    crawler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The extraction worker's normalization, topic matches and excerpt are
    what the stages would compute; the stages take them over as they are."""
    import pipelines.excerpt
    import pipelines.normalize
    from scraper import extraction_pool
    from scraper.extract import extract_article
    from scraper.topics import TopicMatcher

    config = crawler.spider.context.config
    limits = config.settings.excerpt
    monkeypatch.setattr(extraction_pool, "_worker", extraction_pool._Worker())
    extraction_pool._start_worker(config.topics, limits.min_words, limits.max_words)
    url = "https://herald.example/2026/10/flood.html?utm_source=rss"
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY.split("\n"))
    html = (
        "<html><head><title>Storm surge floods the harbour</title></head><body><article>"
        f"<h1>Storm surge floods the harbour</h1>{paragraphs}</article></body></html>"
    ).encode()
    base = Clipping(url=url, source_id="herald", outlet="The Harbour Herald", entry_key="g1")
    page = extraction_pool.Page(
        url=url, body=html, status=200, headers={}, base=base, topics=("floods",)
    )
    analysed = extraction_pool.read_page(page).clipping
    plain = extract_article(html, url, base=base)
    stages = [NormalizeStage, ValidateStage, TopicStage, ExcerptStage]

    def through(item: Clipping | None) -> Clipping:
        assert item is not None
        for stage in stages:
            item = stage.from_crawler(crawler).process_item(item)
        return item

    expected = through(plain)

    def redone(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("work the extraction worker did is done again")

    monkeypatch.setattr(pipelines.normalize, "normalize_clipping", redone)
    monkeypatch.setattr(pipelines.excerpt, "pick_excerpt", redone)
    monkeypatch.setattr(TopicMatcher, "match", redone)
    assert through(analysed).to_dict() == expected.to_dict()
    assert expected.topics == ["floods"] and expected.excerpt_from == "topic"
    counted = stats(crawler)
    assert counted["normalize/items"] == counted["topic/matched"] == counted["excerpt/topic"] == 2


def test_an_article_met_by_a_database_outage_is_deferred_not_judged(crawler: Any) -> None:
    """Dedupe cannot tell a duplicate from a new article without the
    database: the article is dropped as `Deferred`, no verdict is recorded
    for its entry, which is scheduled for a retry next round."""
    store = crawler.spider.context.store
    dedupe, keep = DedupeStage.from_crawler(crawler), StoreStage.from_crawler(crawler)
    item = prepared(crawler)
    real = store.existing_url_hashes

    def unavailable(hashes: Any) -> set[str]:
        raise DatabaseUnavailable("SELECT", {}, Exception("server closed the connection"))

    store.existing_url_hashes = unavailable
    try:
        with pytest.raises(Deferred) as caught:
            dedupe.process_item(item)
        keep.item_dropped(item, None, caught.value, None)
    finally:
        store.existing_url_hashes = real
    context = crawler.spider.context
    assert context.summary["herald"]["failed"] == 1
    assert context.errors["herald"] == "database: unavailable: server closed the connection"
    assert stats(crawler)["article/deferred"] == 1
    assert stats(crawler)["dedupe/deferred"] == 1
    keep.close_spider()
    # Issue #12: the entry log, not the feed's validators, brings the
    # article back: its entry is due for the very next round, and the
    # outage does not count as one of its attempts.
    due = store.due_retries(["herald"], datetime.now(UTC))
    assert [(e.entry_key, e.url, e.attempts) for e in due] == [(item.entry_key, item.url, 0)]
    # The next round judges it as usual.
    assert dedupe.process_item(prepared(crawler)).cluster


def test_dedupe_on_two_workers_clusters_copies_neither_has_stored(
    crawler: Any, redis_prefix: tuple[str, str]
) -> None:
    import redis

    from scraper.frontier import SharedBodies

    server = redis.Redis.from_url(redis_prefix[0])
    bodies = SharedBodies(server, redis_prefix[1])
    store = crawler.spider.context.store
    # Two workers' stages: their own in-round memory, nothing stored yet.
    one, two, three = (DedupeStage(store, crawler.stats, bodies) for _ in range(3))
    original = one.process_item(prepared(crawler))
    copy = two.process_item(
        prepared(crawler, url="https://ledger.example/wire/flood", source_id="ledger")
    )
    assert copy.cluster == original.cluster == original.url_hash
    with pytest.raises(Drop) as info:
        three.process_item(prepared(crawler, url="https://herald.example/amp/flood"))
    assert info.value.outcome == "duplicate"
    # Without shared claims the second worker would have opened its own.
    alone = DedupeStage(store, crawler.stats).process_item(
        prepared(crawler, url="https://ledger.example/wire/flood-2", source_id="ledger")
    )
    assert alone.cluster != original.cluster
    server.close()
