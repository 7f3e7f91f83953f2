"""80-column terminals, pipes, and escape sequences in stored text (#17.6, #18.8)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from cli.terminal import Column, print_line, print_table, printable
from tests.publishing import SAMPLE, ok, write_config, write_jsonl

CLEAR = "\x1b[2J\x1b[H"
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
C1_CSI = "\x9b31m"
HOSTILE = f"Storm{CLEAR} surge{OSC8} tops{OSC52} wall{C1_CSI}\x07\x00"


def terminal(width: int = 80) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, color_system=None), out


def pipe() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=80), out


def test_printable_removes_escape_sequences_and_shows_controls() -> None:
    text = printable(HOSTILE)
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert text.startswith("Storm surgeclick tops wall")
    assert text.endswith("\\x07\\x00")
    assert printable("a\ud800b\nc\td") == "a\ufffdb c d"


def test_a_long_line_wraps_at_words_on_a_terminal() -> None:
    console, out = terminal(80)
    words = ["    10", "2026-09-14", "The Harbour Herald"]
    words.append("Landslip closes the coast road below the clifftop car park at Skellow Head")
    print_line(console, words)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert "Skellow Head" in lines[1] or "Skellow Head" in lines[0]
    joined = " ".join(line.strip() for line in lines)
    assert "Skellow Head" in joined  # no word split across lines


def test_a_piped_line_is_whole() -> None:
    console, out = pipe()
    print_line(console, ["x" * 50, "y" * 50])
    assert out.getvalue() == "x" * 50 + "  " + "y" * 50 + "\n"


def test_ids_are_never_cut_on_a_narrow_terminal() -> None:
    console, out = terminal(80)
    ids = ["harbour-herald-coastal-feed", "northern-wire-news-sitemap", "html-not-a-feed-at-all"]
    error = "parse_error: not an RSS or Atom feed (malformed XML at line 1, column 4)"
    rows = [(i, "The Harbour Herald", "feed", "2026-12-01 10:00", error) for i in ids]
    columns = [
        Column("id", key=True),
        Column("outlet"),
        Column("kind"),
        Column("last"),
        Column("error"),
    ]
    print_table(console, "sources", columns, rows)
    text = out.getvalue()
    for source_id in ids:
        assert source_id in text
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_a_piped_table_is_plain_lines() -> None:
    console, out = pipe()
    print_table(console, "sources", [Column("id", key=True), Column("error")], [("a" * 90, "b")])
    assert out.getvalue().splitlines() == ["sources", "id\terror", "a" * 90 + "\tb"]


def test_table_cells_are_not_markup() -> None:
    console, out = pipe()
    print_table(console, "t", [Column("x")], [("[bold red]x[/]" + CLEAR,)])
    assert "[bold red]x[/]" in out.getvalue() and "\x1b" not in out.getvalue()


def test_review_commands_print_no_escape_sequences(tmp_path: Path, sqlite_url: str) -> None:
    folder = write_config(tmp_path / "config", sqlite_url)
    c = ("--config", str(folder))
    hostile = {**SAMPLE[3], "title": HOSTILE, "headline": HOSTILE, "outlet": f"Voice{OSC52}"}
    ok("import", str(write_jsonl(tmp_path / "h.jsonl", [hostile])), *c)
    outputs = [
        ok("queue", *c).output,
        ok("queue", "--source", hostile.get("source_id", "import"), *c).output,
        ok("search", "harbour", *c).output,
        ok("show", "1", *c).output,
        ok("edit", "1", "--headline", f"New{CLEAR} headline", *c).output,
        ok("approve", "1", *c).output,
    ]
    for output in outputs:
        assert "\x1b" not in output and "\x9b" not in output and "\x07" not in output, output
    assert "Storm surgeclick tops wall" in outputs[0]
    shown = json.dumps(outputs)
    assert "52;c" not in shown
