"""Log output of the long-running commands: text lines or JSON lines.

Every line carries the record's context keys, the ones passed as
``extra=`` (``source``, ``url``, ``outcome`` on every per-source line;
``run_id``, ``job`` ...), so a log reader can filter by source whatever the
format:

* text: ``2026-11-23T21:30:00Z INFO presscut.scheduler: round finished
  run_id=7 new=3``;
* JSON: one object per line, ``{"time": "2026-11-23T21:30:00.123Z",
  "level": "INFO", "logger": "presscut.scheduler", "message": "round
  finished", "run_id": 7, "new": 3}``; an exception adds ``exc_info`` (its
  traceback as text).  Values JSON cannot hold are written with ``str()``.

`configure` installs one handler on the root logger, on stderr, replacing
any earlier one it installed.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

#: Attributes every `logging.LogRecord` has: anything else came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


def context(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` keys of ``record``, in the order they were set."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _time(record: logging.LogRecord) -> str:
    stamp = datetime.fromtimestamp(record.created, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in context(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: MESSAGE key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        pairs = " ".join(f"{k}={_text(v)}" for k, v in context(record).items())
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if pairs:
            line = f"{line} {pairs}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def _text(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if not text or " " in text else text


def configure(
    fmt: str = "text", level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream`` (stderr) in
    ``fmt`` (``text`` or ``json``); returns the handler installed."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format {fmt!r} is neither 'text' nor 'json'")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.set_name("presscut")
    handler.setLevel(level)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "presscut"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic announces every migration check at INFO, once per round.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    return handler
