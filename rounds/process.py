"""A crawl round in a child process: how the scheduler runs every round.

Twisted's reactor runs once per process, so each round gets a fresh one.
That also keeps a long-lived scheduler's memory flat: whatever a round
allocates leaves with its process.  The child is ``python -m
rounds.child`` (see there), started with `subprocess` rather than
`multiprocessing`: it is born in a process group of its own with SIGTERM
and SIGINT blocked, then ignores them for good, so no stop meant for the
scheduler ever reaches it; it does not re-import the scheduler's main
module; and it needs no helper process.  It reads the `config.Config` to
crawl (pickled) on its standard input and writes a JSON report to the pipe
named by ``--report-fd``; its log goes to the standard error it shares with
the scheduler, in the same format.

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
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from config import Config
from rounds.child import STOPS
from rounds.report import STATUSES, RoundResult

logger = logging.getLogger("presscut.round")

#: How often (seconds) the parent looks at a stop request while it waits.
_POLL_S = 0.2


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
    started_at = datetime.now(UTC)
    began = time.monotonic()
    report_fd, child_fd = os.pipe()
    command = [
        sys.executable,
        "-P",  # not the working directory first on sys.path: it may hold a config/ folder
        "-m",
        "rounds.child",
        f"--report-fd={child_fd}",
        f"--log-format={log_format}",
        f"--log-level={log_level}",
    ]
    # The child inherits this thread's signal mask.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        child = subprocess.Popen(
            command, stdin=subprocess.PIPE, pass_fds=(child_fd,), start_new_session=True
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        os.close(child_fd)
    logger.info("round started", extra={"pid": child.pid})
    # Read while the child runs: a report larger than the pipe's buffer
    # would otherwise block it.
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(report_fd, chunks), daemon=True)
    reader.start()
    assert child.stdin is not None
    with contextlib.suppress(BrokenPipeError), child.stdin:  # died at once: a crash, below
        child.stdin.write(pickle.dumps(config))
    abandoned = _wait(child, stop, stop_timeout)
    reader.join(timeout=10)
    seconds = time.monotonic() - began
    report = _report(b"".join(chunks))
    if report is not None and not abandoned:
        return RoundResult(**report, seconds=seconds, exitcode=child.returncode)
    status, run_status = ("interrupted", "interrupted") if abandoned else ("crashed", "failed")
    reason = (
        "abandoned at stop"
        if abandoned
        else f"round process ended without a report (exit status {child.returncode})"
    )
    _abandon(config, run_status, reason, started_at)
    return RoundResult(status=status, seconds=seconds, exitcode=child.returncode)


def _wait(child: subprocess.Popen[bytes], stop: StopRequest, stop_timeout: float) -> bool:
    """Wait for ``child`` to end; once ``stop`` is requested, for
    ``stop_timeout`` seconds at most (none once hurried), then kill it.
    Whether it was killed (abandoned)."""
    deadline: float | None = None
    abandoned = False
    while child.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=_POLL_S)
        if stop.requested and deadline is None:
            deadline = time.monotonic() + stop_timeout
            logger.info("stop requested: letting the round finish", extra={"pid": child.pid})
        overdue = deadline is not None and (stop.hurried or time.monotonic() >= deadline)
        if overdue and child.poll() is None:
            # The whole group: the child and its extraction workers.
            os.killpg(child.pid, signal.SIGKILL)
            abandoned = True
    return abandoned


def _read_all(fd: int, chunks: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as pipe:
        chunks.append(pipe.read())


def _report(data: bytes) -> dict[str, Any] | None:
    try:
        report = json.loads(data)
    except ValueError:
        return None
    return report if isinstance(report, dict) and report.get("status") in STATUSES else None


def _abandon(config: Config, status: str, reason: str, started_at: datetime) -> None:
    from storage import open_store

    store = open_store(config.settings.database.url)
    try:
        store.abandon_runs(status, reason, started_after=started_at)
    except Exception as exc:  # the database may be what failed: say so, keep scheduling
        logger.warning("could not record the abandoned run: %s", str(exc).splitlines()[0])
    finally:
        store.close()


@contextlib.contextmanager
def handle_signals(stop: StopRequest, then: Callable[[], None] | None = None) -> Iterator[None]:
    """While inside, the first SIGTERM or SIGINT requests ``stop`` (and calls
    ``then``), a second one hurries it.  Main thread only."""

    def handler(signum: int, _frame: Any) -> None:
        if stop.requested:
            stop.hurry()
        else:
            stop.request()
        if then is not None:
            then()

    previous = {sig: signal.signal(sig, handler) for sig in STOPS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
