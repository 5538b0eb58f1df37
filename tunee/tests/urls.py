"""The real URLconf plus a few views that exercise the plumbing (mounted before the /api catch-all)."""

import datetime
from decimal import Decimal

from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.views import APIView

from tunee import urls as real
from tunee.api.envelope import ok
from tunee.api.errors import ApiError, Code
from tunee.api.ids import parse_id
from tunee.api.pagination import paginated
from tunee.api.throttles import AnonRateThrottle

handler400 = real.handler400
handler403 = real.handler403
handler404 = real.handler404
handler500 = real.handler500


class EchoInput(serializers.Serializer):
    prompt = serializers.CharField(max_length=5)
    negative_tags = serializers.ListField(child=serializers.CharField(), required=False)


class OkView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return ok({"some_field": datetime.datetime(2024, 1, 1, 12, 10, tzinfo=datetime.UTC), "price": Decimal("19.90")})

    def post(self, request):
        data = EchoInput(data=request.data)
        data.is_valid(raise_exception=True)
        return ok(data.validated_data, status=201)


class RaiseView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise ApiError(Code.QUOTA_EXHAUSTED, details={"remaining_today": 0, "points": 3, "points_cost": 10})

    def post(self, request):
        raise RuntimeError("secret internals: password=hunter2")


class PrivateView(APIView):
    def get(self, request):
        return ok({"me": str(request.user.pk)})


class StaffView(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return ok({})


class OncePerMinute(AnonRateThrottle):
    rate = "1/min"


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OncePerMinute]

    def get(self, request):
        return ok({})


class ItemView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, item_id):
        return ok({"id": parse_id(item_id)})


class ListView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return paginated(request, list(range(1, 251)), lambda items: [{"n": n} for n in items])


def plain_django_view(request):
    raise ValueError("boom outside DRF")


urlpatterns = [
    path("api/_t/ok", OkView.as_view()),
    path("api/_t/raise", RaiseView.as_view()),
    path("api/_t/private", PrivateView.as_view()),
    path("api/_t/staff", StaffView.as_view()),
    path("api/_t/throttled", ThrottledView.as_view()),
    path("api/_t/items/<str:item_id>", ItemView.as_view()),
    path("api/_t/list", ListView.as_view()),
    path("api/_t/django", plain_django_view),
    *real.urlpatterns,
]
