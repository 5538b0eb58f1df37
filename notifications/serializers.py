"""Input and output serializers of the notifications API (snake_case here; the wire is camelCase)."""

from django.conf import settings
from rest_framework import serializers

from tunee.api.i18n import T

from .models import Device

TEMPLATE_IDS_MAX = 10
UNKNOWN_TEMPLATE = T("未知的订阅消息模板：{ids}", "Unknown subscribe message template: {ids}")


def configured_templates() -> set[str]:
    return {t for t in (settings.WECHAT_TEMPLATE_SONG_READY, settings.WECHAT_TEMPLATE_SONG_FAILED) if t}


class SubscriptionsInput(serializers.Serializer):
    template_ids = serializers.ListField(
        child=serializers.CharField(max_length=128),
        min_length=1,
        max_length=TEMPLATE_IDS_MAX,
        help_text="the template ids the user accepted in wx.requestSubscribeMessage (each allows one message)",
    )

    def validate_template_ids(self, value: list[str]) -> list[str]:
        known = configured_templates()
        unknown = sorted({t for t in value if t not in known})
        if known and unknown:  # without configured templates (offline) every id is taken as given
            raise serializers.ValidationError(UNKNOWN_TEMPLATE.format(ids=", ".join(unknown)))
        return value


class AvailableOutput(serializers.Serializer):
    template_id = serializers.CharField()
    count = serializers.IntegerField(help_text="messages of this template the unused subscriptions still allow")


class SubscriptionsOutput(serializers.Serializer):
    # A list rather than an object keyed by template id: the camelCase renderer would rewrite such keys.
    available = AvailableOutput(many=True)


class DeviceInput(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    registration_id = serializers.CharField(max_length=128)


class DeviceOutput(serializers.Serializer):
    platform = serializers.CharField()
    registration_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DeviceDeletedOutput(serializers.Serializer):
    deleted = serializers.BooleanField()
