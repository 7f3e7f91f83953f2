"""The desk's ASGI application: routes, middleware and shared state.

Layers, outermost first: `SecurityHeaders` (CSP without inline scripts,
``X-Frame-Options: DENY``, no sniffing), asgi-csrf (every POST carries the
token of the signed ``csrftoken`` cookie, else 403), Starlette's signed
session cookie (HttpOnly, SameSite=Lax, Secure when ``https``), then
`web.auth.RequireLogin` (every page but the login page and static files
asks for a session).  Pages read and write through `storage.desk_store`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Config
from digest.render import Renderer
from storage import Store
from storage.desk_store import DeskStore
from web import audit, auth, clipping, digest, queue, sources
from web.article import safe_href

HERE = Path(__file__).resolve().parent
#: A session lasts a working week, then the curator logs in again.
SESSION_MAX_AGE = 7 * 86_400

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
            await send(message)

        await self.app(scope, receive, wrapped if scope["type"] == "http" else send)


def _csrf(request: Request) -> str:
    return str(request.scope["csrftoken"]())


def _home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


def create_app(config: Config, store: Store, https: bool = False) -> ASGIApp:
    """The desk on ``store`` with ``config``'s settings; ``https`` marks
    cookies Secure.  The store stays open for the app's life."""
    desk = DeskStore(store)
    secret = desk.session_secret()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(csrf=_csrf, safe_href=safe_href)
    routes = [
        Route("/", _home),
        *auth.routes,
        *queue.routes,
        *clipping.routes,
        *sources.routes,
        *digest.routes,
        *audit.routes,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="presscut_session",
                max_age=SESSION_MAX_AGE,
                same_site="lax",
                https_only=https,
            ),
            Middleware(auth.RequireLogin),
        ],
    )
    state: Any = app.state
    state.desk = desk
    state.store = store
    state.config = config
    state.renderer = Renderer(config.settings, config.directory)
    state.templates = templates
    protected = asgi_csrf(
        app,
        signing_secret=secret,
        always_protect={"/login"},
        cookie_secure=https,
    )
    return SecurityHeaders(protected)
