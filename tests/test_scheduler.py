"""The scheduler: jobs from config, persisted and matched at start-up, ticks
that never overlap a running round, one catch-up after downtime, a stop that
waits for the round, command jobs; and, end to end against the demo sites,
rounds that poll only due sources, log one line per source, and back a
failing source off and bring it back."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from typer.testing import CliRunner

import scheduler
from cli.main import app
from config import Config, load_config
from demo.server import LocalWeb, Request, Response
from rounds.logs import JsonFormatter, TextFormatter
from rounds.process import RoundResult, StopRequest
from scraper.polling import TRANSIENT_POINTS
from storage import EntryOutcome, FetchStateUpdate, open_store
from storage.engine import make_engine
from tests.crawling import DEMO_SITES, presscut
from tests.unattended import EXPECTED, demo_sources, unattended_config, wait_for

SOURCES = """\
[[topics]]
name = "floods"
include = ["flood"]

[[sources]]
id = "herald"
outlet = "The Herald"
url = "https://herald.example/feed"
topics = ["floods"]
"""


def config_of(tmp_path: Path, db_url: str, schedule: str) -> Config:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "settings.toml").write_text(
        f'[database]\nurl = "{db_url}"\n\n[schedule]\n{schedule}', encoding="utf-8"
    )
    (folder / "sources.toml").write_text(SOURCES, encoding="utf-8")
    store = open_store(db_url)
    try:
        store.upgrade()
    finally:
        store.close()
    return load_config(folder, environ={})


class Rounds:
    """A stand-in round: records when each ran, takes ``seconds``."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.spans: list[tuple[float, float]] = []
        self.lock = threading.Lock()

    def __call__(self, config: Config, stop: StopRequest) -> RoundResult:
        began = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.spans.append((began, time.monotonic()))
        return RoundResult(status="finished")

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.spans)


def stored_next_run(db_url: str, move_to: datetime | None = None) -> datetime:
    """The crawl job's next run time as stored, optionally moved first (as
    if presscut had been down)."""
    store = SQLAlchemyJobStore(engine=make_engine(db_url), tablename=scheduler.JOBS_TABLE)
    aps = BackgroundScheduler(jobstores={"default": store}, timezone=UTC)
    aps.start(paused=True)
    try:
        if move_to is not None:
            aps.modify_job(scheduler.CRAWL_JOB, next_run_time=move_to)
        job = aps.get_job(scheduler.CRAWL_JOB)
        assert job is not None
        return job.next_run_time
    finally:
        aps.remove_jobstore("default")  # before shutdown, which would run what is due
        aps.shutdown(wait=False)


def test_jobs_come_from_the_schedule_section(tmp_path: Path, sqlite_url: str) -> None:
    config = config_of(
        tmp_path,
        sqlite_url,
        'tick = "10m"\ntimezone = "Europe/London"\n'
        '[[schedule.jobs]]\nid = "weekly-digest"\ncron = "0 7 * * fri"\ncommand = "digest"\n'
        'misfire_grace = "1d"\n',
    )
    crawl, digest = scheduler.job_specs(config)
    assert (crawl.id, crawl.func, crawl.misfire_grace_s) == ("crawl", scheduler.crawl_job, 3600.0)
    assert crawl.trigger.interval == timedelta(minutes=10)
    assert (digest.id, digest.args, digest.misfire_grace_s) == (
        "weekly-digest",
        ("weekly-digest", "digest"),
        86_400.0,
    )
    assert str(digest.trigger.timezone) == "Europe/London"
    fire = digest.trigger.get_next_fire_time(None, datetime(2026, 11, 23, tzinfo=UTC))
    assert (fire.weekday(), fire.hour) == (4, 7)


