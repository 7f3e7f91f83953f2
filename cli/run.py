"""``presscut run [--once]``: unattended operation (see ``scheduler.py``).

``presscut run`` schedules crawl rounds and the ``[[schedule.jobs]]`` until
SIGTERM or Ctrl-C; ``presscut run --once`` runs one round over the due
sources, for cron.  Both log to stderr, as text or JSON lines
(``--log-json`` / ``--log-text``, default ``[logging] format``), and exit 0
when stopped by a signal.  ``--once`` exits 1 when the round failed.
"""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, LogJson, errors, load, log_format
from config import Config
from rounds.logs import configure


def run(
    once: Annotated[
        bool, typer.Option("--once", help="One round over the due sources, then exit (cron).")
    ] = False,
    log_json: LogJson = None,
    config_dir: ConfigDir = None,
) -> None:
    """Crawl due sources on a schedule and run the scheduled jobs, unattended."""
    config = load(config_dir)
    check_jobs(config)
    settings = config.settings.logging
    fmt = log_format(config, log_json)
    configure(fmt, settings.level)
    # Create or migrate the database first: one it cannot reach or use ends
    # the command with one line and exit status 4, before anything starts.
    with open_command_store(config, create=True):
        pass
    # Imported here: the scheduler pulls in APScheduler, which the other
    # commands do without.
    import scheduler

    if once:
        result = scheduler.run_once(config, log_format=fmt, log_level=settings.level)
        if result.status in ("failed", "crashed"):
            raise typer.Exit(1)
        return
    scheduler.Scheduler(config, log_format=fmt, log_level=settings.level).run_forever()


def check_jobs(config: Config) -> None:
    """Exit 2 naming the job when a ``[[schedule.jobs]]`` command is not a
    presscut command."""
    from cli.main import app

    known = {c.name for c in app.registered_commands if c.name}
    known |= {g.name for g in app.registered_groups if g.name}
    for i, job in enumerate(config.settings.schedule.jobs):
        word = shlex.split(job.command)[0]
        if word not in known:
            errors.print(
                f"[bold red]configuration error[/]\n{config.directory / 'settings.toml'}: "
                f"schedule.jobs[{i}].command: unknown presscut command {word!r} "
                f"(known: {', '.join(sorted(known))})",
                highlight=False,
            )
            raise typer.Exit(2)
