"""``presscut --help`` and docs/errors.md state the exit status of every
command, from the one table in `cli.exit_status`."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.main import get_command

from cli.exit_status import BY_COMMAND, STATUSES
from cli.main import app
from tests.publishing import ok

DOCS = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def command_names(group: typer.Typer) -> set[str]:
    names: set[str] = set()
    root = get_command(group)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names |= {f"{name} {s}" for s in sub} if sub else {name}
    return names


def listed() -> set[str]:
    return {name.strip() for names, _ in BY_COMMAND for name in names.split(",")}


def test_every_command_has_its_exit_status() -> None:
    assert command_names(app) == listed()


def test_help_and_docs_carry_the_table() -> None:
    shown = " ".join(ok("--help").stdout.split())
    docs = DOCS.read_text(encoding="utf-8")
    assert {s for s, _ in STATUSES} == {0, 1, 2, 3, 4}
    for status, meaning in STATUSES:
        assert f"{status} {meaning}" in shown
        assert f"| {status} | {meaning} |" in docs
    for command, meaning in BY_COMMAND:
        assert f"{command}: {meaning}" in shown
        assert f"| {command} | {meaning} |" in docs
