from django.urls import path

from . import apis

urlpatterns = [
    path("membership/info", apis.MembershipInfoApi.as_view(), name="membership-info"),
    path("generation/quota", apis.QuotaApi.as_view(), name="generation-quota"),
    path("points/history", apis.PointsHistoryApi.as_view(), name="points-history"),
    path("points/packages", apis.PointPackagesApi.as_view(), name="points-packages"),
]
