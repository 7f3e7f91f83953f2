"""Full-text search over clippings' ``title`` and ``text``, one function for
both backends.

The index is the database's own (migration 0003): an FTS5 table kept in step
by triggers on SQLite, a generated ``tsvector`` column with a GIN index on
PostgreSQL.  Both fold case and never stem (clippings come in many
languages), so a word matches itself in any case; accents count.

Query contract: ``query`` is what a person typed into a search box, read as
a web search engine reads it, and never raises.  It is split on white space
and control characters into pieces, each of which must occur (AND):

* ``"sea wall"``, a quote opening a piece and one closing a piece: a
  phrase, its words next to each other in that order;
* ``harb*``, a piece ending in ``*`` right after a letter or digit: a
  prefix, any word that begins so (after the words before it in the piece,
  when it holds several: ``e-ma*``);
* any other piece that holds a letter or digit: the words it holds, next to
  each other (``don't``, ``e-mail``: a one-word piece is that word).

Everything else is a plain character: a quote that does not open or close a
piece, brackets, ``AND``/``OR``/``NOT``, ``-``, ``:``, a ``*`` elsewhere;
a query without a letter or digit finds nothing.  PostgreSQL reads the
phrases and words with ``websearch_to_tsquery`` (each piece given to it
quoted, so that its own operators ``or`` and ``-`` stay words) and a prefix
with ``to_tsquery`` over the piece's words (``websearch_to_tsquery`` has no
prefix syntax); SQLite with FTS5 strings and FTS5's ``*``.

Ranking, bounded: of the matches (after the status and source filters),
only the newest `RANK_WINDOW` by id are ranked, and the best ``limit`` of
those are returned, best first: BM25 on SQLite (``bm25()``), ``ts_rank``
normalised by document length on PostgreSQL; on both a title word weighs
`TITLE_WEIGHT` times a body word.  Scores are comparable within one result
list only, and higher is better on both backends.  Equal scores: newest id
first.  A query matching fewer than `RANK_WINDOW` clippings ranks them all.

Cost: ranking reads each ranked match's indexed words (PostgreSQL: its
stored ``tsvector``), so the bound keeps a query of very common words as
cheap as a specific one; finding the newest matches walks the index's match
list newest first (SQLite) or the newest ids in growing slices, each
intersected with the GIN index's matches (PostgreSQL, `_pg_newest`).

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Float, column, func, literal_column, select, table

from scraper.items import Clipping
from storage.clippings import from_row
from storage.models import clippings

#: How much more a title word weighs than a body word.  PostgreSQL's
#: ``ts_rank`` weighs label A (title) 1.0 and D (text) 0.1 by default.
TITLE_WEIGHT = 10.0

#: How many of the newest matches are ranked (see the module docstring).
RANK_WINDOW = 500
#: PostgreSQL: ids in the first slice searched for the newest matches, and
#: how much larger each next slice is (see `_pg_newest`).
FIRST_SLICE = 2 * RANK_WINDOW
WINDOW_GROWTH = 4

#: ``ts_rank`` normalisation 1: divide by 1 + log(document length), as BM25
#: discounts long documents.
_PG_NORMALIZATION = 1

#: A piece of a query that can match: it holds a letter or a digit.
_WORDY = re.compile(r"[^\W_]")
#: The words of a piece, for a prefix query.
_WORDS = re.compile(r"[^\W_]+")
#: Control characters separate pieces (a NUL would end SQLite's string and
#: cannot be sent to PostgreSQL at all).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: A phrase: a quote opening a piece, a quote closing one.
_PHRASE = re.compile(r'(?<!\S)"([^"]*)"(?!\S)')
#: A prefix: a piece ending in ``*`` right after a letter or digit.
_PREFIX = re.compile(r"[^\W_]\*\Z")

#: PostgreSQL plans that test each row's stored tsvector (fetched from TOAST
#: and decompressed: far dearer than the planner counts) are switched off
#: while the newest matches are looked for: a slice of ids is then
#: intersected with the GIN index's matches (a bitmap AND), and only the
#: matching rows are read.  A word so common that the intersection would not
#: narrow the slice is still tested row by row, within one slice.
_PG_ROW_TESTS = ("enable_seqscan", "enable_indexscan")

_FTS = table("clippings_fts", column("rowid"))
_FTS_TABLE = literal_column("clippings_fts")
_PG_VECTOR = literal_column("clippings.search_vector")
_SIMPLE = literal_column("'simple'::regconfig")


@dataclass(frozen=True, slots=True)
class Piece:
    """One part of a query that must occur: ``text`` (a phrase's words, or a
    piece as typed), and whether its last word is a ``prefix``."""

    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match: the clipping, its id and its score (higher is better)."""

    id: int
    clipping: Clipping
    score: float


def query_pieces(query: str) -> list[Piece]:
    """The pieces of ``query`` that must all occur (see the module
    docstring), in order, each once."""
    query = _CONTROL.sub(" ", query)
    pieces: list[Piece] = []
    end = 0
    for match in _PHRASE.finditer(query):
        pieces += _plain(query[end : match.start()])
        pieces.append(Piece(" ".join(match.group(1).split())))
        end = match.end()
    pieces += _plain(query[end:])
    return list(dict.fromkeys(p for p in pieces if _WORDY.search(p.text)))


def _plain(part: str) -> list[Piece]:
    return [
        Piece(piece[:-1], prefix=True) if _PREFIX.search(piece) else Piece(piece)
        for piece in part.split()
    ]


def fts5_query(pieces: list[Piece]) -> str:
    """An FTS5 MATCH expression requiring every piece, each as a quoted
    string (a phrase of the words it holds; FTS5 reads nothing inside a
    string as syntax, and a quote is escaped by doubling it), a prefix
    followed by FTS5's ``*``."""
    return " ".join(
        '"' + p.text.replace('"', '""') + '"' + (" *" if p.prefix else "") for p in pieces
    )


