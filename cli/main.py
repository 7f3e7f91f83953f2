"""The ``presscut`` command.

One sub-command per verb; each loads the configuration once (``--config``,
else ``PRESSCUT_CONFIG_DIR``, else ``./config``) and reports a configuration
error as one clear message and exit status 2.

Importing this module is cheap on purpose: the command tree (and with it
Scrapy, SQLAlchemy, trafilatura, Jinja) is built on first use, by `main` or
by ``from cli.main import app``.  Worker processes are started with
``spawn``, which imports the parent's main module again in every worker;
with eager imports each worker would pay the whole command tree (about a
second of CPU and tens of MB) before its first page.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


@functools.cache
def build_app() -> typer.Typer:
    """The ``presscut`` command tree (built once)."""
    import typer

    from cli.crawl import crawl
    from cli.db import db_upgrade
    from cli.demo import demo
    from cli.discover import sources_discover
    from cli.exit_status import help_text
    from cli.export import export
    from cli.extract import extract
    from cli.health import sources_health
    from cli.housekeeping import db_prune
    from cli.importer import import_clippings
    from cli.publish import archive, digest, feed, post, publish_posts_command, publish_wordpress
    from cli.review import approve, cite, edit, queue, reject, show
    from cli.run import run
    from cli.search import search
    from cli.serve import serve, users_add, users_disable, users_enable, users_list, users_passwd
    from cli.sources import sources_check, sources_list
    from cli.worker import worker

    app = typer.Typer(
        name="presscut",
        help="News clipping: watch feeds and sites, store matching articles as clippings.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        epilog=help_text(),
    )
    sources_app = typer.Typer(help="Configured sources.", no_args_is_help=True)
    db_app = typer.Typer(help="The database.", no_args_is_help=True)
    publish_app = typer.Typer(help="Publish approved stories.", no_args_is_help=True)
    users_app = typer.Typer(help="Accounts of the curator's desk.", no_args_is_help=True)

    app.command("crawl")(crawl)
    app.command("run")(run)
    app.command("worker")(worker)
    app.command("export")(export)
    app.command("extract")(extract)
    app.command("demo")(demo)
    app.command("import")(import_clippings)
    app.command("queue")(queue)
    app.command("approve")(approve)
    app.command("reject")(reject)
    app.command("edit")(edit)
    app.command("show")(show)
    app.command("cite")(cite)
    app.command("search")(search)
    app.command("post")(post)
    app.command("digest")(digest)
    app.command("archive")(archive)
    app.command("feed")(feed)
    publish_app.command("posts")(publish_posts_command)
    publish_app.command("wordpress")(publish_wordpress)
    sources_app.command("list")(sources_list)
    sources_app.command("check")(sources_check)
    sources_app.command("discover")(sources_discover)
    sources_app.command("health")(sources_health)
    db_app.command("upgrade")(db_upgrade)
    db_app.command("prune")(db_prune)
    app.add_typer(sources_app, name="sources")
    app.add_typer(db_app, name="db")
    app.add_typer(publish_app, name="publish")
    app.command("serve")(serve)
    users_app.command("add")(users_add)
    users_app.command("list")(users_list)
    users_app.command("disable")(users_disable)
    users_app.command("enable")(users_enable)
    users_app.command("passwd")(users_passwd)
    app.add_typer(users_app, name="users")
    return app


def __getattr__(name: str) -> Any:
    # ``from cli.main import app`` builds the tree on demand (PEP 562).
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    build_app()()


if __name__ == "__main__":
    main()
