"""Adaptive polling: the policy alone, the round's fetch-state bookkeeping with
a clock the test sets, and, end to end against the demo sites, a feed whose
validators lie, caught by its body hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.schema import Polling, Settings, Source
from demo.server import LocalWeb, Request, Response
from scraper.polling import (
    HARD_POINTS,
    POLLS_PER_ENTRY,
    TRANSIENT_POINTS,
    PollingPolicy,
    failure_points,
    next_poll,
    poll_delay,
    publishing_interval,
    raise_score,
)
from scraper.source_states import SourceStates
from storage import EntryOutcome, FetchStateUpdate, Store
from storage.health import BACKLOG_S, Activity
from tests.crawling import DEMO_SITES, presscut
from tests.unattended import EXPECTED, demo_sources, unattended_config

POLICY = PollingPolicy(floor_s=300.0, ceiling_s=86_400.0, window_s=14 * 86_400.0)
DAY = 86_400.0


def seen(entries: int, watched_s: float) -> Activity:
    return Activity(source_id="s", new_entries=entries, watched_s=watched_s, last_new_at=None)


# -- the policy ------------------------------------------------------------------


def test_a_new_source_is_polled_at_its_configured_interval() -> None:
    assert publishing_interval(POLICY, 1800.0, None) == pytest.approx(1800.0)
    assert publishing_interval(POLICY, 1800.0, seen(0, 0.0)) == pytest.approx(1800.0)


def test_busy_sources_are_polled_more_often_and_quiet_ones_less() -> None:
    configured = 3600.0
    # One new entry every 20 minutes for a week, then none for a week.
    busy = publishing_interval(POLICY, configured, seen(7 * 72, 7 * DAY))
    quiet = publishing_interval(POLICY, configured, seen(0, 7 * DAY))
    assert busy < configured < quiet
    # About POLLS_PER_ENTRY polls per entry once the history outweighs the prior.
    assert busy == pytest.approx(1200.0 / POLLS_PER_ENTRY, rel=0.15)
    # More entries over the same time never lengthen the interval.
    intervals = [
        publishing_interval(POLICY, configured, seen(n, 7 * DAY)) for n in range(0, 400, 20)
    ]
    assert intervals == sorted(intervals, reverse=True)


def test_intervals_stay_between_floor_and_ceiling() -> None:
    flood = publishing_interval(POLICY, 3600.0, seen(100_000, DAY))
    silence = publishing_interval(POLICY, 3600.0, seen(0, 365 * DAY))
    assert flood == POLICY.floor_s
    assert silence == POLICY.ceiling_s
    assert publishing_interval(POLICY, 60.0, None) == POLICY.floor_s  # configured below the floor
    assert publishing_interval(POLICY, 7 * DAY, None) == POLICY.ceiling_s


def test_failures_back_off_hard_ones_faster_up_to_the_ceiling() -> None:
    assert failure_points("dns") == HARD_POINTS
    assert failure_points("http_4xx") == HARD_POINTS
    assert failure_points("timeout") == TRANSIENT_POINTS
    assert failure_points("http_5xx") == TRANSIENT_POINTS
    assert HARD_POINTS > TRANSIENT_POINTS
    assert raise_score(raise_score(0.0, "timeout"), "dns") == TRANSIENT_POINTS + HARD_POINTS
    healthy = poll_delay(POLICY, 1800.0, None)
    assert poll_delay(POLICY, 1800.0, None, 1.0) == pytest.approx(2 * healthy)
    assert poll_delay(POLICY, 1800.0, None, 3.0) == pytest.approx(8 * healthy)
    assert poll_delay(POLICY, 1800.0, None, 50.0) == POLICY.ceiling_s
    assert next_poll(1800.0, 1e9, ceiling_s=3600.0) == 3600.0  # no float overflow
    assert next_poll(1800.0, 0.0) == 1800.0


def test_policy_comes_from_settings_and_checks_its_bounds() -> None:
    policy = PollingPolicy.from_settings(Polling(floor="1m", ceiling="2h", window="3d"))
    assert (policy.floor_s, policy.ceiling_s, policy.window_s) == (60.0, 7200.0, 3 * DAY)
    with pytest.raises(ValueError, match="ceiling"):
        PollingPolicy(floor_s=600.0, ceiling_s=60.0)
    with pytest.raises(ValueError, match="ceiling must be at least floor"):
        Polling(floor="2h", ceiling="1h")


# -- the round's fetch state, with a clock the test sets ---------------------------


def states_on(store: Store, source: Source) -> SourceStates:
    """The round's per-source states, with the default ``[polling]``."""
    store.sync_sources([source])
    return SourceStates(store, PollingPolicy.from_settings(Settings().polling))


SOURCE = Source(
    id="herald", outlet="The Herald", url="https://herald.example/feed", poll_interval=3600
)


def log_entries(store: Store, start: datetime, count: int, every: timedelta) -> None:
    store.write_batch(
        [],
        [
            EntryOutcome(
                source_id=SOURCE.id,
                entry_key=f"e{i}",
                outcome="off_topic",
                seen_at=start + i * every,
            )
            for i in range(count)
        ],
        [],
    )


def due_in(states: SourceStates, now: datetime) -> float:
    next_due = states.updates[SOURCE.id].next_due_at
    assert isinstance(next_due, datetime)
    return (next_due - now).total_seconds()


