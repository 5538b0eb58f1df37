"""The offline screen: the word list in the database, matched by an Aho-Corasick automaton (pyahocorasick).

Text and words are compared normalized: NFKC (full-width letters and digits become ASCII), case-folded, without
spaces, punctuation, symbols or invisible characters, so "Ｋｉｌｌ　ｙｏｕｒ-ｓｅｌｆ" matches "kill yourself".

The automaton is built once per process and rebuilt when the list changes: the list's version (a fingerprint of
the rows, kept in Django's cache and, for LOCAL_CACHE_SECONDS, in the process: tunee/localcache.py) is read on each
check. A change (`forget_version`, on every admin save) is seen at once by the process that made it and within a few
seconds by the others; no request pays a cache round trip for it meanwhile.
"""

import threading
import unicodedata

import ahocorasick
from django.conf import settings
from django.db.models import Count, Max

from tunee import localcache

from . import MEDIA_IMAGE, Check

VERSION_KEY = "moderation:words:version"
VERSION_TTL = 60  # a process that missed a change (another cache) catches up within this many seconds
_SEVERITY = {"pass": 0, "review": 1, "risky": 2}  # nosec B105  # verdict ranks, not a secret

_lock = threading.Lock()
_built: dict = {"version": None, "automaton": None}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def _fingerprint() -> str:
    from ..models import Word

    row = Word.objects.filter(active=True).aggregate(count=Count("pk"), latest=Max("updated_at"), top=Max("pk"))
    latest = row["latest"].timestamp() if row["latest"] else 0
    return f"{row['count']}-{row['top'] or 0}-{latest:.6f}"


def version() -> str:
    return localcache.cached(VERSION_KEY, _fingerprint, ttl=VERSION_TTL)


def forget_version() -> None:
    """The list changed: the next check here, and within LOCAL_CACHE_SECONDS everywhere, reads the new fingerprint
    and rebuilds."""
    localcache.forget(VERSION_KEY)


def _build():
    from ..models import Word

    automaton = ahocorasick.Automaton()
    for normalized, label, outcome in Word.objects.filter(active=True).values_list("normalized", "label", "outcome"):
        if normalized:
            automaton.add_word(normalized, (label, outcome))
    if len(automaton):
        automaton.make_automaton()
        return automaton
    return None


def _automaton():
    current = version()
    if _built["version"] != current:
        with _lock:
            if _built["version"] != current:
                _built["automaton"] = _build()
                _built["version"] = current
    return _built["automaton"]


def check_text(text: str) -> Check:
    """The worst match in `text`: risky beats review beats pass; the label is the matching word's."""
    automaton = _automaton()
    normalized = normalize(text)
    if automaton is None or not normalized:
        return Check("pass")
    worst = Check("pass")
    for _end, (label, outcome) in automaton.iter(normalized):
        if _SEVERITY[outcome] > _SEVERITY[worst.outcome]:
            worst = Check(outcome, label)
            if outcome == "risky":
                break
    return worst


def check_media(media_type: int = MEDIA_IMAGE) -> Check:
    """Media is not read offline. Photos (and avatars) pass, or go to the staff queue with MODERATION_PHOTOS_REVIEW;
    audio (a finished song, made from text and a photo screened already) passes."""
    if media_type == MEDIA_IMAGE and settings.MODERATION_PHOTOS_REVIEW:
        return Check("review", "manual")
    return Check("pass")
