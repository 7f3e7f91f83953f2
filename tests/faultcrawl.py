"""Crawl rounds against the fault server, each in a child process.

A round runs `rounds.round.run_round`, the function behind ``presscut
crawl``, in a fresh Python process (Twisted's reactor runs once per process)
and reports back as JSON: the round's status, per-source summary and errors,
Scrapy's stats, and the peak resident memory of the crawling process and of
its worker processes, as the kernel counted them (``getrusage``), so a peak
between two samples cannot be missed.

``python -m tests.faultcrawl CONFIG_DIR [SOURCE_ID ...]`` is the child's
side; `crawl_round` the parent's.  Two environment variables let a test
adjust the child for a case: ``PRESSCUT_TEST_REFUSED_NETWORKS`` (CIDRs added
to `scraper.addresses.ALWAYS_REFUSED`, so a loopback address can stand in
for a private one), ``PRESSCUT_TEST_SQLITE_BUSY_MS`` (a shorter SQLite
lock wait) and ``PRESSCUT_TEST_STALL_EXTRACTION`` (the extraction workers
run `tests.slow_extraction.stalling_reader`: a page whose URL asks for it
never finishes extracting).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scraper.items import Clipping
from storage import SourceRow, open_store

REPO = Path(__file__).resolve().parent.parent
_MARK = "PRESSCUT-ROUND "

#: Crawl settings of the fault rounds: short timeouts, no retries, a small
#: response cap, loopback allowed (every test site is on loopback).
CRAWL = {
    "download_delay": 0,
    "concurrent_requests_per_host": 4,
    "download_timeout": 2,
    "max_response_bytes": 2_000_000,
    "extract_workers": 1,
    "retry_times": 0,
    "retry_after_max": 1.0,
    "allow_loopback": True,
}

_VOCABULARY = [
    "harbour",
    "board",
    "council",
    "tide",
    "storm",
    "quay",
    "wall",
    "repair",
    "budget",
    "engineer",
    "resident",
    "ferry",
    "bridge",
    "school",
    "library",
    "market",
    "road",
    "flood",
    "river",
    "pier",
    "lighthouse",
    "festival",
    "museum",
    "station",
    "bus",
    "rail",
    "farm",
    "orchard",
    "choir",
    "regatta",
    "lifeboat",
    "coastguard",
    "fishery",
    "cannery",
    "mayor",
    "treasurer",
    "auditor",
    "planner",
    "surveyor",
    "architect",
    "builder",
    "plumber",
    "teacher",
    "nurse",
]


def prose(seed: str, words: int = 260) -> str:
    """Sentences of plain English words, different for every ``seed``, so
    that no two test articles look like copies of each other."""
    state = int(hashlib.sha1(seed.encode()).hexdigest(), 16)
    out: list[str] = []
    while len(out) < words:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        sentence = [_VOCABULARY[(state >> (5 * i)) % len(_VOCABULARY)] for i in range(9)]
        out += [sentence[0].capitalize(), *sentence[1:-1], sentence[-1] + "."]
    return " ".join(out)


@dataclass
class Round:
    """What a child round reported (``stopped``: the hosts the round stopped
    handing requests to, and why); ``peak_rss_mb`` is the crawling process,
    ``workers_peak_rss_mb`` the largest of its worker processes."""

    returncode: int
    status: str | None = None
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stopped: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    workers_peak_rss_mb: float = 0.0
    output: str = ""

    def error_kind(self, source_id: str) -> str | None:
        """The code of the round's first error for ``source_id``."""
        error = self.errors.get(source_id)
        return error.split(":", 1)[0] if error else None


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def write_config(
    folder: Path,
    db_url: str,
    sources: Mapping[str, str],
    *,
    crawl: Mapping[str, object] | None = None,
) -> Path:
    """A config folder whose sources are ``{id: feed url}`` (no topics:
    every article is kept) and whose crawl settings are `CRAWL` updated
    with ``crawl``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"[database]\nurl = {toml_value(db_url)}\n", "[crawl]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in {**CRAWL, **(crawl or {})}.items()]
    (folder / "settings.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    blocks = [
        f"[[sources]]\nid = {toml_value(sid)}\noutlet = {toml_value(sid.title())}\n"
        f"url = {toml_value(url)}\n"
        for sid, url in sources.items()
    ]
    (folder / "sources.toml").write_text("\n".join(blocks), encoding="utf-8")
    return folder


def child_command(config_dir: Path, *source_ids: str) -> list[str]:
    return [sys.executable, "-m", "tests.faultcrawl", str(config_dir), *source_ids]


def crawl_round(
    config_dir: Path,
    *source_ids: str,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> Round:
    """Run one round (every source, or those named) in a child process."""
    result = subprocess.run(
        child_command(config_dir, *source_ids),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    output = result.stdout + result.stderr
    for line in result.stdout.splitlines():
        if line.startswith(_MARK):
            data = json.loads(line[len(_MARK) :])
            return Round(returncode=result.returncode, output=output, **data)
    return Round(returncode=result.returncode, output=output)


def sources(db_url: str) -> dict[str, SourceRow]:
    store = open_store(db_url)
    try:
        return {row.id: row for row in store.list_sources()}
    finally:
        store.close()


def stored(db_url: str) -> list[Clipping]:
    store = open_store(db_url)
    try:
        return [c for _, c in store.iter_clippings()]
    finally:
        store.close()


def article(title: str, paragraphs: int = 6) -> str:
    """A plain article page that passes extraction and validation, its
    text unlike any other title's."""
    text = prose(title, 45 * paragraphs).split(". ")
    size = max(1, len(text) // paragraphs)
    body = "".join(f"<p>{'. '.join(text[i : i + size])}.</p>" for i in range(0, len(text), size))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><article><h1>{title}</h1><p class='byline'>By Ann Example</p>"
        f"{body}</article></body></html>"
    )


