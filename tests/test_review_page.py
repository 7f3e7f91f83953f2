"""The review queue page (`Store.review_queue_page`, `storage.review.page`)
and ``presscut queue --topic/--source``, on both databases: new clippings of
undecided clusters, newest stored first, by topic and/or source, in keyset
pages; and the topic rows' status kept equal to their clipping's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scraper.items import Clipping
from storage import SITE, Store, open_store
from storage.desk_store import DeskStore
from storage.models import clipping_topics, clippings
from storage.review import ReviewError, by_topic
from tests.publishing import SAMPLE, ok, write_config, write_jsonl

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def clip(n: int, source_id: str, topics: list[str], **changes: Any) -> Clipping:
    values: dict[str, Any] = {
        "url": f"https://{source_id}.example/{n}",
        "source_id": source_id,
        "outlet": source_id.title(),
        "url_hash": f"{n:040x}",
        "entry_key": f"e{n}",
        "title": f"Story {n}",
        "text": f"Body of story {n}.",
        "topics": topics,
        "fetched_at": T0,
    }
    return Clipping(**{**values, **changes})


def page(store: Store, **options: Any) -> list[int]:
    return [clipping_id for clipping_id, _ in store.review_queue_page(**options)]


@pytest.fixture
def store_with_clippings(store: Store) -> Store:
    """Clippings 1..9, each batch stored after the one before (so a later
    id is newer), 4 and 5 in one batch; 9 is a copy of 1 (same cluster)."""
    batches = [
        [clip(1, "herald", ["port", "energy"])],
        [clip(2, "gazette", ["port"])],
        [clip(3, "herald", ["energy"])],
        [clip(4, "herald", ["port"]), clip(5, "gazette", ["port", "port"])],
        [clip(6, "herald", [])],
        [clip(7, "gazette", ["energy"])],
        [clip(8, "herald", ["port"], status="approved")],
        [clip(9, "ledger", ["port"], cluster=f"{1:040x}")],
    ]
    for batch in batches:
        store.write_batch(batch, [], [])
    return store


def test_newest_first_with_filters(store_with_clippings: Store) -> None:
    store = store_with_clippings
    assert page(store) == [9, 7, 6, 5, 4, 3, 2, 1]
    assert page(store, topic="port") == [9, 5, 4, 2, 1]
    assert page(store, source_id="herald") == [6, 4, 3, 1]
    assert page(store, topic="port", source_id="herald") == [4, 1]
    assert page(store, topic="energy", source_id="gazette") == [7]
    assert page(store, topic="weather") == []
    assert page(store, source_id="nowhere") == []
    [(_, first)] = store.review_queue_page(topic="energy", source_id="gazette")
    assert first == store.get_clipping(7)


@pytest.mark.parametrize(
    "options",
    [{}, {"topic": "port"}, {"source_id": "herald"}, {"topic": "port", "source_id": "gazette"}],
)
def test_keyset_pages_cover_everything_once(
    store_with_clippings: Store, options: dict[str, str]
) -> None:
    store = store_with_clippings
    whole = page(store, **options)
    pages: list[list[int]] = []
    before = None
    while True:
        chunk = page(store, limit=2, before=before, **options)
        if not chunk:
            break
        pages.append(chunk)
        before = chunk[-1]
    assert [i for p in pages for i in p] == whole
    assert all(len(p) == 2 for p in pages[:-1])


def test_a_page_continues_after_its_cursor_while_clippings_arrive(
    store_with_clippings: Store,
) -> None:
    store = store_with_clippings
    first = page(store, topic="port", limit=2)
    store.write_batch([clip(10, "herald", ["port"])], [], [])
    assert page(store, topic="port", limit=2, before=first[-1]) == [4, 2]
    assert page(store, topic="port", limit=1) == [10]


def test_decided_clusters_leave_the_page(store_with_clippings: Store) -> None:
    store = store_with_clippings
    store.approve([1])  # settles the cluster of 1 and its copy 9
    store.reject([4], "off topic")
    assert page(store, topic="port") == [5, 2]
    assert page(store, source_id="ledger") == []
    assert page(store, topic="port", source_id="herald") == []
    assert page(store) == [7, 6, 5, 3, 2]
    assert [e.id for e in store.review_queue()] == [2, 3, 5, 6, 7]


def test_unknown_cursor(store_with_clippings: Store) -> None:
    with pytest.raises(ReviewError, match="no clipping with id 404"):
        store_with_clippings.review_queue_page(before=404)


def test_topic_rows_keep_their_clippings_status(store_with_clippings: Store) -> None:
    store = store_with_clippings
    store.approve([2, 3])
    store.reject([4], "duplicate story")
    store.cite(5)
    cluster_2 = store.get_clipping(2)
    assert cluster_2 is not None
    store.record_posts([(2, cluster_2, T0)])
    store.record_publication(
        kind="digest",
        target=SITE,
        title="Digest",
        posted_at=T0,
        items=[(3, f"{3:040x}")],
        period=(None, T0),
    )
    with store.engine.connect() as conn:
        topic_rows = conn.execute(
            select(
                clipping_topics.c.clipping_id, clipping_topics.c.topic, clipping_topics.c.status
            )
        ).all()
        status = dict(conn.execute(select(clippings.c.id, clippings.c.status)).all())
    assert {(i, s) for i, _, s in topic_rows} == {(i, status[i]) for i, _, _ in topic_rows}
    assert {i: status[i] for i in (2, 3, 4, 5)} == {
        2: "published",
        3: "published",
        4: "rejected",
        5: "approved",
    }
    assert sorted((i, t) for i, t, _ in topic_rows) == [
        (1, "energy"), (1, "port"), (2, "port"), (3, "energy"), (4, "port"),
        (5, "port"), (7, "energy"), (8, "port"), (9, "port"),
    ]  # fmt: skip


def test_topic_rows_carry_their_clippings_source(store_with_clippings: Store) -> None:
    with store_with_clippings.engine.connect() as conn:
        pairs = conn.execute(
            select(clipping_topics.c.source_id, clippings.c.source_id).join(
                clippings, clippings.c.id == clipping_topics.c.clipping_id
            )
        ).all()
    assert len(pairs) == 9
    assert all(topic_source == source for topic_source, source in pairs)


def test_desk_queue_by_topic_and_source_in_every_state(store_with_clippings: Store) -> None:
    store = store_with_clippings
    store.approve([2, 4])
    desk = DeskStore(store)

    def ids(**filters: Any) -> list[int]:
        return [row.id for row in desk.queue(**filters)]

    assert ids(state="approved", topic="port", source_id="herald") == [8, 4]
    assert ids(state="approved", topic="port", source_id="gazette") == [2]
    assert ids(state="approved", topic="energy", source_id="herald") == []
    assert ids(state="approved", topic="port", before=8) == [4, 2]
    assert ids(state="approved", topic="port", source_id="herald", before=8) == [4]
    assert ids(topic="port", source_id="gazette") == [5]
    # 1 and its copy 9 are one story: the page shows it once.
    assert ids(topic="port", flag="syndicated") == [9]
    assert ids(topic="port", source_id="herald", flag="syndicated") == [1]
    assert ids(topic="port", source_id="gazette", flag="syndicated") == []


def test_topic_and_source_is_one_index_range(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'plan.db'}") as store:
        store.upgrade()
        with store.engine.connect() as conn:
            stmt = by_topic("port", "herald", "new", None)
            sql = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_clipping_topics_topic_source_id_status_created_at" in plan
    assert "TEMP B-TREE" not in plan  # read in index order, not sorted


def test_queue_command_pages_by_topic_and_source(tmp_path: Path, db_url: str) -> None:
    folder = write_config(tmp_path / "config", db_url)
    config = ("--config", str(folder))
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), *config)
    whole = ok("queue", "--topic", "port", *config).stdout
    assert "clipping(s) to review, newest first" in whole
    lines = [line for line in whole.splitlines() if line[:6].strip().isdigit()]
    ids = [int(line.split()[0]) for line in lines]
    assert ids == sorted(ids, reverse=True) and ids
    first = ok("queue", "--topic", "port", "--limit", "1", *config).stdout
    assert f"next page: --before {ids[0]}" in first
    rest = ok("queue", "--topic", "port", "--before", str(ids[0]), *config).stdout
    assert [int(line.split()[0]) for line in rest.splitlines() if line[:6].strip().isdigit()] == (
        ids[1:]
    )
    assert "0 clipping(s) to review" in ok("queue", "--source", "nowhere", *config).stdout
