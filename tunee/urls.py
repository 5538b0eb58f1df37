from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from tunee import health, media
from tunee.api.views import api_not_found

handler400 = "tunee.api.views.handler400"
handler403 = "tunee.api.views.handler403"
handler404 = "tunee.api.views.handler404"
handler500 = "tunee.api.views.handler500"

api_patterns = [
    path("", include("accounts.urls")),
    path("", include("membership.urls")),
    path("", include("payments.urls")),
    path("", include("generation.urls")),
    path("", include("works.urls")),
    path("", include("moderation.urls")),
    path("", include("notifications.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="prometheus-django-metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/", include(api_patterns)),
    re_path(r"^api(?:/.*)?$", api_not_found),
    path("", include("accounts.web_urls")),
    path("", include("works.web_urls")),
]
if apps.is_installed("payments_sandbox"):  # PAYMENT_SANDBOX on: its pay page and gateways (payments_sandbox/urls.py)
    urlpatterns.append(path("", include("payments_sandbox.urls")))


# Stored files (tunee/media.py): signed, expiring links on every storage but S3 (which presigns its own); the
# plain /media/ view for the local storage, never for private/ names, never as HTML or SVG.
urlpatterns.insert(0, path("media-signed/<str:token>", media.serve_signed, name="media-signed"))
if settings.SERVE_MEDIA:
    urlpatterns.insert(0, re_path(r"^media/(?P<path>.*)$", media.serve_media))
