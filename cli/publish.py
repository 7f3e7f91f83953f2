"""The publishing commands: ``presscut post``, ``digest``, ``archive``,
``feed``, ``publish posts`` and ``publish wordpress`` (``export --format
wxr`` calls `write_wxr`).

Rendering commands write to ``-o FILE`` or standard output and only read,
except ``digest``, which records the digest it makes (``--preview`` does
not); the ``publish`` commands record what went out, so running them again
publishes nothing new.  Dates on the command line are ISO 8601 dates or
datetimes, read in the publication's time zone when they carry no offset.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cli.database import CommandStore, open_command_store
from cli.options import ConfigDir, console, errors, load
from config import Config
from digest.dates import parse_when, week_period
from digest.entries import single_post
from digest.feed import atom_feed
from digest.publisher import (
    PublishError,
    archive_posts,
    make_digest,
    posts_of,
    publish_posts,
    sweep_digest,
)
from digest.render import Renderer
from digest.wordpress import (
    PASSWORD_ENV,
    WordPressClient,
    WordPressError,
    publish_to_wordpress,
)
from digest.wxr import slug, wxr_document
from storage.models import storable_datetime


class Format(StrEnum):
    html = "html"
    md = "md"
    txt = "txt"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
FragmentOption = Annotated[
    bool, typer.Option("--fragment", help="HTML: the content alone, without the page around it.")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
]


def _open(config: Config) -> tuple[CommandStore, Renderer]:
    try:
        renderer = Renderer(config.settings, config.directory)
    except FileNotFoundError as exc:
        errors.print(f"configuration error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    return open_command_store(config, create=False), renderer


def _when(value: str | None, renderer: Renderer, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        return storable_datetime(parse_when(value, renderer.tz, what), what)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _cannot_write(output: Path, exc: OSError) -> NoReturn:
    message = f"error: cannot write {output}: {exc.strerror or exc}"
    errors.print(message, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(1) from None


def _prepare(output: Path | None) -> None:
    """Make sure ``-o FILE`` can be written: its folder is created when
    missing; a folder that cannot be made, or a FILE that is a folder, is a
    one-line error (exit 1) before anything is rendered or recorded."""
    if output is None:
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.is_dir():
            raise IsADirectoryError("it is a folder")
        if not os.access(output.parent, os.W_OK):
            raise PermissionError("its folder is not writable")
    except OSError as exc:
        _cannot_write(output, exc)


def _emit(text: str | bytes, output: Path | None) -> None:
    # A lone surrogate cannot be UTF-8: it becomes "?" rather than a crash.
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    _prepare(output)
    try:
        output.write_bytes(data)
    except OSError as exc:
        _cannot_write(output, exc)
    typer.echo(f"written to {output}", err=True)


def post(
    clipping_id: Annotated[int, typer.Argument(help="Clipping id.")],
    fmt: FormatOption = Format.html,
    fragment: FragmentOption = False,
    output: OutputOption = None,
    config_dir: ConfigDir = None,
) -> None:
    """Render one clipping's post (a preview until it is published)."""
    store, renderer = _open(load(config_dir))
    with store:
        clipping = store.get_clipping(clipping_id)
    if clipping is None:
        errors.print(f"error: no clipping with id {clipping_id}")
        raise typer.Exit(1)
    _emit(renderer.post(single_post(clipping_id, clipping), fmt.value, fragment), output)


