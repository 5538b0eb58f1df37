"""What the pipeline stored, for assertions: file names with their random tokens taken out, and the storage name
behind a URL the API returned (plain `/media/` or signed `/media-signed/`)."""

import re

from django.core.files.storage import default_storage

from tunee.storage import signed_name

TOKEN = re.compile(r"-[0-9a-f]{32}(?=\.[a-z0-9]+$)")


def stored_files(generation_id) -> list[str]:
    """e.g. ["audio-hq.mp3", "audio.mp3", "cover.jpg"]: public and private files, tokens removed."""
    names = []
    for folder in (f"generations/{generation_id}", f"private/generations/{generation_id}"):
        if default_storage.exists(folder):
            names += [TOKEN.sub("", name) for name in default_storage.listdir(folder)[1]]
    return sorted(names)


def name_of(url: str) -> str:
    """The storage name a URL of ours points at."""
    if "/media-signed/" in url:
        name = signed_name(url.split("/media-signed/", 1)[1])
        assert name, f"{url} is not a valid signed URL"
        return name
    return url.split("/media/", 1)[1]
