"""The sources page: each source's health (last success, last error,
failure score, next poll, fill rates, the entries whose article waits for
a retry and those given up (`storage.health.SourceHealth`: the counts
``presscut sources health`` prints), flags), and the switches to disable,
enable and poll it now."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from storage.health import CLIPPING_WINDOW_S, flags
from storage.review import ReviewError
from web.page import desk, message, render, user


async def sources_page(request: Request) -> Response:
    now = datetime.now(UTC)
    rows = request.app.state.store.source_health(now, CLIPPING_WINDOW_S)
    health = [
        (
            h,
            flags(
                h.failure_score,
                h.activity.last_new_at,
                h.longest_gap_s,
                h.fill_recent,
                h.fill_earlier,
                now,
            ),
        )
        for h in rows
    ]
    return render(request, "sources.html", health=health, paused=desk(request).paused_sources())


async def switch(request: Request) -> Response:
    source_id = str(request.path_params["id"])
    action = str(request.path_params["action"])
    name = user(request).name
    try:
        if action == "poll":
            desk(request).poll_now(source_id, name)
        elif action in ("disable", "enable"):
            desk(request).set_paused(source_id, action == "disable", name)
        else:
            return message(request, f"unknown action {action!r}", 404)
    except ReviewError as exc:
        return message(request, str(exc), 404)
    return RedirectResponse("/sources", status_code=303)


routes = [
    Route("/sources", sources_page, methods=["GET"]),
    Route("/sources/{id}/{action}", switch, methods=["POST"]),
]
