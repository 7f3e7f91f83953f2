"""What every sub-command shares: the ``--config`` option and loading the
configuration once, turning a `ConfigError` into a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.terminal import print_text
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

LogJson = Annotated[
    bool | None,
    typer.Option(
        "--log-json/--log-text",
        help="Log JSON lines or text lines (default: format in the logging settings).",
        show_default=False,
    ),
]

console = Console()
errors = Console(stderr=True)


def load(config_dir: Path | None) -> Config:
    """The validated configuration, or exit 2 with the error's lines; its
    warnings go to stderr."""
    try:
        config = load_config(config_dir)
    except ConfigError as exc:
        errors.print("[bold red]configuration error[/]", highlight=False, markup=True)
        for line in str(exc).splitlines():
            print_text(errors, line)
        raise typer.Exit(2) from None
    for line in config.warnings:
        print_text(errors, f"warning: {line}")
    return config


def log_format(config: Config, log_json: bool | None) -> str:
    """``"json"`` or ``"text"``: the ``--log-json/--log-text`` choice, else
    ``[logging] format``."""
    if log_json is None:
        return config.settings.logging.format
    return "json" if log_json else "text"
