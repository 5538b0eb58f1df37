"""The yardstick of `bench/http.py`: a bare Django view — the service's settings, no middleware, one JsonResponse —
served by the same gunicorn settings as the service (`gunicorn bench.bare:application`)."""

import os

import django
from django.conf import settings
from django.http import JsonResponse
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunee.settings")
django.setup()


def bare(request):
    return JsonResponse({"code": 0, "message": "ok", "data": {"ok": True}, "timestamp": 0})


urlpatterns = [path("bare", bare)]
settings.MIDDLEWARE = []
settings.ROOT_URLCONF = __name__

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402  (after the settings above)

application = WSGIHandler()
