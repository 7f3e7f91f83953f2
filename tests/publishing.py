"""Helpers for the publishing tests: a config folder, the ``presscut``
command run in-process (publishing needs no reactor), and a small sample of
clippings with hostile markup in every scraped field.

The sample (`SAMPLE`, as ``presscut import`` records) is invented for these
tests: example.org-style outlets, three stories, one syndicated to a second
outlet, topics and matched terms, an excerpt full of HTML and Markdown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from cli.main import app

SETTINGS = """\
[database]
url = "{db_url}"

[publication]
name = "The Harbour Watch"
description = "Press about the harbour <and> its sea wall, selected by hand."
url = "https://watch.example.org/"
email = "desk@watch.example.org"
twitter = "harbourwatch"
timezone = "{timezone}"
{extra}
"""

SOURCES = """\
[[topics]]
name = "sea-wall"
include = ["sea wall"]

[[topics]]
name = "port"
include = ["port", "harbour"]
"""

HOSTILE = (
    "<script>alert('x')</script> *not bold* [click](javascript:alert(1)) "
    "<img src=x onerror=alert(1)> & ]]> # not a heading | ~strike~"
)


BODIES = {
    "wall": (
        "Engineers presented three options, from a modest parapet to a full rebuild of the "
        "Victorian masonry. Residents of Gannet Row packed the chamber and several spoke "
        "about the flooding of their cellars last February. The finance committee warned "
        "that borrowing costs have doubled since the scheme was first drawn up."
    ),
    "shift": (
        "Cranes swung containers onto the feeder ship until dawn while the tugs waited in "
        "the outer basin. Union stewards said the overtime had been agreed in advance and "
        "paid at double rates. A spokesman for the operator thanked the crews and promised "
        "a review of the rota before the busy autumn season."
    ),
    "lights": (
        "Volunteers replaced two hundred bulbs along the promenade over a fortnight of "
        "evenings. Shopkeepers on Quay Street reported more customers after dark, and the "
        "lifeboat station welcomed the better visibility on the slipway. The parish council "
        "has set aside a small fund for repairs next year."
    ),
}


def _text(lead: str, body: str) -> str:
    return f"{lead} {BODIES[body]}"


SAMPLE: list[dict[str, Any]] = [
    {
        "url": "https://herald.example.org/news/sea-wall-plan",
        "title": "Council weighs plan to raise the sea wall",
        "headline": "Council weighs a higher sea wall",
        "authors": ["Ines Harrow", "Tom Reed"],
        "outlet": "The Harbour Herald",
        "published_at": "2019-09-16T09:30:00+01:00",
        "excerpt": "The council will vote on raising the sea wall by a metre before winter.",
        "text": _text(
            "The council will vote on raising the sea wall by a metre before winter.", "wall"
        ),
        "topics": ["sea-wall"],
        "posted_at": "2019-09-17",
    },
    {
        "url": "https://ledger.example.org/2019/09/sea-wall-plan-syndicated",
        "title": "Council weighs plan to raise the sea wall",
        "authors": ["Ines Harrow", "Tom Reed"],
        "outlet": "Valley Ledger",
        "published_at": "2019-09-17T08:00:00+00:00",
        "excerpt": "The council will vote on raising the sea wall by a metre before winter.",
        "text": _text(
            "The council will vote on raising the sea wall by a metre before winter.", "wall"
        ),
        "topics": ["sea-wall"],
    },
    {
        "url": "https://wire.example.org/port/<b>night</b>-shift?a=1&b=(2)",
        "title": f"Port night shift {HOSTILE}",
        "headline": f"Night shift at the port {HOSTILE}",
        "authors": ["Ada <b>Byline</b>"],
        "via": "The Harbour Watch",
        "outlet": "Northern <i>Wire</i>",
        "published_at": "2019-09-19T22:15:00+00:00",
        "excerpt": f"Dockers worked through the night. {HOSTILE}",
        "text": _text(f"Dockers worked through the night. {HOSTILE}", "shift"),
        "topics": ["port"],
    },
    {
        "url": "https://lakeside.example.org/harbour-lights",
        "title": "Harbour lights return",
        "outlet": "Lakeside Voice",
        "published_at": "2019-09-12",
        "excerpt": "The lights along the harbour were switched on again, the harbour master said.",
        "text": _text(
            "The lights along the harbour were switched on again, the harbour master said.",
            "lights",
        ),
        "topics": ["port", "sea-wall"],
    },
]


def write_config(
    folder: Path, db_url: str, *, timezone: str = "UTC", extra: str = "", sources: str = SOURCES
) -> Path:
    """A config folder on ``db_url``, its database created as a user does
    first (``presscut db upgrade``); ``extra`` is appended to settings.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.toml").write_text(
        SETTINGS.format(db_url=db_url, timezone=timezone, extra=extra), encoding="utf-8"
    )
    (folder / "sources.toml").write_text(sources, encoding="utf-8")
    ok("db", "upgrade", "--config", str(folder))
    return folder


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def presscut(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``presscut ARGS`` in-process; the result has ``exit_code``,
    ``stdout`` and ``stderr``."""
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def ok(*args: str, env: dict[str, str] | None = None) -> Result:
    """`presscut`, asserting success (the output is in the failure message)."""
    result = presscut(*args, env=env)
    assert result.exit_code == 0, f"presscut {' '.join(args)}:\n{result.output}"
    return result


def published_sample(tmp_path: Path, db_url: str, **config: Any) -> Path:
    """A config whose database holds `SAMPLE` imported, approved (the
    syndicated copy too), posted (dated by ``posted_at``, else 2019-09-20)
    and a digest of the week 2019-W38 posted 2019-09-21."""
    folder = write_config(tmp_path / "config", db_url, **config)
    c = ("--config", str(folder))
    ok("import", str(write_jsonl(tmp_path / "sample.jsonl", SAMPLE)), *c)
    ok("approve", "1", "2", "3", "4", *c)
    ok("publish", "posts", "1", *c)
    ok("publish", "posts", "--posted-at", "2019-09-20T12:00:00+00:00", *c)
    ok("digest", "--week", "2019-W38", "--posted-at", "2019-09-21T08:00:00+00:00", *c)
    return folder
