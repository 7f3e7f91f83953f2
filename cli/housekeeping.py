"""``presscut db prune``: keep the seen-entry log from growing for ever.

Deletes the log rows of entries that were off-topic or duplicates and were
first seen longer ago than ``--older-than``.  Clippings and the rows of
stored entries are never touched.  The default job of ``[schedule]`` runs
it nightly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, console, errors, load
from config.schema import Duration
from storage.housekeeping import PRUNABLE

#: Default age of the rows pruned: far longer than a feed keeps an item.
DEFAULT_AGE = "90d"


def db_prune(
    older_than: Annotated[
        str, typer.Option(help="Prune rows first seen longer ago than this (90s, 30m, 2h, 1d).")
    ] = DEFAULT_AGE,
    outcome: Annotated[
        list[str] | None,
        typer.Option(help=f"Outcome to prune (repeatable; default: {', '.join(PRUNABLE)})."),
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Delete old off-topic and duplicate rows from the seen-entry log."""
    config = load(config_dir)
    age = _seconds(older_than)
    window = config.settings.polling.window
    if age < window:
        errors.print(
            f"--older-than {older_than} is shorter than [polling] window ({window:.0f}s): "
            "the publishing rates of the adaptive poll intervals are counted from these rows"
        )
        raise typer.Exit(2)
    chosen = outcome or list(PRUNABLE)
    unknown = sorted(set(chosen) - set(PRUNABLE))
    if unknown:
        errors.print(f"cannot prune outcome(s) {', '.join(unknown)}: only {', '.join(PRUNABLE)}")
        raise typer.Exit(2)
    before = datetime.now(UTC) - timedelta(seconds=age)
    with open_command_store(config, create=False) as store:
        pruned = store.prune_entries(before, chosen)
    console.print(f"pruned {pruned} entr{'y' if pruned == 1 else 'ies'} seen before {before:%c}")


def _seconds(text: str) -> float:
    from pydantic import TypeAdapter, ValidationError

    try:
        return float(TypeAdapter(Duration).validate_python(text))
    except ValidationError:
        errors.print(f"--older-than {text!r}: must be a duration such as 90s, 30m, 2h or 1d")
        raise typer.Exit(2) from None
