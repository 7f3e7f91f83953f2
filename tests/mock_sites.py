"""The mock sites of ``tests/fixtures/sites/`` (see its README), served for
the sitemap, section, discovery and politeness tests.

`serve` starts a `LocalWeb` on them with every text file's date
placeholders filled in relative to now (``{{date:-N}}``, ``{{rfc822:-N}}``)
and ``_name.gz`` files served gzip'd at ``name.gz``.  `write_config` writes
a config folder for a crawl of them; `stored` and `fetched` read back what a
crawl did.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from demo.server import LocalWeb, RequestRecord
from scraper.items import Clipping
from storage import open_store
from tests.crawling import REPO

SITES = REPO / "tests" / "fixtures" / "sites"
_DATE = re.compile(r"\{\{(date|rfc822):(-?\d+(?:\.\d+)?)\}\}")
_BASE = re.compile(r"\{\{base:([\w-]+)\}\}")
_TEXT = (".html", ".xml", ".txt", ".gz")

SETTINGS = """\
[database]
url = "{db_url}"

[crawl]
download_delay = {download_delay}
concurrent_requests_per_host = {per_host}
extract_workers = 1
allow_loopback = true
{extra}
"""


def dated(text: str, now: datetime) -> str:
    """``text`` with ``{{date:-N}}`` and ``{{rfc822:-N}}`` filled in: N
    days (fractions allowed) before ``now``."""

    def fill(match: re.Match[str]) -> str:
        when = now + timedelta(days=float(match.group(2)))
        return when.isoformat() if match.group(1) == "date" else format_datetime(when)

    return _DATE.sub(fill, text)


def serve(sites: list[str], *, delay: float = 0.0, now: datetime | None = None) -> LocalWeb:
    """A started `LocalWeb` on ``sites``, dates filled in; stop it after use."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    web = LocalWeb(SITES, sites, delay=delay).start()
    try:
        for site in sites:
            folder = SITES / site
            for file in sorted(folder.rglob("*")):
                if not file.is_file() or not file.name.endswith(_TEXT):
                    continue
                path = "/" + file.relative_to(folder).as_posix()
                text = dated(file.read_text(encoding="utf-8"), now)
                if file.name.startswith("_") and file.name.endswith(".gz"):
                    # LocalWeb fills in base URLs in text only: do it before zipping.
                    text = _BASE.sub(lambda m: web.base_url(m.group(1)), text)
                    served = path.replace("/_", "/")
                    web.set_file(
                        site,
                        served,
                        gzip.compress(text.encode(), mtime=0),
                        content_type="application/x-gzip",
                    )
                elif "{{" in text and not file.name.startswith("_"):
                    web.set_file(site, path, text)
    except BaseException:
        web.stop()
        raise
    return web


def write_config(
    folder: Path,
    web: LocalWeb,
    db_url: str,
    sources: str,
    *,
    download_delay: float = 0.0,
    per_host: int = 2,
    **crawl: Any,
) -> Path:
    """A config folder: ``sources`` (``{{base:<site>}}`` filled in) and
    crawl settings for a quick crawl of the mock sites."""
    folder.mkdir(parents=True, exist_ok=True)
    text = _BASE.sub(lambda m: web.base_url(m.group(1)), sources)
    (folder / "sources.toml").write_text(text, encoding="utf-8")
    extra = "\n".join(f"{key} = {_toml(value)}" for key, value in crawl.items())
    settings = SETTINGS.format(
        db_url=db_url, download_delay=download_delay, per_host=per_host, extra=extra
    )
    (folder / "settings.toml").write_text(settings, encoding="utf-8")
    return folder


def stored(db_url: str) -> dict[str, Clipping]:
    """Stored clippings by URL path."""
    store = open_store(db_url)
    try:
        return {_path(c.url): c for _, c in store.iter_clippings()}
    finally:
        store.close()


def fetched(web: LocalWeb, site: str) -> list[RequestRecord]:
    """Requests ``site`` received, oldest first."""
    return [r for r in web.requests if r.site == site]


def paths(records: list[RequestRecord]) -> list[str]:
    return [r.path for r in records]


def _toml(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1]
