"""presscut's scheduler: decides *when* to crawl, never *how*.

`Scheduler` runs APScheduler 3 (a ``BackgroundScheduler``, clock in UTC)
with its jobs kept in the project database by APScheduler's
``SQLAlchemyJobStore``, in a table of its own, `JOBS_TABLE`, which
APScheduler creates and owns (it is not one of presscut's migrations).  Jobs:

* ``crawl``, every ``[schedule] tick``: one crawl round over every source
  that is due, in a child process (`rounds.process`); how each
  source is crawled and when it is due is the round's business;
* one job per ``[[schedule.jobs]]`` entry: a presscut command line
  (``db prune``, a digest, ...) on a cron schedule, run as ``python -m
  cli.main ...`` with the same configuration folder.

Every job has ``max_instances=1`` and ``coalesce=True``: a tick that comes
while a round still runs is skipped, not queued, and the ticks missed while
presscut was down (the store keeps each job's next run time) coalesce into
one catch-up run at start-up.  A missed crawl tick is at most one tick old
once coalesced, so its grace (``max(tick, misfire_grace)``) always lets the
catch-up run; a cron job missed by more than its ``misfire_grace`` waits
for its next time.  At start-up the stored jobs are matched to the
configuration: an unchanged job keeps its next run time, a changed one is
replaced, a removed one deleted.  ``sources.toml`` and the rest of the
configuration are read again before every round; ``[schedule]`` is read at
start-up only.

Stopping (SIGTERM or SIGINT to `Scheduler.run_forever` or `run_once`): no
new job starts; a running round may finish within ``[schedule]
stop_timeout``, then it is abandoned (see `rounds.process`) and its
run recorded as ``interrupted``; a running command gets the same time, then
SIGTERM.  A second signal abandons at once.  Either way the process exits 0.
"""

# Longer than ~300 lines on purpose: APScheduler's set-up, the job store
# reconciliation and stopping are one subject, *when* to run; how a round
# runs is in rounds/.

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config import Config, ConfigError, load_config
from rounds.jobs import run_job
from rounds.process import StopRequest, handle_signals, run_round_process
from rounds.report import RoundResult, log_round
from storage.engine import WRITE, make_engine

logger = logging.getLogger("presscut.scheduler")

#: APScheduler's table in the project database.
JOBS_TABLE = "scheduler_jobs"
#: Id of the crawl tick's job; ``[[schedule.jobs]]`` ids may not take it.
CRAWL_JOB = "crawl"

#: Runs one round: ``(config, stop) -> RoundResult`` (a test swaps it).
RoundRunner = Callable[[Config, StopRequest], RoundResult]

_active: Scheduler | None = None


def crawl_job() -> None:
    """The ``crawl`` job: one round, by the running `Scheduler`."""
    _running().crawl()


def command_job(job_id: str, command: str) -> None:
    """A ``[[schedule.jobs]]`` job: run ``presscut <command>``."""
    _running().run_command(job_id, command)


def _running() -> Scheduler:
    if _active is None:
        raise RuntimeError("no presscut scheduler is running in this process")
    return _active


@dataclass(frozen=True)
class JobSpec:
    """A job as the configuration wants it."""

    id: str
    func: Callable[..., None]
    args: tuple[str, ...]
    trigger: BaseTrigger
    misfire_grace_s: int

    def signature(self) -> tuple[Any, ...]:
        return _signature(f"{__name__}:{self.func.__name__}", self.args, self.trigger)


def _signature(func_ref: str, args: Any, trigger: BaseTrigger) -> tuple[Any, ...]:
    return (func_ref, tuple(args), str(trigger), str(getattr(trigger, "timezone", "")))


def job_specs(config: Config) -> list[JobSpec]:
    """The jobs ``[schedule]`` asks for, the crawl tick first."""
    schedule = config.settings.schedule
    specs = [
        JobSpec(
            id=CRAWL_JOB,
            func=crawl_job,
            args=(),
            trigger=IntervalTrigger(seconds=schedule.tick, timezone=UTC),
            misfire_grace_s=_whole_seconds(max(schedule.tick, schedule.misfire_grace)),
        )
    ]
    for job in schedule.jobs:
        specs.append(
            JobSpec(
                id=job.id,
                func=command_job,
                args=(job.id, job.command),
                trigger=CronTrigger.from_crontab(job.cron, timezone=schedule.timezone),
                misfire_grace_s=_whole_seconds(job.misfire_grace or schedule.misfire_grace),
            )
        )
    return specs


