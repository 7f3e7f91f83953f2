"""``presscut db upgrade``: bring the database schema to the newest migration."""

from __future__ import annotations

from cli.database import upgrade_command_store
from cli.options import ConfigDir, console, load


def db_upgrade(config_dir: ConfigDir = None) -> None:
    """Create or migrate the database named in settings, and check that its
    file is sound (exit status 4 when it is damaged or cannot be used)."""
    name = upgrade_command_store(load(config_dir))
    console.print(f"database at head: {name}", highlight=False, markup=False, soft_wrap=True)
