"""Alembic environment: runs migrations on the connection `storage.Store`
hands over in ``config.attributes["connection"]``, or else on an engine built
from the ``sqlalchemy.url`` option (``alembic -x`` style use by hand)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.engine import make_engine
from storage.models import include_name, include_object, metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # Full-text search and APScheduler's job table live outside the
        # models (see storage.models): autogenerate must not drop them.
        include_name=include_name,
        include_object=include_object,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("presscut migrations run online only")
run_migrations_online()
