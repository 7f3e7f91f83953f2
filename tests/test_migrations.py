"""Migrations on both databases: 0003 (search, topic rows, scale indexes)
upgrading a 0002 database that holds clippings fills the full-text index
and the topic rows; downgrading removes all of it and keeps the clippings;
upgrading again gives the schema the models describe.  A database that
holds clippings at any older head upgrades to the newest with its topic
rows carrying their clipping's source (0008)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from scraper.items import Clipping
from storage import Store, open_store
from storage.clippings import to_row
from storage.models import clipping_topics, clippings, include_name, include_object, metadata
from storage.store import MIGRATIONS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def clip(n: int, title: str, text: str, topics: list[str], **changes: object) -> Clipping:
    return Clipping(
        url=f"https://herald.example/{n}",
        source_id="herald",
        url_hash=f"{n:040x}",
        entry_key=f"e{n}",
        title=title,
        text=text,
        topics=topics,
        fetched_at=T0,
        **changes,  # type: ignore[arg-type]
    )


OLD = [
    clip(1, "Sea wall vote", "Councillors approve the parapet.", ["sea-wall", "council"]),
    clip(2, "Night shift", "Cranes load the feeder ship.", ["port"], status="approved"),
    clip(3, "Bakery prize", "Bread of the year.", []),
]


#: Every head before the newest, oldest first.
OLDER_HEADS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")


def downgrade(store: Store, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def schema(store: Store) -> tuple[set[str], set[str], set[str]]:
    """Table names, index names on clippings, column names of clippings."""
    inspector = inspect(store.engine)
    return (
        set(inspector.get_table_names()),
        {ix["name"] or "" for ix in inspector.get_indexes("clippings")},
        {c["name"] for c in inspector.get_columns("clippings")},
    )


def test_upgrade_from_0002_fills_search_and_topics_and_downgrade_undoes_it(db_url: str) -> None:
    with open_store(db_url) as store:
        store.upgrade("0002")
        before = schema(store)
        with store.engine.begin() as conn:
            # ``flags`` (migration 0006) and the credit columns (0009) are no
            # columns of a 0002 database yet.
            later = {"flags", "candidates", "doubts", "credit"}
            rows = [{k: v for k, v in to_row(c, T0).items() if k not in later} for c in OLD]
            conn.execute(clippings.insert(), rows)

        store.upgrade()
        assert [hit.id for hit in store.search("parapet")] == [1]
        assert [hit.id for hit in store.search("night cranes")] == [2]
        assert [i for i, _ in store.review_queue_page(topic="sea-wall")] == [1]
        assert [i for i, _ in store.review_queue_page(topic="council")] == [1]
        # Approved: on the topic's rows, but not on the page of new ones.
        assert store.review_queue_page(topic="port") == []
        store.reject([1], "off topic")
        assert store.review_queue_page(topic="sea-wall") == []

        downgrade(store, "0002")
        assert schema(store) == before
        assert store.count_clippings() == 3

        store.upgrade()
        assert [hit.id for hit in store.search("councillors")] == [1]
        assert store.review_queue_page(topic="sea-wall") == []  # still rejected
        same_schema_as_models(store)


def test_downgrade_to_nothing_and_back(db_url: str) -> None:
    with open_store(db_url) as store:
        store.upgrade()
        store.write_batch([OLD[0]], [], [])
        downgrade(store, "base")
        assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
        store.upgrade()
        store.write_batch([OLD[0]], [], [])
        assert [hit.id for hit in store.search("parapet")] == [1]


def same_schema_as_models(store: Store) -> None:
    with store.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(conn, opts={**opts, "include_object": include_object})
        assert compare_metadata(context, metadata) == []


@pytest.mark.parametrize("head", [h for h in OLDER_HEADS if h < "0008"])
def test_upgrade_from_every_older_head_fills_topic_sources(db_url: str, head: str) -> None:
    with open_store(db_url) as store:
        store.upgrade(head)
        columns = {c["name"] for c in inspect(store.engine).get_columns("clippings")}
        gazette = replace(
            clip(4, "Harbour dues", "The port raises its dues.", ["port"]), source_id="gazette"
        )
        with store.engine.begin() as conn:
            rows = [
                {k: v for k, v in to_row(c, T0).items() if k in columns} for c in [*OLD, gazette]
            ]
            conn.execute(clippings.insert(), rows)
            if head >= "0003":  # the topic rows exist: written as that head wrote them
                topic_rows = [
                    {"clipping_id": i, "topic": t, "status": c.status, "created_at": T0}
                    for i, c in enumerate([*OLD, gazette], start=1)
                    for t in c.topics
                ]
                # Only the columns that head had.
                conn.execute(clipping_topics.insert(), topic_rows)

        store.upgrade()
        with store.engine.connect() as conn:
            sources = conn.execute(
                select(clipping_topics.c.clipping_id, clipping_topics.c.topic,
                       clipping_topics.c.source_id)
            ).all()  # fmt: skip
        assert sorted(sources) == [
            (1, "council", "herald"), (1, "sea-wall", "herald"), (2, "port", "herald"),
            (4, "port", "gazette"),
        ]  # fmt: skip
        assert [i for i, _ in store.review_queue_page(topic="port", source_id="gazette")] == [4]
        assert store.review_queue_page(topic="port", source_id="herald") == []  # 2 is approved
        same_schema_as_models(store)
