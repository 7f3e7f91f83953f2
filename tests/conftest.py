"""Database fixtures shared by the suite.

* ``sqlite_url``: a fresh SQLite file under the test's ``tmp_path``;
* ``postgres_url``: the PostgreSQL server at ``PRESSCUT_TEST_POSTGRES_URL``
  (default `DEFAULT_POSTGRES_URL`), inside a schema created for the test and
  dropped after it, selected through ``search_path`` in the URL, so runs can
  repeat and overlap;
* ``db_url``: each test once per backend (``sqlite``, ``postgres``);
* ``store``: an upgraded `storage.Store` on ``db_url``, closed afterwards;
* ``redis_prefix``: ``(url, prefix)`` of the Redis server at
  ``PRESSCUT_TEST_REDIS_URL`` (default `DEFAULT_REDIS_URL`) and a key prefix
  of the test's own, whose keys are deleted after it.

An unreachable PostgreSQL or Redis skips its tests, with the reason, unless
``PRESSCUT_REQUIRE_SERVICES=1``: then they fail.  Tests that use a
PostgreSQL fixture get the ``postgres`` marker (``-m "not postgres"``), those
that use Redis the ``redis`` marker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from storage import Store, open_store

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REQUIRE_SERVICES = os.environ.get("PRESSCUT_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip the test for a missing service, or fail when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (PRESSCUT_REQUIRE_SERVICES=1: services are required)")
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
        if "redis_prefix" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a not yet created SQLite database file in ``tmp_path``."""
    return f"sqlite:///{tmp_path / 'db' / 'presscut.db'}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine | str]:
    """An engine on the test server, or why there is none (checked once)."""
    url = make_url(os.environ.get("PRESSCUT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        yield f"PostgreSQL unreachable at {url.render_as_string()}: {first_line}"
        return
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_server: Engine | str) -> Iterator[str]:
    """URL of a fresh, empty schema on the test server, dropped afterwards."""
    if isinstance(postgres_server, str):
        unavailable(postgres_server)
        return
    schema = f"presscut_test_{uuid.uuid4().hex[:16]}"
    with postgres_server.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_server.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_server.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The test runs once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated `Store` on ``db_url``."""
    opened = open_store(db_url)
    try:
        opened.upgrade()
        yield opened
    finally:
        opened.close()


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """``(url, prefix)``: the test Redis server and a key prefix of this
    test's own; every key under it is deleted afterwards."""
    import redis

    url = os.environ.get("PRESSCUT_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    server = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        server.ping()
    except redis.RedisError as exc:
        server.close()
        unavailable(f"Redis unreachable at {url}: {exc}")
        return
    prefix = f"presscut-test-{uuid.uuid4().hex[:12]}"
    try:
        yield url, prefix
    finally:
        stale = list(server.scan_iter(match=f"{prefix}:*", count=1000))
        if stale:
            server.delete(*stale)
        server.close()
