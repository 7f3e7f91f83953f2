"""Text as it leaves presscut for another program: XML documents, WordPress
and spreadsheets.

Stored text is plain text but hostile (see `digest.render`).  Each function
here is the one place a kind of output makes it safe:

* `xml_text`: every string written into an XML document (the Atom feed, the
  WXR export) loses the characters XML 1.0 cannot hold (C0 controls other
  than tab, newline and carriage return, lone surrogates, U+FFFE/U+FFFF), so
  one stray control character never stops a feed or an export;
* `wordpress_text`: WordPress stores a post's title and excerpt and a
  term's name as HTML and themes print them unescaped, so these fields are
  sent HTML-escaped, by the REST publisher and the WXR export alike;
* `spreadsheet_cell`: a CSV cell a spreadsheet would run as a formula gets a
  leading ``'`` (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import html
import re

# XML 1.0 ``Char``: tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000 up.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Spreadsheets read a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xml_text(value: str | None) -> str:
    """``value`` without the characters an XML 1.0 document cannot hold;
    empty for ``None``."""
    return _NOT_XML.sub("", value) if value else ""


def wordpress_text(value: str | None) -> str:
    """``value`` as WordPress wants a title, excerpt or term name: XML-safe
    (`xml_text`) and HTML-escaped, so scraped markup shows as text."""
    return html.escape(xml_text(value), quote=False)


def spreadsheet_cell(value: object) -> object:
    """``value`` unchanged unless it is text a spreadsheet would read as a
    formula; that gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