def rss(base: str, items: list[tuple[str, str]], title: str = "Fault test feed") -> str:
    """An RSS 2.0 feed of ``(title, path)`` items, links on ``base``."""
    entries = "".join(
        f"<item><title>{t}</title><link>{base}{p}</link><guid>{base}{p}</guid>"
        f"<pubDate>Mon, 02 Nov 2026 09:00:00 +0000</pubDate></item>"
        for t, p in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>{base}/</link>{entries}</channel></rss>"
    )


def _child(argv: list[str]) -> int:
    # Imported here: the parent side needs none of the crawl machinery.
    from config import load_config
    from rounds.round import run_round

    refused = os.environ.get("PRESSCUT_TEST_REFUSED_NETWORKS")
    if refused:
        import ipaddress

        from scraper import addresses

        extra = [ipaddress.ip_network(n) for n in refused.split(",") if n]
        addresses.ALWAYS_REFUSED = (*addresses.ALWAYS_REFUSED, *extra)
    busy = os.environ.get("PRESSCUT_TEST_SQLITE_BUSY_MS")
    if busy:
        import storage.engine

        storage.engine.SQLITE_BUSY_TIMEOUT_MS = int(busy)
    if os.environ.get("PRESSCUT_TEST_STALL_EXTRACTION"):
        from scraper import extraction_pool
        from tests.slow_extraction import stalling_reader

        extraction_pool.read_page = stalling_reader
    config = load_config(argv[0])
    source_ids = argv[1:] or None
    report = run_round(config, source_ids=source_ids, force=True, log_level="WARNING")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    data = {
        "status": report.status,
        "summary": report.summary,
        "errors": report.errors,
        "stopped": report.stopped,
        "stats": report.stats,
        "peak_rss_mb": own,
        "workers_peak_rss_mb": workers,
    }
    print(_MARK + json.dumps(data, default=str), flush=True)
    return 0 if report.status == "finished" else 1


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
