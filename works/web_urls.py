"""Web pages of works (outside /api), mounted at the site root by tunee/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("w/<str:work_id>", views.work_share, name="work-share"),
]
