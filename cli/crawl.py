"""``presscut crawl``: one round over due (or named) sources."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from cli.database import DATABASE_UNAVAILABLE, open_command_store
from cli.options import ConfigDir, console, errors, load
from cli.terminal import Column, print_table
from storage.faults import database_name

if TYPE_CHECKING:
    from rounds.report import RoundResult


def crawl(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Crawl this source now, due or not (repeatable)."),
    ] = None,
    all_sources: Annotated[
        bool, typer.Option("--all", help="Crawl every enabled source now, due or not.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="Scrapy log level.")] = "WARNING",
    config_dir: ConfigDir = None,
) -> None:
    """Poll due sources, fetch new articles, store matching clippings.

    Exit status: 0 the round finished, 1 it failed (see the report), 2 a
    configuration error, 3 another round holds the database's round lock,
    4 the database cannot be used (one line says which and why)."""
    config = load(config_dir)
    known = {s.id for s in config.sources if s.enabled}
    unknown = sorted(set(source or []) - known)
    if unknown:
        errors.print(f"unknown or disabled source: {', '.join(unknown)}")
        raise typer.Exit(2)
    extensions = {"cli.progress.CrawlProgress": 500} if sys.stdout.isatty() else None
    # Scrapy and the crawler load only for a command that crawls.
    from rounds.round import run_round
    from storage.housekeeping import STALE_RUN_REASON

    # The same lock as scheduled rounds: a crawl by hand never polls a
    # source at the same time as `presscut run` does.
    with open_command_store(config, create=True) as store, store.round_lock() as held:
        if not held:
            errors.print(
                "another crawl round is running on this database "
                "(presscut run, or another presscut crawl): try again when it ends"
            )
            raise typer.Exit(3)
        # Holding the lock, no round runs: a run still "running" is one
        # whose process was killed.
        stale = store.abandon_runs("interrupted", STALE_RUN_REASON)
        if stale:
            errors.print(f"recorded {stale} unfinished crawl run(s) as abandoned")
        report = run_round(
            config,
            source_ids=source,
            force=all_sources,
            log_level=log_level,
            extensions=extensions,
            store=store,
        )
    if not report.summary and report.errors.get("database"):
        # Nothing was polled: the database failed as the round started.
        errors.print(
            f"database {database_name(config.settings.database.url)}: {report.errors['database']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(DATABASE_UNAVAILABLE)
    print_report(report)
    if report.status != "finished":
        raise typer.Exit(1)


def print_report(report: RoundResult) -> None:
    """A table per source: new, duplicate, off-topic, invalid, failed, and why.

    Sources with nothing to report (polled, nothing new, no error) are
    counted in one line instead of a row each: a round over hundreds of
    unchanged feeds stays readable (and quick to print)."""
    from scraper.items import ROUND_OUTCOMES as OUTCOMES

    columns = [Column("source", key=True)]
    columns += [Column(o.replace("_", "-"), justify="right") for o in OUTCOMES]
    columns.append(Column("error"))
    rows = []
    quiet = 0
    for source_id in sorted(report.summary):
        counts = report.summary[source_id]
        error = report.errors.get(source_id, "")
        if not error and not any(counts.get(o, 0) for o in OUTCOMES):
            quiet += 1
            continue
        rows.append((source_id, *(str(counts.get(o, 0)) for o in OUTCOMES), error))
    if not report.summary and not report.errors.get("database"):
        console.print("no source was due")
    elif rows:
        print_table(console, f"crawl run {report.run_id}: {report.status}", columns, rows)
    else:
        console.print(f"crawl run {report.run_id}: {report.status}")
    if quiet:
        console.print(f"{quiet} source(s) polled with nothing new")
    console.print(f"{report.new} new clipping(s) stored")
    for host, what in sorted(report.stopped.items()):
        console.print(f"host {host} stopped: {what}", highlight=False, markup=False)
    if report.errors.get("redis"):
        errors.print(f"redis error: {report.errors['redis']}", markup=False, highlight=False)
    if report.errors.get("database"):
        errors.print(f"database error: {report.errors['database']}")
    elif report.stats.get("store/failed_batches"):
        errors.print(
            "database error: some batches could not be written (see the log); "
            "their articles will be fetched again next round"
        )
