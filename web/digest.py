"""The digest page: the period's approved stories in the site's own format
(the templates and publisher of ``presscut digest``), reordered or with one
dropped, previewed, then published.

The period runs from the end of the last digest to the moment the page was
opened (kept in the form, so the preview and the publication agree).
Publishing records the digest as ``presscut digest`` does
(`storage.Store.record_publication`): a story already in a digest is
refused there, so no clipping is ever in two digests.  Where a WordPress
site is configured (``[wordpress]`` and ``PRESSCUT_WORDPRESS_PASSWORD``),
what is not there yet is then copied to it, as ``presscut publish
wordpress`` does.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import nh3
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.publisher import make_digest, posts_of
from digest.selection import article_date, waiting
from digest.wordpress import PASSWORD_ENV, WordPressClient, WordPressError, publish_to_wordpress
from storage.publishing import SITE, AlreadyPublished, Publication
from web.page import desk, form_int, message, render, user

_TAGS = {"article", "section", "div", "h2", "h3", "h4", "p", "span", "a", "time", "em", "strong"}
_ATTRS = {"*": {"class"}, "a": {"href"}, "time": {"datetime"}}


def _period(values: Any) -> tuple[datetime | None, datetime]:
    """``since`` and ``until`` of the form or query (aware ISO 8601); a
    `ValueError` names a bad one."""
    out = []
    for key in ("since", "until"):
        raw = str(values.get(key) or "")
        try:
            when = datetime.fromisoformat(raw) if raw else None
        except ValueError:
            raise ValueError(f"{key}: {raw!r} is not an ISO 8601 date and time") from None
        if when is not None and when.tzinfo is None:
            raise ValueError(f"{key}: {raw!r} has no time zone")
        out.append(when)
    return out[0], out[1] or datetime.now(UTC)


def _preview(
    request: Request, start: datetime | None, end: datetime, order: list[int] | None
) -> tuple[list[int], list[int], Markup | None]:
    """``(candidates, chosen, html)``: the period's pending stories, those
    kept in ``order`` (all, in the configured order, when ``None``), and the
    digest rendered from them."""
    state = request.app.state
    now = datetime.now(UTC)
    result = make_digest(
        state.store,
        state.renderer,
        start=start,
        end=end,
        posted_at=now,
        topic_order=list(state.config.topics),
        record=False,
    )
    if result is None or result.publication.id != 0:
        return [], [], None
    candidates = list(result.publication.items)
    chosen = candidates if order is None else [i for i in order if i in candidates]
    if not chosen:
        return candidates, [], None
    pub = Publication(
        id=0,
        kind="digest",
        target=SITE,
        title=_title(request, chosen),
        posted_at=now,
        items=tuple(chosen),
        period_start=start,
        period_end=end,
    )
    post = state.renderer.groups(posts_of(state.store, [pub])[0], list(state.config.topics))
    html = state.renderer.digest(post, "html", fragment=True)
    safe = nh3.clean(html, tags=_TAGS, attributes=_ATTRS, link_rel="noopener nofollow")
    return candidates, chosen, Markup(safe)


def _order(form: Any) -> list[int]:
    """The ids kept, by the positions typed next to them."""
    kept: list[tuple[int, int, int]] = []
    for raw in form.getlist("ids"):
        clipping_id = form_int(raw)
        if clipping_id is None or form.get(f"drop-{clipping_id}"):
            continue
        position = form_int(form.get(f"pos-{clipping_id}")) or 0
        kept.append((position, len(kept), clipping_id))
    return [i for _, _, i in sorted(kept)]


async def digest_page(request: Request) -> Response:
    try:
        start, end = _period(request.query_params)
    except ValueError as exc:
        return message(request, str(exc))
    if "since" not in request.query_params and "until" not in request.query_params:
        # By default every approved story in no digest yet, whatever its
        # article date: one approved late for an earlier week included.
        selection = waiting(request.app.state.store)
        if selection.first is not None and selection.last is not None:
            start = selection.first
            end = max(end, selection.last + timedelta(seconds=1))
    return _show(request, start, end, None)


def _title(request: Request, chosen: list[int]) -> str:
    """The digest's title, named by the span of its stories' article dates."""
    state = request.app.state
    clippings = state.store.clippings_by_id(chosen)
    dates = [d for i in chosen if (d := article_date(clippings[i])) is not None]
    if not dates:
        return state.renderer.digest_title(datetime.now(UTC))
    return state.renderer.span_title(min(dates), max(dates))


def _show(
    request: Request,
    start: datetime | None,
    end: datetime,
    order: list[int] | None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    candidates, chosen, html = _preview(request, start, end, order)
    clippings = request.app.state.store.clippings_by_id(candidates)
    return render(
        request,
        "digest.html",
        status_code,
        start=start,
        end=end,
        items=[(i, clippings[i]) for i in chosen]
        + [(i, clippings[i]) for i in candidates if i not in chosen],
        chosen=set(chosen),
        preview=html,
        published=extra.get("published"),
        error=extra.get("error"),
    )


async def compose(request: Request) -> Response:
    form = await request.form()
    try:
        start, end = _period(form)
    except ValueError as exc:
        return message(request, str(exc))
    order = _order(form)
    if form.get("action") != "publish":
        return _show(request, start, end, order)
    _, chosen, _ = _preview(request, start, end, order)
    if not chosen:
        return _show(request, start, end, order, 400, error="nothing to publish: no story kept")
    state = request.app.state
    clippings = state.store.clippings_by_id(chosen)
    try:
        pub_id = state.store.record_publication(
            kind="digest",
            target=SITE,
            title=_title(request, chosen),
            posted_at=datetime.now(UTC),
            items=[(i, clippings[i].cluster or clippings[i].url_hash or "") for i in chosen],
            period=(start, end),
        )
    except AlreadyPublished as exc:
        return message(request, f"not published: {len(exc.clusters)} story(ies) already went out")
    desk(request).record(user(request).name, "publish", chosen, {"publication": pub_id})
    text = f"digest {pub_id} published{_to_wordpress(request)}"
    return render(request, "message.html", text=text, published=pub_id)


def _to_wordpress(request: Request) -> str:
    """Copy to the configured WordPress site what is not there yet, as
    ``presscut publish wordpress`` does; a note for the message ("" when no
    site is configured or its password is not in the environment)."""
    state = request.app.state
    settings = state.config.settings.wordpress
    password = os.environ.get(PASSWORD_ENV, "")
    if not (settings.url and settings.user and password):
        return ""
    client = WordPressClient(settings.url, settings.user, password)
    try:
        report = publish_to_wordpress(
            state.store, state.renderer, client, topic_order=list(state.config.topics)
        )
    except WordPressError as exc:
        return f"; the copy to WordPress failed ({exc}): run presscut publish wordpress"
    return f"; {len(report.done)} WordPress post(s) created"


routes = [
    Route("/digest", digest_page, methods=["GET"]),
    Route("/digest", compose, methods=["POST"]),
]
