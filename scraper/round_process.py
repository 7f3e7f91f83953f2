"""A crawl round in a child process: how the scheduler runs every round.

Twisted's reactor runs once per process, so each round gets a fresh one
(`multiprocessing`, ``spawn``).  That also keeps a long-lived scheduler's
memory flat: whatever a round allocates leaves with its process.  The child
runs `scraper.round.run_round`, the function behind ``presscut crawl``, and
reports back a `RoundResult` over a pipe rather than a table to parse; being
our own function, it also takes the round lock and logs like its parent.

The child (`_child`):

1. leaves the scheduler's process group and blocks SIGTERM and SIGINT: a
   terminal's Ctrl-C or a service manager's stop reaches the scheduler,
   which alone decides whether the round finishes or is abandoned;
2. takes the round lock (`storage.locks`), or reports ``busy``;
3. records runs left ``running`` by a process that died as ``interrupted``
   (nothing holding the lock can still be running them);
4. runs the round, then logs one line per polled source (keys ``source``,
   ``url``, ``outcome``, the counts, ``failure_score``, ``next_due``).

The parent (`run_round_process`) waits for it.  Asked to stop, it lets the
round finish for up to ``stop_timeout`` seconds, then abandons it: SIGKILL to
the round's process group (the child and its extraction workers) and the run
recorded as ``interrupted``.  Abandoning is safe by the store stage's
ordering contract (``pipelines/store.py``): a round's fetch state is written
after its last clipping, so a killed round has marked no feed as read whose
articles are not all stored, and the next round fetches exactly those.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from typing import Any

from config import Config

logger = logging.getLogger("presscut.round")

#: Statuses of a `RoundResult`: a crawl run's (``finished``, ``failed``,
#: ``interrupted``), ``busy`` (another round held the lock, nothing done) or
#: ``crashed`` (the process died without reporting; its run is ``failed``).
STATUSES = ("finished", "failed", "interrupted", "busy", "crashed")

#: How often (seconds) the parent looks at a stop request while it waits.
_POLL_S = 0.2


@dataclass
class RoundResult:
    """What a round process did.  ``summary`` and ``errors`` are
    `scraper.round.RoundReport`'s; peak RSS figures are in KiB, as the
    kernel counted them, for the child and for the largest of its workers."""

    status: str
    run_id: int | None = None
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    peak_rss_kib: int | None = None
    workers_peak_rss_kib: int | None = None
    exitcode: int | None = None

    @property
    def new(self) -> int:
        return sum(counts.get("new", 0) for counts in self.summary.values())


class StopRequest:
    """How a scheduler asks a running round to end: `request` lets it finish
    within the stop timeout, `hurry` (a second signal) abandons it now."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._hurry = threading.Event()

    def request(self) -> None:
        self._requested.set()

    def hurry(self) -> None:
        self._requested.set()
        self._hurry.set()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def hurried(self) -> bool:
        return self._hurry.is_set()

    def wait(self, timeout: float) -> bool:
        return self._requested.wait(timeout)


def run_round_process(
    config: Config,
    stop: StopRequest,
    *,
    stop_timeout: float,
    log_format: str = "text",
    log_level: str = "INFO",
) -> RoundResult:
    """Run one round over the due sources of ``config`` in a child process
    and wait for it, honouring ``stop`` (see the module docstring)."""
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    started_at = datetime.now(UTC)
    began = time.monotonic()
    child = ctx.Process(
        target=_child,
        args=(config, log_format, log_level, sender),
        name="presscut-round",
    )
    child.start()
    sender.close()
    logger.info("round started", extra={"pid": child.pid})
    report: dict[str, Any] | None = None
    deadline: float | None = None
    abandoned = False
    listening: list[Connection | int] = [receiver, child.sentinel]
    while child.is_alive():
        ready = wait(listening, timeout=_POLL_S)
        if receiver in ready:
            # Read while the child runs: a report larger than the pipe's
            # buffer would otherwise block it.
            with contextlib.suppress(EOFError):
                report = receiver.recv()
            listening = [child.sentinel]
        if stop.requested and deadline is None and report is None:
            deadline = time.monotonic() + stop_timeout
            logger.info("stop requested: letting the round finish", extra={"pid": child.pid})
        overdue = deadline is not None and (stop.hurried or time.monotonic() >= deadline)
        if overdue and report is None and child.is_alive():
            _kill_group(child)
            abandoned = True
    child.join()
    if report is None and not abandoned and receiver in listening:
        with contextlib.suppress(EOFError, OSError):
            if receiver.poll():
                report = receiver.recv()
    receiver.close()
    seconds = time.monotonic() - began
    if report is not None and not abandoned:
        return RoundResult(**report, seconds=seconds, exitcode=child.exitcode)
    status, run_status = ("interrupted", "interrupted") if abandoned else ("crashed", "failed")
    reason = (
        "abandoned at stop"
        if abandoned
        else f"round process ended without a report (exit code {child.exitcode})"
    )
    _abandon(config, run_status, reason, started_at)
    return RoundResult(status=status, seconds=seconds, exitcode=child.exitcode)


