"""The desk in a real browser: Debian's chromium driven by Playwright's
Python API (``executable_path`` /usr/bin/chromium; Playwright's own browser
download is never used), the desk served by uvicorn on loopback, on SQLite
and PostgreSQL.

Every test fails on a JavaScript dialog, an uncaught page error or a
console error (a CSP violation is one), so the XSS corpus test fails if any
payload fires.  Without /usr/bin/chromium the tests skip, unless
``PRESSCUT_REQUIRE_BROWSER=1`` (then they fail).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config import Config
from storage import Store
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.desk import PASSWORDS, sample_desk, served
from tests.publishing import BODIES, SAMPLE, ok

#: Status codes the tests provoke on purpose (chromium logs them as errors).
EXPECTED_STATUS = ("status of 401", "status of 403", "status of 409", "status of 400")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A browser context whose dialogs, page errors and console errors are kept."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("console", self._console)

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.type} {dialog.message}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(s in message.text for s in EXPECTED_STATUS):
            self.problems.append(f"console error: {message.text}")

    def log_in(self, name: str) -> Any:
        page = self.page
        page.goto(self.base + "/queue")
        assert page.url.endswith("/login")  # unauthenticated: sent to the login page
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill(PASSWORDS[name])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/queue")
        return page


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[tuple[Config, Store, str]]:
    config, store = sample_desk(tmp_path, db_url)
    with store, served(config, store) as base:
        yield config, store, base


@pytest.fixture
def watched(browser: Any, desk: tuple[Config, Store, str]) -> Iterator[Any]:
    made: list[Watched] = []

    def make() -> Watched:
        made.append(Watched(browser, desk[2]))
        return made[-1]

    yield make
    for w in made:
        w.context.close()
    problems = [p for w in made for p in w.problems]
    assert not problems, problems


def test_login_and_logout(watched: Any) -> None:
    page = watched().log_in("bob")
    assert page.get_by_role("heading", name="Queue").is_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto(page.url.replace("/login", "/queue"))
    assert page.url.endswith("/login")


def test_keyboard_triage(watched: Any, desk: tuple[Config, Store, str]) -> None:
    page = watched().log_in("ann")
    rows = page.locator("#queue tbody tr.story")
    first_id = int(rows.nth(0).get_attribute("data-id"))
    second_id = int(rows.nth(1).get_attribute("data-id"))
    page.keyboard.press("j")
    page.keyboard.press("a")
    page.locator(f"#row-{first_id}.state-approved").wait_for()
    page.keyboard.press("j")
    page.keyboard.press("r")
    page.keyboard.type("not our harbour")
    page.keyboard.press("Enter")
    page.locator(f"#row-{second_id}.state-rejected").wait_for()
    assert rows.count() == 3  # updated in place, not reloaded away
    store = desk[1]
    assert store.get_clipping(first_id).status == "approved"
    assert store.get_clipping(second_id).rejection_reason == "not our harbour"
    page.keyboard.press("k")
    page.keyboard.press("o")
    page.wait_for_url(f"**/clippings/{first_id}")


def test_approve_then_export_shows_it(watched: Any, desk: tuple[Config, Store, str]) -> None:
    page = watched().log_in("bob")
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name="Harbour lights return")
    )
    row.get_by_role("button", name="Approve").click()
    page.locator("tr.story.state-approved").wait_for()
    config = desk[0]
    out = ok("export", "--status", "approved", "--format", "jsonl", "--config",
             str(config.directory)).stdout  # fmt: skip
    assert [json.loads(line)["title"] for line in out.splitlines()] == ["Harbour lights return"]


def test_excerpt_refused_unless_verbatim_then_chosen_by_selection(
    watched: Any, desk: tuple[Config, Store, str]
) -> None:
    page = watched().log_in("ann")
    page.goto(desk[2] + "/clippings/1")
    page.get_by_label("Excerpt").fill("The council will vote on lowering the sea wall.")
    page.get_by_role("button", name="Save").click()
    assert "not a verbatim passage" in page.get_by_role("alert").inner_text()
    # select a passage in the text: it becomes the excerpt
    passage = "Residents of Gannet Row packed the chamber"
    page.evaluate(
        """(passage) => {
            const p = [...document.querySelectorAll('#article p')]
                .find(e => e.textContent.includes(passage));
            const node = p.firstChild, start = node.textContent.indexOf(passage);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + passage.length);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
        }""",
        passage,
    )
    page.locator("#article").dispatch_event("mouseup")
    assert page.get_by_label("Excerpt").input_value() == passage
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    # stored as the article has it, "…" where the passage stops mid-sentence
    assert desk[1].get_clipping(1).excerpt == passage + "…"
    href = page.get_by_role("link", name="Open the article at the excerpt").get_attribute("href")
    assert "#:~:text=Residents%20of%20Gannet%20Row" in href


def test_concurrent_edit_refused(watched: Any, desk: tuple[Config, Store, str]) -> None:
    ann, bob = watched(), watched()
    pages = [ann.log_in("ann"), bob.log_in("bob")]
    for page in pages:
        page.goto(desk[2] + "/clippings/4")
    pages[0].get_by_label("Title").fill("Harbour lights are back")
    pages[0].get_by_role("button", name="Save").click()
    pages[0].wait_for_load_state()
    pages[1].get_by_label("Title").fill("Lights return to the harbour")
    pages[1].get_by_role("button", name="Save").click()
    assert "changed by ann" in pages[1].get_by_role("alert").inner_text()
    assert desk[1].get_clipping(4).title == "Harbour lights are back"


def test_forged_post_without_token_refused(watched: Any, desk: tuple[Config, Store, str]) -> None:
    page = watched().log_in("ann")
    r = page.request.post(desk[2] + "/queue/4/approve", form={"reason": "x"})
    assert r.status == 403
    assert desk[1].get_clipping(4).status == "new"


def test_digest_composed_and_published(watched: Any, desk: tuple[Config, Store, str]) -> None:
    page = watched().log_in("ann")
    page.locator("#queue tbody input[type=checkbox]").nth(0).check()
    page.locator("#queue tbody input[type=checkbox]").nth(2).check()
    page.get_by_role("button", name="Approve selected").click()
    page.goto(desk[2] + "/digest")
    page.get_by_role("button", name="Preview").click()
    assert page.locator(".preview .digest-entry").count() == 2
    page.get_by_role("button", name="Publish").click()
    assert "published" in page.get_by_role("alert").inner_text()
    assert len(desk[1].publications(kind="digest")) == 1


PAYLOADS = [
    "<script>alert('title')</script>",
    "<img src=x onerror=alert('img')>",
    "<svg onload=alert('svg')><circle/></svg>",
    "\"'><script>alert('break')</script>",
    "&lt;script&gt;alert('entity')&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
    "<a href=\"javascript:alert('js')\">js</a>",
    "<a href='data:text/html,<script>alert(1)</script>'>d</a> JaVaScRiPt:alert(2)",
    "<b onmouseover=alert('hover')>hover</b> <iframe src=javascript:alert('if')></iframe>",
    "</title></a><script>alert('close')</script>",
    "<math><mi xlink:href=javascript:alert(1)>m</mi></math>",
]


def _words(n: int) -> list[str]:
    base = (BODIES["wall"] + " " + BODIES["shift"]).split()
    return [f"{w}{n}{i % 7}" for i, w in enumerate(base)]


def test_xss_corpus_fires_nothing(browser: Any, tmp_path: Path, db_url: str) -> None:
    records = []
    for n, payload in enumerate(PAYLOADS):
        records.append(
            {
                "url": f"https://hostile.example.org/{n}",
                "title": f"Sea wall {payload} title {n}",
                "authors": [f"Eve {payload}"],
                "outlet": f"Outlet {payload}",
                "published_at": "2019-09-16T09:30:00+00:00",
                "excerpt": f"The sea wall {payload}.",
                # distinct bodies, so that no two are clustered as one story
                "text": f"The sea wall {payload}.\n" + " ".join(_words(n)),
                "topics": ["sea-wall"],
            }
        )
    config, store = sample_desk(tmp_path, db_url, [*SAMPLE, *records])
    with store, served(config, store) as base:
        w = Watched(browser, base)
        try:
            # control: the harness does see a payload that fires
            w.page.set_content("<img src=x onerror=\"alert('control')\">")
            w.page.wait_for_timeout(200)
            assert w.problems == ["dialog: alert control"], w.problems
            w.problems.clear()
            page = w.log_in("ann")
            page.locator("#queue tbody tr.story").first.wait_for()
            shown = page.locator("#queue").inner_text()
            assert "<script>alert('title')</script>" in shown  # as text, not markup
            ids = [r.get_attribute("data-id") for r in page.locator("#queue tbody tr").all()]
            for clipping_id in ids:
                page.goto(f"{base}/clippings/{clipping_id}")
                page.mouse.move(200, 200)
                for link in page.locator("a").all():
                    href = link.get_attribute("href") or ""
                    assert href.startswith(("/", "http://", "https://", "#")), href
            page.goto(base + "/queue")
            page.locator("#queue tbody input[type=checkbox]").first.wait_for()
            for box in page.locator("#queue tbody input[type=checkbox]").all():
                box.check()
            page.get_by_role("button", name="Approve selected").click()
            page.goto(base + "/digest")
            page.get_by_role("button", name="Preview").click()
            page.goto(base + "/audit")
            assert page.evaluate("document.title").endswith("presscut")
        finally:
            w.context.close()
    assert not w.problems, w.problems
