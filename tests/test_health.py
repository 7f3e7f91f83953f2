"""Source health, housekeeping and the round lock, on SQLite and PostgreSQL,
with a clock the test sets; and ``presscut sources health`` / ``db prune``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from config.schema import Source
from scraper.items import Clipping
from scraper.urls import canonical_url, url_hash
from storage import EntryOutcome, FetchStateUpdate, Store, open_store
from storage.health import (
    BACKLOG_S,
    FAILING_SCORE,
    FILL_RECENT,
    SILENT_MIN_S,
)

HERALD = Source(id="herald", outlet="The Herald", url="https://herald.example/feed")
WIRE = Source(id="wire", outlet="The Wire", url="https://wire.example/feed")
WINDOW = 14 * 86_400.0


def entries(
    store: Store, source_id: str, times: list[datetime], outcome: str = "off_topic"
) -> None:
    store.write_batch(
        [],
        [
            EntryOutcome(
                source_id=source_id,
                entry_key=f"{outcome}-{t.isoformat()}",
                outcome=outcome,
                seen_at=t,
            )
            for t in times
        ],
        [],
    )


def clipping(source_id: str, n: int, *, authors: bool = True) -> Clipping:
    url = canonical_url(f"https://{source_id}.example/news/{n}")
    return Clipping(
        url=url,
        canonical_url=url,
        url_hash=url_hash(url),
        entry_key=f"{source_id}-article-{n}",
        source_id=source_id,
        outlet=source_id,
        title=f"Story {n}",
        authors=["Ines Harrow"] if authors else [],
        published_at=datetime(2026, 11, 1, tzinfo=UTC),
        text="The sea wall held.",
    )


def health_of(store: Store, now: datetime, source_id: str) -> Any:
    (found,) = store.source_health(now, WINDOW, [source_id])
    return found


def test_activity_counts_new_entries_in_the_window_without_the_backlog(store: Store) -> None:
    store.sync_sources([HERALD, WIRE])
    t0 = datetime.now(UTC)
    backlog = [t0 + timedelta(seconds=i) for i in range(30)]
    daily = [t0 + timedelta(days=d, hours=2) for d in range(1, 21)]
    entries(store, "herald", backlog + daily)
    now = t0 + timedelta(days=20, hours=3)
    activity = store.publishing_activity(["herald", "wire", "unknown"], now, WINDOW)
    assert set(activity) == {"herald", "wire"}
    herald = activity["herald"]
    assert herald.new_entries == 14  # days 7..20: the window, not the backlog
    assert herald.watched_s == WINDOW
    assert herald.last_new_at == daily[-1]
    # Early on, only the time since the backlog counts as watched.
    early = store.publishing_activity(["herald"], t0 + timedelta(days=3), WINDOW)["herald"]
    assert early.new_entries == 2
    assert early.watched_s == pytest.approx(3 * 86_400.0 - BACKLOG_S)
    assert activity["wire"].new_entries == 0 and activity["wire"].last_new_at is None


def test_health_reports_fetch_state_rates_and_fill(store: Store) -> None:
    store.sync_sources([HERALD, WIRE])
    t0 = datetime.now(UTC)
    store.write_batch([clipping("herald", n) for n in range(6)], [], [])
    failed_at = t0 + timedelta(hours=1)
    store.update_fetch_states(
        [
            FetchStateUpdate(
                source_id="herald",
                last_fetch_at=failed_at,
                last_success_at=t0,
                last_error_at=failed_at,
                last_error="HTTP 503",
                last_error_kind="http_5xx",
                failure_score=FAILING_SCORE,
                next_due_at=failed_at + timedelta(hours=4),
            )
        ]
    )
    now = t0 + timedelta(days=7)
    herald = health_of(store, now, "herald")
    assert herald.last_success_at == t0
    assert (herald.last_error_kind, herald.last_error) == ("http_5xx", "HTTP 503")
    assert herald.failure_score == FAILING_SCORE
    assert herald.next_due_at == failed_at + timedelta(hours=4)
    assert herald.interval_s == 4 * 3600
    assert herald.fill.clippings == 6 and herald.fill.complete == 1.0
    assert herald.clippings_per_week == pytest.approx(6.0, rel=0.01)
    assert herald.flags == ("failing",)
    wire = health_of(store, now, "wire")
    assert wire.fill.clippings == 0 and wire.fill.complete is None
    assert wire.flags == ()


def test_a_sharp_drop_in_fill_rate_is_flagged(store: Store) -> None:
    store.sync_sources([HERALD, WIRE])
    now = datetime.now(UTC) + timedelta(hours=1)
    # Herald: 40 clippings with bylines, then a redesign: the newest without.
    store.write_batch([clipping("herald", n) for n in range(40)], [], [])
    store.write_batch(
        [clipping("herald", 100 + n, authors=False) for n in range(FILL_RECENT)], [], []
    )
    # Wire: always one byline in five missing; no drop.
    store.write_batch([clipping("wire", n, authors=n % 5 != 0) for n in range(50)], [], [])
    herald = health_of(store, now, "herald")
    assert herald.fill_recent.authors == 0.0 and herald.fill_earlier.authors == 1.0
    assert herald.flags == ("fill_dropped",)
    assert health_of(store, now, "wire").flags == ()


def test_a_source_silent_far_longer_than_usual_is_flagged(store: Store) -> None:
    store.sync_sources([HERALD])
    t0 = datetime.now(UTC)
    # A new entry every 6 hours for ten days, then nothing.
    times = [t0 + timedelta(hours=2 + 6 * i) for i in range(40)]
    entries(store, "herald", times)
    last = times[-1]
    assert health_of(store, last + timedelta(hours=30), "herald").flags == ()
    silent = health_of(store, last + timedelta(seconds=SILENT_MIN_S + 3600), "herald")
    assert silent.longest_gap_s == 6 * 3600
    assert silent.flags == ("silent",)


def test_prune_removes_old_off_topic_and_duplicate_entries_only(store: Store) -> None:
    store.sync_sources([HERALD])
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=120), now - timedelta(days=10)
    for outcome in ("off_topic", "duplicate", "stored", "failed"):
        entries(store, "herald", [old, recent], outcome)
    assert store.prune_entries(now - timedelta(days=90)) == 2
    logged = {
        f"{outcome}-{t.isoformat()}"
        for outcome in ("off_topic", "duplicate", "stored", "failed")
        for t in (old, recent)
    }
    keys, _ = store.known_entries("herald", logged, [])
    # Settled and left: the recent off-topic and duplicate rows, and stored
    # ones at any age ("failed" is never settled).
    assert keys == {
        f"off_topic-{recent.isoformat()}",
        f"duplicate-{recent.isoformat()}",
        f"stored-{old.isoformat()}",
        f"stored-{recent.isoformat()}",
    }
    with pytest.raises(ValueError, match="cannot prune"):
        store.prune_entries(now, ["stored"])


def test_abandoned_runs_are_recorded_as_interrupted(store: Store) -> None:
    before = store.start_run()
    cut = datetime.now(UTC)
    after = store.start_run()
    assert store.abandon_runs("interrupted", "killed", started_after=cut) == 1
    runs = {run.id: run for run in store.recent_runs()}
    assert runs[after].status == "interrupted"
    assert runs[after].stats == {"finish_reason": "killed"}
    assert runs[before].status == "running"
    assert store.abandon_runs("interrupted", "killed") == 1
    assert store.recent_runs()[-1].status == "interrupted"


def test_the_round_lock_is_held_by_one_holder_at_a_time(db_url: str) -> None:
    first, second = open_store(db_url), open_store(db_url)
    try:
        first.upgrade()
        with first.round_lock() as held:
            assert held
            with second.round_lock() as also:
                assert not also
        with second.round_lock() as now_held:
            assert now_held
    finally:
        first.close()
        second.close()


# -- the commands ---------------------------------------------------------------------


def config_dir(tmp_path: Path, db_url: str) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "settings.toml").write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    (folder / "sources.toml").write_text(
        '[[topics]]\nname = "floods"\ninclude = ["flood"]\n\n'
        '[[sources]]\nid = "herald"\noutlet = "The Herald"\n'
        'url = "https://herald.example/feed"\ntopics = ["floods"]\n',
        encoding="utf-8",
    )
    return folder


def test_sources_health_prints_a_table_json_and_fails_strictly(
    tmp_path: Path, sqlite_url: str
) -> None:
    folder = config_dir(tmp_path, sqlite_url)
    store = open_store(sqlite_url)
    try:
        store.upgrade()
        store.sync_sources([HERALD])
        store.update_fetch_states(
            [
                FetchStateUpdate(
                    source_id="herald",
                    last_error_at=datetime.now(UTC),
                    last_error_kind="dns",
                    last_error="no such host",
                    failure_score=3.0,
                )
            ]
        )
    finally:
        store.close()
    runner = CliRunner()
    table = runner.invoke(app, ["sources", "health", "--config", str(folder)])
    assert table.exit_code == 0, table.output
    assert "herald" in table.output and "FAILING" in table.output and "dns" in table.output
    as_json = runner.invoke(app, ["sources", "health", "--json", "--config", str(folder)])
    (row,) = json.loads(as_json.output)
    assert row["source_id"] == "herald" and row["flags"] == ["failing"]
    assert row["last_error"] == "no such host"
    strict = runner.invoke(app, ["sources", "health", "--strict", "--config", str(folder)])
    assert strict.exit_code == 1


def test_db_prune_command(tmp_path: Path, sqlite_url: str) -> None:
    folder = config_dir(tmp_path, sqlite_url)
    store = open_store(sqlite_url)
    try:
        store.upgrade()
        store.sync_sources([HERALD])
        entries(store, "herald", [datetime.now(UTC) - timedelta(days=200)])
    finally:
        store.close()
    runner = CliRunner()
    too_short = runner.invoke(app, ["db", "prune", "--older-than", "1d", "--config", str(folder)])
    assert too_short.exit_code == 2 and "window" in too_short.output
    done = runner.invoke(app, ["db", "prune", "--config", str(folder)])
    assert done.exit_code == 0, done.output
    assert "pruned 1 entry" in done.output
