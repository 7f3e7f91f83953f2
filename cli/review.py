"""The review commands: ``presscut queue``, ``approve``, ``reject``,
``edit`` and ``cite`` (until the web UI exists).

* ``queue`` lists undecided stories, one line per syndication cluster, with
  the other outlets that ran it; with ``--topic`` and/or ``--source`` (or
  ``--before``) it lists a page of undecided clippings instead, one line
  each, newest first, ``--limit`` (default 50) a page, and ends with the
  option that shows the next page;
* ``approve ID…`` / ``reject ID… --reason …`` decide; a published clipping
  is final, and an unknown id fails the whole command (nothing changes);
* ``edit ID`` changes headline, title, excerpt, credit; an excerpt must be a
  verbatim passage of the article's text (`scraper.excerpt.is_verbatim`)
  unless ``--paraphrase`` says it is a paraphrase on purpose;
* ``cite ID`` makes a clipping the one its cluster is cited by (default: the
  earliest approved copy).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.database import CommandStore, open_command_store
from cli.options import ConfigDir, console, errors, load
from scraper.excerpt import is_verbatim
from scraper.items import Clipping
from storage.review import ReviewError

Ids = Annotated[list[int], typer.Argument(help="Clipping ids.", show_default=False)]


def _store(config_dir: ConfigDir) -> CommandStore:
    return open_command_store(load(config_dir), create=False)


def _fail(exc: Exception) -> typer.Exit:
    errors.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(1)


def queue(
    limit: Annotated[int | None, typer.Option(help="Show at most this many.")] = None,
    topic: Annotated[
        str | None, typer.Option(help="Only clippings of this topic (newest first, paged).")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Only clippings of this source id (newest first, paged).")
    ] = None,
    before: Annotated[
        int | None, typer.Option(help="Page on from this clipping id (newest first, paged).")
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """List new clippings awaiting review: one per story, oldest first; with
    --topic/--source, a page of clippings, newest first."""
    if topic is not None or source is not None or before is not None:
        _queue_page(topic, source, before, PAGE if limit is None else limit, config_dir)
        return
    with _store(config_dir) as store:
        entries = store.review_queue(limit)
    console.print(f"{len(entries)} story(ies) to review")
    for item in entries:
        parts = _line(item.id, item.clipping)
        if item.also:
            parts.append("also: " + ", ".join(f"{outlet or '?'} ({i})" for i, outlet in item.also))
        # One line per story, never wrapped: easy to read and to grep.
        console.print("  ".join(parts), markup=False, highlight=False, soft_wrap=True)


#: Clippings per page of ``queue --topic/--source``.
PAGE = 50


def _line(clipping_id: int, c: Clipping) -> list[str]:
    parts = [
        f"{clipping_id:>6}",
        c.published_at.date().isoformat() if c.published_at else "----------",
        c.outlet or "?",
        c.headline or c.title or c.url,
    ]
    if c.topics:
        parts.append(f"[{', '.join(c.topics)}]")
    return parts


def _queue_page(
    topic: str | None, source: str | None, before: int | None, limit: int, config_dir: ConfigDir
) -> None:
    with _store(config_dir) as store:
        try:
            rows = store.review_queue_page(topic, source, limit, before)
        except ReviewError as exc:
            raise _fail(exc) from None
    console.print(f"{len(rows)} clipping(s) to review, newest first")
    for clipping_id, clipping in rows:
        console.print(
            "  ".join(_line(clipping_id, clipping)), markup=False, highlight=False, soft_wrap=True
        )
    if len(rows) == limit:
        console.print(f"next page: --before {rows[-1][0]}", markup=False, highlight=False)


def approve(ids: Ids, config_dir: ConfigDir = None) -> None:
    """Approve clippings for publishing."""
    with _store(config_dir) as store:
        try:
            done = store.approve(ids)
        except ReviewError as exc:
            raise _fail(exc) from None
    console.print(f"approved: {', '.join(map(str, done))}")


def reject(
    ids: Ids,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (kept with the clipping).")],
    config_dir: ConfigDir = None,
) -> None:
    """Reject clippings; they never return to the queue."""
    with _store(config_dir) as store:
        try:
            done = store.reject(ids, reason)
        except ReviewError as exc:
            raise _fail(exc) from None
    console.print(f"rejected: {', '.join(map(str, done))}")


def edit(
    clipping_id: Annotated[int, typer.Argument(help="Clipping id.")],
    headline: Annotated[str | None, typer.Option(help="The post's headline.")] = None,
    title: Annotated[str | None, typer.Option(help="The article's own title.")] = None,
    excerpt: Annotated[str | None, typer.Option(help="Passage quoted from the article.")] = None,
    paraphrase: Annotated[
        bool | None,
        typer.Option(
            "--paraphrase/--verbatim",
            help="The excerpt is a deliberate paraphrase (not checked against the text).",
        ),
    ] = None,
    via: Annotated[str | None, typer.Option(help='Relay credited as "<via> from <authors>".')] = (
        None
    ),
    author: Annotated[
        list[str] | None, typer.Option("--author", help="Author name (repeatable).")
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Edit a clipping's headline, title, excerpt or credit."""
    changes: dict[str, object] = {}
    for key, value in (("headline", headline), ("title", title), ("via", via)):
        if value is not None:
            changes[key] = " ".join(value.split()) or None
    if author is not None:
        changes["authors"] = [a.strip() for a in author if a.strip()]
    if paraphrase is not None:
        changes["excerpt_paraphrased"] = paraphrase
    with _store(config_dir) as store:
        current = store.get_clipping(clipping_id)
        if current is None:
            raise _fail(ReviewError(f"no clipping with id {clipping_id}"))
        if excerpt is not None:
            changes["excerpt"] = " ".join(excerpt.split())
        new_excerpt = changes.get("excerpt", current.excerpt)
        paraphrased = changes.get("excerpt_paraphrased", current.excerpt_paraphrased)
        if (
            isinstance(new_excerpt, str)
            and not paraphrased
            and not is_verbatim(new_excerpt, current.text)
        ):
            raise _fail(
                ReviewError(
                    f"clipping {clipping_id}: the excerpt is not a verbatim passage of the "
                    "article's text; correct it, or pass --paraphrase if it is a paraphrase "
                    "on purpose"
                )
            )
        if not changes:
            raise _fail(ReviewError("nothing to change: give --headline, --excerpt, …"))
        updated = store.edit_clipping(clipping_id, changes)
    console.print(f"edited {clipping_id}: {updated.headline}", highlight=False)


def cite(
    clipping_id: Annotated[int, typer.Argument(help="Clipping id.")],
    config_dir: ConfigDir = None,
) -> None:
    """Cite this clipping's outlet for its syndicated story (approves it if new)."""
    with _store(config_dir) as store:
        try:
            cluster = store.cite(clipping_id)
        except ReviewError as exc:
            raise _fail(exc) from None
    console.print(f"cluster {cluster} is cited by clipping {clipping_id}")
