"""Notifications API (API.md §3): WeChat subscriptions and app devices. Views parse, call a service, render."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from tunee.api.envelope import ok
from tunee.api.i18n import T

from . import selectors, services
from . import serializers as s

SUBSCRIBED = T("订阅已记录", "Subscriptions recorded")
REGISTERED = T("设备已登记", "Device registered")
DELETED = T("设备已删除", "Device removed")


class SubscriptionsApi(APIView):
    @extend_schema(
        tags=["notifications"],
        summary="Record the one-time WeChat subscribe-message subscriptions the mini program obtained",
        request=s.SubscriptionsInput,
        responses={201: s.SubscriptionsOutput},
    )
    def post(self, request):
        data = s.SubscriptionsInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.subscriptions_add(user=request.user, template_ids=data.validated_data["template_ids"])
        available = selectors.subscriptions_available(user=request.user)
        return ok(s.SubscriptionsOutput({"available": available}).data, message=SUBSCRIBED, status=201)


class DeviceRegisterApi(APIView):
    @extend_schema(
        tags=["notifications"],
        summary="Register this app installation for push (JPush registration id)",
        request=s.DeviceInput,
        responses={201: s.DeviceOutput},
    )
    def post(self, request):
        data = s.DeviceInput(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.device_register(user=request.user, **data.validated_data)
        return ok(s.DeviceOutput(device).data, message=REGISTERED, status=201)


class DeviceDeleteApi(APIView):
    @extend_schema(
        tags=["notifications"],
        summary="Stop pushing to one of my devices (on logout)",
        parameters=[
            OpenApiParameter("registration_id", str, OpenApiParameter.PATH, description="JPush registration id")
        ],
        responses={200: s.DeviceDeletedOutput},
    )
    def delete(self, request, registration_id):
        device = selectors.device_get_for_user(user=request.user, registration_id=registration_id)
        services.device_unregister(user=request.user, registration_id=device.registration_id)
        return ok(s.DeviceDeletedOutput({"deleted": True}).data, message=DELETED)
