"""API routes of works, mounted under /api/ by tunee/urls.py."""

from django.urls import path

from . import apis

urlpatterns = [
    path("works", apis.WorkListCreateApi.as_view(), name="works"),
    path("works/<str:work_id>", apis.WorkDetailApi.as_view(), name="work-detail"),
    path("works/<str:work_id>/like", apis.WorkLikeApi.as_view(), name="work-like"),
    path("works/<str:work_id>/play", apis.WorkPlayApi.as_view(), name="work-play"),
    path("works/<str:work_id>/report", apis.WorkReportApi.as_view(), name="work-report"),
]
