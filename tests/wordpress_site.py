"""WordPress sites on loopback for the publisher's tests.

`FakeWordPress` follows WordPress's documented REST contract
(developer.wordpress.org/rest-api/reference/) for what presscut uses:
``/wp-json/wp/v2/users/me``, ``/posts`` (create, update by id, list),
``/categories`` and ``/tags`` (search, create, ``term_exists``), Basic
authentication with an application password, errors as ``{"code",
"message", "data": {"status"}}`` with WordPress's own codes.  Every request
is logged in ``requests`` as ``(method, path, json body)``.

`real_wordpress` runs the real thing when the machine has it: Debian's
``wordpress`` package (/usr/share/wordpress), PHP's built-in web server and
MariaDB at 127.0.0.1:3306 (root, no password; ``PRESSCUT_TEST_MARIADB_*``
override).  The site is laid out in a temporary folder (the PHP entry
files copied, the code folders linked, our own ``wp-config.php``), installed
into a fresh database, given a user and an application password.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

WORDPRESS_ROOT = Path("/usr/share/wordpress")
#: wp-config.php (a template), install.php and router.php of the real site.
PHP = Path(__file__).resolve().parent / "fixtures" / "wordpress"
USER = "editor"
PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"


class FakeWordPress:
    """A WordPress REST API double on 127.0.0.1 (see the module docstring)."""

    def __init__(self, clock: str = "2019-09-22T10:00:00") -> None:
        self.clock = clock
        self.requests: list[tuple[str, str, Any]] = []
        self.posts: dict[int, dict[str, Any]] = {}
        self.terms: dict[str, dict[int, dict[str, Any]]] = {"categories": {}, "tags": {}}
        self._ids = iter(range(101, 10_000))
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeWordPress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def creates(self) -> list[Any]:
        return [
            body for method, path, body in self.requests if (method, path) == ("POST", "/posts")
        ]

    # -- the API ---------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, str], body: Any, auth: str | None):
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if auth is not None and auth != expected:
            return 401, _error(
                "incorrect_password",
                "The provided password is an invalid application password.",
                401,
            )
        if auth is None:
            return 401, _error("rest_not_logged_in", "You are not currently logged in.", 401)
        if path == "/users/me":
            return 200, {"id": 1, "name": USER, "slug": USER}
        if match := re.fullmatch(r"/(categories|tags)", path):
            return self._terms(match.group(1), method, query, body)
        if path == "/posts" and method == "POST":
            return self._save(None, body)
        if match := re.fullmatch(r"/posts/(\d+)", path):
            post_id = int(match.group(1))
            if post_id not in self.posts:
                return 404, _error("rest_post_invalid_id", "Invalid post ID.", 404)
            return self._save(post_id, body) if method == "POST" else (200, self.posts[post_id])
        if path == "/posts" and method == "GET":
            return 200, list(self.posts.values())
        return 404, _error(
            "rest_no_route", "No route was found matching the URL and request method.", 404
        )

    def _terms(self, taxonomy: str, method: str, query: dict[str, str], body: Any):
        terms = self.terms[taxonomy]
        if method == "GET":
            search = query.get("search", "").casefold()
            return 200, [
                t for t in terms.values() if search in html.unescape(t["name"]).casefold()
            ]
        name = (body or {}).get("name", "")
        if not name:
            return 400, _error("rest_missing_callback_param", "Missing parameter(s): name", 400)
        for term in terms.values():
            if html.unescape(term["name"]) == name:
                return 400, {
                    **_error("term_exists", "A term with the name provided already exists.", 400),
                    "data": {"status": 400, "term_id": term["id"]},
                }
        term_id = next(self._ids)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        terms[term_id] = {
            "id": term_id,
            "name": html.escape(name),
            "slug": slug,
            "taxonomy": taxonomy,
        }
        return 201, terms[term_id]

    def _save(self, post_id: int | None, body: Any):
        body = body or {}
        status = body.get("status", "draft")
        if status not in ("publish", "future", "draft", "pending", "private"):
            return 400, _error("rest_invalid_param", "Invalid parameter(s): status", 400)
        for taxonomy in ("categories", "tags"):
            if any(i not in self.terms[taxonomy] for i in body.get(taxonomy, [])):
                return 400, _error("rest_invalid_param", f"Invalid parameter(s): {taxonomy}", 400)
        created = post_id is None
        if created:
            post_id = next(self._ids)
            self.posts[post_id] = {
                "id": post_id,
                "link": f"{self.url}/?p={post_id}",
                "date_gmt": self.clock,
                "categories": [],
                "tags": [],
            }
        post = self.posts[post_id]
        for key in ("status", "date_gmt", "categories", "tags"):
            if key in body:
                post[key] = body[key]
        post.setdefault("status", status)
        for key in ("title", "content", "excerpt"):
            if key in body:
                post[key] = {"raw": body[key], "rendered": body[key]}
        return (201 if created else 200), post

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                prefix = "/wp-json/wp/v2"
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                if not parts.path.startswith(prefix):
                    status, answer = 404, _error("rest_no_route", "No route.", 404)
                    path = parts.path
                else:
                    path = parts.path[len(prefix) :]
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    with site._lock:
                        site.requests.append((self.command, path, body))
                        status, answer = site.answer(
                            self.command, path, query, body, self.headers.get("Authorization")
                        )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        return Handler


def _error(code: str, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status}}


# -- the real WordPress -------------------------------------------------------------------


@dataclass(frozen=True)
class RealSite:
    url: str
    user: str
    password: str


def real_wordpress_missing() -> str | None:
    """Why a real WordPress cannot run here, or ``None`` when it can."""
    if not (WORDPRESS_ROOT / "wp-settings.php").exists():
        return "WordPress is not installed (Debian package wordpress)"
    if shutil.which("php") is None:
        return "PHP is not installed"
    if shutil.which("mariadb") is None and shutil.which("mysql") is None:
        return "the MariaDB client is not installed"
    try:
        socket.create_connection((_db("HOST", "127.0.0.1"), int(_db("PORT", "3306"))), 2).close()
    except OSError as exc:
        return f"MariaDB is unreachable: {exc}"
    return None


def _db(key: str, default: str) -> str:
    return os.environ.get(f"PRESSCUT_TEST_MARIADB_{key}", default)


def _sql(statement: str) -> None:
    client = shutil.which("mariadb") or shutil.which("mysql") or "mysql"
    args = [
        client,
        "-h",
        _db("HOST", "127.0.0.1"),
        "-P",
        _db("PORT", "3306"),
        "-u",
        _db("USER", "root"),
    ]
    if _db("PASSWORD", ""):
        args.append(f"-p{_db('PASSWORD', '')}")
    subprocess.run([*args, "-e", statement], check=True, capture_output=True, timeout=60)


@contextmanager
def real_wordpress(folder: Path) -> Iterator[RealSite]:
    """A real WordPress on 127.0.0.1 for the duration of the block."""
    site = folder / "wordpress"
    site.mkdir()
    for entry in WORDPRESS_ROOT.iterdir():
        if entry.suffix == ".php" and entry.name != "wp-config.php":
            shutil.copy(entry, site / entry.name)
    (site / "wp-admin").symlink_to(WORDPRESS_ROOT / "wp-admin")
    (site / "wp-includes").symlink_to(WORDPRESS_ROOT / "wp-includes")
    (site / "wp-content").mkdir()
    for name in ("plugins", "themes"):
        (site / "wp-content" / name).symlink_to(WORDPRESS_ROOT / "wp-content" / name)
    database = f"presscut_wp_{uuid.uuid4().hex[:12]}"
    (site / "wp-config.php").write_text(
        (PHP / "wp-config.php")
        .read_text(encoding="utf-8")
        .format(
            db=database,
            user=_db("USER", "root"),
            password=_db("PASSWORD", ""),
            host=_db("HOST", "127.0.0.1"),
            port=_db("PORT", "3306"),
        ),
        encoding="utf-8",
    )
    shutil.copy(PHP / "install.php", site / "install.php")
    shutil.copy(PHP / "router.php", site / "router.php")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = f"127.0.0.1:{port}"
    _sql(f"CREATE DATABASE `{database}`")
    server = None
    try:
        installed = subprocess.run(
            ["php", "install.php", host, USER],
            cwd=site,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        password = installed.stdout.strip().splitlines()[-1]
        server = subprocess.Popen(
            ["php", "-S", host, "router.php"],
            cwd=site,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the WordPress server did not start") from None
                time.sleep(0.1)
        yield RealSite(url=f"http://{host}", user=USER, password=password)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        _sql(f"DROP DATABASE IF EXISTS `{database}`")