def _kill_group(child: Any) -> None:
    """SIGKILL the child's process group (it and its extraction workers),
    or the child alone if it has not made its group yet."""
    try:
        if os.getpgid(child.pid) == child.pid:
            os.killpg(child.pid, signal.SIGKILL)
            return
    except ProcessLookupError:
        return
    child.kill()


def _abandon(config: Config, status: str, reason: str, started_at: datetime) -> None:
    from storage import open_store

    store = open_store(config.settings.database.url)
    try:
        store.abandon_runs(status, reason, started_after=started_at)
    except Exception:  # the database may be what failed: say so, keep scheduling
        logger.exception("could not record the abandoned run")
    finally:
        store.close()


# -- the child's side ------------------------------------------------------------


def _child(config: Config, log_format: str, log_level: str, sender: Connection) -> None:
    os.setpgid(0, 0)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    from cli.logs import configure

    handler = configure(log_format, log_level)
    handler.addFilter(QuietLibraries(_scrapy_level(log_level)))
    try:
        report = _crawl(config, log_level)
    except Exception:
        logger.exception("round failed")
        report = {"status": "failed"}
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report.update(peak_rss_kib=own, workers_peak_rss_kib=workers or None)
    with contextlib.suppress(BrokenPipeError, OSError):  # the scheduler may be gone
        sender.send(report)
    sender.close()


def _scrapy_level(log_level: str) -> str:
    return "DEBUG" if log_level == "DEBUG" else "WARNING"


def _crawl(config: Config, log_level: str) -> dict[str, Any]:
    from scraper.round import run_round
    from storage import open_store

    store = open_store(config.settings.database.url)
    try:
        store.upgrade()
        with store.round_lock() as held:
            if not held:
                logger.warning("another round holds the round lock: nothing to do")
                return {"status": "busy"}
            stale = store.abandon_runs("interrupted", "the crawling process ended unrecorded")
            if stale:
                logger.warning("recorded %d unfinished run(s) as interrupted", stale)
            extensions = {"scraper.round_process.SharedLogHandler": 0}
            report = run_round(config, log_level=_scrapy_level(log_level), extensions=extensions)
            log_sources(config, store, report.summary, report.errors, report.run_id)
    finally:
        store.close()
    return {
        "status": report.status,
        "run_id": report.run_id,
        "summary": report.summary,
        "errors": report.errors,
    }


def log_sources(
    config: Config,
    store: Any,
    summary: dict[str, dict[str, int]],
    errors: dict[str, str],
    run_id: int,
) -> None:
    """One log line per source polled in run ``run_id``, all with the keys
    ``source``, ``url`` and ``outcome``: ``failed`` (its own URL failed),
    ``partial`` (some articles failed), ``new`` (clippings stored) or
    ``nothing_new``."""
    urls = {s.id: s.url for s in config.sources}
    states = store.fetch_states(list(summary))
    for source_id in sorted(summary):
        counts = summary[source_id]
        state = states.get(source_id)
        if state and state.last_error_at and state.last_error_at == state.last_fetch_at:
            outcome = "failed"
        elif source_id in errors:
            outcome = "partial"
        elif counts.get("new", 0):
            outcome = "new"
        else:
            outcome = "nothing_new"
        level = logging.WARNING if outcome in ("failed", "partial") else logging.INFO
        logger.log(
            level,
            "source %s",
            outcome.replace("_", " "),
            extra={
                "source": source_id,
                "url": urls.get(source_id, ""),
                "outcome": outcome,
                "run_id": run_id,
                **{k: counts.get(k, 0) for k in ("new", "duplicate", "off_topic", "failed")},
                "failure_score": state.failure_score if state else None,
                "next_due": state.next_due_at.isoformat() if state and state.next_due_at else None,
                "error": errors.get(source_id),
            },
        )


class SharedLogHandler:
    """Scrapy extension: Scrapy's own root log handler becomes a no-op, so
    Scrapy's records reach only the handler `cli.logs.configure` installed,
    in its format, once."""

    def __init__(self, crawler: Any) -> None:
        # Read when the crawler (re)installs its root handler, right after
        # the extensions are built: a disabled log makes it a NullHandler.
        crawler.settings.set("LOG_ENABLED", False, priority="cmdline")

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedLogHandler:
        return cls(crawler)


class QuietLibraries(logging.Filter):
    """Drops records of Scrapy's loggers below ``level``: its INFO lines
    (settings, versions, stats dumps) would bury the per-source lines."""

    def __init__(self, level: str) -> None:
        super().__init__()
        self.level = logging.getLevelName(level)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or not record.name.startswith("scrapy")
