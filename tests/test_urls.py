"""URLs: variants of one article collapse to one key, different articles do not."""

from __future__ import annotations

import hashlib

import pytest

from scraper.urls import canonical_url, is_http_url, is_tracking_param, same_site, url_hash

ARTICLE = "https://news.example.com/2024/03/flood-defences?id=3"


@pytest.mark.parametrize(
    "variant",
    [
        ARTICLE,
        "HTTPS://NEWS.EXAMPLE.COM/2024/03/flood-defences?id=3",
        "https://news.example.com:443/2024/03/flood-defences?id=3",
        "https://news.example.com/2024/03/flood-defences?id=3#comments",
        "https://news.example.com/2024/03/flood-defences?utm_source=rss&id=3&utm_medium=feed",
        "https://news.example.com/2024/03/flood-defences?id=3&UTM_Campaign=spring",
        "https://news.example.com/2024/03/flood-defences?fbclid=IwAR0x&id=3",
        "https://news.example.com/2024/03/flood-defences?id=3&gclid=Cj0KCQ&msclkid=abc",
        "https://news.example.com/2024/03/flood-defences?id=3&mc_cid=5f1&mc_eid=9a2",
        "https://news.example.com/2024/03/flood-defences?id=3&ref=rss",
        "https://news.example.com/2024/03/flood-defences?id=3&ref=example.org",
        "https://news.example.com/2024/03/flood-defences?id=3&ref_src=twsrc%5Etfw",
        "https://news.example.com/2024/03/flood-defences?id=3&CMP=share_btn_tw",
        "https://news.example.com/2024/03/flood-defences?id=3&_ga=2.1.2.3&_gl=1*abc",
        "https://news.example.com/2024/03/flood-defences?id=3&at_medium=RSS&at_campaign=K",
        "https://news.example.com/2024/03/flood%2Ddefences?id=3",
        "https://news.example.com/2024/03/./x/../flood-defences?id=3",
        "https://news.example.com/2024/03/flood-defences?%69d=3",
        "  https://news.example.com/2024/03/flood-defences?id=3\n",
    ],
)
def test_variants_collapse_to_one_key(variant: str) -> None:
    assert canonical_url(variant) == ARTICLE
    assert url_hash(canonical_url(variant)) == url_hash(ARTICLE)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://Example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?q=x y", "https://example.com/a?q=x+y"),
        ("https://example.com/a?q=x%20y", "https://example.com/a?q=x+y"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/%7euser", "https://example.com/~user"),
        ("https://example.com/caf%c3%a9", "https://example.com/café"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://example.com/a?tag=b&tag=a", "https://example.com/a?tag=a&tag=b"),
        ("https://example.com/?utm_source=x", "https://example.com/"),
        ("https://example.com/a?pk_campaign=x&mtm_kwd=y", "https://example.com/a"),
    ],
)
def test_normalisation_pairs(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/news/1", "https://example.com/news/2"),
        ("https://example.com/news", "https://example.com/news/"),
        ("https://example.com/News", "https://example.com/news"),
        ("https://example.com/article?id=3", "https://example.com/article?id=4"),
        ("https://example.com/?p=123", "https://example.com/?p=124"),
        ("https://example.com/?p=123", "https://example.com/"),
        ("https://example.com/story.php?ref=48213", "https://example.com/story.php"),
        ("https://example.com/a?page=2", "https://example.com/a"),
        ("https://example.com/a?source=3", "https://example.com/a"),
        ("https://example.com/a", "https://www.example.com/a"),
        ("https://example.com/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com/a"),
        ("https://example.com/a%2Fb", "https://example.com/a/b"),
        ("https://example.com/a?q=a%26b", "https://example.com/a?q=a&b"),
    ],
)
def test_different_articles_stay_apart(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)
    assert url_hash(canonical_url(a)) != url_hash(canonical_url(b))


def test_meaningful_parameters_survive() -> None:
    url = "https://example.com/index.php?p=123&lang=de&utm_source=x&id=3"
    assert canonical_url(url) == "https://example.com/index.php?id=3&lang=de&p=123"


def test_blank_and_repeated_parameters_are_kept() -> None:
    assert canonical_url("https://example.com/a?x=&y=1&y=2") == "https://example.com/a?x=&y=1&y=2"


# -- rel=canonical -------------------------------------------------------------

