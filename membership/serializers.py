from rest_framework import serializers

from tunee.money import fen_to_yuan


class MembershipSerializer(serializers.Serializer):
    """A `selectors.MembershipState`, keys as the contract spells them (written out: a hot path, four values)."""

    level = serializers.CharField()
    isValid = serializers.BooleanField()
    expiresAt = serializers.DateTimeField(allow_null=True)
    startedAt = serializers.DateTimeField(allow_null=True)

    def to_representation(self, state) -> dict:
        return {
            "level": state.level,
            "isValid": state.is_valid,
            "expiresAt": state.expires_at,
            "startedAt": state.started_at,
        }


class DailyStatsSerializer(serializers.Serializer):
    date = serializers.DateField()
    usedCount = serializers.IntegerField()
    totalCount = serializers.IntegerField()


class EntitlementsSerializer(serializers.Serializer):
    """What a user profile shows of membership, points and today's quota, from a `selectors.QuotaStatus` (the
    accounts profile renders it among its own fields; keys exactly as the contract spells them, `isVIP` included,
    which the renderer leaves alone). Written out like `MembershipSerializer`: GET /user/me is a hot path."""

    membership = MembershipSerializer()
    isVIP = serializers.BooleanField(help_text="Photo Song's name of membership.isValid")
    membershipEndDate = serializers.DateTimeField(allow_null=True)
    points = serializers.IntegerField()
    dailyStats = DailyStatsSerializer()

    def to_representation(self, status) -> dict:
        state = status.membership
        return {
            "membership": MEMBERSHIP.to_representation(state),
            "isVIP": state.is_valid,
            "membershipEndDate": state.expires_at,
            "points": status.points,
            "dailyStats": {"date": status.day.isoformat(), "usedCount": status.used, "totalCount": status.daily_limit},
        }


MEMBERSHIP = MembershipSerializer()  # stateless: one instance renders every membership
ENTITLEMENTS = EntitlementsSerializer()


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
    """GET /generation/quota's shape, over the view's dict (`membership` a `selectors.MembershipState`). Written out
    like `MembershipSerializer` (the fields document the shape), one stateless instance for every request: a hot
    path, where instantiating a serializer (its fields are deep-copied) costs more than the whole rendering."""

    date = serializers.DateField(help_text="the business day, YYYY-MM-DD")
    daily_limit = serializers.IntegerField()
    used_today = serializers.IntegerField()
    remaining_today = serializers.IntegerField()
    points = serializers.IntegerField()
    points_cost = serializers.IntegerField()
    membership = MembershipSerializer()

    def to_representation(self, quota) -> dict:
        return {
            "date": quota["date"].isoformat(),
            "daily_limit": quota["daily_limit"],
            "used_today": quota["used_today"],
            "remaining_today": quota["remaining_today"],
            "points": quota["points"],
            "points_cost": quota["points_cost"],
            "membership": MEMBERSHIP.to_representation(quota["membership"]),
        }


QUOTA = QuotaSerializer()


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
