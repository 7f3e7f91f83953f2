"""The curator's desk through its HTTP interface (Starlette's TestClient),
on SQLite and PostgreSQL: sessions and lockout, CSRF and headers, the
queue, the verbatim excerpt rule, concurrent edits, the digest, the audit
log and the sources page.  The browser tests are in test_desk_browser.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app
from config import Config, load_config
from scraper.items import Clipping
from storage import EntryOutcome, Store
from storage.users import MAX_FAILURES
from tests.desk import client, log_in, post, sample_desk, token
from tests.publishing import SAMPLE, ok
from tests.wordpress_site import PASSWORD as WP_PASSWORD
from tests.wordpress_site import USER as WP_USER
from tests.wordpress_site import FakeWordPress
from web.verbatim import ExcerptRefused, checked_excerpt

WALL = SAMPLE[0]["text"]


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[tuple[Config, Store]]:
    config, store = sample_desk(tmp_path, db_url)
    try:
        yield config, store
    finally:
        store.close()


@pytest.fixture
def ann(desk: tuple[Config, Store]) -> TestClient:
    c = client(*desk)
    assert log_in(c, "ann").status_code == 303
    return c


def test_every_page_but_login_asks_for_a_session(desk: tuple[Config, Store]) -> None:
    c = client(*desk)
    for path in ("/", "/queue", "/clippings/1", "/sources", "/digest", "/audit"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    htmx = c.post("/queue/1/approve", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == "/login"
    assert desk[1].get_clipping(1).status == "new"
    assert c.get("/login").status_code == 200


def test_login_and_logout(desk: tuple[Config, Store]) -> None:
    c = client(*desk)
    r = log_in(c, "bob")
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "session" in v)
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()
    page = c.get("/queue")
    assert page.status_code == 200 and "bob" in page.text
    out = c.post("/logout", data={"csrftoken": token(page.text)}, follow_redirects=False)
    assert out.headers["location"] == "/login"
    assert c.get("/queue", follow_redirects=False).status_code == 303


def test_session_cookie_is_secure_over_https(desk: tuple[Config, Store]) -> None:
    r = log_in(client(*desk, https=True), "bob")
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "session" in v)
    assert "secure" in cookie.lower()


def test_five_wrong_passwords_lock_the_account_and_the_log_says_so(
    desk: tuple[Config, Store], caplog: pytest.LogCaptureFixture
) -> None:
    c = client(*desk)
    assert log_in(c, "bob", "wrong").status_code == 401
    with caplog.at_level(logging.INFO, logger="presscut.desk"):
        for _ in range(MAX_FAILURES - 1):
            r = log_in(c, "bob", "wrong")
    assert "locked" in r.text
    assert any("locked" in m and "bob" in m for m in caplog.messages)
    # even the right password is refused during the lockout
    assert log_in(c, "bob").status_code == 401
    ok_client = client(*desk)
    assert log_in(ok_client, "ann").status_code == 303


def test_a_disabled_account_loses_its_session(desk: tuple[Config, Store], tmp_path: Path) -> None:
    c = client(*desk)
    log_in(c, "bob")
    assert c.get("/queue").status_code == 200
    ok("users", "disable", "bob", "--config", str(desk[0].directory))
    assert c.get("/queue", follow_redirects=False).status_code == 303
    assert log_in(c, "bob").status_code == 401


def test_a_forged_post_without_the_token_is_refused(
    ann: TestClient, desk: tuple[Config, Store]
) -> None:
    r = ann.post("/queue/1/approve", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = ann.post("/queue/1/approve", data={"csrftoken": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert desk[1].get_clipping(1).status == "new"


def test_security_headers(ann: TestClient) -> None:
    r = ann.get("/queue")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text.replace('<script src="', "")


def test_queue_one_row_per_story_and_approve_in_place(
    ann: TestClient, desk: tuple[Config, Store]
) -> None:
    page = ann.get("/queue").text
    assert page.count('class="story state-new"') == 3  # 1 and 2 are one story
    assert "also ran in 1 outlet(s)" in page
    r = post(ann, "/queue", "/queue/4/approve", {}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<tr id="row-4"')
    assert "state-approved" in r.text
    exported = ok("export", "--status", "approved", "--format", "jsonl", "--config",
                  str(desk[0].directory)).stdout  # fmt: skip
    assert [json.loads(line)["url"] for line in exported.splitlines()] == [SAMPLE[3]["url"]]


def test_reject_needs_a_reason_and_is_audited(ann: TestClient, desk: tuple[Config, Store]) -> None:
    r = post(ann, "/queue", "/queue/4/reject", {"reason": " "}, headers={"HX-Request": "true"})
    assert r.status_code == 400 and "reason" in r.text
    post(ann, "/queue", "/queue/4/reject", {"reason": "off topic"})
    assert desk[1].get_clipping(4).rejection_reason == "off topic"
    audit = ann.get("/audit").text
    assert "reject" in audit and "off topic" in audit and "ann" in audit


def test_bulk_approve(ann: TestClient, desk: tuple[Config, Store]) -> None:
    post(ann, "/queue", "/queue/bulk", {"ids": ["3", "4"], "action": "approve"})
    assert desk[1].get_clipping(3).status == desk[1].get_clipping(4).status == "approved"
    assert desk[1].get_clipping(1).status == "new"


def test_queue_filters_and_search(ann: TestClient) -> None:
    assert ann.get("/queue?topic=port").text.count("state-new") == 2
    assert ann.get("/queue?flag=syndicated").text.count("state-new") == 1
    found = ann.get("/queue?q=promenade").text
    assert "Harbour lights return" in found and "sea wall" not in found.lower().split("<tbody>")[1]
    assert ann.get("/queue?state=bogus").status_code == 400


def test_audit_log_is_for_admins(desk: tuple[Config, Store]) -> None:
    c = client(*desk)
    log_in(c, "bob")
    assert c.get("/audit").status_code == 403


def _save(c: TestClient, clipping_id: int, **fields: str) -> object:
    page = c.get(f"/clippings/{clipping_id}").text
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    return c.post(
        f"/clippings/{clipping_id}",
        data={"csrftoken": token(page), "version": version, **fields},
        follow_redirects=False,
    )


def test_an_excerpt_that_is_not_verbatim_is_refused(
    ann: TestClient, desk: tuple[Config, Store]
) -> None:
    r = _save(ann, 1, excerpt="The council will vote on lowering the sea wall.")
    assert r.status_code == 409 and "not a verbatim passage" in r.text
    assert desk[1].get_clipping(1).excerpt == SAMPLE[0]["excerpt"]
    r = _save(ann, 1, excerpt="council will")
    assert r.status_code == 409 and "fewer than the 5" in r.text


def test_a_verbatim_excerpt_is_accepted_with_quotes_and_dashes_normalised(
    ann: TestClient, desk: tuple[Config, Store]
) -> None:
    # a selection comes back with the paragraph's line breaks
    passage = "Residents of Gannet Row packed the chamber\nand several spoke"
    r = _save(ann, 1, excerpt=passage)
    assert r.status_code == 303
    stored = desk[1].get_clipping(1)
    # stored as the article has it, with "…" where the passage stops mid-sentence
    assert stored.excerpt == " ".join(passage.split()) + "…"
    assert stored.excerpt_from == "curator"
    page = ann.get("/clippings/1").text
    assert "#:~:text=Residents%20of%20Gannet%20Row" in page
    assert "ann edit (excerpt" in page


def test_verbatim_rule_normalises_quotes_dashes_and_spaces() -> None:
    text = 'He said "the wall - all of it - must rise" and left.\nIt\'s done.'
    # matched with quotes, dashes and spaces folded; stored as the article has it
    quoted = checked_excerpt("“the wall — all of it – must   rise”", text, 1, 20)
    assert quoted.startswith('"the wall - all of it - must rise"')
    assert checked_excerpt("It’s done.", text, 1, 20) == "It's done."
    with pytest.raises(ExcerptRefused, match="not a verbatim passage"):
        checked_excerpt("the wall must rise", text, 1, 20)
    with pytest.raises(ExcerptRefused, match="more than the 3"):
        checked_excerpt("the wall - all of it", text, 1, 3)


def test_the_second_of_two_concurrent_saves_is_refused_naming_the_first(
    desk: tuple[Config, Store],
) -> None:
    a, b = client(*desk), client(*desk)
    log_in(a, "ann")
    log_in(b, "bob")
    page_a = a.get("/clippings/1").text
    page_b = b.get("/clippings/1").text
    data = {"version": "1"}
    r = a.post("/clippings/1", data={**data, "csrftoken": token(page_a), "title": "Ann's title"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    r = b.post("/clippings/1", data={**data, "csrftoken": token(page_b), "title": "Bob's title"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 409 and "changed by ann" in r.text
    assert desk[1].get_clipping(1).title == "Ann's title"


def test_fields_edit_with_provenance(ann: TestClient, desk: tuple[Config, Store]) -> None:
    r = _save(ann, 4, authors="Nell Quay; Sam Pier", date="2019-09-13", outlet="Lakeside")
    assert r.status_code == 303
    c = desk[1].get_clipping(4)
    assert c.authors == ["Nell Quay", "Sam Pier"] and c.authors_from == "curator"
    assert c.published_at == datetime(2019, 9, 13, tzinfo=UTC) and c.outlet == "Lakeside"
    assert _save(ann, 4, date="someday").status_code == 409


def test_cite_another_outlet(ann: TestClient, desk: tuple[Config, Store]) -> None:
    page = ann.get("/clippings/1").text
    assert "Valley Ledger" in page and "Cite Valley Ledger instead" in page
    post(ann, "/clippings/1", "/clippings/2/cite", {})
    assert desk[1].get_clipping(2).status == "approved"
    assert "cite" in ann.get("/audit").text


def test_paste_text_for_a_clipping_without_text(tmp_path: Path, db_url: str) -> None:
    config, store = sample_desk(tmp_path, db_url, [])
    with store:
        # what a crawl stores when extraction found no text: the feed's title only
        bare = Clipping(url="https://x.example.org/a", url_hash="a" * 40, title="Bare", text="")
        store.write_batch([bare], [], [])
        c = client(config, store)
        log_in(c, "ann")
        assert "needs text" in c.get("/queue").text
        page = c.get("/clippings/1").text
        assert "Paste the article" in page
        r = c.post("/clippings/1/text", data={"csrftoken": token(page), "version": "1",
                   "text": "First paragraph.\r\nSecond one."}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        assert store.get_clipping(1).text == "First paragraph.\nSecond one."
        # Issue #12: a clipping stored flagged waits under "needs text" too,
        # and a pasted text clears its flags.
        lead = Clipping(url="https://x.example.org/b", url_hash="b" * 40, title="Lead",
                        text="A lead.", text_from="trafilatura", flags=["paywalled"])  # fmt: skip
        store.write_batch([lead], [], [])
        assert 'href="/clippings/2"' in c.get("/queue?flag=needs-text").text
        page = c.get("/clippings/2").text
        assert "Needs text: paywalled" in page and "Paste the article" in page
        c.post("/clippings/2/text", data={"csrftoken": token(page), "version": "1",
               "text": "The whole article."}, follow_redirects=False)  # fmt: skip
        assert store.get_clipping(2).flags == []


def test_hostile_values_are_escaped(ann: TestClient) -> None:
    for path in ("/queue", "/clippings/3", "/queue?topic=port"):
        page = ann.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "<b>Byline</b>" not in page and "<i>Wire</i>" not in page, path
        assert 'href="javascript:' not in page, path
    assert "&lt;script&gt;" in ann.get("/clippings/3").text


def test_digest_composed_reordered_and_published_once(
    ann: TestClient, desk: tuple[Config, Store]
) -> None:
    post(ann, "/queue", "/queue/bulk", {"ids": ["1", "3", "4"], "action": "approve"})
    page = ann.get("/digest").text
    assert page.count('name="ids"') == 3
    form = {"since": "", "until": page.split('name="until" value="', 1)[1].split('"', 1)[0]}
    form.update({"ids": ["1", "3", "4"], "pos-1": "3", "pos-3": "1", "pos-4": "2"})
    preview = post(ann, "/digest", "/digest", {**form, "action": "preview"}).text
    body = preview.split("<h2>Preview</h2>", 1)[1]
    assert body.index("Night shift") < body.index("Harbour lights") < body.index("sea wall")
    r = post(ann, "/digest", "/digest", {**form, "drop-4": "1", "action": "publish"})
    assert "published" in r.text
    store = desk[1]
    assert [store.get_clipping(i).status for i in (1, 3, 4)] == ["published", "published",
                                                                 "approved"]  # fmt: skip
    [pub] = store.publications(kind="digest")
    assert pub.items == (3, 1)
    # the same period again: nothing left to publish
    again = post(ann, "/digest", "/digest", {**form, "action": "publish"})
    assert again.status_code == 400 and len(store.publications(kind="digest")) == 1
    # a later period, the published stories asked for again: only story 4 is offered
    later = {**form, "until": datetime.now(UTC).isoformat(), "action": "publish"}
    r = post(ann, "/digest", "/digest", later)
    assert "published" in r.text
    newest = store.publications(kind="digest")[0]
    assert newest.items == (4,)
    assert "publish" in ann.get("/audit").text
    bad = ann.get("/digest?until=next+week")
    assert bad.status_code == 400 and "not an ISO 8601 date" in bad.text


def test_sources_page_disable_enable_and_poll_now(tmp_path: Path, db_url: str) -> None:
    from storage.sources import SourceSpec  # noqa: F401 - the protocol sync_sources takes

    config, store = sample_desk(tmp_path, db_url)
    with store:
        store.sync_sources([_Spec()])
        c = client(config, store)
        log_in(c, "ann")
        page = c.get("/sources").text
        assert "Herald Feed" in page and "Disable" in page
        post(c, "/sources", "/sources/herald/disable", {})
        now = datetime.now(UTC)
        assert "herald" not in store.due_source_ids(now)
        assert "Enable" in c.get("/sources").text
        post(c, "/sources", "/sources/herald/enable", {})
        post(c, "/sources", "/sources/herald/poll", {})
        assert "herald" in store.due_source_ids(datetime.now(UTC))
        assert "poll-now" in c.get("/audit").text


def test_sources_page_counts_entries_waiting_for_a_retry_and_given_up(
    tmp_path: Path, db_url: str
) -> None:
    config, store = sample_desk(tmp_path, db_url)
    now = datetime.now(UTC)
    waiting = [
        EntryOutcome(
            source_id="herald",
            entry_key=f"wait-{n}",
            outcome="failed",
            attempts=1,
            retry_at=now + timedelta(hours=1),
            url=f"https://herald.example.org/{n}",
        )
        for n in range(3)
    ]
    gone = EntryOutcome(
        source_id="herald",
        entry_key="gone",
        outcome="given_up",
        reason="permanent failure: http_4xx: HTTP 404",
        attempts=1,
        url="https://herald.example.org/gone",
    )
    with store:
        store.sync_sources([_Spec()])
        store.write_batch((), [*waiting, gone], ())
        c = client(config, store)
        log_in(c, "ann")
        page = c.get("/sources").text
        assert "waiting for a retry / given up" in page
        assert '<td class="retries">3 / 1</td>' in page
        [health] = [h for h in store.source_health(now, 86_400.0) if h.source_id == "herald"]
        assert (health.retrying, health.given_up) == (3, 1)  # as `sources health` prints


class _Spec:
    id = "herald"
    outlet = "Herald Feed"
    kind = "rss"
    url = "https://herald.example.org/feed"
    language = "en"
    poll_interval_s = 3600.0


def test_users_command(desk: tuple[Config, Store]) -> None:
    cfg = ["--config", str(desk[0].directory)]
    runner = CliRunner()
    add = ["users", "add", "cat", "--password-stdin", *cfg]
    r = runner.invoke(app, add, input="cat-passphrase\n", catch_exceptions=False)
    assert r.exit_code == 0 and "user cat added (curator)" in r.output
    bad = ["users", "add", "dan", "--role", "boss", "--password-stdin", *cfg]
    r = runner.invoke(app, bad, input="x\n", catch_exceptions=False)
    assert r.exit_code == 1 and "unknown role" in r.output
    listing = ok("users", "list", *cfg).stdout
    assert "cat\tcurator\tactive" in listing and "ann\tadmin\tactive" in listing
    c = client(*desk)
    assert log_in(c, "cat", "cat-passphrase").status_code == 303
    passwd = ["users", "passwd", "cat", "--password-stdin", *cfg]
    assert runner.invoke(app, passwd, input="new-passphrase\n").exit_code == 0
    assert log_in(client(*desk), "cat", "cat-passphrase").status_code == 401
    assert log_in(client(*desk), "cat", "new-passphrase").status_code == 303


def test_publishing_a_digest_copies_it_to_the_configured_wordpress(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, store = sample_desk(tmp_path, db_url)
    with store, FakeWordPress() as site:
        settings = Path(config.directory) / "settings.toml"
        text = settings.read_text(encoding="utf-8")
        settings.write_text(text + f'[wordpress]\nurl = "{site.url}"\nuser = "{WP_USER}"\n')
        monkeypatch.setenv("PRESSCUT_WORDPRESS_PASSWORD", WP_PASSWORD)
        c = client(load_config(config.directory), store)
        log_in(c, "ann")
        post(c, "/queue", "/queue/bulk", {"ids": ["4"], "action": "approve"})
        page = c.get("/digest").text
        until = page.split('name="until" value="', 1)[1].split('"', 1)[0]
        r = post(c, "/digest", "/digest", {"since": "", "until": until, "ids": ["4"],
                                           "action": "publish"})  # fmt: skip
        assert "WordPress post(s) created" in r.text
        titles = [body["title"] for body in site.creates()]
        # the story's own post and the digest, as `presscut publish wordpress` makes them
        assert titles[0] == "Harbour lights return"
        # a digest is named by the span of its stories' article dates
        assert titles[1].startswith("The Harbour Watch Digest – "), titles
