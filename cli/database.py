"""The database as commands open it: one helper, one message, one exit status.

Every command that reads or writes clippings opens its store with
`open_command_store`:

* only the commands that start a database (``db upgrade``, ``crawl``,
  ``run``, ``serve``) pass ``create=True``; every other command refuses to
  work on a database that is not there yet, and says so, instead of making
  an empty one on the spot and showing an empty queue;
* the schema is brought to the newest migration;
* any database fault while the command runs (unreachable server, wrong
  password, corrupt or read-only file, full disk, an unwritable folder)
  ends the command with ONE line naming the database (password hidden) and
  the cause, and exit status `DATABASE_UNAVAILABLE`; no traceback.

Exit statuses of every command (also in ``presscut --help`` and
docs/errors.md): see `cli.exit_status`.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import typer
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from cli.exit_status import DATABASE_UNAVAILABLE
from cli.options import errors
from config import Config
from storage import Store
from storage.engine import make_engine
from storage.faults import database_name, fault_message


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite ``url``; ``None`` for another database or an
    in-memory one."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


def fail(message: str) -> typer.Exit:
    """Print ``message`` as one error line; the `typer.Exit` to raise."""
    errors.print(message, highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(DATABASE_UNAVAILABLE)


class CommandStore(Store):
    """A `Store` whose ``with`` block ends the command on a database fault
    (one line, exit status `DATABASE_UNAVAILABLE`) instead of a traceback."""

    def __init__(self, url: str) -> None:
        super().__init__(make_engine(url))
        self.url = url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if exc is not None and is_fault(exc):
            raise fail(fault_message(self.url, exc)) from None


def is_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is the database failing (not a bug of the command)."""
    # CommandError: Alembic's, for a database at a revision this version of
    # presscut does not know (migrated by a newer one).
    return isinstance(exc, SQLAlchemyError | OSError | CommandError)


def open_command_store(config: Config, *, create: bool) -> CommandStore:
    """The migrated store of ``config`` for a command; use it as ``with
    open_command_store(config, create=False) as store:``.  Without
    ``create``, a database that does not exist yet ends the command ("no
    database at …; run `presscut db upgrade`").  A fault here, or in the
    ``with`` block, ends it as the module docstring says."""
    url = config.settings.database.url
    path = sqlite_file(url)
    missing = f"no database at {path or database_name(url)} yet; run `presscut db upgrade`"
    if path is not None and not create and not path.exists():
        # Checked before the engine exists: it would create the folder.
        raise fail(missing)
    try:
        store = CommandStore(url)  # an SQLite folder is made here
    except OSError as exc:
        raise fail(fault_message(url, exc)) from None
    with store:
        if not create and not store.has_schema():
            raise fail(missing)
        store.upgrade()
        # The with block closed the engine's connections; the store opens
        # new ones when next used.
    return store


def upgrade_command_store(config: Config) -> str:
    """``presscut db upgrade``: create or migrate the database and check the
    file is sound; returns its name.  Faults end the command as in
    `open_command_store`; a damaged file is one."""
    url = config.settings.database.url
    with open_command_store(config, create=True) as store:
        problems = store.integrity_problems()
        if problems:
            raise fail(f"database {database_name(url)}: damaged: {'; '.join(problems)}")
    return database_name(url)