def test_ticks_never_overlap_a_running_round(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_of(tmp_path, db_url, "tick = 0.2\n")
    rounds = Rounds(seconds=0.7)
    runner = scheduler.Scheduler(config, run_round=rounds, reload=False)
    with caplog.at_level(logging.WARNING, logger="presscut.scheduler"):
        runner.start()
        try:
            wait_for(lambda: rounds.count >= 3, 10, "three rounds")
        finally:
            runner.stop()
    spans = rounds.spans
    for (_, first_end), (second_start, _) in pairwise(spans):
        assert second_start >= first_end, "two rounds overlapped"
    assert "skipped: its previous run is still going" in caplog.text


def test_a_restart_keeps_the_schedule_and_catches_up_once(tmp_path: Path, db_url: str) -> None:
    config = config_of(tmp_path, db_url, 'tick = "60s"\n')
    rounds = Rounds()
    first = scheduler.Scheduler(config, run_round=rounds, reload=False)
    first.start()
    try:
        # A new crawl job runs at once, not a tick (60 s) later.
        wait_for(lambda: rounds.count == 1, 10, "the first round")
    finally:
        first.stop()
    assert rounds.count == 1

    # Restarted before the next tick: nothing runs early.
    planned = stored_next_run(db_url)
    assert planned > datetime.now(UTC)
    second = scheduler.Scheduler(config, run_round=rounds, reload=False)
    second.start()
    time.sleep(1.0)
    second.stop()
    assert rounds.count == 1
    assert stored_next_run(db_url) == planned

    # Down for ten ticks: one catch-up round, then the regular schedule.
    stored_next_run(db_url, move_to=datetime.now(UTC) - timedelta(minutes=10))
    third = scheduler.Scheduler(config, run_round=rounds, reload=False)
    third.start()
    try:
        wait_for(lambda: rounds.count == 2, 10, "the catch-up round")
        time.sleep(1.0)
        (crawl,) = [job for job in third.jobs() if job.id == "crawl"]
        next_run = crawl.next_run_time
    finally:
        third.stop()
    assert rounds.count == 2
    now = datetime.now(UTC)
    assert now < next_run <= now + timedelta(seconds=60)


def test_changed_jobs_are_replaced_and_removed_ones_deleted(tmp_path: Path, db_url: str) -> None:
    rounds = Rounds()
    before = config_of(tmp_path, db_url, 'tick = "60s"\n')
    first = scheduler.Scheduler(before, run_round=rounds, reload=False)
    first.start()
    assert {job.id for job in first.jobs()} == {"crawl", "housekeeping"}
    first.stop()
    after = config_of(
        tmp_path,
        db_url,
        'tick = "2m"\njobs = [{ id = "nightly", cron = "0 2 * * *", command = "db prune" }]\n',
    )
    second = scheduler.Scheduler(after, run_round=rounds, reload=False)
    second.start()
    try:
        jobs = {job.id: job for job in second.jobs()}
    finally:
        second.stop()
    assert set(jobs) == {"crawl", "nightly"}
    assert jobs["crawl"].trigger.interval == timedelta(minutes=2)
    assert jobs["nightly"].args == ("nightly", "db prune")
    assert jobs["nightly"].coalesce and jobs["nightly"].max_instances == 1


def test_stop_lets_the_running_round_end_and_starts_no_other(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = config_of(tmp_path, sqlite_url, "tick = 0.2\n")
    results: list[RoundResult] = []
    running = threading.Event()

    def round_until_stopped(config: Config, stop: StopRequest) -> RoundResult:
        running.set()
        stop.wait(30)
        return RoundResult(status="interrupted" if stop.requested else "finished")

    runner = scheduler.Scheduler(
        config, run_round=round_until_stopped, on_round=results.append, reload=False
    )
    runner.start()
    assert running.wait(10)
    began = time.monotonic()
    runner.stop()
    assert time.monotonic() - began < 3
    assert [r.status for r in results] == ["interrupted"]
    assert runner.crawl() is None  # stopping: no further round


def test_command_jobs_run_presscut_commands(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_of(tmp_path, sqlite_url, "")
    store = open_store(sqlite_url)
    try:
        store.write_batch(
            [],
            [
                EntryOutcome(
                    source_id="herald",
                    entry_key="old",
                    outcome="off_topic",
                    seen_at=datetime.now(UTC) - timedelta(days=365),
                )
            ],
            [],
        )
    finally:
        store.close()
    runner = scheduler.Scheduler(config, run_round=Rounds(), reload=False)
    with caplog.at_level(logging.INFO, logger="presscut.scheduler"):
        assert runner.run_command("housekeeping", "db prune") == 0
        assert runner.run_command("bad", "db prune --older-than soon") == 2
    outputs = {r.job: r.output for r in caplog.records if hasattr(r, "output")}
    assert "pruned 1 entry" in outputs["housekeeping"]
    assert "must be a duration" in outputs["bad"]
    assert "job bad failed with exit status 2" in caplog.text


def test_an_unknown_job_command_is_a_configuration_error(tmp_path: Path, sqlite_url: str) -> None:
    config = config_of(
        tmp_path, sqlite_url, 'jobs = [{ id = "x", cron = "0 2 * * *", command = "frobnicate" }]\n'
    )
    result = CliRunner().invoke(app, ["run", "--once", "--config", str(config.directory)])
    assert result.exit_code == 2
    assert "schedule.jobs[0].command" in result.output and "frobnicate" in result.output


def test_a_round_finds_the_lock_taken_and_does_nothing(tmp_path: Path, sqlite_url: str) -> None:
    config = config_of(tmp_path, sqlite_url, "")
    store = open_store(sqlite_url)
    try:
        with store.round_lock() as held:
            assert held
            result = presscut("run", "--once", "--log-json", "--config", str(config.directory))
        assert store.recent_runs() == []
    finally:
        store.close()
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any("holds the round lock" in line["message"] for line in lines)
    (round_line,) = [line for line in lines if line["logger"] == "presscut.scheduler"]
    assert round_line["status"] == "busy"


def test_log_lines_carry_their_context_as_text_or_json() -> None:
    record = logging.LogRecord("presscut.round", logging.INFO, "", 0, "source %s", ("new",), None)
    record.source, record.url, record.outcome = "herald", "https://h.example/feed", "new"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "source new" and line["level"] == "INFO"
    assert (line["source"], line["url"], line["outcome"]) == (
        "herald",
        "https://h.example/feed",
        "new",
    )
    assert line["time"].endswith("Z")
    text = TextFormatter().format(record)
    assert text.endswith(
        "presscut.round: source new source=herald url=https://h.example/feed outcome=new"
    )


# -- end to end, against the demo sites -------------------------------------------------


@pytest.fixture
def web() -> Any:
    with LocalWeb(DEMO_SITES, ["harbour-herald", "northern-wire"]) as served:
        yield served


def run_once(config: Path) -> list[dict[str, Any]]:
    """``presscut run --once --log-json``; its JSON log lines."""
    result = presscut("run", "--once", "--log-json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]


def source_lines(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        line["source"]: line
        for line in lines
        if line.get("logger") == "presscut.round" and "outcome" in line
    }


class Flaky:
    """A feed answering ``status`` while it is set, else its file."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.status: int | None = None

    def __call__(self, request: Request) -> Response:
        if self.status is not None:
            return self.status, {"Content-Type": "text/plain"}, "down\n"
        return 200, {"Content-Type": "application/rss+xml"}, self.body


def test_rounds_poll_due_sources_back_off_failures_and_log_each_source(
    tmp_path: Path, web: LocalWeb
) -> None:
    herald, wire = "harbour-herald", "northern-wire"
    feed = EXPECTED[herald]["feed"]
    flaky = Flaky((DEMO_SITES / herald / feed.lstrip("/")).read_bytes())
    web.add_route(herald, feed, flaky)
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = unattended_config(
        tmp_path / "config", web, db_url, sources=demo_sources(herald, wire)
    )
    configured = 30 * 60.0  # the Herald's poll_interval; nothing is known of its pace yet

    # Round 1: every source is new, so due; the Herald's feed answers 503.
    flaky.status = 503
    first = source_lines(run_once(config))
    assert set(first) == {herald, wire}
    for source_id, line in first.items():
        assert line["url"] == web.base_url(source_id) + EXPECTED[source_id]["feed"]
    assert first[wire]["outcome"] == "new" and first[wire]["new"] > 0
    assert first[wire]["failure_score"] == 0.0
    assert first[herald]["outcome"] == "failed" and first[herald]["error"].startswith("http_5xx")
    herald_state = fetch_state(db_url, herald)
    assert herald_state.failure_score == TRANSIENT_POINTS
    assert interval_of(herald_state) == pytest.approx(configured * 2**TRANSIENT_POINTS, rel=0.01)

    # Round 2: only the Herald is due (as if its back-off had passed); it is back.
    flaky.status = None
    store = open_store(db_url)
    try:
        store.update_fetch_states([FetchStateUpdate(source_id=herald, next_due_at=None)])
    finally:
        store.close()
    web.clear_requests()
    second = run_once(config)
    assert set(source_lines(second)) == {herald}
    assert {r.site for r in web.requests} == {herald}
    assert source_lines(second)[herald]["outcome"] == "new"
    recovered = fetch_state(db_url, herald)
    assert recovered.failure_score == 0.0
    assert interval_of(recovered) == pytest.approx(configured, rel=0.01)
    (round_line,) = [line for line in second if line["logger"] == "presscut.scheduler"]
    assert round_line["status"] == "finished" and round_line["sources"] == 1


def fetch_state(db_url: str, source_id: str) -> Any:
    store = open_store(db_url)
    try:
        state = store.fetch_state(source_id)
    finally:
        store.close()
    assert state is not None and state.next_due_at and state.last_fetch_at
    return state


def interval_of(state: Any) -> float:
    return float((state.next_due_at - state.last_fetch_at).total_seconds())
