"""Content fingerprints for duplicate detection.

* `content_hash`: SHA-1 hex of the text with case and white space folded;
  equal hashes mean the same body, whatever the markup or line breaks.
* `simhash`: 64-bit Charikar SimHash (trafilatura's implementation) over the
  text's words; bodies that differ by a few edits (another headline, a byline
  line, a sentence added) land within a few bits of each other.
* `hamming`: number of differing bits between two SimHashes.
"""

from __future__ import annotations

import hashlib
import unicodedata

from trafilatura.deduplication import Simhash

#: SimHashes at most this many bits apart are the same story.  Measured on
#: syndicated copies with edited headline, byline and a closing sentence
#: over 80 corpus articles (lead dropped, a sentence added: 90% within 6
#: bits); unrelated articles sit near 32, the closest pair of 3,000 at 5.
NEAR_DUPLICATE_BITS = 6

#: Stricter limit for two bodies from the same source: there a near-duplicate
#: is dropped rather than clustered, and a false match would lose an article.
SAME_SOURCE_BITS = 3

#: Bodies shorter than this many words are too short to call near-duplicates
#: (two one-line stubs look alike whatever they say).
MIN_WORDS_FOR_SIMHASH = 50


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def content_hash(text: str) -> str:
    """SHA-1 hex digest of the folded text."""
    return hashlib.sha1(_fold(text).encode("utf-8")).hexdigest()


def simhash(text: str) -> int | None:
    """Unsigned 64-bit SimHash of ``text``, or ``None`` when the text is too
    short for a meaningful one."""
    if len(text.split()) < MIN_WORDS_FOR_SIMHASH:
        return None
    return Simhash(_fold(text)).hash


def hamming(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes."""
    return (a ^ b).bit_count()


def near_duplicate(a: int | None, b: int | None, bits: int = NEAR_DUPLICATE_BITS) -> bool:
    """Whether two SimHashes mark the same story."""
    return a is not None and b is not None and hamming(a, b) <= bits
