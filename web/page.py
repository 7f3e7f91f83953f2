"""What every desk page shares: rendering a template with the user, reading
the signed-in user, and answering a plain form post or an htmx request."""

from __future__ import annotations

from typing import Any

from markupsafe import escape
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from storage.desk_store import DeskStore
from storage.users import User


def desk(conn: HTTPConnection) -> DeskStore:
    """The app's `DeskStore` (a `Request` is an `HTTPConnection` too)."""
    return conn.app.state.desk  # type: ignore[no-any-return]


def user(request: Request) -> User:
    """The signed-in user (`web.auth.RequireLogin` has set it)."""
    return request.state.user  # type: ignore[no-any-return]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """``template`` rendered with ``context``, the request and the user."""
    templates = request.app.state.templates
    context.setdefault("user", getattr(request.state, "user", None))
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, template, context, status_code=status_code
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def back(request: Request, default: str) -> Response:
    """After a plain form post: back to the page it came from (same site only)."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    target = referer[len(base) - 1 :] if referer.startswith(base) else default
    return RedirectResponse(target or default, status_code=303)


def message(request: Request, text: str, status_code: int = 400) -> Response:
    """A one-line refusal: a fragment for htmx, a page otherwise."""
    if is_htmx(request):
        return HTMLResponse(
            f'<p class="error" role="alert">{escape(text)}</p>', status_code=status_code
        )
    return render(request, "message.html", status_code, text=text)


def form_int(value: Any) -> int | None:
    """``value`` as an int, ``None`` when it is not one."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
