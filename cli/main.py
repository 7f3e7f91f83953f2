"""The ``presscut`` command.

One sub-command per verb; each loads the configuration once (``--config``,
else ``PRESSCUT_CONFIG_DIR``, else ``./config``) and reports a configuration
error as one clear message and exit status 2.
"""

from __future__ import annotations

import typer

from cli.crawl import crawl
from cli.db import db_upgrade
from cli.demo import demo
from cli.export import export
from cli.extract import extract
from cli.sources import sources_check, sources_list

app = typer.Typer(
    name="presscut",
    help="News clipping: watch feeds and sites, store matching articles as clippings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(help="Configured sources.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)

app.command("crawl")(crawl)
app.command("export")(export)
app.command("extract")(extract)
app.command("demo")(demo)
sources_app.command("list")(sources_list)
sources_app.command("check")(sources_check)
db_app.command("upgrade")(db_upgrade)
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
