"""Take the desk's screenshots in docs/ from the demo's data.

Run ``presscut demo`` first (it makes data/demo and the demo account), then
``PYTHONPATH=. .venv/bin/python docs/screenshots.py [data/demo]`` (it serves the
desk with the test suite's helper).  Uses Debian's
chromium, as the browser tests do.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from cli.demo import DEMO_PASSWORD, DEMO_USER
from config import load_config
from storage import open_store
from tests.browser import ARGS, CHROMIUM
from tests.desk import served

DOCS = Path(__file__).resolve().parent


def main(data_dir: Path) -> None:
    config = load_config(data_dir / "config")
    with (
        open_store(config.settings.database.url) as store,
        served(config, store) as base,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 820})
        page.goto(base + "/login")
        page.get_by_label("Username").fill(DEMO_USER)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/queue")
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.screenshot(path=str(DOCS / "desk-queue.png"))
        page.keyboard.press("o")
        page.wait_for_url("**/clippings/*")
        page.screenshot(path=str(DOCS / "desk-clipping.png"))
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data/demo"))
