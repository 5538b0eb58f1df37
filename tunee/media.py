"""Serving stored files from our own origin: the plain `/media/` view (local storage) and signed links.

Whatever a file's bytes are, a response here can never run script on our origin (the admin lives on it):
only the types we store (`tunee.fetch.BY_EXTENSION`: MP3, M4A, AAC, WAV, FLAC, JPEG, PNG, WebP) are answered
with their own Content-Type; anything else (an old upload, a file someone put there by hand) is
`application/octet-stream` with `Content-Disposition: attachment`. Every answer carries
`X-Content-Type-Options: nosniff` and `Content-Security-Policy: default-src 'none'; sandbox`.

`/media/private/...` does not exist for this view (404): those files are served only through `serve_signed`,
whose URLs expire (see tunee/storage.py).
"""

import posixpath

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe
from django.views.static import serve

from .fetch import BY_EXTENSION
from .storage import is_private, signed_name

MEDIA_CSP = "default-src 'none'; sandbox"


def harden(response, name: str):
    """Set the Content-Type from the name's (trusted, detected-at-store-time) extension, and the safety headers."""
    extension = name.rpartition(".")[2].lower() if "." in posixpath.basename(name) else ""
    media = BY_EXTENSION.get(extension)
    if media is not None:
        response["Content-Type"] = media.content_type
    else:
        response["Content-Type"] = "application/octet-stream"
        response["Content-Disposition"] = "attachment"
    response.headers.pop("Content-Encoding", None)  # never let a guessed encoding (.gz) change what is sent
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


@require_safe
def serve_media(request, path):
    """Local media (SERVE_MEDIA); MEDIA_ROOT is read per request (tests point it at a temporary folder)."""
    name = posixpath.normpath(path).lstrip("/")
    if is_private(name + "/"):  # private/… and the folder itself
        raise Http404
    return harden(serve(request, path, document_root=settings.MEDIA_ROOT), name)


@require_safe
def serve_signed(request, token):
    """A file named by a `storage.signed_url` token, while the token is valid; 404 once it expired or when forged."""
    name = signed_name(token)
    if not name or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"))
    response["Cache-Control"] = "private, no-store"
    return harden(response, name)
