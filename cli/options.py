"""What every sub-command shares: the ``--config`` option and loading the
configuration once, turning a `ConfigError` into a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from config import Config, ConfigError, load_config

ConfigDir = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config folder (default: $PRESSCUT_CONFIG_DIR or ./config).",
        show_default=False,
    ),
]

console = Console()
errors = Console(stderr=True)


def load(config_dir: Path | None) -> Config:
    """The validated configuration, or exit 2 with the error's lines."""
    try:
        return load_config(config_dir)
    except ConfigError as exc:
        errors.print(f"[bold red]configuration error[/]\n{exc}", highlight=False, markup=True)
        raise typer.Exit(2) from None
