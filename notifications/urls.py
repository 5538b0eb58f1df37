"""API routes of this app, mounted under /api/ by tunee/urls.py."""

from django.urls import path

from . import apis

urlpatterns = [
    path("notifications/subscriptions", apis.SubscriptionsApi.as_view(), name="notifications-subscriptions"),
    path("devices", apis.DeviceRegisterApi.as_view(), name="devices-register"),
    path("devices/<str:registration_id>", apis.DeviceDeleteApi.as_view(), name="devices-delete"),
]
