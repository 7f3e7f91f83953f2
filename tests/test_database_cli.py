"""The database as every command meets it: where a relative SQLite path
points, which commands may create a database, and one line with exit status
4 (never a traceback) for a database that is missing, unreachable, corrupt
or read-only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DatabaseError

from cli.database import DATABASE_UNAVAILABLE
from storage import Store, open_store
from storage.housekeeping import STALE_RUN_REASON
from tests.publishing import SAMPLE, ok, presscut, write_config, write_jsonl

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "postgresql://postgres:secret@127.0.0.1:1/x"

#: Commands that only use a database: none of them may create one.
READERS = [
    ("queue",),
    ("approve", "1"),
    ("search", "flood"),
    ("export",),
    ("sources", "list"),
    ("sources", "health"),
    ("db", "prune"),
    ("digest", "--preview"),
    ("feed",),
]


def settings_only(folder: Path, db_url: str) -> Path:
    """A config folder on ``db_url`` whose database is not created."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.toml").write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    (folder / "sources.toml").write_text(
        '[[topics]]\nname = "floods"\ninclude = ["flood"]\n', encoding="utf-8"
    )
    return folder


def one_line(result: object) -> str:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == DATABASE_UNAVAILABLE, output  # type: ignore[attr-defined]
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


# -- where the database is (#17.2) -----------------------------------------------


def test_relative_sqlite_path_is_taken_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = settings_only(tmp_path / "config", "sqlite:///data/presscut.db")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ok("db", "upgrade", "--config", str(folder))
    assert (folder / "data" / "presscut.db").is_file()
    assert not (elsewhere / "data").exists()
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), "--config", str(folder))
    monkeypatch.chdir(tmp_path)  # another folder, the same database
    assert "3 story(ies) to review" in ok("queue", "--config", str(folder)).stdout


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_commands_that_read_never_create_a_database(tmp_path: Path, args: tuple[str, ...]) -> None:
    folder = settings_only(tmp_path / "config", "sqlite:///data/presscut.db")
    line = one_line(presscut(*args, "--config", str(folder)))
    path = folder / "data" / "presscut.db"
    assert line == f"no database at {path} yet; run `presscut db upgrade`"
    assert not (folder / "data").exists()


def test_import_does_not_create_a_database(tmp_path: Path) -> None:
    folder = settings_only(tmp_path / "config", "sqlite:///p.db")
    source = write_jsonl(tmp_path / "s.jsonl", SAMPLE)
    line = one_line(presscut("import", str(source), "--config", str(folder)))
    assert line.startswith("no database at ") and not (folder / "p.db").exists()


def test_an_empty_postgresql_database_is_not_taken_for_presscut_s(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = settings_only(tmp_path / "config", postgres_url)
    assert "presscut db upgrade" in one_line(presscut("queue", "--config", str(folder)))
    ok("db", "upgrade", "--config", str(folder))
    assert "0 story(ies) to review" in ok("queue", "--config", str(folder)).stdout


# -- unreachable, corrupt, read-only (#17.4, #18.9) -------------------------------


@pytest.mark.parametrize(
    "args",
    [*READERS, ("db", "upgrade"), ("import", "FILE"), ("crawl",), ("run", "--once")],
    ids=" ".join,
)
def test_unreachable_database_is_one_line_with_the_password_hidden(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    folder = settings_only(tmp_path / "config", UNREACHABLE)
    args = tuple(
        str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)) if a == "FILE" else a for a in args
    )
    line = one_line(presscut(*args, "--config", str(folder)))
    assert line.startswith("database postgresql://postgres:***@127.0.0.1:1/x: ")
    assert "Connection refused" in line and "secret" not in line


@pytest.fixture
def corrupt(tmp_path: Path) -> Path:
    folder = settings_only(tmp_path / "config", "sqlite:///p.db")
    (folder / "p.db").write_text("not a database, just text\n" * 200, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "args", [("queue",), ("export",), ("db", "upgrade"), ("approve", "1"), ("import", "FILE")]
)
def test_corrupt_file_is_one_line(corrupt: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    args = tuple(
        str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)) if a == "FILE" else a for a in args
    )
    line = one_line(presscut(*args, "--config", str(corrupt)))
    assert line == f"database sqlite:///{corrupt / 'p.db'}: file is not a database"


