"""Full-text search over clippings' ``title`` and ``text``, one function for
both backends.

The index is the database's own (migration 0003): an FTS5 table kept in step
by triggers on SQLite, a generated ``tsvector`` column with a GIN index on
PostgreSQL.  Both fold case and never stem (clippings come in many
languages), so a word matches itself in any case; accents count.

Query contract: ``query`` is what a person typed, never search syntax.  It
is split on white space and control characters; each piece that holds a
letter or digit must occur (pieces are joined by AND; a piece such as
``don't`` or ``e-mail`` must occur as the words it holds).  Quotes,
brackets, ``AND``/``OR``/``NOT``, ``*``, ``:`` and the like are plain
characters: no input raises, and a query without a letter or digit finds
nothing.

Ranking, best first: BM25 on SQLite (``bm25()``), ``ts_rank`` normalised by
document length on PostgreSQL; on both a title word weighs `TITLE_WEIGHT`
times a body word.  Scores are comparable within one result list only, and
higher is better on both backends.  Equal scores: newest id first.

Cost: the rank of every matching row is computed before the best are kept,
so a query made only of very common words costs more than a specific one
(see docs/benchmarks.md, "Scale of the store").

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

#: ``ts_rank`` normalisation 1: divide by 1 + log(document length), as BM25
#: discounts long documents.
_PG_NORMALIZATION = 1

#: A piece of a query that can match: it holds a letter or a digit.
_WORDY = re.compile(r"[^\W_]")
#: Control characters separate pieces (a NUL would end SQLite's string and
#: cannot be sent to PostgreSQL at all).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_FTS = table("clippings_fts", column("rowid"))
_FTS_TABLE = literal_column("clippings_fts")
_PG_VECTOR = literal_column("clippings.search_vector")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match: the clipping, its id and its score (higher is better)."""

    id: int
    clipping: Clipping
    score: float


def query_pieces(query: str) -> list[str]:
    """The pieces of ``query`` that must all occur (see the module
    docstring), in order, each once."""
    pieces = _CONTROL.sub(" ", query).split()
    return list(dict.fromkeys(p for p in pieces if _WORDY.search(p)))


def fts5_query(pieces: list[str]) -> str:
    """An FTS5 MATCH expression requiring every piece, each as a quoted
    phrase: FTS5 reads nothing inside a string as syntax, and a quote is
    escaped by doubling it."""
    return " ".join('"' + piece.replace('"', '""') + '"' for piece in pieces)


def search(
    conn: Connection,
    query: str,
    limit: int = 50,
    status: str | None = None,
    source_id: str | None = None,
) -> list[SearchHit]:
    """The best ``limit`` clippings matching ``query`` (see the module
    docstring), optionally only those in ``status`` and/or of
    ``source_id``; best first."""
    pieces = query_pieces(query)
    if not pieces or limit <= 0:
        return []
    if conn.dialect.name == "postgresql":
        ranked = _postgresql(" ".join(pieces))
        rowid: Any = clippings.c.id
    else:
        ranked, rowid = _sqlite(fts5_query(pieces))
    if status is not None or source_id is not None:
        if rowid is not clippings.c.id:
            ranked = ranked.join(clippings, clippings.c.id == rowid)
        if status is not None:
            ranked = ranked.where(clippings.c.status == status)
        if source_id is not None:
            ranked = ranked.where(clippings.c.source_id == source_id)
    best = conn.execute(
        ranked.order_by(literal_column("score").desc(), rowid.desc()).limit(limit)
    ).all()
    if not best:
        return []
    rows = {
        row.id: row
        for row in conn.execute(select(clippings).where(clippings.c.id.in_([b.id for b in best])))
    }
    return [
        SearchHit(id=b.id, clipping=from_row(rows[b.id]), score=float(b.score))
        for b in best
        if b.id in rows
    ]


def _sqlite(match: str) -> tuple[Any, Any]:
    # bm25() is lower for better matches: negate it so that higher is better.
    score = -func.bm25(_FTS_TABLE, TITLE_WEIGHT, 1.0, type_=Float)
    rowid = _FTS.c.rowid
    stmt = (
        select(rowid.label("id"), score.label("score"))
        .select_from(_FTS)
        .where(_FTS_TABLE.op("MATCH")(match))
    )
    return stmt, rowid


def _postgresql(words: str) -> Any:
    tsquery = func.plainto_tsquery(literal_column("'simple'::regconfig"), words)
    score = func.ts_rank(_PG_VECTOR, tsquery, _PG_NORMALIZATION, type_=Float)
    return select(clippings.c.id, score.label("score")).where(_PG_VECTOR.op("@@")(tsquery))
