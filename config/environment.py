"""Settings from the environment: ``PRESSCUT_<SECTION>_<KEY>`` and
``PRESSCUT_<KEY>`` for a top-level key (``PRESSCUT_SOURCES_FILE``).

pydantic-settings reads the variables (prefix, case, the one split between
section and key); this module only says which setting each one sets, so
that a value it refuses is blamed on the variable, not on settings.toml, and
which ``PRESSCUT_*`` variables set nothing, so that a misspelt one is
reported instead of silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, create_model
from pydantic_settings import BaseSettings, EnvSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

from config.schema import Settings

PREFIX = "PRESSCUT_"
#: Variables presscut reads that are not settings.
NOT_SETTINGS = frozenset({"CONFIG_DIR", "WORDPRESS_PASSWORD", "UPDATE_GOLDEN"})
#: Prefixes of variables that steer the test suite and CI
#: (``PRESSCUT_REQUIRE_SERVICES``, ``PRESSCUT_TEST_POSTGRES_URL``, ...).
_TEST_PREFIXES = ("TEST_", "REQUIRE_")


def _sections() -> dict[str, type[BaseModel]]:
    return {
        name: field.annotation
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }


def _top_level() -> list[str]:
    return [name for name in Settings.model_fields if name not in _sections()]


# Every section read as a mapping of strings, every top-level key as a string:
# pydantic-settings splits the names, `config.schema.Settings` validates.
_Raw = create_model(  # type: ignore[call-overload]
    "_Raw",
    __base__=BaseSettings,
    **{name: (dict[str, str], {}) for name in _sections()},
    **{name: (str | None, None) for name in _top_level()},
)


class _Variables(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(
            _Raw,
            case_sensitive=False,
            env_prefix=PREFIX,
            env_nested_delimiter="_",
            env_nested_max_split=1,
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive)


@dataclass(frozen=True, slots=True)
class Environment:
    """What the environment sets: ``values`` to merge into the settings
    file's data, ``origins`` naming the variable behind each key path
    (``("crawl", "allow_loopback") -> "PRESSCUT_CRAWL_ALLOW_LOOPBACK"``),
    and ``unknown``, the ``PRESSCUT_*`` variables that set nothing."""

    values: dict[str, Any]
    origins: dict[tuple[str, ...], str]
    unknown: tuple[str, ...]


def read_environment(environ: Mapping[str, str]) -> Environment:
    """The settings ``environ`` sets (see `Environment`)."""
    raw = _Variables(environ)()
    values: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}
    sections = _sections()
    for name, value in raw.items():
        if name in sections and isinstance(value, dict):
            known = {k: v for k, v in value.items() if k in sections[name].model_fields}
            if known:
                values[name] = known
            for key in known:
                origins[(name, key)] = f"{PREFIX}{name}_{key}".upper()
        elif name not in sections and value is not None:
            values[name] = value
            origins[(name,)] = f"{PREFIX}{name}".upper()
    used = set(origins.values())
    unknown = sorted(
        variable
        for variable in environ
        if variable.upper().startswith(PREFIX)
        and variable.upper() not in used
        and variable.upper()[len(PREFIX) :] not in NOT_SETTINGS
        and not variable.upper()[len(PREFIX) :].startswith(_TEST_PREFIXES)
    )
    return Environment(values, origins, tuple(unknown))
