"""``presscut sources health``: how each source fares, with warning flags.

The figures come from `storage.health` (see its docstring for each one's
definition); this module only lays them out, as a table or as JSON.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, console, load
from cli.terminal import Column, print_table
from storage.health import FillRates, SourceHealth


def sources_health(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a table.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any source is flagged (for monitoring).")
    ] = False,
    config_dir: ConfigDir = None,
) -> None:
    """Per source: last success and error, failure score, next poll, clippings
    per week, how often title, author and date were found, articles waiting
    for a retry or given up, and flags."""
    config = load(config_dir)
    now = datetime.now(UTC)
    with open_command_store(config, create=False) as store:
        report = store.source_health(now, config.settings.polling.window)
    configured = {s.id: s for s in config.sources}
    if as_json:
        rows = [dataclasses.asdict(h) for h in report]
        print(json.dumps(rows, default=_iso, ensure_ascii=False, indent=2))
    else:
        print_health(report, configured, now)
    if strict and any(h.flags for h in report):
        raise typer.Exit(1)


def print_health(report: list[SourceHealth], configured: dict[str, Any], now: datetime) -> None:
    """One row per source; the current poll interval and the per-field fill
    rates are in ``--json``."""
    columns = [
        Column("source", key=True),
        Column("flags", key=True),
        Column("score", justify="right"),
        Column("last ok", justify="right"),
        Column("last error"),
        Column("next", justify="right"),
        Column("/week", justify="right"),
        Column("filled", justify="right"),
        Column("retry/gave up", justify="right"),
    ]
    rows = []
    for h in report:
        source = configured.get(h.source_id)
        name = h.source_id
        if source is None:
            name += " (not configured)"
        elif not source.enabled:
            name += " (disabled)"
        error = f"{h.last_error_kind} {_ago(h.last_error_at, now)}" if h.last_error_at else ""
        rows.append(
            (
                name,
                " ".join(h.flags).upper(),
                f"{h.failure_score:.1f}",
                _ago(h.last_success_at, now) if h.last_success_at else "never",
                error,
                _when(h.next_due_at, now),
                f"{h.clippings_per_week:.1f}" if h.clippings_per_week is not None else "",
                _fill(h.fill),
                f"{h.retrying}/{h.given_up}" if h.retrying or h.given_up else "",
            )
        )
    title = f"source health at {now:%Y-%m-%d %H:%M} UTC"
    print_table(console, title, columns, rows, styles=[None, "bold red"])


def _fill(fill: FillRates) -> str:
    """Share of the sample with title, author and date all filled."""
    if not fill.clippings:
        return ""
    return f"{round(100 * (fill.complete or 0))}%/{fill.clippings}"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.0f}{unit}" if value >= 10 else f"{value:.1f}{unit}"
    return f"{seconds:.0f}s"


def _ago(moment: datetime | None, now: datetime) -> str:
    """``3h ago`` as ``3h``: the column says "last"."""
    return _duration(max((now - moment).total_seconds(), 0)) if moment else ""


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None or moment <= now:
        return "due"
    return f"in {_duration((moment - now).total_seconds())}"


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
