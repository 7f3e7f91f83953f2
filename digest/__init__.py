"""presscut's publishing: what curators approve, rendered and sent out.

Modules: ``dates`` (dates curators type, digest weeks), ``entries`` (what
templates see), ``render`` (Jinja2 rendering in HTML, Markdown, text and
JSON; ``templates/`` holds the bundled templates), ``publisher`` (posts and
digests on the site's record, each story once), ``feed`` (Atom, feedgen),
``wxr`` (WordPress export file) and ``wordpress`` (the REST publisher).
Storage of what went out lives in `storage.publishing`.
"""

from digest.publisher import PublishError, archive_posts, make_digest, publish_posts
from digest.render import FORMATS, VIEWS, Renderer

__all__ = [
    "FORMATS",
    "VIEWS",
    "PublishError",
    "Renderer",
    "archive_posts",
    "make_digest",
    "publish_posts",
]
