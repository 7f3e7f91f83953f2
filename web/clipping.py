"""The clipping page: the text with topic terms marked, the editable fields
with their raw values and provenance, the excerpt editor, the syndication
cluster and the history.

Saving is refused, with the reason on the page and nothing stored, when the
excerpt is not verbatim (`web.verbatim`) or out of the configured word
range, when the date cannot be read, or when someone saved the clipping
since it was loaded (`storage.desk.StaleEdit` names them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scraper.items import Clipping
from storage.review import ReviewError
from web.article import article_html
from web.page import desk, form_int, message, render, user
from web.verbatim import ExcerptRefused, checked_excerpt, text_fragment


def _page(request: Request, clipping_id: int, status_code: int = 200, **extra: Any) -> Response:
    found = desk(request).clipping(clipping_id)
    if found is None:
        return message(request, f"no clipping with id {clipping_id}", 404)
    clipping, version = found
    members = desk(request).members(clipping.cluster) if clipping.cluster else []
    link = None
    if clipping.excerpt and not clipping.excerpt_paraphrased:
        link = clipping.url + text_fragment(clipping.excerpt)
    context: dict[str, Any] = {
        "id": clipping_id,
        "c": clipping,
        "version": version,
        "article": article_html(clipping.text, clipping.matched_terms),
        "others": [(i, m) for i, m in members if i != clipping_id],
        "history": desk(request).history(clipping_id, limit=50),
        "link": link,
        "error": None,
        "form": None,
    }
    context.update(extra)
    return render(request, "clipping.html", status_code, **context)


async def clipping_page(request: Request) -> Response:
    return _page(request, int(request.path_params["id"]))


def _changes(form: Any, excerpt_settings: Any, current: Clipping) -> dict[str, Any]:
    """The fields the form changes (an unchanged field keeps its provenance);
    `ReviewError` with the reason when the change is refused."""
    changes: dict[str, Any] = {}
    for key in ("title", "headline", "outlet"):
        value = " ".join(str(form.get(key, "")).split()) or None
        if key in form and value != getattr(current, key):
            changes[key] = value
    authors = [a.strip() for a in str(form.get("authors", "")).split(";") if a.strip()]
    if "authors" in form and authors != current.authors:
        changes["authors"] = authors
    date = str(form.get("date", "")).strip()
    if date and date != date_value(current.published_at):
        try:
            when = dateparser.isoparse(date)
        except ValueError:
            raise ReviewError(f"cannot read the date {date!r}: use YYYY-MM-DD") from None
        changes["published_at"] = when if when.tzinfo else when.replace(tzinfo=UTC)
    excerpt = " ".join(str(form.get("excerpt", "")).split())
    if "excerpt" in form and excerpt != " ".join((current.excerpt or "").split()):
        try:
            changes["excerpt"] = checked_excerpt(
                excerpt, current.text or "", excerpt_settings.min_words, excerpt_settings.max_words
            )
        except ExcerptRefused as exc:
            raise ReviewError(str(exc)) from None
        changes["excerpt_paraphrased"] = False
    return changes


async def save(request: Request) -> Response:
    clipping_id = int(request.path_params["id"])
    found = desk(request).clipping(clipping_id)
    if found is None:
        return message(request, f"no clipping with id {clipping_id}", 404)
    form = await request.form()
    version = form_int(form.get("version"))
    try:
        changes = _changes(form, request.app.state.config.settings.excerpt, found[0])
        if changes:
            desk(request).save(clipping_id, changes, version or 0, user(request).name)
    except ReviewError as exc:
        return _page(request, clipping_id, 409, error=str(exc), form=dict(form))
    return RedirectResponse(f"/clippings/{clipping_id}", status_code=303)


async def paste_text(request: Request) -> Response:
    clipping_id = int(request.path_params["id"])
    form = await request.form()
    text = "\n".join(line.strip() for line in str(form.get("text", "")).splitlines())
    if not text.strip():
        return _page(request, clipping_id, 400, error="the pasted text is empty")
    try:
        desk(request).paste_text(
            clipping_id, text.strip(), form_int(form.get("version")) or 0, user(request).name
        )
    except ReviewError as exc:
        return _page(request, clipping_id, 409, error=str(exc))
    return RedirectResponse(f"/clippings/{clipping_id}", status_code=303)


async def cite(request: Request) -> Response:
    clipping_id = int(request.path_params["id"])
    try:
        desk(request).cite(clipping_id, user(request).name)
    except ReviewError as exc:
        return _page(request, clipping_id, 409, error=str(exc))
    return RedirectResponse(f"/clippings/{clipping_id}", status_code=303)


def date_value(when: datetime | None) -> str:
    return when.date().isoformat() if when else ""


routes = [
    Route("/clippings/{id:int}", clipping_page, methods=["GET"]),
    Route("/clippings/{id:int}", save, methods=["POST"]),
    Route("/clippings/{id:int}/text", paste_text, methods=["POST"]),
    Route("/clippings/{id:int}/cite", cite, methods=["POST"]),
]
