"""Helpers for end-to-end crawl tests: a config pointing at a `LocalWeb`,
and a crawl run the way a user runs it (the ``presscut`` command, in its own
process, as Twisted's reactor runs once per process)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from demo.server import LocalWeb

REPO = Path(__file__).resolve().parent.parent
DEMO_SITES = REPO / "demo" / "sites"
DEMO_SOURCES = REPO / "demo" / "sources.toml"

SETTINGS = """\
[database]
url = "{db_url}"

[crawl]
download_delay = 0
concurrent_requests_per_host = 4
extract_workers = 1
# The test sites are served on this machine.
allow_loopback = true
"""


def write_config(folder: Path, web: LocalWeb, db_url: str, sources: str | None = None) -> Path:
    """A config folder for ``web``'s sites (demo sources by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    template = sources if sources is not None else DEMO_SOURCES.read_text(encoding="utf-8")
    text = re.sub(r"\{\{base:([\w-]+)\}\}", lambda m: web.base_url(m.group(1)), template)
    (folder / "sources.toml").write_text(text, encoding="utf-8")
    (folder / "settings.toml").write_text(SETTINGS.format(db_url=db_url), encoding="utf-8")
    return folder


def presscut(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the ``presscut`` command; output captured, never raises on exit status."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
