"""storage: migrations, models, batched writes, lookups, fetch state and runs,
on SQLite and PostgreSQL alike (the ``db_url`` and ``store`` fixtures)."""

from __future__ import annotations

import dataclasses
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError, StatementError

from config import Source
from scraper.items import Clipping
from storage import (
    UNCHANGED,
    EntryOutcome,
    FetchStateUpdate,
    Store,
    open_store,
)
from storage.clippings import FIELDS
from storage.engine import make_engine
from storage.models import clippings, include_name, include_object, metadata

T0 = datetime(2024, 5, 17, 8, 30, 15, 123456, tzinfo=UTC)
BIG_SIMHASH = 0xF0E1_D2C3_B4A5_9687  # >= 2**63: negative as a signed BIGINT


def clip(n: int, source_id: str = "herald", **changes: Any) -> Clipping:
    values: dict[str, Any] = {
        "url": f"https://herald.example/news/{n}",
        "source_id": source_id,
        "outlet": "The Herald",
        "canonical_url": f"https://herald.example/news/{n}",
        "url_hash": f"{n:040x}",
        "entry_key": f"guid-{n}",
        "title": f"Story {n}",
        "text": f"Body of story {n}.",
        "content_hash": f"c{n:039x}",
        "simhash": n * 0x0001_0001_0001_0001,
        "fetched_at": T0,
    }
    values.update(changes)
    return Clipping(**values)


def source(id: str, **changes: Any) -> Source:
    """A configured source; ``poll_interval_s`` as storage reads it."""
    values: dict[str, Any] = {
        "id": id,
        "outlet": id.title(),
        "kind": "feed",
        "url": f"https://{id}.example/feed.xml",
        "language": "en",
        "poll_interval": changes.pop("poll_interval_s", 1800.0),
    }
    return Source(**{**values, **changes})


# -- schema ---------------------------------------------------------------------


