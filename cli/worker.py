"""``presscut worker``: a crawl worker of a cluster, until SIGTERM or Ctrl-C.

Needs ``[cluster] redis_url`` (exit status 2 without it).  It takes the
requests the coordinator (``presscut crawl`` or ``presscut run``) enqueues,
and those they lead to, from the shared Redis frontier; fetches, extracts
and stores into the ``[database]`` every worker shares (`rounds.worker`).
Logs to stderr as ``presscut run`` does.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, LogJson, errors, load, log_format
from rounds.logs import configure


def worker(
    log_json: LogJson = None,
    log_level: Annotated[str, typer.Option(help="Scrapy log level.")] = "WARNING",
    config_dir: ConfigDir = None,
) -> None:
    """Crawl what the cluster's coordinator enqueues, until stopped."""
    config = load(config_dir)
    if not config.settings.cluster.redis_url:
        errors.print("presscut worker needs [cluster] redis_url in settings.toml", markup=False)
        raise typer.Exit(2)
    configure(log_format(config, log_json), config.settings.logging.level)
    # A database it cannot reach ends the command with one line, exit 4.
    with open_command_store(config, create=True):
        pass
    from rounds.worker import run_worker

    run_worker(config, log_level=log_level)
