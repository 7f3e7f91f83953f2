"""Bylines to person names (`scraper.authors`)."""

from __future__ import annotations

import pytest

from scraper.authors import (
    clean_name,
    fold,
    host_label,
    is_organisation,
    merge_names,
    parse_byline,
)


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Alice Taylor and Bob Roe | Staff Writer", ["Alice Taylor", "Bob Roe"]),
        ("Von Anna Müller und Peter Schmidt", ["Anna Müller", "Peter Schmidt"]),
        ("Par Jean Dupont et Marie Curie", ["Jean Dupont", "Marie Curie"]),
        ("Por Juan Pérez y María López", ["Juan Pérez", "María López"]),
        ("Alice Taylor; Bob Roe, Carol King", ["Alice Taylor", "Bob Roe", "Carol King"]),
        ("Alice Taylor & Bob Roe", ["Alice Taylor", "Bob Roe"]),
        ("Written by: Alice Taylor", ["Alice Taylor"]),
        ("Autor: Monika Bolliger", ["Monika Bolliger"]),
        ("Autor Monika Bolliger", ["Monika Bolliger"]),
        ("Auteur Anna Kubišta", ["Anna Kubišta"]),
        ("Ein Beitrag von Jana Weber", ["Jana Weber"]),
        ("Jane Doe, Reporter", ["Jane Doe"]),
        ("Jane Doe | Reuters", ["Jane Doe"]),
        ("Anna Müller (dpa)", ["Anna Müller"]),
        ("Jane Doe jane.doe@example.com", ["Jane Doe"]),
        ("Jane Doe @janedoe", ["Jane Doe"]),
        ("Jane Doe https://example.com/jane", ["Jane Doe"]),
        ("Grant Tinsley, PhD", ["Grant Tinsley"]),
        ("MTHOBISI SITHOLE", ["Mthobisi Sithole"]),
        (
            "Mathias Hagen; Journalist; Anders Skjerdingstad",
            ["Mathias Hagen", "Anders Skjerdingstad"],
        ),
        ("Sophie Foster; Sophie-Foster", ["Sophie Foster"]),
        ("Henry; Henry Steinhau", ["Henry Steinhau"]),
        ("Alice &amp; Bob Roe", ["Alice", "Bob Roe"]),
    ],
)
def test_parse_byline(byline: str, names: list[str]) -> None:
    assert parse_byline(byline) == names


@pytest.mark.parametrize(
    "byline",
    [
        "",
        "Staff",
        "Redaktion",
        "Reuters",
        "dpa",
        "Associated Press",
        "Unknown",
        "Posted",
        "On August 3",
        "12.05.2023",
        "@handle",
        "info@example.com",
        "https://example.com/author/x",
        "Deutscher Caritasverband e. V.",
        "Bergportal GmbH; Digvis GmbH",
        "Bundesministerium für Wirtschaft und Klimaschutz",
        "Redacción El Comercio Perú",
        "CBS News",
    ],
)
def test_parse_byline_finds_no_person(byline: str) -> None:
    assert parse_byline(byline) == []


def test_non_latin_names_are_kept_intact() -> None:
    assert parse_byline("焦鹏") == ["焦鹏"]
    assert parse_byline("Иван Петров и Анна Смирнова") == ["Иван Петров", "Анна Смирнова"]
    assert parse_byline("محمد علي") == ["محمد علي"]


def test_korean_and_japanese_role_suffixes_are_dropped() -> None:
    assert parse_byline("신현주 기자") == ["신현주"]
    assert parse_byline("山田太郎記者") == ["山田太郎"]


def test_outlet_and_site_names_are_dropped() -> None:
    assert parse_byline("Lesotho Times", outlet="Lesotho Times") == []
    assert parse_byline("The Balkanista; Ana Kovač", outlet="The Balkanista") == ["Ana Kovač"]
    assert parse_byline("Die FURCHE", site_names=["Die Furche"]) == []
    # Built from the page's host name.
    assert parse_byline("Heise Online; Dirk Knop", url="https://www.heise.de/news/x") == [
        "Dirk Knop"
    ]
    assert parse_byline("BR", url="https://www.br.de/nachrichten/x") == []
    # A person whose name merely resembles no host stays.
    assert parse_byline("Dirk Knop", url="https://www.heise.de/x") == ["Dirk Knop"]


def test_di_as_a_name_is_kept_but_italian_lead_in_is_dropped() -> None:
    assert parse_byline("di Mario Rossi") == ["Mario Rossi"]
    assert parse_byline("Di Maria") == ["Di Maria"]


def test_clean_name() -> None:
    assert clean_name("  By Jane Doe. ") == "Jane Doe"
    assert clean_name("Staff Writer") is None
    assert clean_name("a") is None
    assert clean_name("one two three four five six seven") is None


def test_is_organisation() -> None:
    assert is_organisation("Stuttgarter Zeitung")
    assert is_organisation("Perform Media Deutschland GmbH")
    assert is_organisation("Jungefreiheit De", host="jungefreiheit")
    assert not is_organisation("Jane Doe")
    assert not is_organisation("Emily Co")
    assert is_organisation("Ilanga", blocked={fold("ilanga")})


def test_merge_names_keeps_first_spelling_and_order() -> None:
    assert merge_names([["Jane Doe", "Bob"], ["jane doe", "Bob Roe", "Carol"]]) == [
        "Jane Doe",
        "Bob Roe",
        "Carol",
    ]


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://www.heise.de/news/x", "heise"),
        ("https://www.bbc.co.uk/news", "bbc"),
        ("https://edition.cnn.com/2021/x", "cnn"),
        ("https://m.washingtontimes.com/news", "washingtontimes"),
        ("file:///tmp/page.html", None),
        ("not a url", None),
        (None, None),
    ],
)
def test_host_label(url: str | None, label: str | None) -> None:
    assert host_label(url) == label