PAGE = "https://www.example.co.uk/amp/story-1?utm_source=x"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://www.example.co.uk/news/story-1", "https://www.example.co.uk/news/story-1"),
        ("https://news.example.co.uk/story-1?utm_medium=a", "https://news.example.co.uk/story-1"),
        ("/news/story-1#top", "https://www.example.co.uk/news/story-1"),
        ("../story-1", "https://www.example.co.uk/story-1"),
        ("story-1?id=7", "https://www.example.co.uk/amp/story-1?id=7"),
        ("//www.example.co.uk/x", "https://www.example.co.uk/x"),
        ("http://example.co.uk/story-1", "http://example.co.uk/story-1"),
    ],
)
def test_trusted_canonical_link_is_honoured(link: str, expected: str) -> None:
    assert canonical_url(PAGE, canonical_link=link) == expected


@pytest.mark.parametrize(
    "link",
    [
        "https://other.co.uk/story-1",  # another registrable domain
        "https://example.com/story-1",  # same label, another suffix
        "https://co.uk/story-1",
        "https://evil.example/www.example.co.uk/story-1",
        "javascript:alert(1)",
        "mailto:desk@example.co.uk",
        "ftp://www.example.co.uk/story-1",
        "data:text/html,hi",
        "",
        "   ",
        "https://",
        "http://www.example.co.uk:99999/x",
    ],
)
def test_untrusted_canonical_link_is_ignored(link: str) -> None:
    assert canonical_url(PAGE, canonical_link=link) == "https://www.example.co.uk/amp/story-1"


def test_canonical_link_on_a_bare_host_must_match_exactly() -> None:
    page = "http://127.0.0.1:8080/a"
    assert canonical_url(page, canonical_link="/b") == "http://127.0.0.1:8080/b"
    assert canonical_url(page, canonical_link="http://127.0.0.2:8080/b") == page
    assert canonical_url("http://localhost/a", canonical_link="http://localhost/b") == (
        "http://localhost/b"
    )


def test_same_site() -> None:
    assert same_site("https://a.example.com/", "http://b.example.com/x")
    assert same_site("https://www.bbc.co.uk/", "https://news.bbc.co.uk/")
    assert not same_site("https://example.com/", "https://example.net/")
    assert not same_site("https://a.github.io/", "https://b.github.io/")


# -- the rest --------------------------------------------------------------------


def test_non_http_urls_come_back_trimmed() -> None:
    assert canonical_url(" mailto:a@example.com ") == "mailto:a@example.com"
    assert canonical_url("/relative/path") == "/relative/path"


def test_url_hash_is_sha1_of_the_canonical_url() -> None:
    assert url_hash(ARTICLE) == hashlib.sha1(ARTICLE.encode()).hexdigest()
    assert len(url_hash(ARTICLE)) == 40


@pytest.mark.parametrize(
    ("name", "value", "tracking"),
    [
        ("utm_source", "rss", True),
        ("UTM_SOURCE", "rss", True),
        ("fbclid", "x", True),
        ("ref", "rss", True),
        ("ref", "", True),
        ("ref", "48213", False),
        ("id", "3", False),
        ("p", "123", False),
        ("page", "2", False),
        ("source", "x", False),
        ("gallery", "1", False),
        ("keyword", "flood", False),
    ],
)
def test_is_tracking_param(name: str, value: str, tracking: bool) -> None:
    assert is_tracking_param(name, value) is tracking


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://example.com", True),
        ("https://example.com/a?b=c#d", True),
        ("HTTPS://EXAMPLE.COM/", True),
        ("http://127.0.0.1:8080/x", True),
        ("http://[::1]/x", True),
        ("https://user:pw@example.com/", True),
        ("ftp://example.com/", False),
        ("javascript:alert(1)", False),
        ("mailto:a@example.com", False),
        ("//example.com/a", False),
        ("/a/b", False),
        ("example.com/a", False),
        ("http://", False),
        ("http:///path", False),
        ("http://example.com:99999/", False),
        ("http://example.com:port/", False),
        ("http://[::1/", False),
        (" http://example.com/", False),
        ("http://exa mple.com/", False),
        ("http://example.com/\x00", False),
        ("", False),
        (None, False),
        (42, False),
    ],
)
def test_is_http_url(url: object, ok: bool) -> None:
    assert is_http_url(url) is ok