def test_db_upgrade_never_calls_a_damaged_file_at_head(tmp_path: Path) -> None:
    folder = write_config(tmp_path / "config", f"sqlite:///{tmp_path / 'p.db'}")
    records = [
        {**record, "url": f"{record['url']}?copy={n}", "text": f"{n} {record['text']}" * 20}
        for n in range(40)
        for record in SAMPLE[:1]
    ]
    ok("import", str(write_jsonl(tmp_path / "many.jsonl", records)), "--config", str(folder))
    with open_store(f"sqlite:///{tmp_path / 'p.db'}") as store:
        store.footprint()  # checkpoints the WAL into the file
    data = bytearray((tmp_path / "p.db").read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for start in range(page * 8, len(data) - page, page):  # leave the schema pages alone
        data[start + 100 : start + 300] = os.urandom(200)
    (tmp_path / "p.db").write_bytes(bytes(data))
    result = presscut("db", "upgrade", "--config", str(folder))
    line = one_line(result)
    assert "database at head" not in result.output
    assert line.startswith(f"database sqlite:///{tmp_path / 'p.db'}: ")


def test_read_only_database_is_one_line_for_writers(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    folder = write_config(tmp_path / "config", f"sqlite:///{db}")
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), "--config", str(folder))
    fresh = [{**record, "url": record["url"] + "?fresh"} for record in SAMPLE]
    source = write_jsonl(tmp_path / "fresh.jsonl", fresh)
    read_only = f"sqlite:///file:{db}?mode=ro&uri=true"
    ro = settings_only(tmp_path / "ro", read_only)
    assert "3 story(ies) to review" in ok("queue", "--config", str(ro)).stdout
    for args in (("approve", "1"), ("import", str(source))):
        line = one_line(presscut(*args, "--config", str(ro)))
        assert line.endswith("attempt to write a readonly database"), line


def test_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file where a folder should be", encoding="utf-8")
    folder = settings_only(tmp_path / "config", f"sqlite:///{tmp_path / 'file' / 'p.db'}")
    line = one_line(presscut("db", "upgrade", "--config", str(folder)))
    assert line.startswith(f"database sqlite:///{tmp_path / 'file' / 'p.db'}: ")
    assert line.endswith(str(tmp_path / "file"))  # the cause names the path


# -- export writes its file whole or not at all ----------------------------------


@pytest.fixture
def failing_midway(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reading clippings fails after the first row, as on a damaged page."""
    real = Store.iter_clippings

    def iter_clippings(self: Store, *args: object, **kwargs: object) -> Iterator[object]:
        rows = real(self, *args, **kwargs)  # type: ignore[arg-type]
        yield next(rows)
        raise DatabaseError("SELECT", {}, Exception("database disk image is malformed"))

    monkeypatch.setattr(Store, "iter_clippings", iter_clippings)
    yield


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_never_leaves_a_partial_file(
    tmp_path: Path, sqlite_url: str, failing_midway: None, fmt: str
) -> None:
    folder = write_config(tmp_path / "config", sqlite_url)
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), "--config", str(folder))
    out = tmp_path / "out" / f"export.{fmt}"
    out.parent.mkdir()
    out.write_text("the previous export\n", encoding="utf-8")
    line = one_line(presscut("export", "-f", fmt, "-o", str(out), "--config", str(folder)))
    assert line.endswith(": database disk image is malformed")
    assert out.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_export_replaces_the_file_when_it_succeeds(tmp_path: Path, sqlite_url: str) -> None:
    folder = write_config(tmp_path / "config", sqlite_url)
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), "--config", str(folder))
    out = tmp_path / "export.jsonl"
    out.write_text("old\n", encoding="utf-8")
    ok("export", "-o", str(out), "--config", str(folder))
    assert [json.loads(x)["url"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)


# -- stale runs and the help (#18.9, #17.4) --------------------------------------


def test_a_killed_crawl_s_run_is_recorded_abandoned_at_the_next_round(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    folder = settings_only(tmp_path / "config", db)  # no source: the round is quick
    with open_store(db) as store:
        store.upgrade()
        killed = store.start_run()  # what a crawl killed with SIGKILL leaves
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "crawl", "--config", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recorded 1 unfinished crawl run(s) as abandoned" in result.stderr
    with open_store(db) as store:
        runs = {run.id: run for run in store.recent_runs()}
    assert runs[killed].status == "interrupted"
    assert runs[killed].stats["finish_reason"] == STALE_RUN_REASON
    assert len(runs) == 2 and runs[max(runs)].status == "finished"


def test_help_documents_every_exit_status() -> None:
    out = " ".join(ok("--help").stdout.replace("│", " ").split())
    for text in ("0 done", "2 usage or configuration error", "4 the database is missing"):
        assert text in out


def test_a_database_fault_at_round_start_is_reported_not_no_source_due(corrupt: Path) -> None:
    """Full disk or a damaged file when the round reads its sources: the
    spider polls nothing and records why, so the round ends failed with
    that cause instead of a traceback and "no source was due"."""
    import asyncio

    from config import load_config
    from scraper.context import RoundContext
    from scraper.spiders.round import RoundSpider

    (corrupt / "sources.toml").write_text(
        '[[topics]]\nname = "floods"\ninclude = ["flood"]\n\n[[sources]]\nid = "herald"\n'
        'outlet = "Herald"\nurl = "https://herald.example/feed.xml"\ntopics = ["floods"]\n',
        encoding="utf-8",
    )
    config = load_config(corrupt, environ={})
    store = open_store(config.settings.database.url)
    context = RoundContext.open(config, store)
    spider = RoundSpider(context=context)

    async def requests() -> list[object]:
        return [request async for request in spider.start()]

    try:
        assert asyncio.run(requests()) == []
    finally:
        store.close()
    assert context.errors == {"database": "cannot start the round: file is not a database"}
