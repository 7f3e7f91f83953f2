"""``presscut demo``: crawl the bundled demo sites, end to end, on loopback.

Starts the demo sites (`demo.server.LocalWeb`), writes a config for them
under ``data/demo/config/`` (their URLs carry this run's ports), migrates the
demo's SQLite database, crawls every source and prints what was stored and
where.  The sites stop when the crawl ends; the database stays.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from cli.crawl import print_report
from cli.options import console, load
from cli.terminal import Column, print_table
from demo.server import LocalWeb
from storage import Store, open_store

DEMO_ROOT = Path(__file__).resolve().parent.parent / "demo"
SETTINGS = """\
# Written by `presscut demo`; the sites run on loopback for this run only.
[publication]
name = "Presscut Demo"

[database]
url = "sqlite:///{db}"

[crawl]
download_delay = 0.05
# The demo sites are served on this machine; real sources never are.
allow_loopback = true
"""


#: The demo database's desk account (the demo runs on loopback only).
DEMO_USER = "demo"
DEMO_PASSWORD = "presscut-demo"


def desk_account(store: Store) -> None:
    """Make the demo's desk account unless it exists."""
    from storage.desk_store import DeskStore

    desk = DeskStore(store)
    if desk.user(DEMO_USER) is None:
        desk.add_user(DEMO_USER, "admin", DEMO_PASSWORD)


def render_sources(template: str, web: LocalWeb) -> str:
    """Replace ``{{base:<site>}}`` with each running site's base URL."""
    return re.sub(r"\{\{base:([\w-]+)\}\}", lambda m: web.base_url(m.group(1)), template)


def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo's config and database go.")
    ] = Path("data/demo"),
) -> None:
    """Serve the demo sites, crawl them, and show the stored clippings."""
    config_dir = data_dir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    db = (data_dir / "presscut.db").resolve()
    (config_dir / "settings.toml").write_text(SETTINGS.format(db=db.as_posix()), encoding="utf-8")
    template = (DEMO_ROOT / "sources.toml").read_text(encoding="utf-8")
    with LocalWeb(DEMO_ROOT / "sites") as web:
        (config_dir / "sources.toml").write_text(render_sources(template, web), encoding="utf-8")
        config = load(config_dir)
        console.print(f"serving {len(config.sources)} demo feeds on loopback; crawling…")
        from rounds.round import run_round

        # One store for the command: migrated once, shared with the round.
        store = open_store(config.settings.database.url)
        try:
            store.upgrade()
            report = run_round(config, force=True, store=store)
            rows = list(store.iter_clippings())
            desk_account(store)
        finally:
            store.close()
    print_report(report)
    columns = [Column("id", justify="right", key=True)]
    columns += [Column(name) for name in ("outlet", "title", "authors", "date", "cluster")]
    table = [
        (
            str(clipping_id),
            c.outlet or "",
            c.title or "",
            ", ".join(c.authors),
            c.published_at.date().isoformat() if c.published_at else "",
            (c.cluster or "")[:8],
        )
        for clipping_id, c in rows
    ]
    print_table(console, f"{len(rows)} clipping(s) in the review queue", columns, table)
    console.print(f"database: {db}")
    console.print(f"config:   {config_dir}")
    console.print(f"next:     presscut export --config {config_dir} --format jsonl")
    console.print(
        f"desk:     presscut serve --config {config_dir}  then open http://127.0.0.1:8000/"
        f" and log in as {DEMO_USER} / {DEMO_PASSWORD}",
        highlight=False,
        soft_wrap=True,
    )
