"""What the commands print, fit for an 80-column terminal and for a pipe.

Contracts:

* `printable` is the one gate for stored text on its way to a terminal:
  escape sequences (CSI, OSC, DCS and the like, 7- and 8-bit) are removed,
  any other C0/C1 control is shown as ``\\xNN``, a lone surrogate as U+FFFD,
  and line breaks and tabs fold to one space.  An imported or crawled
  clipping can then neither clear the screen, plant a hyperlink, nor write
  the clipboard.
* On a terminal, a line wider than the screen wraps at words with a hanging
  indent, never mid-word; a table never cuts a key column (ids an operator
  types) and folds long text at words.
* Piped or redirected, every line is printed whole and a table is a header
  line and one tab-separated line per row: no borders, no width assumed.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scraper.text import ESCAPE_SEQUENCES

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def printable(value: object) -> str:
    """``value`` as one line of text safe for a terminal (module docstring)."""
    text = "" if value is None else str(value)
    text = _SURROGATES.sub("\ufffd", text)
    text = ESCAPE_SEQUENCES.sub("", text)
    text = re.sub(r"[\t\n\r\v\f]+", " ", text)
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def print_line(console: Console, parts: Iterable[object], indent: int = 8) -> None:
    """``parts`` joined by two spaces on one logical line: whole when piped,
    wrapped at words with an ``indent``-space hanging indent on a terminal."""
    text = "  ".join(printable(p) for p in parts)
    if console.is_terminal and len(text) > console.width:
        text = textwrap.fill(
            text,
            width=console.width,
            subsequent_indent=" " * indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def print_text(console: Console, text: str) -> None:
    """A message: whole when piped, wrapped at words on a terminal."""
    print_line(console, [text], indent=2)


@dataclass(frozen=True, slots=True)
class Column:
    """A table column; a ``key`` column (an id) is never cut or folded."""

    name: str
    justify: Literal["left", "right"] = "left"
    key: bool = False


def print_table(
    console: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    styles: Sequence[str | None] = (),
) -> None:
    """``rows`` under ``columns`` (module docstring); ``styles`` gives an
    optional rich style per column, used on a terminal only."""
    cells = [[printable(cell) for cell in row] for row in rows]
    if not console.is_terminal:
        console.print(printable(title), markup=False, highlight=False, soft_wrap=True)
        # Written as is: rich would expand the tabs to spaces.
        for line in [[c.name for c in columns], *cells]:
            console.file.write("\t".join(line) + "\n")
        console.file.flush()
        return
    table = Table(title=printable(title))
    for index, column in enumerate(columns):
        widest = max((len(row[index]) for row in cells), default=0)
        table.add_column(
            column.name,
            justify=column.justify,
            no_wrap=column.key,
            overflow="fold",
            # an id column is as wide as its longest id; a short number
            # column keeps its header readable
            min_width=max(widest, len(column.name)) if column.key else min(len(column.name), 8),
            style=styles[index] if index < len(styles) else None,
        )
    for row in cells:
        # Text, not str: stored text is never read as rich markup.
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
