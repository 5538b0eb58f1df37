"""Cached reads of works: a finished work's detail and the feed's first page, in the configured cache (Redis in
production).

Keys carry version tokens instead of being deleted: every change of a work (edit, delete, like, play, visibility,
moderation, processing) replaces that work's token and the feed's token once its transaction commits, so a reader
that raced the change can only have written under a token nobody asks for any more. Tokens are random, so a token
evicted from the cache comes back as a new one and never revives an old entry.

What the works app is not told about is a song finishing (the generation app does not know works). So:
- a work's detail is cached only once its generation is finished (completed or failed), when its status can no
  longer change;
- the feed's key also holds the generation app's token of finished generations (generation.selectors.
  finished_version, replaced whenever one completes or fails), so that a song finishing changes the key; it is
  read from the cache with the feed's own token, in one round trip.

Cached values never depend on who asks: `liked` is filled in per request afterwards (one small query).
"""

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation

from generation.models import Generation
from generation.selectors import FINISHED_VERSION_KEY, finished_version
from tunee.cache import version_token

FEED_VERSION_KEY = "works:version:feed"
FINISHED = {Generation.Status.COMPLETED, Generation.Status.FAILED}


def _work_token_key(work_id) -> str:
    return f"works:version:work:{work_id}"


def invalidate_now(*work_ids, feed: bool = True) -> None:
    keys = [_work_token_key(work_id) for work_id in work_ids]
    if feed:
        keys.append(FEED_VERSION_KEY)
    cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)


def invalidate(*work_ids, feed: bool = True) -> None:
    """Forget the cached answers about these works (and the feed) once the current transaction commits."""
    transaction.on_commit(lambda: invalidate_now(*work_ids, feed=feed))


def detail_get(work_id, build) -> dict | None:
    """The serialized work (without `liked`), from the cache or from `build()` (which returns None when there is
    no such work). Only finished works are stored, one entry per language (a failed work's errorMessage is in
    the reader's language)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    key = f"works:detail:{work_id}:{language}:{version_token(_work_token_key(work_id))}"
    data = cache.get(key)
    if data is None:
        data = build()
        if data is not None and data["status"] in FINISHED:
            cache.set(key, data, timeout=settings.WORKS_DETAIL_CACHE_SECONDS)
    return data


# The last feed page this process read, per page size: (key, when it expires (time.time()), the page).
_feed_pages: dict[int, tuple[str, float, dict]] = {}


def feed_first_page_get(page_size: int, build) -> dict:
    """The public feed's first page (`{list, pagination}`, without `liked`), from the cache or from `build()`.

    `build()` returns the page as the renderer writes it (camelCase keys, plain JSON values; `v3` in the key:
    entries of older shapes are never read). The entry carries its own expiry, and the process keeps the page it
    last read: while the tokens still name that key and the expiry has not passed, it answers from its copy without
    the second round trip. That is what the shared entry would answer (a key is read only while its tokens are
    current, and tokens are never reused), and never for longer than it would (WORKS_FEED_CACHE_SECONDS)."""
    tokens = cache.get_many([FEED_VERSION_KEY, FINISHED_VERSION_KEY])
    feed = tokens.get(FEED_VERSION_KEY) or version_token(FEED_VERSION_KEY)
    finished = tokens.get(FINISHED_VERSION_KEY) or finished_version()
    key = f"works:feed:v3:{feed}:{finished}:{page_size}"
    now = time.time()
    local = _feed_pages.get(page_size)
    if local is not None and local[0] == key and local[1] > now:
        return local[2]
    entry = cache.get(key)
    if entry is None or entry["expires"] <= now:
        entry = {"expires": now + settings.WORKS_FEED_CACHE_SECONDS, "page": build()}
        cache.set(key, entry, timeout=settings.WORKS_FEED_CACHE_SECONDS)
    _feed_pages[page_size] = (key, entry["expires"], entry["page"])
    return entry["page"]
