from rest_framework import serializers

from .selectors import fen_to_yuan


class MembershipSerializer(serializers.Serializer):
    level = serializers.CharField()
    isValid = serializers.BooleanField()
    expiresAt = serializers.DateTimeField(allow_null=True)
    startedAt = serializers.DateTimeField(allow_null=True)


class PlanSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    price = serializers.SerializerMethodField(help_text="yuan")
    duration = serializers.IntegerField(source="duration_days", help_text="days")
    daily_limit = serializers.IntegerField()
    features = serializers.ListField(child=serializers.CharField())

    def get_price(self, plan) -> float:
        return fen_to_yuan(plan["price_fen"])


class MembershipInfoSerializer(serializers.Serializer):
    current_level = serializers.CharField()
    is_valid = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    daily_limit = serializers.IntegerField()
    used_today = serializers.IntegerField()
    remaining_today = serializers.IntegerField()
    points = serializers.IntegerField()
    points_cost = serializers.IntegerField(help_text="points one generation costs once the day's quota is used up")
    plans = PlanSerializer(many=True)


class QuotaSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="the business day, YYYY-MM-DD")
    daily_limit = serializers.IntegerField()
    used_today = serializers.IntegerField()
    remaining_today = serializers.IntegerField()
    points = serializers.IntegerField()
    points_cost = serializers.IntegerField()
    membership = MembershipSerializer()


class PointsEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    reason = serializers.CharField()
    reason_text = serializers.CharField(source="get_reason_display")
    balance = serializers.IntegerField()
    reference = serializers.CharField()
    time = serializers.DateTimeField(source="created_at")


class PointPackageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    points = serializers.IntegerField()
    price = serializers.SerializerMethodField(help_text="yuan")

    def get_price(self, package) -> float:
        return fen_to_yuan(package["price_fen"])