def pg_queries(pieces: list[Piece]) -> tuple[str | None, list[str]]:
    """The text for ``websearch_to_tsquery`` (every piece that is no prefix,
    each quoted, so read as a phrase and never as an operator) and one
    ``to_tsquery`` text per prefix piece (its words, next to each other,
    the last one a prefix; only letters and digits, so no syntax)."""
    quoted = [f'"{p.text.replace(chr(34), " ")}"' for p in pieces if not p.prefix]
    prefixes = [
        " <-> ".join(f"'{w}'" for w in _WORDS.findall(p.text)) + ":*" for p in pieces if p.prefix
    ]
    return (" ".join(quoted) or None), prefixes


def search(
    conn: Connection,
    query: str,
    limit: int = 50,
    status: str | None = None,
    source_id: str | None = None,
    window: int | None = None,
) -> list[SearchHit]:
    """The best ``limit`` of the newest ``window`` (`RANK_WINDOW` unless
    given) clippings matching ``query`` (see the module docstring),
    optionally only those in ``status`` and/or of ``source_id``; best
    first."""
    pieces = query_pieces(query)
    if not pieces or limit <= 0:
        return []
    window = window or RANK_WINDOW
    if conn.dialect.name == "postgresql":
        best = _postgresql(conn, pieces, limit, status, source_id, window)
    else:
        best = _sqlite(conn, fts5_query(pieces), limit, status, source_id, window)
    if not best:
        return []
    rows = {
        row.id: row
        for row in conn.execute(select(clippings).where(clippings.c.id.in_([i for i, _ in best])))
    }
    return [
        SearchHit(id=i, clipping=from_row(rows[i]), score=score) for i, score in best if i in rows
    ]


def _filtered(stmt: Any, status: str | None, source_id: str | None) -> Any:
    if status is not None:
        stmt = stmt.where(clippings.c.status == status)
    if source_id is not None:
        stmt = stmt.where(clippings.c.source_id == source_id)
    return stmt


def _best(conn: Connection, newest: Any, limit: int) -> list[tuple[int, float]]:
    """The best ``limit`` ``(id, score)`` of the subquery ``newest``."""
    ranked = newest.subquery("newest")
    stmt = (
        select(ranked.c.id, ranked.c.score)
        .order_by(ranked.c.score.desc(), ranked.c.id.desc())
        .limit(limit)
    )
    return [(row.id, float(row.score)) for row in conn.execute(stmt)]


def _sqlite(
    conn: Connection,
    match: str,
    limit: int,
    status: str | None,
    source_id: str | None,
    window: int,
) -> list[tuple[int, float]]:
    # FTS5 walks a match list in rowid order, newest first here, and
    # computes bm25() only for the rows it hands out: the window's.
    # bm25() is lower for better matches: negate it so that higher is better.
    score = -func.bm25(_FTS_TABLE, TITLE_WEIGHT, 1.0, type_=Float)
    rowid = _FTS.c.rowid
    stmt = (
        select(rowid.label("id"), score.label("score"))
        .select_from(_FTS)
        .where(_FTS_TABLE.op("MATCH")(match))
    )
    if status is not None or source_id is not None:
        stmt = _filtered(stmt.join(clippings, clippings.c.id == rowid), status, source_id)
    return _best(conn, stmt.order_by(rowid.desc()).limit(window), limit)


def _postgresql(
    conn: Connection,
    pieces: list[Piece],
    limit: int,
    status: str | None,
    source_id: str | None,
    window: int,
) -> list[tuple[int, float]]:
    words, prefixes = pg_queries(pieces)
    parts = [func.websearch_to_tsquery(_SIMPLE, words)] if words else []
    parts += [func.to_tsquery(_SIMPLE, prefix) for prefix in prefixes]
    tsquery = parts[0]
    for part in parts[1:]:
        tsquery = tsquery.op("&&")(part)
    newest = _pg_newest(conn, tsquery, status, source_id, window)
    if not newest:
        return []
    score = func.ts_rank(_PG_VECTOR, tsquery, _PG_NORMALIZATION, type_=Float)
    ranked = select(clippings.c.id, score.label("score")).where(clippings.c.id.in_(newest))
    return _best(conn, ranked, limit)


def _pg_newest(
    conn: Connection, tsquery: Any, status: str | None, source_id: str | None, window: int
) -> list[int]:
    """Ids of the newest ``window`` matches, newest first, looked for in
    slices of ids going back from the newest, each `WINDOW_GROWTH` times
    the one before (the first `FIRST_SLICE`), until enough are found."""
    top = conn.execute(select(func.max(clippings.c.id))).scalar()
    if top is None:
        return []
    found: list[int] = []
    ceiling, width = top + 1, FIRST_SLICE
    for scan in _PG_ROW_TESTS:
        conn.exec_driver_sql(f"SET LOCAL {scan} = off")
    try:
        while ceiling > 0 and len(found) < window:
            floor = max(ceiling - width, 0)
            stmt = _filtered(
                select(clippings.c.id).where(
                    _PG_VECTOR.op("@@")(tsquery),
                    clippings.c.id >= floor,
                    clippings.c.id < ceiling,
                ),
                status,
                source_id,
            )
            stmt = stmt.order_by(clippings.c.id.desc()).limit(window - len(found))
            found += conn.execute(stmt).scalars()
            ceiling, width = floor, width * WINDOW_GROWTH
    finally:
        for scan in _PG_ROW_TESTS:
            conn.exec_driver_sql(f"SET LOCAL {scan} TO DEFAULT")
    return found
