"""Helpers for the tests of unattended operation: a config for a `LocalWeb`
with ``[schedule]`` settings, slow article pages (so a signal lands
mid-round), ``presscut run`` in its own session, and the checks that a
database holds each article once and nothing half-written.

The demo sites and their expectations (``demo/sites/expected.json``) are
presscut's own fictional fixtures."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from config.schema import Crawl
from demo.server import LocalWeb, Request, Response
from storage import open_store
from storage.models import clippings, crawl_runs, entries
from tests.crawling import DEMO_SITES, DEMO_SOURCES, REPO, write_config

EXPECTED = json.loads((DEMO_SITES / "expected.json").read_text(encoding="utf-8"))


def unattended_config(
    folder: Path,
    web: LocalWeb,
    db_url: str,
    extra: str = "",
    sources: str | None = None,
    crawl: dict[str, str] | None = None,
) -> Path:
    """`tests.crawling.write_config` (``sources``: a sources template, the
    demo's by default) with loopback allowed (every test site is on
    loopback), retries off, ``crawl`` keys set in ``[crawl]`` (TOML values)
    and ``extra`` TOML appended to ``settings.toml``."""
    write_config(folder, web, db_url, sources)
    path = folder / "settings.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    wanted = {"allow_loopback": "true", "retry_times": "0", **(crawl or {})}
    wanted = {k: v for k, v in wanted.items() if k in Crawl.model_fields}
    lines = [line for line in lines if line.split("=")[0].strip() not in wanted]
    at = lines.index("[crawl]") + 1
    lines[at:at] = [f"{key} = {value}" for key, value in wanted.items()]
    path.write_text("\n".join(lines) + "\n\n" + extra, encoding="utf-8")
    return folder


def demo_sources(*sites: str) -> str:
    """The demo sources template with only the sources of ``sites``."""
    head, *blocks = DEMO_SOURCES.read_text(encoding="utf-8").split("\n[[sources]]\n")
    kept = [b for b in blocks if any(f'id = "{site}"' in b for site in sites)]
    return head + "".join("\n[[sources]]\n" + b for b in kept)


def article_paths() -> list[tuple[str, str]]:
    """``(site, path)`` of every demo article that is a file (not a redirect)."""
    return [
        (site, a["path"])
        for site, info in EXPECTED.items()
        for a in info["articles"]
        if (DEMO_SITES / site / a["path"].lstrip("/")).is_file()
    ]


def slow_articles(web: LocalWeb, seconds: float) -> None:
    """Every demo article of ``web``'s sites answers after ``seconds``."""
    for site, path in article_paths():
        if site in web.sites:
            web.add_route(site, path, _slow_file(site, path, seconds))


def _slow_file(site: str, path: str, seconds: float) -> Callable[[Request], Response]:
    body = (DEMO_SITES / site / path.lstrip("/")).read_bytes()

    def handler(request: Request) -> Response:
        time.sleep(seconds)
        return 200, {}, body

    return handler


def start_presscut(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """``presscut ARGS`` in a session of its own (its process group is its
    pid), stderr (the log) to ``log``."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,
        )


def log_lines(log: Path) -> list[dict[str, Any]]:
    """The JSON log lines written so far (other lines skipped)."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line still being written
    return found


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def count_clippings(db_url: str) -> int:
    store = open_store(db_url)
    try:
        return store.count_clippings()
    except Exception:
        return 0  # not created yet
    finally:
        store.close()


def stored_set(db_url: str, web: LocalWeb) -> set[tuple[Any, ...]]:
    """Each stored clipping as ``(source, path, title, authors, cluster)``,
    URLs made relative to their site; ``cluster`` is the sorted ``(source,
    path)`` of every member of its syndication cluster (which member
    founded it depends on arrival order, so it is left out)."""
    store = open_store(db_url)
    try:
        rows = [c for _, c in store.iter_clippings()]
    finally:
        store.close()
    bases = [web.base_url(site) for site in web.sites]

    def relative(url: str | None) -> str:
        for base in bases:
            if url and url.startswith(base):
                return url[len(base) :]
        return url or ""

    members: dict[str | None, list[tuple[str | None, str]]] = {}
    for c in rows:
        members.setdefault(c.cluster, []).append((c.source_id, relative(c.canonical_url)))
    return {
        (
            c.source_id,
            relative(c.canonical_url),
            c.title,
            tuple(c.authors),
            tuple(sorted(members[c.cluster], key=str)),
        )
        for c in rows
    }


def integrity(db_url: str) -> dict[str, int]:
    """Counts that must all be 0 in a sound database: duplicate URLs or
    entry keys among clippings, clippings without their ``stored`` log row,
    ``stored`` log rows without their clipping, runs left ``running``."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(clippings)).scalar_one()
            urls = conn.execute(select(func.count(clippings.c.url_hash.distinct()))).scalar_one()
            keys = conn.execute(
                select(func.count()).select_from(
                    select(clippings.c.source_id, clippings.c.entry_key).distinct().subquery()
                )
            ).scalar_one()
            stored = select(entries.c.source_id, entries.c.entry_key).where(
                entries.c.outcome == "stored"
            )
            logged = {tuple(r) for r in conn.execute(stored)}
            kept = {
                tuple(r)
                for r in conn.execute(select(clippings.c.source_id, clippings.c.entry_key))
            }
            running = conn.execute(
                select(func.count())
                .select_from(crawl_runs)
                .where(crawl_runs.c.status == "running")
            ).scalar_one()
    finally:
        engine.dispose()
    return {
        "duplicate_urls": total - urls,
        "duplicate_keys": total - keys,
        "clippings_unlogged": len(kept - logged),
        "log_without_clipping": len(logged - kept),
        "runs_running": running,
    }


def kill_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
