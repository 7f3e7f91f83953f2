"""Debian's Chromium for the browser tests: where it is, how it starts, and
what a test does when it is missing.

Playwright drives ``/usr/bin/chromium`` (never a browser of its own
download).  Without it a browser test skips with the reason, unless
``PRESSCUT_REQUIRE_BROWSER=1`` or ``PRESSCUT_REQUIRE_SERVICES=1`` is set
(CI sets both): then it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and no background traffic: this machine's network is closed.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip (or fail, where a browser is required) without Chromium."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if "1" in (
        os.environ.get("PRESSCUT_REQUIRE_BROWSER"),
        os.environ.get("PRESSCUT_REQUIRE_SERVICES"),
    ):
        pytest.fail(f"{reason}; the environment requires it")
    pytest.skip(reason)