def test_spider_polls_a_busy_source_more_often_and_a_quiet_one_less(store: Store) -> None:
    states = states_on(store, SOURCE)
    start = datetime.now(UTC)
    # The first poll's backlog, then one new entry every 10 minutes for 3 days.
    log_entries(store, start, 20, timedelta(seconds=1))
    after_backlog = start + timedelta(seconds=BACKLOG_S + 60)
    store.write_batch(
        [],
        [
            EntryOutcome(
                source_id=SOURCE.id,
                entry_key=f"busy{i}",
                outcome="stored",
                seen_at=after_backlog + timedelta(minutes=10 * i),
            )
            for i in range(3 * 144)
        ],
        [],
    )
    busy_now = after_backlog + timedelta(days=3)
    states.record_success(SOURCE, busy_now, None, '"v1"', None, "hash1")
    busy = due_in(states, busy_now)
    activity = store.publishing_activity([SOURCE.id], busy_now, POLICY.window_s)[SOURCE.id]
    assert activity.new_entries == 3 * 144  # the backlog left out
    assert busy == pytest.approx(poll_delay(POLICY, SOURCE.poll_interval_s, activity))
    assert busy < SOURCE.poll_interval_s

    # After two quiet weeks, the same source is polled less often than configured.
    quiet_now = busy_now + timedelta(days=14)
    states.record_success(SOURCE, quiet_now, None, '"v1"', None, "hash1")
    quiet = due_in(states, quiet_now)
    assert quiet > SOURCE.poll_interval_s
    state = states.updates[SOURCE.id]
    assert state.failure_score == 0.0 and state.last_success_at == quiet_now


def test_spider_backs_a_failing_source_off_and_a_success_resets_it(store: Store) -> None:
    states = states_on(store, SOURCE)
    now = datetime.now(UTC)
    healthy = poll_delay(POLICY, SOURCE.poll_interval_s, None)

    def fail(kind: str, at: datetime) -> float:
        states.record_error(SOURCE, at, kind, f"{kind} happened")
        store.update_fetch_states([states.updates[SOURCE.id]])
        return due_in(states, at)

    assert fail("timeout", now) == pytest.approx(healthy * 2**TRANSIENT_POINTS, rel=0.01)
    assert fail("http_4xx", now) == pytest.approx(
        healthy * 2 ** (TRANSIENT_POINTS + HARD_POINTS), rel=0.01
    )
    state = store.fetch_state(SOURCE.id)
    assert state is not None
    assert state.failure_score == TRANSIENT_POINTS + HARD_POINTS
    assert state.last_error_kind == "http_4xx" and state.last_error == "http_4xx happened"
    for _ in range(30):
        delay = fail("dns", now)
    assert delay == POLICY.ceiling_s  # slowed to the ceiling, never dropped
    assert states.summary[SOURCE.id]["failed"] == 32

    # A 304 is a success: the score goes, the interval returns.
    states.record_success(SOURCE, now, state, etag=None, last_modified=None, digest=None)
    store.update_fetch_states([states.updates[SOURCE.id]])
    recovered = store.fetch_state(SOURCE.id)
    assert recovered is not None and recovered.failure_score == 0.0
    assert due_in(states, now) == pytest.approx(healthy, rel=0.01)


def test_a_304_keeps_the_stored_validators(store: Store) -> None:
    states = states_on(store, SOURCE)
    now = datetime.now(UTC)
    store.update_fetch_states(
        [FetchStateUpdate(source_id=SOURCE.id, etag='"a"', last_modified="Mon", body_hash="h")]
    )
    state = store.fetch_state(SOURCE.id)
    states.record_success(SOURCE, now, state, etag=None, last_modified=None, digest=None)
    update = states.updates[SOURCE.id]
    assert (update.etag, update.last_modified, update.body_hash) == ('"a"', "Mon", "h")


# -- end to end: validators that lie ------------------------------------------------


class LyingFeed:
    """Serves a feed with a new ETag and Last-Modified on every response,
    whatever changed, and never answers 304."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.served = 0

    def __call__(self, request: Request) -> Response:
        self.served += 1
        headers = {
            "Content-Type": "application/rss+xml",
            "ETag": f'"lie-{self.served}"',
            "Last-Modified": f"Mon, 0{self.served % 9 + 1} Jan 2024 00:00:00 GMT",
        }
        return 200, headers, self.body


def force_due(db_url: str) -> None:
    from storage import open_store

    store = open_store(db_url)
    try:
        store.update_fetch_states(
            [FetchStateUpdate(source_id=s, next_due_at=None) for s in EXPECTED]
        )
    finally:
        store.close()


def article_requests(web: LocalWeb) -> list[str]:
    return [r.path for r in web.requests if r.path.endswith(".html")]


def test_a_feed_with_lying_validators_is_caught_by_its_body_hash(tmp_path: Path) -> None:
    site = "harbour-herald"
    feed_path = EXPECTED[site]["feed"]
    original = (DEMO_SITES / site / feed_path.lstrip("/")).read_text(encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    with LocalWeb(DEMO_SITES, [site]) as web:
        lying = LyingFeed(original)
        web.add_route(site, feed_path, lying)
        config = unattended_config(tmp_path / "config", web, db_url, sources=demo_sources(site))

        assert presscut("run", "--once", "--config", str(config)).returncode == 0
        assert article_requests(web), "the first round fetched no article"

        # Same body, new validators: read whole, recognised, nothing fetched.
        web.clear_requests()
        force_due(db_url)
        assert presscut("run", "--once", "--config", str(config)).returncode == 0
        (feed,) = [r for r in web.requests if r.path == feed_path]
        # The validator of round 1 was sent, and the answer was a whole 200.
        assert feed.headers.get("If-None-Match", "").startswith('"lie-1') and feed.status == 200
        assert article_requests(web) == []
