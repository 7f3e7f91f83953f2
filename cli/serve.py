"""``presscut serve`` (the curator's desk) and ``presscut users`` (its
accounts).

* ``serve [--host 127.0.0.1] [--port 8000]`` runs the desk under uvicorn on
  the configured database; with ``--ssl-certfile``/``--ssl-keyfile`` it
  serves https and its cookies are Secure (``--secure-cookies`` says so
  behind an https proxy);
* ``users add NAME [--role curator|admin]`` asks for the password twice, or
  reads one line from stdin with ``--password-stdin``; ``users list``,
  ``disable``, ``enable`` and ``passwd`` do what they say.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.options import ConfigDir, console, errors, load
from storage import Store, open_store
from storage.desk_store import DeskStore
from storage.users import ROLES, UserError


def _store(config_dir: ConfigDir) -> Store:
    store = open_store(load(config_dir).settings.database.url)
    store.upgrade()
    return store


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    ssl_certfile: Annotated[Path | None, typer.Option(help="Serve https with this.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="Key of --ssl-certfile.")] = None,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (on by itself with --ssl-certfile).")
    ] = False,
    config_dir: ConfigDir = None,
) -> None:
    """Run the curator's desk, a web app on the same database."""
    import uvicorn

    from web.app import create_app

    config = load(config_dir)
    store = open_store(config.settings.database.url)
    store.upgrade()
    https = secure_cookies or ssl_certfile is not None
    app = create_app(config, store, https=https)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not DeskStore(store).list_users():
        errors.print("no desk account yet: create one with `presscut users add NAME`")
    scheme = "https" if ssl_certfile else "http"
    console.print(f"desk on {scheme}://{host}:{port}/ (Ctrl-C stops it)", highlight=False)
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
            log_level="info",
            proxy_headers=False,
        )
    finally:
        store.close()


def _password(prompt: bool, stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=prompt))


def _run(config_dir: ConfigDir, action: str, fn) -> None:  # type: ignore[no-untyped-def]
    with _store(config_dir) as store:
        try:
            fn(DeskStore(store))
        except UserError as exc:
            errors.print(f"error: {exc}", highlight=False, markup=False)
            raise typer.Exit(1) from None
    console.print(action, highlight=False, markup=False)


Name = Annotated[str, typer.Argument(help="User name.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (one line).")
]


def users_add(
    name: Name,
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "curator",
    password_stdin: PasswordStdin = False,
    config_dir: ConfigDir = None,
) -> None:
    """Create a desk account."""
    password = _password(True, password_stdin)
    _run(config_dir, f"user {name} added ({role})", lambda d: d.add_user(name, role, password))


def users_list(config_dir: ConfigDir = None) -> None:
    """List desk accounts."""
    with _store(config_dir) as store:
        accounts = DeskStore(store).list_users()
    for u in accounts:
        state = "disabled" if u.disabled else "active"
        # Tab-separated, as written: easy to read and to cut.
        typer.echo(f"{u.name}\t{u.role}\t{state}")


def users_disable(name: Name, config_dir: ConfigDir = None) -> None:
    """Disable an account (its sessions end at once)."""
    _run(config_dir, f"user {name} disabled", lambda d: d.set_disabled(name, True))


def users_enable(name: Name, config_dir: ConfigDir = None) -> None:
    """Enable an account again (and lift a lockout)."""
    _run(config_dir, f"user {name} enabled", lambda d: d.set_disabled(name, False))


def users_passwd(
    name: Name, password_stdin: PasswordStdin = False, config_dir: ConfigDir = None
) -> None:
    """Set an account's password."""
    password = _password(True, password_stdin)
    _run(config_dir, f"password of {name} changed", lambda d: d.set_password(name, password))
