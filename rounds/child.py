"""The round's own process: ``python -m rounds.child``.

`rounds.process` starts it for every scheduled round (see there for
why a process per round, and how it is started and stopped).  It reads the
pickled `config.Config` to crawl on its standard input, runs
`rounds.round.run_round` (the function behind ``presscut crawl``), and
writes a JSON report (`rounds.report.RoundResult.reported`) to the
pipe named by ``--report-fd``.  Around the round it:

1. ignores SIGTERM and SIGINT for good (`RoundChild`): the scheduler alone
   decides whether a round finishes or is abandoned;
2. logs to standard error in the scheduler's format (`rounds.logs`), Scrapy's
   own lines below WARNING left out unless the level is DEBUG;
3. takes the round lock (`storage.locks`), or reports ``busy``;
4. records runs left ``running`` by a process that died as ``interrupted``
   (nothing holding the lock can still be running them);
5. after the round, logs one line per polled source
   (`rounds.report.log_sources`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import resource
import signal
import sys
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from config import Config
from storage.faults import fault_message

logger = logging.getLogger("presscut.round")

#: What a stop is signalled with; this process never takes them.
STOPS = (signal.SIGTERM, signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    """``python -m rounds.child --report-fd N [--log-format F]
    [--log-level L]``, the pickled `config.Config` on standard input."""
    parser = argparse.ArgumentParser(prog="python -m rounds.child")
    parser.add_argument("--report-fd", type=int, required=True)
    parser.add_argument("--log-format", default="text")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    # Blocked by the parent from the start; ignored from here on (a library
    # may unblock them: multiprocessing does), and again once Scrapy has
    # installed its own handlers (see RoundChild).
    ignore_stops()
    from rounds.logs import configure

    handler = configure(args.log_format, args.log_level)
    handler.addFilter(QuietLibraries(_scrapy_level(args.log_level)))
    config: Config | None = None
    try:
        config = pickle.load(sys.stdin.buffer)
        report = _crawl(config, args.log_level)
    except (SQLAlchemyError, OSError) as exc:
        # The database cannot be used (gone, corrupt, full, read-only): one
        # line says which and why; the scheduler tries again next round.
        url = config.settings.database.url if config is not None else ""
        logger.error("round failed: %s", fault_message(url, exc))
        report = {"status": "failed"}
    except Exception:
        logger.exception("round failed")
        report = {"status": "failed"}
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report.update(peak_rss_kib=own, workers_peak_rss_kib=workers or None)
    with os.fdopen(args.report_fd, "w", encoding="utf-8") as out:
        json.dump(report, out)
    return 0


def _scrapy_level(log_level: str) -> str:
    return "DEBUG" if log_level == "DEBUG" else "WARNING"


def _crawl(config: Config, log_level: str) -> dict[str, Any]:
    from rounds.report import log_sources
    from rounds.round import run_round
    from storage import open_store
    from storage.housekeeping import STALE_RUN_REASON

    store = open_store(config.settings.database.url)
    try:
        store.upgrade()  # once: the round uses this store as it is
        with store.round_lock() as held:
            if not held:
                logger.warning("another round holds the round lock: nothing to do")
                return {"status": "busy"}
            stale = store.abandon_runs("interrupted", STALE_RUN_REASON)
            if stale:
                logger.warning("recorded %d unfinished run(s) as interrupted", stale)
            extensions = {"rounds.child.RoundChild": 0}
            result = run_round(
                config, log_level=_scrapy_level(log_level), extensions=extensions, store=store
            )
            log_sources(config, store, result)
    finally:
        store.close()
    return result.reported()


class RoundChild:
    """Scrapy extension of the round's process: Scrapy's own root log
    handler becomes a no-op (its records reach the handler
    `rounds.logs.configure` installed, in its format, once), and SIGTERM and
    SIGINT stay ignored after Scrapy installs its shutdown handlers, whose
    graceful stop would record fetch state for feeds whose articles are
    still queued."""

    def __init__(self, crawler: Any) -> None:
        from twisted.internet import reactor

        # Read when the crawler (re)installs its root handler, right after
        # the extensions are built: a disabled log makes it a NullHandler.
        crawler.settings.set("LOG_ENABLED", False, priority="cmdline")
        # Scrapy installs its handlers once the reactor runs; this runs on
        # the reactor's first turn after that.
        reactor.callWhenRunning(reactor.callLater, 0, ignore_stops)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RoundChild:
        return cls(crawler)


def ignore_stops() -> None:
    """Ignore SIGTERM and SIGINT in this process (and in the processes it
    starts after this, which inherit it); a pending one is discarded."""
    for sig in STOPS:
        signal.signal(sig, signal.SIG_IGN)


class QuietLibraries(logging.Filter):
    """Drops records of Scrapy's loggers below ``level``: its INFO lines
    (settings, versions, stats dumps) would bury the per-source lines."""

    def __init__(self, level: str) -> None:
        super().__init__()
        self.level = logging.getLevelName(level)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or not record.name.startswith("scrapy")


if __name__ == "__main__":
    sys.exit(main())
