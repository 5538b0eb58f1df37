"""The yardsticks of `bench/http.py`, served by the same gunicorn settings as the service
(`gunicorn bench.bare:application`): the service's settings, no middleware, no DRF, one `JsonResponse` each.

- `/bare`: nothing else — the ratio's denominator.
- `/floor/session`: only what every authenticated request of the API must do and cannot skip without giving up
  revocation or the rate limits — the access token verified, and the login session's state read and the user's
  rate counted in one Redis call (`accounts.tokens.session_auth_state`, the very function the API calls).
- `/floor/quota`: that, plus the one query of `GET /api/generation/quota` (`membership.selectors.quota_status`).
- `/floor/profile`: the session check plus the one query of `GET /api/user/me` (`accounts.selectors.user_for_profile`).

The floors are upper bounds: no implementation of those endpoints that keeps their round trips to Redis and
PostgreSQL can beat them under the same load, however little Python it runs around them.
"""

import os
import uuid

import django
from django.conf import settings
from django.http import JsonResponse
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunee.settings")
django.setup()

from rest_framework.views import APIView  # noqa: E402

from accounts.selectors import user_for_profile  # noqa: E402  (after setup)
from accounts.tokens import SESSION_CLAIM, access_token_decode, session_auth_state  # noqa: E402  (after setup)
from membership.selectors import quota_status  # noqa: E402
from tunee.api.throttles import user_counts  # noqa: E402


def bare(request):
    return JsonResponse({"code": 0, "message": "ok", "data": {"ok": True}, "timestamp": 0})


class _User:
    __slots__ = ("pk",)

    def __init__(self, pk):
        self.pk = pk


_DEFAULT_VIEW = APIView()  # a view with the API's default throttles, as the quota and profile views have


def _session(view):
    """The answer with `view(user)` as its data when the request's access token names a live session; a 401 when
    the session was revoked."""

    def checked(request):
        token = access_token_decode(request.headers["Authorization"].split()[1])
        counts = user_counts(_DEFAULT_VIEW, token["sub"])  # the rates the API's default throttles count
        state, _ = session_auth_state(token[SESSION_CLAIM], token["sub"], counts=counts)
        if state is None:
            return JsonResponse({"code": 2001, "message": "revoked", "data": None, "timestamp": 0}, status=401)
        return JsonResponse({"code": 0, "message": "ok", "data": view(_User(uuid.UUID(state.user_id))), "timestamp": 0})

    return checked


@_session
def floor_session(user):
    return {"id": str(user.pk)}


@_session
def floor_quota(user):
    status = quota_status(user=user)
    return {"date": status.day.isoformat(), "dailyLimit": status.daily_limit, "usedToday": status.used,
            "remainingToday": status.remaining, "points": status.points}  # fmt: skip


@_session
def floor_profile(user):
    profile = user_for_profile(user_id=user.pk)
    return {"id": str(profile.pk), "username": profile.username, "usedToday": profile.ent_used or 0}


urlpatterns = [
    path("bare", bare),
    path("floor/session", floor_session),
    path("floor/quota", floor_quota),
    path("floor/profile", floor_profile),
]


def __getattr__(name):
    """`application`, built when gunicorn asks for it (not on import: the views above can be imported and tested
    without emptying the importing process's middleware)."""
    if name != "application":
        raise AttributeError(name)
    from django.core.handlers.wsgi import WSGIHandler

    settings.MIDDLEWARE = []
    settings.ROOT_URLCONF = __name__
    global application
    application = WSGIHandler()
    return application
