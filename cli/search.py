"""``presscut search QUERY``: clippings whose title and text hold every
word of the query, best match first, one line each: id, article date,
outlet, title.  The query is read as a search box's: ``"sea wall"`` a
phrase, ``harb*`` a prefix, other operators plain words (see
`storage.search`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, console, load
from cli.terminal import print_line
from scraper.items import STATUSES


def search(
    query: Annotated[
        str,
        typer.Argument(
            help='Words to find, all of them; "a phrase" in quotes, a prefix with a final *.'
        ),
    ],
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 20,
    status: Annotated[
        str | None, typer.Option(help=f"Only clippings in this state ({', '.join(STATUSES)}).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only clippings of this source id.")] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Find clippings by words of their title and text, best match first."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"--status must be one of {', '.join(STATUSES)}")
    config = load(config_dir)
    with open_command_store(config, create=False) as store:
        hits = store.search(query, limit, status, source)
    console.print(f"{len(hits)} clipping(s) found", highlight=False)
    for hit in hits:
        c = hit.clipping
        day = c.published_at.date().isoformat() if c.published_at else "----------"
        print_line(console, [f"{hit.id:>6}", day, c.outlet or "?", c.title or c.headline or c.url])
