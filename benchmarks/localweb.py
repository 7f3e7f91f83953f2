"""A local web for benchmarks: many sites with feeds and article pages, served
from a separate process on loopback with a fixed delay per response.

Article pages are real news pages from ``../shared/corpus/articles`` (read
only, never copied into the repository), or from the folder named by
``PRESSCUT_CORPUS`` (a checkout that does not sit beside ``shared/``); each
site's feed lists its pages.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PRESSCUT_CORPUS") or REPO.parent / "shared" / "corpus" / "articles")


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    html: bytes


def corpus_pages(corpus: Path = CORPUS, limit: int | None = None) -> list[Page]:
    """Pages of the article corpus, in manifest order."""
    if not (corpus / "manifest.jsonl").exists():
        sys.exit(
            f"no article corpus at {corpus} (benchmarks read ../shared/corpus, "
            "or the folder PRESSCUT_CORPUS names)"
        )
    pages = []
    with (corpus / "manifest.jsonl").open(encoding="utf-8") as manifest:
        for line in manifest:
            row = json.loads(line)
            html = gzip.decompress((corpus / row["path"]).read_bytes())
            pages.append(Page(row["id"], row["url"], html))
            if limit and len(pages) >= limit:
                break
    return pages


def site_name(i: int) -> str:
    return f"site{i:03d}"


def build_sites(root: Path, pages: list[Page], sites: int, per_site: int) -> dict[str, list[str]]:
    """Write ``sites`` sites of ``per_site`` articles each under ``root``;
    a site never holds the same page twice.  Returns each site's article paths."""
    out: dict[str, list[str]] = {}
    now = datetime(2026, 11, 20, tzinfo=UTC)
    cursor = 0
    for s in range(sites):
        name = site_name(s)
        folder = root / name
        (folder / "a").mkdir(parents=True, exist_ok=True)
        items, paths = [], []
        for k in range(per_site):
            page = pages[cursor % len(pages)]
            cursor += 1
            path = f"/a/{k:04d}.html"
            (folder / path.lstrip("/")).write_bytes(page.html)
            paths.append(path)
            date = format_datetime(now - timedelta(hours=k))
            items.append(
                f"<item><title>Article {k}</title><link>{{{{base:{name}}}}}{path}</link>"
                f"<guid>{name}-{k}</guid><pubDate>{date}</pubDate></item>"
            )
        write_feed(folder, name, items)
        out[name] = paths
    return out


def write_feed(folder: Path, name: str, items: list[str]) -> None:
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(name)}</title><link>{{{{base:{name}}}}}/</link>"
        "<description>benchmark site</description>" + "".join(items) + "</channel></rss>"
    )
    (folder / "feed.rss").write_text(feed, encoding="utf-8")


class ServedWeb:
    """``python -m demo.server`` in a child process; ``urls`` maps site to base URL."""

    def __init__(self, root: Path, delay: float) -> None:
        self.root, self.delay = root, delay
        self.urls: dict[str, str] = {}

    def __enter__(self) -> ServedWeb:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "demo.server",
                "--root",
                str(self.root),
                "--delay",
                str(self.delay),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in self.proc.stdout:
            if line.startswith("serving until"):
                break
            match = re.match(r"(\S+)\s+(http://\S+?)/?$", line.strip())
            if match:
                self.urls[match.group(1)] = match.group(2)
            if time.monotonic() > deadline:
                raise RuntimeError("local web did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def sources_toml(urls: dict[str, str], feed_path: str = "/feed.rss") -> str:
    """A sources file with one feed source per site and no topic (keep all)."""
    blocks = []
    for name, base in sorted(urls.items()):
        blocks.append(
            f'[[sources]]\nid = "{name}"\noutlet = "Outlet {name}"\nurl = "{base}{feed_path}"\n'
        )
    return "\n".join(blocks)
