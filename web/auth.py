"""Logging in and out, and the rule that every page asks for a session.

A session is the signed cookie of Starlette's `SessionMiddleware` holding
the user's name; each request reloads the account, so a disabled account
loses its sessions at once.  Failed logins are counted in storage
(`storage.users`): the fifth wrong password in a row locks the account for
a while, and the log says so.
"""

from __future__ import annotations

import logging

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from storage.users import LoginRefused
from web.page import desk, render

log = logging.getLogger("presscut.desk")

#: Paths open without a session.
PUBLIC = ("/login", "/static/")


class RequireLogin:
    """Redirects a request without a valid session to the login page (an
    htmx request gets 401 and an ``HX-Redirect`` there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PUBLIC):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        name = conn.session.get("user")
        account = desk(conn).user(name) if isinstance(name, str) else None
        if account is None or account.disabled:
            conn.session.clear()
            response: Response
            if conn.headers.get("hx-request") == "true":
                response = Response(status_code=401, headers={"HX-Redirect": "/login"})
            else:
                response = RedirectResponse("/login", status_code=303)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = account
        await self.app(scope, receive, send)


async def login_page(request: Request) -> Response:
    return render(request, "login.html", error=None, name="")


async def login(request: Request) -> Response:
    form = await request.form()
    name = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    try:
        account = desk(request).login(name, password)
    except LoginRefused as exc:
        if exc.locked:
            log.warning("desk: account %r locked after repeated wrong passwords", name)
        else:
            log.info("desk: login refused for %r", name)
        return render(request, "login.html", 401, error=str(exc), name=name)
    request.session.clear()
    request.session["user"] = account.name
    log.info("desk: %s logged in", account.name)
    return RedirectResponse("/queue", status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
