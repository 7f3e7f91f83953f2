"""``presscut export``: stored clippings as JSON Lines or CSV.

A CSV cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@``, tab or carriage return first) is written with a leading ``'``
(`digest.text.spreadsheet_cell`); JSON Lines keeps every value as stored.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, errors, load
from digest.text import spreadsheet_cell
from scraper.items import STATUSES, Clipping

#: Columns of the CSV export, in order; JSON Lines carries every field.
CSV_COLUMNS = (
    "id", "url", "canonical_url", "title", "headline", "authors", "published_at", "outlet",
    "source_id", "language", "topics", "status", "cluster", "excerpt", "text",
)  # fmt: skip


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    wxr = "wxr"


def export_row(clipping_id: int, clipping: Clipping) -> dict[str, Any]:
    """One exported record: every clipping field plus ``id``."""
    return {"id": clipping_id, **clipping.to_dict()}


def write(rows: Any, fmt: Format, out: TextIO) -> int:
    count = 0
    if fmt is Format.csv:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
    for clipping_id, clipping in rows:
        row = export_row(clipping_id, clipping)
        if fmt is Format.jsonl:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            row["authors"] = "; ".join(row["authors"])
            row["topics"] = "; ".join(row["topics"])
            writer.writerow({key: spreadsheet_cell(value) for key, value in row.items()})
        count += 1
    return count


def export(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.jsonl,
    status: Annotated[
        str | None, typer.Option(help=f"Only clippings in this state: {', '.join(STATUSES)}.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Write stored clippings, one per line, oldest first (or, as wxr, the
    site's posts and digests as a WordPress import file)."""
    if fmt is Format.wxr:
        from cli.publish import write_wxr

        return write_wxr(load(config_dir), output)
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"must be one of {', '.join(STATUSES)}", param_hint="--status")
    config = load(config_dir)
    with open_command_store(config, create=False) as store:
        rows = store.iter_clippings(status=status)
        # A lone surrogate cannot be UTF-8: it is written as "?", not a crash.
        if output is None:
            if hasattr(sys.stdout, "reconfigure"):
                sys.stdout.reconfigure(errors="replace")
            write(rows, fmt, sys.stdout)
        else:
            try:
                count = _write_whole(output, lambda handle: write(rows, fmt, handle))
            except OSError as exc:
                errors.print(
                    f"{output}: cannot be written: {exc.strerror or exc}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
                raise typer.Exit(1) from None
            typer.echo(f"{count} clipping(s) written to {output}", err=True)


def _write_whole(output: Path, fill: Callable[[TextIO], int]) -> int:
    """Write ``output`` through ``fill`` all at once or not at all: into a
    temporary file beside it, renamed over it only when ``fill`` returns,
    so that a failure midway never leaves a partial export."""
    folder = output.parent if str(output.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=folder)
    try:
        # mkstemp makes the file private; an export gets the usual mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="") as handle:
            count = fill(handle)
        os.replace(temporary, output)
    except BaseException:
        os.unlink(temporary)
        raise
    return count
