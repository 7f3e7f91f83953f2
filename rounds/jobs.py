"""A ``[[schedule.jobs]]`` command line, run by the scheduler as a child
``presscut`` process.

The child gets the scheduler's environment with ``PRESSCUT_CONFIG_DIR`` set
to its configuration folder, and a session of its own.  Its output (standard
output and error together) is kept in a temporary file and the last
`OUTPUT_LINES` lines go into the log line that reports how it ended.  Asked
to stop, the scheduler lets it run for up to its stop timeout, then sends
SIGTERM to its process group, and SIGKILL 5 seconds later.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rounds.process import StopRequest

logger = logging.getLogger("presscut.scheduler")

#: Lines of a job's output kept in the log line that reports its end.
OUTPUT_LINES = 20
#: Seconds between SIGTERM and SIGKILL for a job still running at a stop.
KILL_AFTER_S = 5.0


def run_job(
    job_id: str, command: str, config_dir: Path, stop: StopRequest, stop_timeout: float
) -> int:
    """Run ``presscut <command>`` until it ends; its exit status (negative:
    the signal that ended it).  Logs one line with its output's tail."""
    # -P: the working directory (often holding a config/ folder) must not
    # shadow presscut's own packages.
    argv = [sys.executable, "-P", "-m", "cli.main", *shlex.split(command)]
    env = {**os.environ, "PRESSCUT_CONFIG_DIR": str(config_dir)}
    began = time.monotonic()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as output:
        proc = subprocess.Popen(
            argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        returncode = _wait(proc, stop, stop_timeout)
        output.seek(0)
        tail = output.read().splitlines()[-OUTPUT_LINES:]
    extra = {
        "job": job_id,
        "command": command,
        "returncode": returncode,
        "seconds": round(time.monotonic() - began, 1),
        "output": "\n".join(tail),
    }
    if returncode == 0:
        logger.info("job %s finished", job_id, extra=extra)
    else:
        logger.error("job %s failed with exit status %s", job_id, returncode, extra=extra)
    return returncode


def _wait(proc: subprocess.Popen[Any], stop: StopRequest, timeout: float) -> int:
    deadline: float | None = None
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return proc.wait(timeout=0.5)
        if stop.requested and deadline is None:
            deadline = time.monotonic() + timeout
        if deadline is not None and (stop.hurried or time.monotonic() >= deadline):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                return proc.wait(timeout=KILL_AFTER_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                return proc.wait()
