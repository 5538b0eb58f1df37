from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from tunee.api.envelope import ok
from tunee.api.pagination import paginated
from tunee.api.schema import paginated as paginated_schema

from . import selectors
from .serializers import (
    QUOTA,
    MembershipInfoSerializer,
    PointPackageSerializer,
    PointsEntrySerializer,
    QuotaSerializer,
)


class MembershipInfoApi(APIView):
    @extend_schema(responses=MembershipInfoSerializer, tags=["membership"], summary="Membership, today's quota, plans")
    def get(self, request):
        status = selectors.quota_status(user=request.user)
        state = status.membership
        data = {
            "current_level": state.level,
            "is_valid": state.is_valid,
            "expires_at": state.expires_at,
            "started_at": state.started_at,
            "daily_limit": status.daily_limit,
            "used_today": status.used,
            "remaining_today": status.remaining,
            "points": status.points,
            "points_cost": settings.GENERATION_POINTS_COST,
            "plans": selectors.purchasable_plans(),
        }
        return ok(MembershipInfoSerializer(data).data)


class QuotaApi(APIView):
    @extend_schema(responses=QuotaSerializer, tags=["generation"], summary="Today's generation quota")
    def get(self, request):
        status = selectors.quota_status(user=request.user)
        data = {
            "date": status.day,
            "daily_limit": status.daily_limit,
            "used_today": status.used,
            "remaining_today": status.remaining,
            "points": status.points,
            "points_cost": settings.GENERATION_POINTS_COST,
            "membership": status.membership,  # QuotaSerializer.membership renders the state
        }
        return ok(QUOTA.to_representation(data))


class PointsHistoryApi(APIView):
    @extend_schema(
        responses=paginated_schema(PointsEntrySerializer), tags=["points"], summary="Points ledger, newest first"
    )
    def get(self, request):
        return paginated(
            request,
            selectors.points_history(user=request.user),
            lambda items: PointsEntrySerializer(items, many=True).data,
        )


class PointPackagesApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=paginated_schema(PointPackageSerializer), tags=["points"], summary="Purchasable point packages"
    )
    def get(self, request):
        return paginated(request, selectors.packages(), lambda items: PointPackageSerializer(items, many=True).data)
