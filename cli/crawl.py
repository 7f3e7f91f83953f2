"""``presscut crawl``: one round over due (or named) sources."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.options import ConfigDir, console, errors, load

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
    configuration error, 3 another round holds the database's round lock."""
    config = load(config_dir)
    known = {s.id for s in config.sources if s.enabled}
    unknown = sorted(set(source or []) - known)
    if unknown:
        errors.print(f"unknown or disabled source: {', '.join(unknown)}")
        raise typer.Exit(2)
    extensions = {"cli.progress.CrawlProgress": 500} if sys.stdout.isatty() else None
    # Scrapy and the crawler load only for a command that crawls.
    from sqlalchemy.exc import SQLAlchemyError

    from rounds.round import run_round
    from storage import open_store

    store = open_store(config.settings.database.url)
    try:
        # The same lock as scheduled rounds: a crawl by hand never polls a
        # source at the same time as `presscut run` does.  (The lock needs
        # no schema; the store is migrated once, then shared with the round.)
        with store.round_lock() as held:
            if not held:
                errors.print(
                    "another crawl round is running on this database "
                    "(presscut run, or another presscut crawl): try again when it ends"
                )
                raise typer.Exit(3)
            store.upgrade()
            report = run_round(
                config,
                source_ids=source,
                force=all_sources,
                log_level=log_level,
                extensions=extensions,
                store=store,
            )
    except SQLAlchemyError as exc:
        errors.print(f"database error: {exc}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    print_report(report)
    if report.status != "finished":
        raise typer.Exit(1)


def print_report(report: RoundResult) -> None:
    """A table per source: new, duplicate, off-topic, invalid, failed, and why.

    Sources with nothing to report (polled, nothing new, no error) are
    counted in one line instead of a row each: a round over hundreds of
    unchanged feeds stays readable (and quick to print)."""
    from scraper.items import ROUND_OUTCOMES as OUTCOMES

    table = Table(title=f"crawl run {report.run_id}: {report.status}")
    table.add_column("source")
    for outcome in OUTCOMES:
        table.add_column(outcome.replace("_", "-"), justify="right")
    table.add_column("error")
    quiet = 0
    for source_id in sorted(report.summary):
        counts = report.summary[source_id]
        error = report.errors.get(source_id, "")
        if not error and not any(counts.get(o, 0) for o in OUTCOMES):
            quiet += 1
            continue
        table.add_row(source_id, *(str(counts.get(o, 0)) for o in OUTCOMES), error)
    if not report.summary:
        console.print("no source was due")
    elif table.row_count:
        console.print(table)
    else:
        console.print(f"crawl run {report.run_id}: {report.status}")
    if quiet:
        console.print(f"{quiet} source(s) polled with nothing new")
    console.print(f"{report.new} new clipping(s) stored")
    if report.errors.get("database"):
        errors.print(f"database error: {report.errors['database']}")
    elif report.stats.get("store/failed_batches"):
        errors.print(
            "database error: some batches could not be written (see the log); "
            "their articles will be fetched again next round"
        )
