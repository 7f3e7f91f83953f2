"""The audit log page (admins only): every approve, reject, edit, cite and
publish, with user and time, newest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.page import desk, message, render, user


async def audit_page(request: Request) -> Response:
    if not user(request).is_admin:
        return message(request, "the audit log is for admins", 403)
    return render(request, "audit.html", entries=desk(request).history(limit=500))


routes = [Route("/audit", audit_page, methods=["GET"])]
