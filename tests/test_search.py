"""Full-text search (`Store.search`, `storage.search`) on SQLite (FTS5) and
PostgreSQL (tsvector): matching, phrases and prefixes, ranking bounded to
the newest matches, hostile query text, and an index that follows edits and
deletions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scraper.items import Clipping
from storage import Store, search
from storage.models import clippings
from storage.search import Piece, fts5_query, pg_queries, query_pieces

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

FILLER = [
    "Council debates the parking budget for the coming year",
    "Rail strike delays commuters across the valley",
    "Bakery wins regional bread prize",
    "School choir tours the northern towns",
    "Museum opens a wing for textile history",
    "Farmers report an early harvest of apples",
    "Library extends its opening hours in winter",
    "Cycling lanes planned along the river road",
    "Hospital recruits nurses from abroad",
    "Storm damages roofs in the old quarter",
    "Market traders protest new stall fees",
    "Theatre revives a forgotten comedy",
]


def clip(n: int, title: str, text: str, source_id: str = "herald", **changes: Any) -> Clipping:
    values: dict[str, Any] = {
        "url": f"https://{source_id}.example/{n}",
        "source_id": source_id,
        "outlet": source_id.title(),
        "url_hash": f"{n:040x}",
        "entry_key": f"e{n}",
        "title": title,
        "text": text,
        "fetched_at": T0,
    }
    return Clipping(**{**values, **changes})


@pytest.fixture
def ids(store: Store) -> dict[str, int]:
    """A small store: filler stories (so that word rarity means something)
    and the clippings the tests look for, by name -> id."""
    named = {
        "title": clip(1, "Lighthouse keeper retires", "He kept the lamp for forty years."),
        "once": clip(2, "Coastal walk", "The path passes an old lighthouse near the cliffs."),
        "thrice": clip(
            3, "Coastal path", "The lighthouse, the lighthouse and the lighthouse are near."
        ),
        "zurich": clip(4, "Zürich tram news", "Трамвай ходит по городу каждый день."),
        "gazette": clip(5, "Ferry timetable", "A lighthouse tour by ferry.", "gazette"),
    }
    filler = [
        clip(100 + i, title, f"{title}. Nothing else to report.") for i, title in enumerate(FILLER)
    ]
    store.write_batch([*filler, *named.values()], [], [])
    by_hash = store.clipping_ids_by_url_hash(c.url_hash or "" for c in named.values())
    return {name: by_hash[c.url_hash or ""] for name, c in named.items()}


def found(store: Store, query: str, **options: Any) -> list[int]:
    return [hit.id for hit in store.search(query, **options)]


def test_finds_words_of_the_title_and_of_the_text_in_any_case(
    store: Store, ids: dict[str, int]
) -> None:
    assert found(store, "retires") == [ids["title"]]
    assert found(store, "FORTY") == [ids["title"]]
    assert set(found(store, "lighthouse")) == {
        ids["title"],
        ids["once"],
        ids["thrice"],
        ids["gazette"],
    }
    assert found(store, "zürich") == [ids["zurich"]] == found(store, "ZÜRICH")
    assert found(store, "трамвай") == [ids["zurich"]]
    assert found(store, "submarine") == []


def test_every_word_must_occur(store: Store, ids: dict[str, int]) -> None:
    assert set(found(store, "lighthouse cliffs")) == {ids["once"]}
    assert found(store, "lighthouse submarine") == []


def test_title_matches_rank_first_then_more_occurrences(store: Store, ids: dict[str, int]) -> None:
    hits = store.search("lighthouse")
    order = [hit.id for hit in hits]
    assert order[0] == ids["title"]
    assert order.index(ids["thrice"]) < order.index(ids["once"])
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]


def test_hits_carry_the_stored_clipping(store: Store, ids: dict[str, int]) -> None:
    [hit] = store.search("retires")
    assert hit.clipping == store.get_clipping(ids["title"])


@pytest.mark.parametrize(
    "hostile",
    [
        '"lighthouse',
        'lighthouse"',
        "lighthouse AND(",
        "NOT lighthouse",
        "lighthouse OR",
        "NEAR(lighthouse keeper)",
        "title:lighthouse",
        "lighthouse*",
        "-lighthouse",
        "^lighthouse",
        "(lighthouse",
        "lighthouse & | !",
        "'lighthouse'",
        "\x00lighthouse",
    ],
)
def test_hostile_query_text_never_raises_and_is_read_as_words(
    store: Store, ids: dict[str, int], hostile: str
) -> None:
    # Operators are words to find, never an exclusion; a star after a word
    # is a prefix.
    with_lighthouse = {ids["title"], ids["once"], ids["thrice"], ids["gazette"]}
    assert set(found(store, hostile)) <= with_lighthouse


@pytest.mark.parametrize("letterless", ['"', '""', "\\", "*", "", "   ", "( ) - ^ :", "_"])
def test_a_query_without_letters_finds_nothing(
    store: Store, ids: dict[str, int], letterless: str
) -> None:
    assert found(store, letterless) == []


def test_operator_words_are_searched_as_words(store: Store, ids: dict[str, int]) -> None:
    assert found(store, "AND(") == [ids["thrice"]]  # "the lighthouse and the lighthouse"
    assert found(store, "keeper NEAR(") == []


def test_a_quoted_phrase_needs_its_words_together_in_order(
    store: Store, ids: dict[str, int]
) -> None:
    assert set(found(store, "lighthouse near")) == {ids["once"], ids["thrice"]}
    assert found(store, '"lighthouse near"') == [ids["once"]]
    assert found(store, '"near lighthouse"') == []
    assert found(store, '"LIGHTHOUSE near" cliffs') == [ids["once"]]
    assert found(store, '"lighthouse near" ferry') == []
    # Inside a phrase, operator words are words.
    assert found(store, '"lighthouse and the"') == [ids["thrice"]]
    assert set(found(store, '"lighthouse"')) == set(found(store, "lighthouse"))


def test_quotes_that_open_or_close_no_piece_are_plain_characters(
    store: Store, ids: dict[str, int]
) -> None:
    assert query_pieces(' a"b  "" ! ok ') == [Piece('a"b'), Piece("ok")]
    assert query_pieces('"sea  wall" vote"') == [Piece("sea wall"), Piece('vote"')]
    assert fts5_query([Piece('a"b'), Piece("ok")]) == '"a""b" "ok"'
    assert set(found(store, '"lighthouse')) == set(found(store, "lighthouse"))
    assert found(store, 'old"lighthouse') == [ids["once"]]


def test_a_star_after_a_word_is_a_prefix(store: Store, ids: dict[str, int]) -> None:
    lighthouses = {ids["title"], ids["once"], ids["thrice"], ids["gazette"]}
    assert set(found(store, "lighth*")) == lighthouses
    assert set(found(store, "LIGHTHOUSE*")) == lighthouses
    assert found(store, "retir*") == [ids["title"]]
    assert found(store, "zür*") == [ids["zurich"]]
    assert found(store, "трамв*") == [ids["zurich"]]
    assert found(store, "lighth* cliff*") == [ids["once"]]
    assert found(store, '"old lighthouse" cli*') == [ids["once"]]
    assert found(store, "lighthousez*") == []
    # Elsewhere a star is a plain character.
    assert query_pieces("light*house *light") == [Piece("light*house"), Piece("*light")]
    assert found(store, "light*house") == []
    assert pg_queries([Piece("e-ma", prefix=True)]) == (None, ["'e' <-> 'ma':*"])


@pytest.mark.parametrize("first_slice", [1, 3, 10_000])
def test_only_the_newest_matches_are_ranked(
    store: Store, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch, first_slice: int
) -> None:
    # PostgreSQL looks for them in slices of ids: one, or many.
    monkeypatch.setattr(search, "FIRST_SLICE", first_slice)
    monkeypatch.setattr(search, "WINDOW_GROWTH", 2)
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    # lighthouse: title < once < thrice < gazette by id
    hits = store.search("lighthouse")
    assert {hit.id for hit in hits} == {ids["thrice"], ids["gazette"]}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # The filters come first: the newest two of the source.
    assert set(found(store, "lighthouse", source_id="herald")) == {ids["once"], ids["thrice"]}
    assert found(store, "lighthouse", limit=1, source_id="herald") == [ids["thrice"]]
    monkeypatch.setattr(search, "RANK_WINDOW", 1)
    assert found(store, "lighthouse") == [ids["gazette"]]


def test_a_window_narrower_than_the_default_ranks_only_that_many(
    store: Store, ids: dict[str, int]
) -> None:
    # The desk's queue search ranks no further back than its page.
    def newest(window: int, **filters: Any) -> set[int]:
        with store._read() as conn:
            hits = search.search(conn, "lighthouse", 50, window=window, **filters)
        return {hit.id for hit in hits}

    assert newest(2) == {ids["thrice"], ids["gazette"]}
    assert newest(1, status="new", source_id="herald") == {ids["thrice"]}
    store.approve([ids["thrice"]])
    assert newest(1, status="new", source_id="herald") == {ids["once"]}
    assert len(newest(10)) == 4


def test_filters_and_limit(store: Store, ids: dict[str, int]) -> None:
    assert found(store, "lighthouse", source_id="gazette") == [ids["gazette"]]
    store.approve([ids["once"]])
    assert found(store, "lighthouse", status="approved") == [ids["once"]]
    assert ids["once"] not in found(store, "lighthouse", status="new")
    assert len(found(store, "lighthouse", limit=2)) == 2
    assert found(store, "lighthouse", limit=0) == []


def test_sees_a_curators_new_title(store: Store, ids: dict[str, int]) -> None:
    store.edit_clipping(ids["title"], {"title": "Beacon keeper bows out"})
    assert ids["title"] not in found(store, "retires")
    assert found(store, "beacon") == [ids["title"]]
    # Its text is still indexed.
    assert found(store, "forty") == [ids["title"]]


def test_forgets_a_deleted_clipping(store: Store, ids: dict[str, int]) -> None:
    with store.engine.begin() as conn:
        conn.execute(clippings.delete().where(clippings.c.id == ids["once"]))
    assert ids["once"] not in found(store, "lighthouse")
    assert found(store, "cliffs") == []
    assert ids["thrice"] in found(store, "lighthouse")


def test_sees_clippings_written_later(store: Store, ids: dict[str, int]) -> None:
    store.write_batch([clip(50, "Late news", "A second lighthouse opens.")], [], [])
    assert found(store, "second lighthouse") == [max(ids.values()) + 1]