def test_upgrade_from_empty_is_idempotent_from_any_cwd(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store(db_url) as store:
        store.upgrade()
        store.upgrade()
        tables = set(inspect(store.engine).get_table_names())
        assert {"sources", "clippings", "entries", "crawl_runs", "alembic_version"} <= tables
        assert store.count_clippings() == 0


def test_concurrent_upgrades_take_turns(db_url: str) -> None:
    stores = [open_store(db_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            list(pool.map(Store.upgrade, stores))
        assert stores[0].count_clippings() == 0
    finally:
        for store in stores:
            store.close()


def test_models_match_the_migrated_database(store: Store) -> None:
    with store.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(conn, opts={**opts, "include_object": include_object})
        assert compare_metadata(context, metadata) == []


def test_every_clipping_field_has_a_column() -> None:
    assert set(FIELDS) <= set(clippings.c.keys())


def test_sqlite_connections_are_tuned(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store, store.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 10000,
        "foreign_keys": 1,
    }


def test_engine_urls() -> None:
    assert make_engine("postgresql://u@h/db").url.drivername == "postgresql+psycopg"
    with pytest.raises(ValueError, match="unsupported database URL"):
        make_engine("mysql://u@h/db")


# -- write_batch ----------------------------------------------------------------


def test_write_batch_is_idempotent(store: Store) -> None:
    store.sync_sources([source("herald")])
    batch = [clip(1), clip(2), clip(3)]
    outcomes = [
        EntryOutcome(
            source_id="herald", entry_key=c.entry_key or "", outcome="stored", url_hash=c.url_hash
        )
        for c in batch
    ]
    states = [FetchStateUpdate(source_id="herald", etag='"v1"', failure_score=0.0)]
    assert store.write_batch(batch, outcomes, states) == 3
    assert store.write_batch(batch, outcomes, states) == 0
    assert store.count_clippings() == 3


def test_conflicts_on_url_hash_and_on_entry_key(store: Store) -> None:
    assert store.write_batch([clip(1)], [], []) == 1
    same_url = clip(1, source_id="gazette", entry_key="other-guid")
    same_entry = clip(2, entry_key="guid-1")
    repeated_in_batch = [clip(3), clip(3, entry_key="guid-3b")]
    assert store.write_batch([same_url, same_entry, *repeated_in_batch], [], []) == 1
    assert [c.url_hash for _, c in store.iter_clippings()] == [clip(1).url_hash, clip(3).url_hash]


def test_clipping_round_trip(store: Store) -> None:
    cest = timezone(timedelta(hours=2))
    original = clip(
        7,
        authors=["Alice Taylor", "Bob Roe"],
        topics=["energy"],
        matched_terms=["wind power"],
        published_at=datetime(2019, 9, 17, 10, 2, tzinfo=cest),
        published_raw="2019-09-17T10:02:00+02:00",
        simhash=BIG_SIMHASH,
        cluster="f" * 40,
        status="approved",
    )
    store.write_batch([original], [], [])
    [(clipping_id, stored)] = list(store.iter_clippings())
    assert stored == original  # aware datetimes compare by instant
    assert stored.published_at is not None and stored.published_at.tzinfo == UTC
    assert stored.fetched_at == T0 and stored.fetched_at.tzinfo == UTC
    assert stored.simhash == BIG_SIMHASH
    assert store.get_clipping(clipping_id) == original
    assert store.get_clipping(clipping_id + 1000) is None


def test_cluster_defaults_to_url_hash_and_bad_clippings_are_refused(store: Store) -> None:
    store.write_batch([clip(1, cluster=None)], [], [])
    assert store.get_clipping(1) == clip(1, cluster=clip(1).url_hash)
    # A clipping that breaks an invariant is refused with its cause; the
    # rest of its batch is written.
    bad = [
        clip(2, url_hash=None),
        clip(3, status="pending"),
        clip(4, fetched_at=T0.replace(tzinfo=None)),
    ]
    result = store.store_batch([*bad, clip(5)], [], [])
    assert result.inserted == 1
    causes = [cause for _, cause in result.rejected]
    assert [item for item, _ in result.rejected] == bad
    assert "without url_hash" in causes[0] and "pending" in causes[1]
    assert "naive datetime" in causes[2]
    assert store.count_clippings() == 2


def test_failed_batch_writes_nothing(store: Store) -> None:
    store.sync_sources([source("herald")])
    good = [EntryOutcome(source_id="herald", entry_key="guid-1", outcome="stored")]
    broken = [*good, EntryOutcome(source_id="herald", entry_key="guid-2", outcome=None)]  # type: ignore[arg-type]
    state = [FetchStateUpdate(source_id="herald", etag='"new"')]
    with pytest.raises(IntegrityError):
        store.write_batch([clip(1), clip(2)], broken, state)
    # The state update comes last in the transaction; it fails on a naive datetime.
    late = [FetchStateUpdate(source_id="herald", last_fetch_at=datetime(2024, 1, 1))]
    with pytest.raises(StatementError):
        store.write_batch([clip(1), clip(2)], good, late)
    assert store.count_clippings() == 0
    assert store.known_entries("herald", ["guid-1"], []) == (set(), set())
    state_now = store.fetch_state("herald")
    assert state_now is not None and state_now.etag is None


# -- lookups --------------------------------------------------------------------


def test_near_duplicate_candidates(store: Store) -> None:
    store.write_batch([clip(1, simhash=BIG_SIMHASH, cluster="k1")], [], [])
    rng = random.Random(1)
    for _ in range(50):
        bits = rng.sample(range(64), 3)
        probe = BIG_SIMHASH ^ sum(1 << b for b in bits)
        assert store.near_duplicate_candidates(probe) == [(BIG_SIMHASH, "k1", "herald")], bits
    unrelated = BIG_SIMHASH ^ 0x0001_0001_0001_0001
    assert store.near_duplicate_candidates(unrelated) == []


def test_url_and_content_hash_lookups(store: Store) -> None:
    store.write_batch([clip(1, content_hash="body", cluster="k1")], [], [])
    store.write_batch([clip(2, source_id="gazette", content_hash="body", cluster="k1")], [], [])
    assert store.existing_url_hashes([clip(1).url_hash or "", "nope"]) == {clip(1).url_hash}
    assert store.clusters_by_content_hash(["body", "other"]) == {"body": ("k1", "herald")}


def test_known_entries(store: Store) -> None:
    outcomes = [
        EntryOutcome(source_id="herald", entry_key="a", outcome="off_topic", url_hash="ha"),
        EntryOutcome(source_id="herald", entry_key="b", outcome="failed", url_hash="hb"),
        EntryOutcome(source_id="gazette", entry_key="c", outcome="duplicate", url_hash="hc"),
    ]
    store.write_batch([clip(9, entry_key="d")], outcomes, [])
    keys = ["a", "b", "c", "d", "e"]
    hashes = ["ha", "hb", "hc", clip(9).url_hash or "", "he"]
    known_keys, known_hashes = store.known_entries("herald", keys, hashes)
    assert known_keys == {"a", "d"}  # "b" failed: retried; "c" is another source's key
    assert known_hashes == {"ha", "hc", clip(9).url_hash}


def test_entry_outcomes_upsert_but_stored_sticks(store: Store) -> None:
    first = [
        EntryOutcome(source_id="herald", entry_key="a", outcome="failed"),
        EntryOutcome(source_id="herald", entry_key="b", outcome="stored", url_hash="hb"),
    ]
    store.write_batch([], first, [])
    later = [
        EntryOutcome(source_id="herald", entry_key="a", outcome="off_topic", url_hash="ha"),
        EntryOutcome(source_id="herald", entry_key="b", outcome="failed"),
    ]
    store.write_batch([], later, [])
    assert store.known_entries("herald", ["a", "b"], ["ha", "hb"]) == ({"a", "b"}, {"ha", "hb"})


# -- sources and fetch state ----------------------------------------------------


def test_sync_sources_keeps_fetch_state(store: Store) -> None:
    store.sync_sources([source("herald"), source("gazette")])
    [gazette, herald] = store.list_sources()
    assert (herald.id, herald.outlet, herald.failure_score, herald.next_due_at) == (
        "herald",
        "Herald",
        0.0,
        None,
    )
    store.update_fetch_states(
        [FetchStateUpdate(source_id="herald", etag='"v1"', failure_score=2.5)]
    )
    store.sync_sources([source("herald", outlet="The Herald", poll_interval_s=60)])
    store.sync_sources([source("gazette")])  # unchanged config: updated_at stays
    rows = {row.id: row for row in store.list_sources()}
    assert rows["herald"].outlet == "The Herald" and rows["herald"].poll_interval_s == 60.0
    assert rows["herald"].etag == '"v1"' and rows["herald"].failure_score == 2.5
    assert rows["gazette"].updated_at == gazette.updated_at
    assert rows["herald"].created_at.tzinfo == UTC


def test_fetch_state_updates(store: Store) -> None:
    store.sync_sources([source("herald"), source("gazette")])
    assert store.due_source_ids(T0) == ["gazette", "herald"]
    ok = FetchStateUpdate(
        source_id="herald",
        etag='"v1"',
        last_modified="Fri, 17 May 2024 08:00:00 GMT",
        body_hash="b1",
        last_fetch_at=T0,
        last_success_at=T0,
        failure_score=0.0,
        next_due_at=T0 + timedelta(hours=1),
    )
    failed = FetchStateUpdate(
        source_id="gazette",
        last_fetch_at=T0,
        last_error_at=T0,
        last_error="HTTP 503",
        last_error_kind="http_5xx",
        failure_score=1.0,
        next_due_at=T0 - timedelta(minutes=1),
    )
    store.write_batch([], [], [ok, failed, FetchStateUpdate(source_id="nobody", etag="x")])
    assert store.due_source_ids(T0) == ["gazette"]
    assert store.due_source_ids(T0 + timedelta(hours=1)) == ["gazette", "herald"]
    state = store.fetch_state("herald")
    assert state is not None
    assert (state.etag, state.body_hash, state.last_success_at) == ('"v1"', "b1", T0)
    assert state.next_due_at is not None and state.next_due_at.tzinfo == UTC
    assert store.fetch_state("nobody") is None

    # Later updates win; UNCHANGED keeps, None clears.
    later = dataclasses.replace(ok, etag=None, last_fetch_at=T0 + timedelta(hours=1))
    store.write_batch([], [], [ok.without_validators(), later.without_validators(), later])
    state = store.fetch_state("herald")
    assert state is not None
    assert (state.etag, state.body_hash, state.last_fetch_at) == (
        None,
        "b1",
        T0 + timedelta(hours=1),
    )
    assert ok.without_validators().etag is UNCHANGED
    with pytest.raises(ValueError, match="failure_score"):
        store.update_fetch_states([FetchStateUpdate(source_id="herald", failure_score=None)])  # type: ignore[arg-type]
    assert set(store.fetch_states(["herald", "gazette", "nobody"])) == {"herald", "gazette"}


# -- clippings and runs ---------------------------------------------------------


def test_iter_count_and_filter_clippings(store: Store) -> None:
    store.write_batch(
        [clip(n, status="approved" if n % 2 else "new") for n in range(1, 8)], [], []
    )
    store.write_batch([clip(20, source_id="gazette")], [], [])
    ids = [clipping_id for clipping_id, _ in store.iter_clippings()]
    assert ids == sorted(ids) and len(ids) == 8
    assert [c.title for _, c in store.iter_clippings(status="approved", source_id="herald")] == [
        "Story 1",
        "Story 3",
        "Story 5",
        "Story 7",
    ]
    assert [c.source_id for _, c in store.iter_clippings(source_id="gazette")] == ["gazette"]
    assert (store.count_clippings(), store.count_clippings("approved")) == (8, 4)


def test_crawl_runs(store: Store) -> None:
    run_id = store.start_run()
    [running] = store.recent_runs()
    assert (running.id, running.status, running.finished_at) == (run_id, "running", None)
    stats = {"start_time": T0, "item_scraped_count": 3, "ratio": float("nan"), "codes": {200: 4}}
    store.finish_run(run_id, "finished", stats, {"herald": {"new": 3}})
    [done] = store.recent_runs()
    assert done.status == "finished" and done.finished_at is not None
    assert done.stats == {
        "start_time": T0.isoformat(),
        "item_scraped_count": 3,
        "ratio": None,
        "codes": {"200": 4},
    }
    assert done.summary == {"herald": {"new": 3}}
    with pytest.raises(ValueError, match="run status"):
        store.finish_run(run_id, "done", {}, {})
    with pytest.raises(ValueError, match="no crawl run"):
        store.finish_run(run_id + 99, "failed", {}, {})
