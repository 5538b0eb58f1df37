"""Web pages of this app (outside /api), mounted at the site root by tunee/urls.py."""

from django.urls import path

from . import web

urlpatterns = [
    path("account/verify-email/<str:token>", web.verify_email, name="accounts-verify-email"),
    path("account/reset-password/<str:uidb64>/<str:token>", web.reset_password, name="accounts-password-reset"),
]
