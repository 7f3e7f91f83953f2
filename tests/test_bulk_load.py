"""`Store.bulk_load` (`storage.bulk`) on SQLite and PostgreSQL: every row
and its topic rows stored as a crawl's batch stores them, conflicts
skipped, the deferred indexes and full-text index whole after the load,
however it ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from scraper.items import Clipping
from storage import Store
from storage.bulk import POSTGRES_COMPRESSION, SQLITE_FTS_DEFAULT_HASH_BYTES

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOPICS = ("port", "rail", "schools")


def clip(n: int, **changes: object) -> Clipping:
    values: dict[str, object] = {
        "url": f"https://herald.example/{n}",
        "source_id": f"src-{n % 3}",
        "outlet": "Herald",
        "url_hash": f"{n:040x}",
        "entry_key": f"e{n}",
        "title": f"Story {n} about the harbour",
        "text": f"Paragraph one of story {n}.\n\nThe word quay{n} appears only here.",
        "authors": ["Ann Lee"],
        "topics": [TOPICS[n % 3], TOPICS[(n + 1) % 3], TOPICS[n % 3]],
        "matched_terms": ["harbour"],
        "published_at": T0 - timedelta(hours=n),
        "fetched_at": T0,
        "simhash": (1 << 64) - 1 - n,  # unsigned, past the signed range
        "status": "new" if n % 2 else "approved",
    }
    return Clipping(**{**values, **changes})  # type: ignore[arg-type]


def schema(store: Store) -> dict[str, list[str]]:
    found = inspect(store.engine)
    return {t: sorted(i["name"] for i in found.get_indexes(t)) for t in ("clippings",
            "clipping_topics")}  # fmt: skip


def test_load_stores_rows_topics_and_search(store: Store) -> None:
    before = schema(store)
    items = [clip(n) for n in range(1, 26)]
    seen: list[int] = []
    during: list[dict[str, list[str]]] = []

    def progress(done: int) -> None:
        seen.append(done)
        during.append(schema(store))

    assert store.bulk_load(items, batch_size=10, progress=progress) == 25
    assert seen == [10, 20, 25]
    # into an empty table: the indexes no constraint needs wait for the end
    assert "ix_clippings_status_created_at_id" in before["clippings"]
    assert all("ix_clippings_status_created_at_id" not in s["clippings"] for s in during)
    assert schema(store) == before
    stored = {c.url_hash: c for _, c in store.iter_clippings()}
    for item in items:
        got = stored[item.url_hash or ""]
        assert (got.simhash, got.topics, got.published_at) == (
            item.simhash, item.topics, item.published_at)  # fmt: skip
    # topic rows: the review page by topic finds each new clipping of it once
    port = store.review_queue_page(topic="port", limit=100)
    assert sorted(c.url_hash for _, c in port) == sorted(
        i.url_hash for i in items if "port" in i.topics and i.status == "new"
    )
    # ... and by topic and source (the topic rows carry the source)
    port_0 = store.review_queue_page(topic="port", source_id="src-0", limit=100)
    assert sorted(c.url_hash for _, c in port_0) == sorted(
        i.url_hash
        for i in items
        if "port" in i.topics and i.status == "new" and i.source_id == "src-0"
    )
    assert port_0
    # the full-text index holds the loaded rows, and follows a later insert
    assert [h.clipping.url_hash for h in store.search("quay7")] == [clip(7).url_hash]
    store.write_batch([clip(99)], [], [])
    assert [h.clipping.url_hash for h in store.search("quay99")] == [clip(99).url_hash]


def test_taken_rows_are_skipped(store: Store) -> None:
    store.write_batch([clip(1)], [], [])
    before = schema(store)
    # a taken url_hash, one repeated within the batch, a taken entry
    taken_entry = clip(3, url_hash="f" * 40, source_id="src-2", entry_key="e2")
    items = [clip(1), clip(2), clip(2), taken_entry, clip(4)]
    during: list[dict[str, list[str]]] = []
    assert (
        store.bulk_load(items, batch_size=10, progress=lambda _: during.append(schema(store))) == 2
    )
    assert during == [before]  # a table with rows keeps its indexes
    assert sorted(c.url_hash for _, c in store.iter_clippings()) == sorted(
        clip(n).url_hash for n in (1, 2, 4)
    )
    assert len(store.review_queue_page(topic="rail", limit=100)) == len(
        [n for n in (1, 2, 4) if "rail" in clip(n).topics and clip(n).status == "new"]
    )


def test_interrupted_load_keeps_batches_and_indexes(store: Store) -> None:
    before = schema(store)

    def items() -> Iterator[Clipping]:
        yield from (clip(n) for n in range(1, 8))
        raise RuntimeError("source gone")

    with pytest.raises(RuntimeError, match="source gone"):
        store.bulk_load(items(), batch_size=3)
    assert schema(store) == before
    assert store.count_clippings() == 6  # two whole batches
    assert [h.clipping.url_hash for h in store.search("quay5")] == [clip(5).url_hash]


def test_load_tuning_is_undone_afterwards(store: Store) -> None:
    # A text large enough to be compressed (PostgreSQL compresses past ~2 KB).
    long_text = " ".join(f"word{n % 97}" for n in range(2000))
    assert store.bulk_load([clip(1, text=long_text)]) == 1
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            size = conn.exec_driver_sql(
                "SELECT v FROM clippings_fts_config WHERE k = 'hashsize'"
            ).scalar()
            assert size == SQLITE_FTS_DEFAULT_HASH_BYTES
        else:
            method = conn.exec_driver_sql(
                "SELECT pg_column_compression(text) FROM clippings"
            ).scalar()
            assert method == POSTGRES_COMPRESSION
            # The pooled connection the load used is back to the server's value.
            assert (
                conn.exec_driver_sql("SHOW default_toast_compression").scalar()
                == conn.exec_driver_sql(
                    "SELECT reset_val FROM pg_settings WHERE name = 'default_toast_compression'"
                ).scalar()
            )
    assert [h.clipping.url_hash for h in store.search("word5")] == [clip(1).url_hash]
