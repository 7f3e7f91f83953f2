"""Feed bodies made safe for feedparser, before it parses them.

Two blind spots of feedparser are covered here, on the raw bytes: a DOCTYPE
declaring recursive, parameter or external entities (billion laughs, XXE)
is removed whole, and numeric character references that would make
feedparser raise (surrogates, code points past U+10FFFF) become U+FFFD.
Only the prolog is parsed (by expat, stopped at the root element), so the
check costs little and expands nothing.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from typing import Any

_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(codec)
    for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


def defused(body: bytes) -> bytes:
    """The body with two of feedparser's blind spots covered.

    feedparser drops a DOCTYPE's recursive and external entity declarations
    only when each starts a line and none holds markup; expat would expand
    the others, up to its own amplification limit (megabytes and seconds).
    A DOCTYPE that declares such an entity is removed whole, so the strict
    parser fails on the undefined references and the loose one leaves them
    as text.

    A numeric reference to a surrogate or to a code point beyond U+10FFFF
    makes feedparser raise, losing the whole feed; such a reference becomes
    U+FFFD instead.
    """
    span = _unsafe_doctype(body)
    if span is not None:
        body = body[: span[0]] + body[span[1] :]
    return _CHAR_REF.sub(_valid_char_ref, body)


class _RootReached(Exception):
    pass


def _unsafe_doctype(body: bytes) -> tuple[int, int] | None:
    """Byte span from the DOCTYPE to the root element, when the DOCTYPE
    declares a parameter entity, an external entity, or one whose value
    refers to another entity; ``None`` otherwise or when unreadable."""
    parser = xml.parsers.expat.ParserCreate()
    offsets: list[int] = []
    unsafe = False

    def on_doctype(*_: Any) -> None:
        offsets.append(parser.CurrentByteIndex)

    def on_entity(name: str, is_parameter: bool, value: str | None, *_: Any) -> None:
        nonlocal unsafe
        unsafe = unsafe or is_parameter or value is None or "&" in value

    def on_root(*_: Any) -> None:
        offsets.append(parser.CurrentByteIndex)
        raise _RootReached

    parser.StartDoctypeDeclHandler = on_doctype
    parser.EntityDeclHandler = on_entity
    parser.StartElementHandler = on_root
    # Only the prolog is read: the first element stops the parser, before
    # any entity reference in content could be expanded.
    try:
        parser.Parse(body, True)
    except _RootReached:
        pass
    except (xml.parsers.expat.ExpatError, ValueError, LookupError):
        return None
    if not unsafe or len(offsets) != 2:
        return None
    # expat reports the DOCTYPE at its internal subset, not at "<!DOCTYPE".
    for marker in _DOCTYPE_MARKERS:
        if (start := body.rfind(marker, 0, offsets[0])) != -1:
            return start, offsets[1]
    return None


def _valid_char_ref(match: re.Match[bytes]) -> bytes:
    hexadecimal, decimal = match.group(1), match.group(2)
    digits = (hexadecimal or decimal).lstrip(b"0")
    if len(digits) <= 8:
        code = int(hexadecimal, 16) if hexadecimal else int(decimal)
        if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return match.group(0)
    return b"&#xFFFD;"