class Scheduler:
    """The scheduler of one configuration; one may run per process at a time.

    ``run_round`` runs a round (default: `run_round_process`); ``on_round``
    is called with each round's result, in the job's thread.  ``reload``
    reads the configuration folder again before each round."""

    def __init__(
        self,
        config: Config,
        *,
        run_round: RoundRunner | None = None,
        on_round: Callable[[RoundResult], None] | None = None,
        log_format: str = "text",
        log_level: str = "INFO",
        reload: bool = True,
    ) -> None:
        self.config = config
        self.stop_request = StopRequest()
        self._run_round = run_round or self._round_process
        self._on_round = on_round
        self._log = (log_format, log_level)
        self._reload = reload
        self._stopped = threading.Event()
        self._aps: BackgroundScheduler | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Open the job store, match its jobs to the configuration and start."""
        global _active
        if _active is not None:
            raise RuntimeError("a presscut scheduler is already running in this process")
        specs = job_specs(self.config)
        engine = make_engine(self.config.settings.database.url).execution_options(**WRITE)
        aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
            executors={"default": ThreadPoolExecutor(max_workers=len(specs))},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        aps.add_listener(_job_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        _active, self._aps = self, aps
        try:
            aps.start(paused=True)
            self._sync_jobs(aps, specs)
            aps.resume()
        except BaseException:
            self.stop()
            raise
        for job in aps.get_jobs():
            logger.info(
                "job %s scheduled", job.id, extra={"job": job.id, "next_run": job.next_run_time}
            )

    def stop(self) -> None:
        """Start no new job, let running ones end (see the module docstring)
        and shut down.  Idempotent."""
        global _active
        self.stop_request.request()
        self._stopped.set()
        if self._aps is not None and self._aps.running:
            # Detach the store first: APScheduler 3 looks for due jobs once
            # more while shutting down and would mark them run, unrun.
            self._aps.pause()
            self._aps.remove_jobstore("default", shutdown=True)
            self._aps.shutdown(wait=True)
        if _active is self:
            _active = None

    def run_forever(self) -> None:
        """Start and run until SIGTERM or SIGINT, then stop cleanly."""
        with handle_signals(self.stop_request, self._stopped.set):
            self.start()
            logger.info("scheduler running", extra={"tick_s": self.config.settings.schedule.tick})
            while not self._stopped.wait(0.5):
                pass
            logger.info("stopping")
            self.stop()
        logger.info("scheduler stopped")

    def jobs(self) -> list[Any]:
        """The scheduled APScheduler jobs (``id``, ``next_run_time``, ...)."""
        return self._aps.get_jobs() if self._aps is not None else []

    def _sync_jobs(self, aps: BackgroundScheduler, specs: list[JobSpec]) -> None:
        stored = {job.id: job for job in aps.get_jobs()}
        for spec in specs:
            old = stored.pop(spec.id, None)
            if old is not None and _signature(old.func_ref, old.args, old.trigger) == (
                spec.signature()
            ):
                # Kept with its next run time: what was missed coalesces into one run.
                if old.misfire_grace_time != spec.misfire_grace_s:
                    old.modify(misfire_grace_time=spec.misfire_grace_s)
                continue
            extra = {"next_run_time": datetime.now(UTC)} if spec.id == CRAWL_JOB else {}
            aps.add_job(
                spec.func,
                spec.trigger,
                args=spec.args,
                id=spec.id,
                name=spec.id,
                replace_existing=True,
                misfire_grace_time=spec.misfire_grace_s,
                **extra,
            )
        for job_id in stored:
            aps.remove_job(job_id)

    # -- jobs ------------------------------------------------------------------------

    def crawl(self) -> RoundResult | None:
        """One round over the due sources (``None`` once stopping)."""
        if self.stop_request.requested:
            return None
        result = self._run_round(self._current_config(), self.stop_request)
        log_round(result)
        if self._on_round is not None:
            self._on_round(result)
        return result

    def run_command(self, job_id: str, command: str) -> int | None:
        """Run ``presscut <command>`` (see `rounds.jobs`); its exit status
        (``None`` once stopping)."""
        if self.stop_request.requested:
            return None
        timeout = self.config.settings.schedule.stop_timeout
        return run_job(job_id, command, self.config.directory, self.stop_request, timeout)

    def _current_config(self) -> Config:
        if self._reload:
            try:
                self.config = load_config(self.config.directory)
            except ConfigError as exc:
                logger.error("configuration unreadable, the last good one is used:\n%s", exc)
        return self.config

    def _round_process(self, config: Config, stop: StopRequest) -> RoundResult:
        fmt, level = self._log
        timeout = config.settings.schedule.stop_timeout
        return run_round_process(
            config, stop, stop_timeout=timeout, log_format=fmt, log_level=level
        )


def run_once(
    config: Config,
    *,
    run_round: RoundRunner | None = None,
    log_format: str = "text",
    log_level: str = "INFO",
) -> RoundResult:
    """One round now, as the ``crawl`` job runs it (for cron), stopping
    cleanly on SIGTERM or SIGINT."""
    stop = StopRequest()
    timeout = config.settings.schedule.stop_timeout
    with handle_signals(stop):
        if run_round is not None:
            result = run_round(config, stop)
        else:
            result = run_round_process(
                config, stop, stop_timeout=timeout, log_format=log_format, log_level=log_level
            )
    log_round(result)
    return result


def _job_event(event: Any) -> None:
    # APScheduler's own lines say the same without the context keys; its
    # tracebacks of failed jobs (ERROR) stay on.
    if event.code == EVENT_JOB_MAX_INSTANCES:
        logger.warning(
            "job %s skipped: its previous run is still going",
            event.job_id,
            extra={"job": event.job_id},
        )
    else:
        logger.warning(
            "job %s missed its run at %s (beyond its misfire grace)",
            event.job_id,
            event.scheduled_run_time,
            extra={"job": event.job_id},
        )


def _whole_seconds(seconds: float) -> int:
    # APScheduler takes a misfire grace in whole seconds, at least one.
    return max(1, math.ceil(seconds))
