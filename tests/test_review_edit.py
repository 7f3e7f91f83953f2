"""Excerpts a curator does not have to repair, and edits that keep their
guard rails (#17.3, #18.3): no headline glued to the standfirst, "…" after a
cut sentence, quotes, dashes and spaces typed plainly, ``show``, a
``--paraphrase`` that does not stick, published clippings corrected only on
purpose, ``edit --outlet``."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.excerpt import excerpt_problem, pick_excerpt, quote_passage
from scraper.items import Clipping
from storage import open_store
from tests.publishing import SAMPLE, ok, presscut, write_config, write_jsonl

TITLE = "Storm surge tops Port Merrow sea wall for second time this autumn"
ARTICLE = (
    f"{TITLE}\n"
    "Sea water poured over the wall before dawn, flooding the region’s lower harbour "
    "road\u00a0– the second time since September. Residents said the council’s pumps "
    "were late again. Engineers will inspect the masonry on Monday, the harbour master "
    "said, and the road stays closed until then."
)


def test_an_automatic_excerpt_does_not_start_with_the_headline() -> None:
    excerpt, _ = pick_excerpt(ARTICLE, min_words=10, max_words=60, titles=(TITLE, None))
    assert excerpt.startswith("Sea water poured over the wall")
    assert TITLE not in excerpt


def test_a_cut_sentence_ends_with_an_ellipsis() -> None:
    excerpt, _ = pick_excerpt(ARTICLE, min_words=5, max_words=8, titles=(TITLE,))
    assert excerpt == "Sea water poured over the wall before dawn,…"


def test_quotes_dashes_and_spaces_typed_plainly_quote_the_articles_characters() -> None:
    typed = "flooding the region's lower harbour road - the second time since September."
    passage = quote_passage(ARTICLE, typed)  # white space folded, NBSP too
    assert passage == "flooding the region’s lower harbour road – the second time since September."
    assert excerpt_problem(typed, ARTICLE) is None
    assert quote_passage(ARTICLE, "the region's lower harbour") == "the region’s lower harbour…"


def test_a_passage_that_is_not_verbatim_gets_a_hint() -> None:
    problem = excerpt_problem("Residents said the council's pumps were early again.", ARTICLE)
    assert problem is not None
    assert "matches up to" in problem and "'early again.'" in problem
    assert "'late again." in problem


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str) -> tuple[str, str]:
    folder = write_config(tmp_path / "config", sqlite_url)
    clipping = {**SAMPLE[3], "title": TITLE, "text": ARTICLE, "excerpt": None}
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", [clipping])), "--config", str(folder))
    return "--config", str(folder)


def stored(config: tuple[str, str], clipping_id: int = 1) -> Clipping:
    settings = (Path(config[1]) / "settings.toml").read_text(encoding="utf-8")
    url = settings.split('url = "', 1)[1].split('"', 1)[0]
    with open_store(url) as store:
        clipping = store.get_clipping(clipping_id)
    assert clipping is not None
    return clipping


def test_edit_stores_the_articles_own_characters(config: tuple[str, str]) -> None:
    ok("edit", "1", "--excerpt", "Residents said the council's pumps were late again.", *config)
    assert stored(config).excerpt == "Residents said the council’s pumps were late again."
    refused = presscut("edit", "1", "--excerpt", "Residents said the pumps were late.", *config)
    assert refused.exit_code == 1
    assert "matches up to 'Residents said the '" in refused.output
    assert "--paraphrase" in refused.output


def test_show_prints_fields_and_text(config: tuple[str, str]) -> None:
    out = ok("show", "1", *config).stdout
    lines = out.splitlines()
    assert "headline:" in out
    assert any(line.startswith("outlet:") and line.endswith("Lakeside Voice") for line in lines)
    assert "Engineers will inspect the masonry on Monday" in out
    missing = presscut("show", "99", *config)
    assert missing.exit_code == 1 and "no clipping with id 99" in missing.output


def test_paraphrase_applies_to_that_edit_only(config: tuple[str, str]) -> None:
    ok("edit", "1", "--excerpt", "A summary of the flood.", "--paraphrase", *config)
    assert stored(config).excerpt_paraphrased
    refused = presscut("edit", "1", "--excerpt", "Totally invented sentence.", *config)
    assert refused.exit_code == 1 and "not a verbatim passage" in refused.output
    assert stored(config).excerpt == "A summary of the flood."
    ok("edit", "1", "--headline", "Surge tops the wall", *config)  # no excerpt check needed


def test_a_published_clipping_is_corrected_only_on_purpose(config: tuple[str, str]) -> None:
    ok("approve", "1", *config)
    ok("publish", "posts", "1", "--posted-at", "2019-09-20", *config)
    refused = presscut("edit", "1", "--headline", "Changed quietly", *config)
    assert refused.exit_code == 1 and "--correction" in refused.output
    assert stored(config).headline != "Changed quietly"
    ok("edit", "1", "--headline", "Surge tops Port Merrow wall", "--correction", *config)
    archive = ok("archive", "--format", "json", *config).stdout
    assert "Surge tops Port Merrow wall" in archive


def test_edit_outlet(config: tuple[str, str]) -> None:
    ok("edit", "1", "--outlet", "Lakeside  Voice Weekly", *config)
    assert stored(config).outlet == "Lakeside Voice Weekly"
