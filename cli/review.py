"""The review commands: ``presscut queue``, ``approve``, ``reject``,
``edit``, ``show`` and ``cite``.

* ``queue`` lists undecided stories, one line per syndication cluster, with
  the other outlets that ran it; with ``--topic`` and/or ``--source`` (or
  ``--before``) it lists a page of undecided clippings instead, one line
  each, newest first, ``--limit`` (default 50) a page, and ends with the
  option that shows the next page;
* ``approve ID…`` / ``reject ID… --reason …`` decide; a published clipping
  is final, and an unknown id fails the whole command (nothing changes);
* ``edit ID`` changes headline, title, excerpt, outlet, credit; an excerpt
  must be a verbatim passage of the article's text (`scraper.excerpt`) and
  is stored in the article's own characters, unless ``--paraphrase`` says
  this edit's excerpt is a paraphrase (the flag does not stick); a published
  clipping is edited only with ``--correction``;
* ``show ID`` prints a clipping's fields and text;
* ``cite ID`` makes a clipping the one its cluster is cited by (default: the
  earliest approved copy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.database import CommandStore, open_command_store
from cli.options import ConfigDir, console, errors, load
from cli.terminal import print_line, print_text, printable
from scraper.excerpt import excerpt_problem, quote_passage
from scraper.items import Clipping
from storage.review import ReviewError

Ids = Annotated[list[int], typer.Argument(help="Clipping ids.", show_default=False)]


def _store(config_dir: ConfigDir) -> CommandStore:
    return open_command_store(load(config_dir), create=False)


def _fail(exc: Exception) -> typer.Exit:
    errors.print(f"error: {printable(exc)}", highlight=False, markup=False, soft_wrap=True)
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
        print_line(console, parts)


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
    if c.flags:
        parts.append(_needs_text(c))
    return parts


def _needs_text(c: Clipping) -> str:
    """``needs text (paywalled)``: the clipping waits for a curator's text
    (`scraper.items.TEXT_FLAGS`; ``edit ID --text-file F`` supplies it)."""
    return f"needs text ({', '.join(c.flags)})"


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
        print_line(console, _line(clipping_id, clipping))
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
            help="This edit's excerpt is a deliberate paraphrase (not checked against the "
            "text); applies to this edit only.",
        ),
    ] = None,
    via: Annotated[str | None, typer.Option(help='Relay credited as "<via> from <authors>".')] = (
        None
    ),
    author: Annotated[
        list[str] | None, typer.Option("--author", help="Author name (repeatable).")
    ] = None,
    outlet: Annotated[str | None, typer.Option(help="The outlet credited.")] = None,
    text_file: Annotated[
        Path | None,
        typer.Option(
            "--text-file",
            help="UTF-8 file with the article's text (one paragraph a line); clears the "
            "clipping's needs-text flags.",
        ),
    ] = None,
    correction: Annotated[
        bool,
        typer.Option(
            "--correction", help="Correct a published clipping (its post record follows)."
        ),
    ] = False,
    config_dir: ConfigDir = None,
) -> None:
    """Edit a clipping's headline, title, excerpt, outlet, credit or text.

    An excerpt is checked against the article's text (quotes, dashes and
    spaces may be typed plainly) and stored in the article's own characters,
    unless --paraphrase says this one is a paraphrase."""
    changes: dict[str, object] = {}
    for key, value in (("headline", headline), ("title", title), ("via", via)):
        if value is not None:
            changes[key] = " ".join(value.split()) or None
    if outlet is not None:
        changes["outlet"] = " ".join(outlet.split()) or None
    if author is not None:
        changes["authors"] = [a.strip() for a in author if a.strip()]
    if text_file is not None:
        changes["text"] = _text_from_file(text_file)
    with _store(config_dir) as store:
        current = store.get_clipping(clipping_id)
        if current is None:
            raise _fail(ReviewError(f"no clipping with id {clipping_id}"))
        if excerpt is not None or paraphrase is not None:
            changes.update(_excerpt_change(clipping_id, current, excerpt, bool(paraphrase)))
        if not changes:
            raise _fail(ReviewError("nothing to change: give --headline, --excerpt, …"))
        try:
            updated = store.edit_clipping(clipping_id, changes, correction=correction)
        except ReviewError as exc:
            raise _fail(exc) from None
    print_line(console, [f"edited {clipping_id}:", updated.headline or updated.title or ""])


def _text_from_file(path: Path) -> str:
    """The article text in ``path``, one paragraph a line; a one-line error
    naming the file when it cannot be read or holds no text."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(ReviewError(f"{path}: cannot read the text: {exc}")) from None
    lines = (" ".join(line.split()) for line in raw.splitlines())
    text = "\n".join(line for line in lines if line)
    if not text:
        raise _fail(ReviewError(f"{path}: the file holds no text"))
    return text


def _excerpt_change(
    clipping_id: int, current: Clipping, excerpt: str | None, paraphrase: bool
) -> dict[str, object]:
    """The excerpt fields an edit stores: a paraphrase as typed; anything
    else checked and quoted in the article's own characters."""
    typed = " ".join(excerpt.split()) if excerpt is not None else current.excerpt
    if typed is None:
        raise _fail(ReviewError(f"clipping {clipping_id} has no excerpt: give --excerpt"))
    if paraphrase:
        return {"excerpt": typed, "excerpt_paraphrased": True}
    passage = quote_passage(current.text, typed)
    if passage is None:
        problem = excerpt_problem(typed, current.text) or "not verbatim"
        raise _fail(
            ReviewError(
                f"clipping {clipping_id}: {problem}; correct it, or pass --paraphrase if it "
                "is a paraphrase on purpose"
            )
        )
    return {"excerpt": passage, "excerpt_paraphrased": False}


def show(
    clipping_id: Annotated[int, typer.Argument(help="Clipping id.")],
    config_dir: ConfigDir = None,
) -> None:
    """Print a clipping's fields and its article text (to choose an excerpt)."""
    with _store(config_dir) as store:
        c = store.get_clipping(clipping_id)
    if c is None:
        raise _fail(ReviewError(f"no clipping with id {clipping_id}"))
    fields = [
        ("id", clipping_id),
        ("status", c.status + (f" ({c.rejection_reason})" if c.rejection_reason else "")),
        ("headline", c.headline or ""),
        ("title", c.title or ""),
        ("outlet", c.outlet or ""),
        ("authors", ", ".join(c.authors)),
        ("via", c.via or ""),
        ("date", c.published_at.isoformat() if c.published_at else ""),
        ("url", c.url),
        ("source", c.source_id or ""),
        ("topics", ", ".join(c.topics)),
        ("excerpt", (c.excerpt or "") + (" (paraphrase)" if c.excerpt_paraphrased else "")),
        ("text", (c.text_from or "") + (f", {_needs_text(c)}" if c.flags else "")),
    ]
    for name, value in fields:
        print_line(console, [f"{name + ':':<10}", value], indent=12)
    console.print("")
    for paragraph in (c.text or "").split("\n"):
        if paragraph.strip():
            print_text(console, paragraph)


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
