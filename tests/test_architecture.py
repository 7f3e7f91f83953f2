"""The import contract of docs/architecture.md, checked on the source.

Every import of a presscut module (at the top of a module or inside a
function, ``TYPE_CHECKING`` blocks included) is read from the syntax tree
and held against `ALLOWED`: which of presscut's folders a folder may import.
Where a folder may use only part of another, `NARROW` names the modules it
may import there.  A wrong-way import fails the build; changing a rule
means changing the table here and the paragraph in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.crawling import REPO

#: presscut's own top-level packages and modules (``tests`` and
#: ``benchmarks`` may import anything and are not checked).
PROJECT = ("config", "scraper", "pipelines", "storage", "rounds", "digest", "web", "cli", "demo")
MODULES = ("scheduler",)

#: Which presscut folders each folder may import (itself always).
ALLOWED: dict[str, frozenset[str]] = {
    # Settings and their validation: the ground floor.
    "config": frozenset(),
    # The Scrapy project: fetch, read, extract.  Storage through its face only.
    "scraper": frozenset({"config", "storage"}),
    # The stages: the crawl's items and context, and the store.
    "pipelines": frozenset({"config", "scraper", "storage"}),
    # All SQL; the shared item type and outcome vocabulary only.
    "storage": frozenset({"scraper"}),
    # Running a round: starts the spider, opens the store.
    "rounds": frozenset({"config", "scraper", "storage"}),
    # Rendering and publishing what was stored.
    "digest": frozenset({"config", "scraper", "storage"}),
    # The curator's desk: reads and writes through storage, renders with digest.
    "web": frozenset({"config", "scraper", "storage", "digest"}),
    # When to crawl, never how.
    "scheduler": frozenset({"config", "rounds", "storage"}),
    # The commands: the top floor.
    "cli": frozenset(
        {
            "config",
            "scraper",
            "pipelines",
            "storage",
            "rounds",
            "digest",
            "web",
            "demo",
            "scheduler",
        }
    ),
    # The demo sites' web server, also the tests' loopback web.
    "demo": frozenset(),
}

#: (importer, imported) -> the only modules of ``imported`` it may import.
NARROW: dict[tuple[str, str], frozenset[str]] = {
    # The `storage` package's face (`Store`, `FetchStateUpdate`, ...), not
    # its query modules.
    ("scraper", "storage"): frozenset({"storage"}),
    # The record and the vocabularies it shares with the crawl, and the one
    # text-cleaning rule (its last guard), which import only the standard
    # library: no import cycle.
    ("storage", "scraper"): frozenset({"scraper.items", "scraper.text"}),
    ("digest", "scraper"): frozenset({"scraper.items", "scraper.urls", "scraper.text"}),
    ("digest", "config"): frozenset({"config", "config.schema"}),
}


def owner(module: str) -> str | None:
    """The presscut folder (or top-level module) ``module`` belongs to."""
    top = module.split(".")[0]
    return top if top in PROJECT or top in MODULES else None


def imports_of(path: Path, package: str) -> list[tuple[int, str]]:
    """``(line, module)`` for every absolute or relative import in ``path``,
    the module ``package`` (``scraper.urls``, ``scraper.__init__``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the file's package
                parts = package.split(".")
                parts = parts[: len(parts) - node.level]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            # ``from scraper import polling`` imports the module scraper.polling
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(root: Path) -> list[str]:
    """Every import under ``root`` that breaks `ALLOWED` or `NARROW`, as
    ``"path:line: importer -> module"``."""
    problems = []
    files = [root / f"{name}.py" for name in MODULES]
    for folder in PROJECT:
        files += (root / folder).rglob("*.py")
    for path in sorted(p for p in files if p.is_file()):
        relative = path.relative_to(root)
        package = ".".join(relative.with_suffix("").parts)
        source = owner(package)
        assert source is not None
        for line, module in imports_of(path, package):
            target = owner(module)
            if target is None or target == source:
                continue
            if not _allowed(source, target, module):
                problems.append(f"{relative}:{line}: {source} -> {module}")
    return problems


def _allowed(source: str, target: str, module: str) -> bool:
    if target not in ALLOWED.get(source, frozenset()):
        return False
    narrow = NARROW.get((source, target))
    if narrow is None:
        return True
    # ``from storage import Store`` also reads as ``storage.Store``: a name of
    # an allowed module is allowed.
    return any(module == m or module.rsplit(".", 1)[0] == m for m in narrow)


def test_every_import_goes_the_allowed_way() -> None:
    assert violations(REPO) == []


def test_every_folder_has_a_rule() -> None:
    assert set(ALLOWED) == set(PROJECT) | set(MODULES)
    folders = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert folders - {"tests", "benchmarks"} <= set(PROJECT)


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("scraper/spiders/x.py", "from pipelines.stage import Stage\n", "scraper -> pipelines"),
        ("scraper/x.py", "def f():\n    from cli.logs import configure\n", "scraper -> cli"),
        ("scraper/x.py", "from storage.sources import FetchState\n", "scraper -> storage"),
        ("config/x.py", "from scraper.urls import is_http_url\n", "config -> scraper"),
        ("scheduler.py", "from cli.jobs import run_job\n", "scheduler -> cli"),
        ("storage/x.py", "from scraper.errors import Drop\n", "storage -> scraper"),
        ("scraper/x.py", "import rounds.round\n", "scraper -> rounds"),
        ("scraper/spiders/x.py", "from ...pipelines import stage\n", "scraper -> pipelines"),
    ],
)
def test_a_wrong_way_import_is_caught(tmp_path: Path, path: str, text: str, expected: str) -> None:
    file = tmp_path / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    found = violations(tmp_path)
    assert len(found) >= 1 and expected in found[0], found


def test_the_allowed_ways_pass(tmp_path: Path) -> None:
    for path, text in {
        "scraper/x.py": "from storage import FetchStateUpdate, Store\nfrom config import Config\n",
        "storage/x.py": "from scraper.items import Clipping\n",
        "rounds/x.py": "from scraper.spiders.round import RoundSpider\n",
        "scraper/y.py": "from . import items\nfrom .urls import canonical_url\n",
        "scraper/spiders/z.py": "from ..items import Clipping\n",
    }.items():
        file = tmp_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    assert violations(tmp_path) == []


def test_no_stage_reads_the_spider_and_nothing_fakes_one() -> None:
    """Stages get their collaborators from the round context; nothing in
    the tree stands in for a spider (or anything else) with a namespace."""
    reads = []
    for path in sorted((REPO / "pipelines").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "spider":
                reads.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert reads == []
    fakes = [
        str(path.relative_to(REPO))
        for folder in (*PROJECT, "tests", "benchmarks")
        for path in (REPO / folder).rglob("*.py")
        if "SimpleNamespace" in path.read_text(encoding="utf-8")
        and path.name != "test_architecture.py"
    ]
    assert fakes == []