def digest(
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2019-W38.")] = None,
    since: Annotated[str | None, typer.Option(help="Start of the period (date).")] = None,
    until: Annotated[str | None, typer.Option(help="End of the period, exclusive.")] = None,
    posted_at: Annotated[
        str | None, typer.Option("--posted-at", help="The digest's post date (default now).")
    ] = None,
    preview: Annotated[bool, typer.Option(help="Render without recording.")] = False,
    fmt: FormatOption = Format.html,
    fragment: FragmentOption = False,
    output: OutputOption = None,
    config_dir: ConfigDir = None,
) -> None:
    """Make (and record) a digest: by default of every approved story in no
    digest yet, whatever its article date; ``--week`` or ``--since/--until``
    take the stories dated in that period instead."""
    config = load(config_dir)
    _prepare(output)  # a -o that cannot be written records no digest
    store, renderer = _open(config)
    now = datetime.now(UTC)
    if week is not None and (since is not None or until is not None):
        raise typer.BadParameter("give --week or --since/--until, not both")
    start: datetime | None
    when_posted = _when(posted_at, renderer, "--posted-at") or now
    with store:
        if week is None and since is None and until is None:
            result, selection = sweep_digest(
                store,
                renderer,
                now=now,
                posted_at=when_posted,
                topic_order=list(config.topics),
                record=not preview,
            )
            typer.echo(selection.describe(renderer.tz), err=True)
            if result is None:
                return
        else:
            if week is not None:
                try:
                    start, end = week_period(
                        week, config.settings.publishing.week_ends_on, renderer.tz
                    )
                    start = storable_datetime(start, "--week")
                    end = storable_datetime(end, "--week")
                except OverflowError:
                    raise typer.BadParameter(f"--week: {week!r} is beyond the calendar") from None
                except ValueError as exc:
                    raise typer.BadParameter(str(exc)) from None
            else:
                start = _when(since, renderer, "--since") or store.last_digest_end()
                end = _when(until, renderer, "--until") or now
            result = make_digest(
                store,
                renderer,
                start=start,
                end=end,
                posted_at=when_posted,
                topic_order=list(config.topics),
                record=not preview,
            )
            if result is None:
                frm = start.isoformat() if start else "the beginning"
                console.print(f"nothing to digest from {frm} to {end.isoformat()}")
                return
        item = posts_of(store, [result.publication])[0]
    item = renderer.groups(item, list(config.topics))
    _emit(renderer.digest(item, fmt.value, fragment), output)
    state = "recorded" if result.created else "as recorded before" if not preview else "preview"
    typer.echo(f"digest {result.publication.id}: {item.title} ({state})", err=True)


def archive(
    since: Annotated[str | None, typer.Option(help="Only posts from this date.")] = None,
    fmt: FormatOption = Format.html,
    fragment: FragmentOption = False,
    output: OutputOption = None,
    config_dir: ConfigDir = None,
) -> None:
    """Render the published posts and digests, newest first."""
    store, renderer = _open(load(config_dir))
    with store:
        posts = archive_posts(store, _when(since, renderer, "--since"))
    _emit(renderer.archive(posts, fmt.value, fragment), output)


def feed(output: OutputOption = None, config_dir: ConfigDir = None) -> None:
    """Write the Atom feed of approved clippings."""
    store, renderer = _open(load(config_dir))
    with store:
        entries = store.cited_entries()
    _emit(atom_feed(renderer, entries), output)


def publish_posts_command(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Clipping ids (default: every approved story).")
    ] = None,
    posted_at: Annotated[
        str | None,
        typer.Option("--posted-at", help="Post date (default: the clipping's own, else now)."),
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Record approved stories as posted on the site (each story once)."""
    store, renderer = _open(load(config_dir))
    with store:
        try:
            done = publish_posts(
                store,
                datetime.now(UTC),
                ids or None,
                _when(posted_at, renderer, "--posted-at"),
            )
        except PublishError as exc:
            errors.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
    for clipping_id, clipping, when in done:
        line = f"posted {clipping_id} on {when.date()}: {clipping.headline}"
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print(f"{len(done)} post(s) published")


def publish_wordpress(
    site: Annotated[
        str | None, typer.Option(help="WordPress site URL (default: [wordpress] url).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="User (default: [wordpress] user).")] = None,
    draft: Annotated[bool, typer.Option(help="Create drafts instead of published posts.")] = False,
    digests: Annotated[bool, typer.Option(help="Copy the site's digests too.")] = True,
    config_dir: ConfigDir = None,
) -> None:
    """Create WordPress posts (REST API, application password) for what is not there yet."""
    config = load(config_dir)
    site = site or config.settings.wordpress.url
    user = user or config.settings.wordpress.user
    password = os.environ.get(PASSWORD_ENV, "")
    missing = [
        name
        for name, value in (("--site", site), ("--user", user), (PASSWORD_ENV, password))
        if not value
    ]
    if missing:
        errors.print(
            f"error: missing {', '.join(missing)}", highlight=False, markup=False, soft_wrap=True
        )
        raise typer.Exit(2)
    assert site and user
    store, renderer = _open(config)
    client = WordPressClient(site, user, password)
    with store:
        try:
            client.whoami()
            report = publish_to_wordpress(
                store,
                renderer,
                client,
                draft=draft,
                digests=digests,
                topic_order=list(config.topics),
            )
        except WordPressError as exc:
            errors.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
    for action, kind, title, remote_id in report.done:
        console.print(f"{action} {kind} {remote_id}: {title}", highlight=False)
    console.print(f"{len(report.done)} WordPress post(s) created or published")


def write_wxr(config: Config, output: Path | None) -> None:
    """``presscut export --format wxr``: the site's posts and digests as a
    WordPress import file."""
    store, renderer = _open(config)
    with store:
        posts = posts_of(store, store.publications()[::-1])
    author = config.settings.wordpress.user or slug(config.settings.publication.name)
    _emit(wxr_document(renderer, posts, author), output)
