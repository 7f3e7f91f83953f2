"""Stopping and killing ``presscut run`` mid-round, against the demo sites
with slow article pages (so the signal lands while a round is storing):

* SIGKILL to every process of a round, then a restart: the stored set equals
  an uninterrupted crawl's, nothing twice, no half-written rows, and the
  killed run is recorded as interrupted;
* SIGTERM, round abandoned after ``stop_timeout``: exit 0, the run recorded
  as interrupted, and the next round fetches exactly what is missing;
* SIGTERM, round allowed to finish: exit 0 with everything stored.

SIGTERM goes to the scheduler's process group and to the round's, as a
service manager stopping a whole control group would send it."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.server import LocalWeb
from storage import open_store
from tests.crawling import DEMO_SITES, presscut
from tests.unattended import (
    count_clippings,
    demo_sources,
    integrity,
    kill_group,
    log_lines,
    slow_articles,
    start_presscut,
    stored_set,
    unattended_config,
    wait_for,
)

#: Two of the demo sites (the wire and a paper that syndicates one of its
#: stories), with their on-topic articles.
SITES = ("harbour-herald", "northern-wire")
ON_TOPIC = 7
#: One request per host at a time; articles answering after SLOW_S seconds
#: make a round that stores for well over the store stage's batch time (5 s),
#: so a kill can land after a batch is committed and before the round ends.
CRAWL = {"concurrent_requests_per_host": "1"}
SLOW_S = 2.0
#: Slow enough that a stop lands while the round runs.
SLOWISH_S = 0.5


@pytest.fixture(scope="module")
def clean_crawl(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[Any, ...]]:
    """What one uninterrupted round stores, site-relative."""
    folder = tmp_path_factory.mktemp("clean")
    db_url = f"sqlite:///{folder / 'presscut.db'}"
    with LocalWeb(DEMO_SITES, list(SITES)) as web:
        config = unattended_config(folder / "config", web, db_url, sources=demo_sources(*SITES))
        result = presscut("run", "--once", "--config", str(config))
        assert result.returncode == 0, result.stderr
        found = stored_set(db_url, web)
    assert len(found) == ON_TOPIC
    return found


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    with LocalWeb(DEMO_SITES, list(SITES)) as served:
        yield served


def round_pid(log: Path) -> int:
    """The pid (and process group) of the round, from its "round started" line."""
    for line in log_lines(log):
        if line.get("message") == "round started":
            return int(line["pid"])
    return 0


def restart(config: Path, web: LocalWeb) -> None:
    """The next round, at full speed, after ``web`` forgot its slow pages."""
    web.reset()
    result = presscut("run", "--once", "--config", str(config))
    assert result.returncode == 0, result.stderr


def statuses(db_url: str) -> list[tuple[str, Any]]:
    store = open_store(db_url)
    try:
        return [
            (run.status, (run.stats or {}).get("finish_reason")) for run in store.recent_runs()
        ]
    finally:
        store.close()


def test_sigkill_mid_round_then_restart_loses_and_duplicates_nothing(
    tmp_path: Path, web: LocalWeb, clean_crawl: set[tuple[Any, ...]]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = unattended_config(
        tmp_path / "config", web, db_url, sources=demo_sources(*SITES), crawl=CRAWL
    )
    slow_articles(web, SLOW_S)
    log = tmp_path / "run.log"
    proc = start_presscut("run", "--once", "--log-json", "--config", str(config), log=log)
    round_group = 0
    try:
        round_group = wait_for(lambda: round_pid(log), 60, "the round to start")
        wait_for(lambda: count_clippings(db_url) > 0, 60, "a first stored batch")
    finally:
        # Everything at once, as a power cut would: the round (with its
        # extraction workers) and the scheduler.
        if round_group:
            kill_group(round_group, signal.SIGKILL)
        kill_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = stored_set(db_url, web)
    assert 0 < len(before) < ON_TOPIC, "the kill did not land mid-round"
    assert statuses(db_url) == [("running", None)]

    web.clear_requests()
    restart(config, web)
    assert stored_set(db_url, web) == clean_crawl
    assert integrity(db_url) == dict.fromkeys(integrity(db_url), 0)
    # Resumed, not redone: what was stored before the kill is not fetched
    # again, except through another entry's redirect (a short link).
    fetched = {r.path for r in web.requests if r.status == 200}
    redirects = [r for r in web.requests if r.status in (301, 302)]
    assert len(fetched & {path for _, path, *_ in before}) <= len(redirects)
    assert [status for status, _ in statuses(db_url)] == ["finished", "interrupted"]


def stop_with_sigterm(
    tmp_path: Path, web: LocalWeb, stop_timeout: str
) -> tuple[str, Path, subprocess.Popen[bytes], Path]:
    """``presscut run`` stopped with SIGTERM once its round fetches articles."""
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    schedule = f'[schedule]\ntick = "1h"\nstop_timeout = "{stop_timeout}"\n'
    config = unattended_config(
        tmp_path / "config", web, db_url, schedule, sources=demo_sources(*SITES), crawl=CRAWL
    )
    slow_articles(web, SLOWISH_S)
    log = tmp_path / "run.log"
    proc = start_presscut("run", "--log-json", "--config", str(config), log=log)
    try:
        round_group = wait_for(lambda: round_pid(log), 60, "the round to start")
        wait_for(lambda: any(r.path.endswith(".html") for r in web.requests), 60, "articles")
        kill_group(proc.pid, signal.SIGTERM)
        kill_group(round_group, signal.SIGTERM)
        proc.wait(timeout=90)
    finally:
        kill_group(proc.pid, signal.SIGKILL)
    return db_url, config, proc, log


def test_sigterm_abandons_a_slow_round_cleanly(
    tmp_path: Path, web: LocalWeb, clean_crawl: set[tuple[Any, ...]]
) -> None:
    db_url, config, proc, log = stop_with_sigterm(tmp_path, web, "1s")
    assert proc.returncode == 0
    assert count_clippings(db_url) < ON_TOPIC, "the round finished before it was abandoned"
    assert statuses(db_url) == [("interrupted", "abandoned at stop")]
    messages = [line["message"] for line in log_lines(log)]
    assert "round interrupted" in messages and messages[-1] == "scheduler stopped"
    assert integrity(db_url) == dict.fromkeys(integrity(db_url), 0)

    restart(config, web)
    assert stored_set(db_url, web) == clean_crawl
    assert integrity(db_url) == dict.fromkeys(integrity(db_url), 0)


def test_sigterm_lets_a_round_finish_within_the_stop_timeout(
    tmp_path: Path, web: LocalWeb, clean_crawl: set[tuple[Any, ...]]
) -> None:
    db_url, _, proc, log = stop_with_sigterm(tmp_path, web, "90s")
    assert proc.returncode == 0
    assert statuses(db_url) == [("finished", "finished")]
    assert stored_set(db_url, web) == clean_crawl
    assert integrity(db_url) == dict.fromkeys(integrity(db_url), 0)
    rounds = [line for line in log_lines(log) if line["message"].startswith("round f")]
    assert [line["status"] for line in rounds] == ["finished"]


def test_sigterm_on_a_manual_crawl_loses_no_article(
    tmp_path: Path, web: LocalWeb, clean_crawl: set[tuple[Any, ...]]
) -> None:
    """``presscut crawl`` stopped gracefully drops its queued article requests;
    their entries are recorded pending, so the next round fetches them."""
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = unattended_config(
        tmp_path / "config",
        web,
        db_url,
        sources=demo_sources(*SITES),
        crawl={**CRAWL, "concurrent_requests": "2"},
    )
    slow_articles(web, SLOW_S)
    proc = start_presscut("crawl", "--all", "--config", str(config), log=tmp_path / "log")
    wait_for(
        lambda: any(r.path.endswith(".html") for r in web.requests),
        timeout=60,
        what="the first article request",
    )
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert count_clippings(db_url) < ON_TOPIC, "the stop came too late to test anything"
    web.reset()
    result = presscut("crawl", "--all", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert stored_set(db_url, web) == clean_crawl
    assert not any(integrity(db_url).values())
