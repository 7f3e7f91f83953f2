"""The one report of a crawl round, whoever ran it, and its log lines.

`RoundResult` is what `rounds.round.run_round` returns in-process (``presscut
crawl``, the demo, the tests) and what `rounds.process.run_round_process`
returns for a round in a child process (the scheduler), filled from the JSON
the child wrote.  `log_sources` writes one line per polled source,
`log_round` one line per round.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from config import Config
from scraper.items import ROUND_OUTCOMES
from storage import Store

logger = logging.getLogger("presscut.round")

#: Statuses of a `RoundResult`: a crawl run's (``finished``, ``failed``,
#: ``interrupted``), ``busy`` (another round held the lock, nothing done) or
#: ``crashed`` (the process died without reporting; its run is ``failed``).
STATUSES = ("finished", "failed", "interrupted", "busy", "crashed")

#: Fields a child process reports (the rest are measured by its parent).
REPORTED = (
    "status",
    "run_id",
    "summary",
    "errors",
    "stopped",
    "peak_rss_kib",
    "workers_peak_rss_kib",
)

#: Stats key prefix under which the politeness middleware reports a host it
#: stopped handing requests to (`scraper.round_budget`).
STOPPED_PREFIX = "politeness/round_stopped/"


@dataclass
class RoundResult:
    """What a round did.

    ``summary[source_id][outcome]`` counts what became of each polled
    source's entries (outcomes from `scraper.items.ROUND_OUTCOMES`);
    ``errors`` holds the first error per source (``"<kind>: <message>"``)
    and, under ``"database"``, a run that could not be recorded;
    ``stopped`` names each host the round stopped handing requests to (its
    round budget spent, or a Retry-After past its end), with how many
    requests it left for a later round, whose entries the sources count as
    ``pending``; ``stats`` are Scrapy's (in-process rounds only).  For a round in a child process,
    ``seconds`` and ``exitcode`` are measured by the parent and peak RSS
    figures are in KiB, as the kernel counted them, for the child and for
    the largest of its workers."""

    status: str
    run_id: int | None = None
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stopped: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    peak_rss_kib: int | None = None
    workers_peak_rss_kib: int | None = None
    exitcode: int | None = None

    @property
    def new(self) -> int:
        return sum(counts.get("new", 0) for counts in self.summary.values())

    @staticmethod
    def stopped_hosts(stats: dict[str, Any]) -> dict[str, str]:
        """``host -> what was left and why`` from a round's Scrapy stats."""
        return {
            key.removeprefix(STOPPED_PREFIX): str(value)
            for key, value in stats.items()
            if key.startswith(STOPPED_PREFIX)
        }

    def reported(self) -> dict[str, Any]:
        """The fields a child process writes for its parent (JSON-safe)."""
        values = asdict(self)
        return {key: values[key] for key in REPORTED}


def log_sources(config: Config, store: Store, result: RoundResult) -> None:
    """One log line per source polled in ``result``'s run, all with the keys
    ``source``, ``url`` and ``outcome``: ``failed`` (its own URL failed),
    ``partial`` (some articles failed), ``new`` (clippings stored) or
    ``nothing_new``; then one per host the round stopped (``outcome``
    ``stopped``, with ``host``)."""
    urls = {s.id: s.url for s in config.sources}
    summary, errors = result.summary, result.errors
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
                "run_id": result.run_id,
                **{
                    k: counts.get(k, 0)
                    for k in ("new", "duplicate", "off_topic", "failed", "pending")
                },
                "failure_score": state.failure_score if state else None,
                "next_due": state.next_due_at.isoformat() if state and state.next_due_at else None,
                "error": errors.get(source_id),
            },
        )

    for host, what in sorted(result.stopped.items()):
        logger.warning(
            "host stopped: %s",
            what,
            extra={"host": host, "run_id": result.run_id, "outcome": "stopped"},
        )


def log_round(result: RoundResult) -> None:
    """One line per round: status, run id, counts, time and peak memory."""
    level = logging.WARNING if result.status in ("failed", "crashed") else logging.INFO
    logging.getLogger("presscut.scheduler").log(
        level,
        "round %s",
        result.status,
        extra={
            "run_id": result.run_id,
            "status": result.status,
            "sources": len(result.summary),
            "new": result.new,
            "pending": sum(c.get("pending", 0) for c in result.summary.values()),
            "hosts_stopped": result.stopped or None,
            "seconds": round(result.seconds, 1),
            "peak_rss_mib": _mib(result.peak_rss_kib),
            "workers_peak_rss_mib": _mib(result.workers_peak_rss_kib),
        },
    )


def _mib(kib: int | None) -> float | None:
    return round(kib / 1024, 1) if kib else None


__all__ = ["ROUND_OUTCOMES", "STATUSES", "RoundResult", "log_round", "log_sources"]
