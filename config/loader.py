"""Loading presscut's configuration: read once, validate once, fail clearly.

`load_config` reads ``<dir>/settings.toml`` (optional: every setting has a
default) and the sources file it names (``sources.toml`` by default), applies
environment overrides and returns a frozen `Config`.

Environment overrides (`config.environment`, read by pydantic-settings):
every setting ``[section] key`` can be set with ``PRESSCUT_<SECTION>_<KEY>``
(``PRESSCUT_DATABASE_URL``, ``PRESSCUT_CRAWL_ALLOW_LOOPBACK``, ...) and a
top-level key with ``PRESSCUT_<KEY>`` (``PRESSCUT_SOURCES_FILE``); they win
over the file.  A value refused is blamed on its variable; a ``PRESSCUT_*``
variable that sets nothing is listed in `Config.warnings`.  The config
folder itself comes from ``--config``, else ``PRESSCUT_CONFIG_DIR``, else
``./config``.

A relative SQLite path (``sqlite:///data/presscut.db``, the default) is
relative to the config folder, not to the working directory: every command
run with the same config reaches the same database, from whatever folder.

Every failure is a `ConfigError` whose message names the file, the key path
(``sources[3].url``) and the rule broken, one line per problem.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from config.environment import read_environment
from config.schema import Settings, Source, SourcesFile, Topic

M = TypeVar("M", bound=BaseModel)
# sqlite:///PATH[?query], any driver; PATH is relative unless it starts with "/".
_SQLITE_URL = re.compile(r"^(sqlite(?:\+\w+)?:///)([^?]*)(\?.*)?$")
ENV_PREFIX = "PRESSCUT_"
DEFAULT_DIR = Path("config")


class ConfigError(Exception):
    """A configuration file that cannot be used.  ``problems`` holds
    ``(file, key path, rule)`` triples; ``str()`` renders one per line."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__(
            "\n".join(
                f"{file}: {key}: {rule}" if key else f"{file}: {rule}"
                for file, key, rule in problems
            )
        )


@dataclass(frozen=True)
class Config:
    """A validated configuration.  ``directory`` is the folder it came from."""

    settings: Settings
    topics: dict[str, Topic]
    sources: list[Source]
    directory: Path
    sources_path: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    #: One line each: what the operator should know but that does not stop
    #: presscut (a misspelt ``PRESSCUT_*`` variable).
    warnings: tuple[str, ...] = ()

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def key_path(loc: tuple[str | int, ...]) -> str:
    """``("sources", 3, "url")`` -> ``"sources[3].url"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def config_dir(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ENV_PREFIX + "CONFIG_DIR") or DEFAULT_DIR)


def load_config(
    directory: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read, override from the environment and validate; raise `ConfigError`."""
    folder = config_dir(directory)
    env = os.environ if environ is None else environ
    settings_path = folder / "settings.toml"
    raw_settings = _read_toml(settings_path) if settings_path.exists() else {}
    environment = read_environment(env)
    for name, value in environment.values.items():
        if isinstance(value, dict) and isinstance(raw_settings.get(name, {}), dict):
            raw_settings[name] = {**raw_settings.get(name, {}), **value}
        else:
            raw_settings[name] = value
    settings = _validate(Settings, raw_settings, str(settings_path), environment.origins)
    settings = _database_beside(settings, folder)

    sources_path = folder / settings.sources_file
    if not sources_path.exists():
        raise ConfigError(
            [(str(sources_path), "", "file not found (start from sources.example.toml)")]
        )
    sources_file = _validate(SourcesFile, _read_toml(sources_path), str(sources_path))
    problems = [
        (str(sources_path), key_path(loc), rule) for loc, rule in sources_file.cross_errors()
    ]
    if problems:
        raise ConfigError(problems)
    return Config(
        settings=settings,
        topics={t.name: t for t in sources_file.topics},
        sources=list(sources_file.sources),
        directory=folder,
        sources_path=sources_path,
        env_overrides={
            variable: env[variable] for variable in environment.origins.values() if variable in env
        },
        warnings=tuple(
            f"environment: {variable}: unknown presscut setting (ignored)"
            for variable in environment.unknown
        ),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([(str(path), "", f"not valid TOML: {exc}")]) from None
    except OSError as exc:
        raise ConfigError([(str(path), "", f"cannot be read: {exc.strerror}")]) from None


def _validate(
    model: type[M],
    data: dict[str, Any],
    filename: str,
    origins: Mapping[tuple[str, ...], str] | None = None,
) -> M:
    """``data`` validated as ``model``; a problem is blamed on ``filename``,
    or on the environment variable ``origins`` names for its key path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(str(part) for part in error["loc"])
            variable = (origins or {}).get(loc[:2]) or (origins or {}).get(loc[:1])
            source = f"environment variable {variable}" if variable else filename
            rule = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                rule = "unknown key"
            elif "input" in error and not isinstance(error["input"], dict | list):
                rule += f" (got {error['input']!r})"
            problems.append((source, key_path(error["loc"]), rule))
        raise ConfigError(problems) from None


def _database_beside(settings: Settings, folder: Path) -> Settings:
    """``settings`` with a relative SQLite path made absolute against the
    config ``folder`` (symlinks are not resolved: the path stays the one
    the user wrote)."""
    match = _SQLITE_URL.match(settings.database.url)
    if match is None:
        return settings
    prefix, path, query = match.group(1), match.group(2), match.group(3) or ""
    if not path or path == ":memory:" or path.startswith(("/", "file:")):
        return settings
    url = prefix + os.path.abspath(folder / path) + query
    return settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": url})}
    )
