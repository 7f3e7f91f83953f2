"""The queue page: one row per undecided story, filters, search, keyset
paging, and the approve / reject actions (one row or a selection).

An action answers an htmx request with the updated row(s), so the row
changes in place; a plain form post is redirected back to the queue.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from scraper.items import STATUSES
from storage.desk import FLAGS
from storage.review import ReviewError
from web.page import back, desk, form_int, is_htmx, message, render, user

#: Rows per queue page.
PAGE = 50


async def queue_page(request: Request) -> Response:
    params = request.query_params
    state = params.get("state") or "new"
    flag = params.get("flag") or None
    if state not in STATUSES or (flag is not None and flag not in FLAGS):
        return message(request, "unknown state or flag in the queue filter")
    filters = {
        "state": state,
        "topic": params.get("topic") or None,
        "source_id": params.get("source") or None,
        "flag": flag,
        "query": (params.get("q") or "").strip() or None,
        "before": form_int(params.get("before")),
        "limit": PAGE,
    }
    try:
        rows = desk(request).queue(**filters)
    except ReviewError as exc:
        return message(request, str(exc))
    config = request.app.state.config
    next_url = None
    if len(rows) == PAGE and not filters["query"]:
        next_url = "/queue?" + urlencode({**params, "before": rows[-1].id})
    return render(
        request,
        "queue.html",
        rows=rows,
        filters=filters,
        topics=list(config.topics),
        sources=[s.id for s in config.sources],
        states=STATUSES,
        flags=FLAGS,
        next_url=next_url,
    )


async def _rows_response(request: Request, ids: list[int]) -> Response:
    if not is_htmx(request):
        return back(request, "/queue")
    rows = sorted(desk(request).rows(ids), key=lambda r: ids.index(r.id))
    templates = request.app.state.templates
    html = "".join(
        templates.get_template("_row.html").render(row=row, request=request) for row in rows
    )
    return HTMLResponse(html)


async def approve(request: Request) -> Response:
    clipping_id = int(request.path_params["id"])
    try:
        desk(request).approve([clipping_id], user(request).name)
    except ReviewError as exc:
        return message(request, str(exc))
    return await _rows_response(request, [clipping_id])


async def reject(request: Request) -> Response:
    clipping_id = int(request.path_params["id"])
    form = await request.form()
    reason = str(form.get("reason", ""))
    try:
        desk(request).reject([clipping_id], reason, user(request).name)
    except ReviewError as exc:
        return message(request, f"clipping {clipping_id}: {exc}")
    return await _rows_response(request, [clipping_id])


async def bulk(request: Request) -> Response:
    form = await request.form()
    ids = [i for i in (form_int(v) for v in form.getlist("ids")) if i is not None]
    if not ids:
        return message(request, "select at least one story first")
    name = user(request).name
    try:
        if form.get("action") == "reject":
            desk(request).reject(ids, str(form.get("reason", "")), name)
        else:
            desk(request).approve(ids, name)
    except ReviewError as exc:
        return message(request, str(exc))
    return back(request, "/queue")


routes = [
    Route("/queue", queue_page, methods=["GET"]),
    Route("/queue/bulk", bulk, methods=["POST"]),
    Route("/queue/{id:int}/approve", approve, methods=["POST"]),
    Route("/queue/{id:int}/reject", reject, methods=["POST"]),
]
