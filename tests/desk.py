"""Helpers for the desk's tests: the sample store with desk accounts, a
logged-in test client, the CSRF token of a page, and the desk served by
uvicorn on a loopback port for the browser tests.

Accounts: ``ann`` (admin) and ``bob`` (curator), passwords `PASSWORDS`.
The excerpt range is lowered to 5..60 words so the sample's sentences fit.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from config import Config, load_config
from storage import Store, open_store
from storage.desk_store import DeskStore
from tests.publishing import SAMPLE, ok, write_config, write_jsonl
from web.app import create_app

PASSWORDS = {"ann": "ann-long-passphrase", "bob": "bob-long-passphrase"}
EXCERPT = "[excerpt]\nmin_words = 5\nmax_words = 60\n"
_TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')


def sample_desk(
    tmp_path: Path, db_url: str, records: list[dict[str, Any]] | None = None
) -> tuple[Config, Store]:
    """The config and an open, migrated store holding ``records`` (default
    `SAMPLE`) imported, with the two accounts."""
    folder = write_config(tmp_path / "config", db_url, extra=EXCERPT)
    jsonl = write_jsonl(tmp_path / "sample.jsonl", SAMPLE if records is None else records)
    ok("import", str(jsonl), "--config", str(folder))
    store = open_store(db_url)
    store.upgrade()
    desk = DeskStore(store)
    desk.add_user("ann", "admin", PASSWORDS["ann"])
    desk.add_user("bob", "curator", PASSWORDS["bob"])
    return load_config(folder), store


def token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _TOKEN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def client(config: Config, store: Store, https: bool = False) -> TestClient:
    base = "https://testserver" if https else "http://testserver"
    return TestClient(create_app(config, store, https=https), base_url=base)


def log_in(c: TestClient, name: str, password: str | None = None) -> Any:
    """Log ``c`` in as ``name``; returns the response to the login POST."""
    page = c.get("/login")
    return c.post(
        "/login",
        data={
            "username": name,
            "password": PASSWORDS[name] if password is None else password,
            "csrftoken": token(page.text),
        },
        follow_redirects=False,
    )


def post(c: TestClient, page: str, action: str, data: dict[str, Any], **kw: Any) -> Any:
    """POST ``data`` to ``action`` with the CSRF token of ``page``."""
    return c.post(action, data={**data, "csrftoken": token(c.get(page).text)}, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(config: Config, store: Store) -> Iterator[str]:
    """The desk served by uvicorn on a loopback port; yields its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, store), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the desk did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
