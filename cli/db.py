"""``presscut db upgrade``: bring the database schema to the newest migration."""

from __future__ import annotations

from cli.options import ConfigDir, console, load
from storage import open_store


def db_upgrade(config_dir: ConfigDir = None) -> None:
    """Create or migrate the database named in settings."""
    config = load(config_dir)
    store = open_store(config.settings.database.url)
    try:
        store.upgrade()
    finally:
        store.close()
    console.print(f"database at head: {config.settings.database.url}")
