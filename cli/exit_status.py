"""The exit status of every ``presscut`` command, in one place.

`STATUSES` is what each number means for every command; `BY_COMMAND` says
what makes each command fail (status 1) or, for ``crawl``, what status 3 is.
`help_text` renders both for ``presscut --help``; docs/errors.md carries the
same table.  A command raises ``typer.Exit(status)`` with a number from here.
"""

from __future__ import annotations

OK = 0
FAILURE = 1
USAGE = 2
BUSY = 3
DATABASE_UNAVAILABLE = 4

STATUSES: tuple[tuple[int, str], ...] = (
    (OK, "done (also when there was nothing to do)"),
    (FAILURE, "the command ran and failed: see the one-line message on stderr"),
    (USAGE, "usage or configuration error: a bad option, argument, file or variable"),
    (BUSY, "crawl only: another round holds the database's round lock"),
    (DATABASE_UNAVAILABLE, "the database is missing, unreachable or unusable"),
)

#: ``command -> what exit status 1 means for it`` (3 for crawl).
BY_COMMAND: tuple[tuple[str, str], ...] = (
    ("crawl", "1 the round failed; 3 another round is running"),
    ("run", "1 a --once round failed"),
    ("worker", "never 1: it runs until stopped (2 when no cluster redis_url is set)"),
    ("sources check", "1 a source failed"),
    ("sources health", "1 with --strict, a source is flagged"),
    ("sources discover", "1 nothing could be proposed"),
    ("sources list", "never 1"),
    ("queue, search", "1 a --topic or --source is refused"),
    ("approve, reject, cite", "1 an id is unknown or the change is refused; nothing changes"),
    ("edit, show", "1 an unknown id, a refused excerpt, or a published clipping edited "
     "without --correction"),
    ("import", "1 a line was refused (the others are imported)"),
    ("post, digest, archive, feed", "1 an unknown id or an output that cannot be written"),
    ("publish posts, publish wordpress", "1 a story cannot be posted or the site refused"),
    ("export", "1 the output cannot be written"),
    ("extract", "1 the page cannot be read or extracted"),
    ("db upgrade, db prune", "1 the database refused the change"),
    ("demo", "1 the demo round failed"),
    ("serve", "1 the address cannot be served (e.g. the port is taken)"),
    ("users add, users list, users disable, users enable, users passwd",
     "1 an unknown or existing user, or a refused password"),
)  # fmt: skip


def help_text() -> str:
    """The exit status table as ``--help`` prints it (one paragraph a line)."""
    lines = ["Exit status:"]
    lines += [f"{status}  {meaning}" for status, meaning in STATUSES]
    lines.append("Per command:")
    lines += [f"{command}: {meaning}" for command, meaning in BY_COMMAND]
    return "\n".join(lines)
