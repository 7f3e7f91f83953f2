"""Text fit to store: what every string passes where it enters presscut.

Contract of `clean_text` (str in, str out, never raises):

* lone surrogates (U+D800-U+DFFF, which no encoder can write and which
  ``json.loads`` produces from a valid ``"\\udfff"``) are removed;
* NUL and the other C0 controls are removed, except tab and newline; a
  carriage return (alone or in CRLF) becomes a newline;
* terminal escape sequences (CSI, OSC, DCS and the like, 7- and 8-bit) are
  removed whole, introducer and body;
* DEL and the C1 controls (U+007F-U+009F), which include the terminal's
  escape introducers (CSI, OSC), are removed;
* Unicode non-characters (U+FDD0-U+FDEF and U+xFFFE/U+xFFFF of every plane)
  are removed;
* everything else, including right-to-left marks and other format
  characters, is kept as it is: they are text, not damage.

The result encodes to UTF-8, is XML 1.0 compatible and is accepted by
PostgreSQL's ``text`` type.  `clean_text` is idempotent.  This module is
standard library only: storage imports it as its last guard.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable
from typing import Any

# Ranges removed by clean_text; CR is handled before (it becomes a newline).
_REMOVED = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f"  # C0 controls but tab, newline and CR
    "\x7f-\x9f"  # DEL and C1 controls
    "\ud800-\udfff"  # surrogates (only lone ones can be in a str)
    "\ufdd0-\ufdef"  # the non-character block
    "]"
    # U+xFFFE and U+xFFFF of each plane: the other non-characters.
    "|[\ufffe\uffff\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff"
    "\U0004fffe\U0004ffff\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff"
    "\U0008fffe\U0008ffff\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff"
    "\U000cfffe\U000cffff\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff"
    "\U0010fffe\U0010ffff]"
)
_CARRIAGE_RETURN = re.compile("\r\n?")
#: Terminal escape sequences, 7- and 8-bit, removed whole (introducer and
#: body) so that no ``[2J`` is left behind when the introducer goes.  A
#: string sequence (OSC, DCS) counts only with its terminator, within 2,048
#: characters: an unterminated introducer alone must not swallow an article.
ESCAPE_SEQUENCES = re.compile(
    r"""
      \x1b\][^\x07\x1b\x9c]{0,2048}(?:\x07|\x1b\\|\x9c)   # OSC ... BEL or ST
    | \x1b[P^_X][^\x1b\x9c]{0,2048}(?:\x1b\\|\x9c)         # DCS, PM, APC, SOS ... ST
    | \x1b\[[0-?]*[ -/]*[@-~]?                            # CSI
    | \x1b[ -/]*[0-~]?                                    # other ESC sequences
    | \x9d[^\x07\x9c]{0,2048}(?:\x07|\x9c)                 # 8-bit OSC
    | [\x90\x98\x9e\x9f][^\x9c]{0,2048}\x9c                # 8-bit DCS, SOS, PM, APC
    | \x9b[0-?]*[ -/]*[@-~]?                              # 8-bit CSI
    """,
    re.VERBOSE,
)


def clean_text(value: str) -> str:
    """``value`` without the characters listed in the module docstring."""
    # All that is removed is a control, surrogate or non-character, none of
    # them printable: text printable but for its tabs and newlines (most
    # articles) is kept as it is after one pass in C, not three regex scans.
    if value.replace("\n", "").replace("\t", "").isprintable():
        return value
    value = ESCAPE_SEQUENCES.sub("", value)
    return _REMOVED.sub("", _CARRIAGE_RETURN.sub("\n", value))


def clean_optional(value: str | None) -> str | None:
    """`clean_text` of ``value``; ``None`` stays ``None``."""
    return None if value is None else clean_text(value)


def clean_list(values: Iterable[str]) -> list[str]:
    """`clean_text` of each of ``values``; those left empty are dropped."""
    return [text for text in (clean_text(v) for v in values) if text]


def clean_fields(record: Any) -> list[str]:
    """Clean every text field of the dataclass instance ``record`` in place:
    `clean_text` for a string, `clean_list` for a list or tuple of strings
    (kept a list or tuple).  Returns the names of the fields it changed."""
    changed = []
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, str):
            cleaned: Any = clean_text(value)
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            cleaned = type(value)(clean_list(value))
        else:
            continue
        if cleaned != value:
            setattr(record, field.name, cleaned)
            changed.append(field.name)
    return changed


# Tags that end a paragraph or a line in HTML prose.
_BLOCK_END = re.compile(
    r"<\s*(?:br|hr)\b[^>]{0,200}>|</\s*(?:p|div|li|h[1-6]|blockquote|pre|tr|section|article)\s*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]{0,2000}>")
_LINE_SPACE = re.compile(r"[^\S\n]+")


def prose_text(value: str, *, markup: bool) -> str:
    """``value`` (HTML when ``markup``, else plain text) as clean plain
    text, one paragraph a line, no blank lines: how a feed's full content
    or a JSON-LD ``articleBody`` becomes a clipping's text."""
    value = clean_text(value)
    if markup:
        value = _TAG.sub(" ", _BLOCK_END.sub("\n", value))
        value = clean_text(html.unescape(value))
    lines = (_LINE_SPACE.sub(" ", line).strip() for line in value.split("\n"))
    return "\n".join(line for line in lines if line)
