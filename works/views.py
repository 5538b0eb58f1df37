"""The share page of a work, outside /api: what a link pasted in WeChat or a browser opens."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.selectors import user_avatar_url
from tunee.storage import public_url

from . import selectors


@require_safe
def work_share(request, work_id):
    """A public finished work: photo, title, creator, player, Open Graph and WeChat meta. Anything else (private,
    unfinished, deleted, malformed id) answers the same friendly 404."""
    work = selectors.work_get_public(work_id=work_id)
    if work is None:
        return render(request, "works/not_found.html", status=404)
    creator = work.creator
    description = work.description or f"{creator.username} 用一张照片做了一首歌 · Tunee"
    context = {
        "work": work,
        "title": work.title or work.generation.result_title or "Tunee",
        "description": description,
        "creator_name": creator.username,
        "creator_avatar_url": user_avatar_url(user=creator),
        "image_url": public_url(work.image),
        "audio_url": public_url(work.generation.audio),
        "cover_url": public_url(work.generation.cover),
        "page_url": f"{settings.PUBLIC_BASE_URL}/w/{work.pk}",
        "tags": selectors.tag_names(work),
    }
    return render(request, "works/share.html", context)
