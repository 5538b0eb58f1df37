"""Input and output serializers of accounts' API (snake_case here; the wire is camelCase)."""

import json

from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from membership.selectors import quota_status
from membership.serializers import ENTITLEMENTS
from tunee.api.i18n import T
from tunee.storage import public_url

from .models import User, VerificationCode
from .selectors import user_avatar_url
from .services import phone_normalize

BAD_PHONE = T("请输入正确的中国大陆手机号", "Enter a valid mainland China mobile number")
BAD_CODE = T("验证码为 6 位数字", "The code is 6 digits")
BAD_SETTINGS = T("settings 必须是对象", "settings must be an object")
BAD_NOTIFICATIONS = T(
    "notifications 必须是布尔值或 {{songReady: 布尔值}}", "notifications must be a boolean or {{songReady: boolean}}"
)  # braces doubled: DRF formats error messages


class PhoneField(serializers.CharField):
    def to_internal_value(self, data):
        value = phone_normalize(super().to_internal_value(data))
        if value is None:
            raise serializers.ValidationError(str(BAD_PHONE))
        return value


class CodeField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(r"^\d{6}$", max_length=6, min_length=6, **kwargs)
        self.error_messages["invalid"] = BAD_CODE


class DeviceMixin(serializers.Serializer):
    device = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class SendCodeInput(serializers.Serializer):
    phone = PhoneField(max_length=30)
    purpose = serializers.ChoiceField(choices=VerificationCode.Purpose.choices, default=VerificationCode.Purpose.LOGIN)


class SendCodeOutput(serializers.Serializer):
    cooldown = serializers.IntegerField()


class PhoneLoginInput(DeviceMixin):
    phone = PhoneField(max_length=30)
    code = CodeField()


class WechatLoginInput(DeviceMixin):
    code = serializers.CharField(max_length=200)
    nickname = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    avatar_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")


class RefreshTokenInput(DeviceMixin):
    refresh_token = serializers.CharField(max_length=200)


class RegisterInput(DeviceMixin):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    avatar = serializers.FileField(required=False, allow_empty_file=False)


class LoginInput(DeviceMixin):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetRequestInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class UserSettingsSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)
    notifications = serializers.BooleanField(required=False)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "boolean"},
            {"type": "object", "properties": {"songReady": {"type": "boolean"}}, "required": ["songReady"]},
        ],
        "description": "true/false, or {songReady: true/false} (the same switch: song-ready notifications)",
    }
)
class NotificationsSettingField(serializers.Field):
    """`settings.notifications` as given: a boolean (the switch it always was), or `{songReady: bool}`. Today both
    are the one switch of the song-ready notifications (WeChat and app push); the profile shows it as a boolean."""

    default_error_messages = {"invalid": BAD_NOTIFICATIONS}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            keys = set(data) & {"song_ready", "songReady"}  # the JSON parser underscoreizes; a form's JSON text not
            if len(keys) != 1 or set(data) - keys:
                self.fail("invalid")
            data = data[keys.pop()]
        try:
            return serializers.BooleanField().to_internal_value(data)
        except serializers.ValidationError:
            self.fail("invalid")

    def to_representation(self, value):
        return bool(value)


class SettingsField(UserSettingsSerializer):
    """Accepts an object (JSON), its JSON text (a multipart form field) or `settings.language` form fields."""

    notifications = NotificationsSettingField(required=False)

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError(str(BAD_SETTINGS)) from None
        if not isinstance(data, dict):
            raise serializers.ValidationError(str(BAD_SETTINGS))
        return super().to_internal_value(data)


class ProfileUpdateInput(serializers.Serializer):
    username = serializers.CharField(max_length=150, required=False, validators=[UnicodeUsernameValidator()])
    avatar = serializers.FileField(required=False, allow_empty_file=False)
    settings = SettingsField(required=False)


class BindPhoneInput(serializers.Serializer):
    phone = PhoneField(max_length=30)
    code = CodeField()


class LogoutInput(serializers.Serializer):
    revoke_all = serializers.BooleanField(required=False, default=False)
    registration_id = serializers.CharField(
        required=False, max_length=128, help_text="this app's push registration id: it gets no more pushes"
    )


class LogoutOutput(serializers.Serializer):
    revoked_sessions = serializers.IntegerField()


# --- Output shapes ----------------------------------------------------------------------------------------------


class WechatOutput(serializers.Serializer):
    nickname = serializers.CharField(allow_null=True)
    avatar_url = serializers.CharField(allow_null=True)


class MembershipOutput(serializers.Serializer):
    level = serializers.CharField()
    is_valid = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)


class DailyStatsOutput(serializers.Serializer):
    date = serializers.DateField()
    used_count = serializers.IntegerField()
    total_count = serializers.IntegerField()


class UserProfileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    email_verified = serializers.BooleanField()
    phone = serializers.CharField(allow_null=True)
    avatar_url = serializers.URLField(allow_null=True)
    wechat = WechatOutput(allow_null=True)
    membership = MembershipOutput()
    isVIP = serializers.BooleanField()
    membershipEndDate = serializers.DateTimeField(allow_null=True)
    points = serializers.IntegerField()
    daily_stats = DailyStatsOutput()
    settings = UserSettingsSerializer()
    status = serializers.CharField(help_text="active or disabled")  # a plain string: no enum name to collide
    created_at = serializers.DateTimeField()

    def to_representation(self, user) -> dict:
        """API.md "The user profile" of `user`; the entitlement fields (membership, points, today's quota) come from
        membership's serializer over `context["quota"]` (a `membership.selectors.QuotaStatus`), read by
        `membership.selectors.quota_status` unless given. Written out (the fields above document the shape): GET
        /user/me is a hot path."""
        quota = self.context.get("quota") or quota_status(user=user)
        has_wechat = bool(user.wechat_openid or user.wechat_unionid)
        return {
            "id": str(user.pk),
            "username": user.username,
            "email": user.email or None,
            "email_verified": user.email_verified,
            "phone": user.phone,
            "avatar_url": user_avatar_url(user=user),
            "wechat": {"nickname": user.wechat_nickname or None, "avatar_url": public_url(user.wechat_avatar)}
            if has_wechat
            else None,
            **ENTITLEMENTS.to_representation(quota),
            "settings": {"language": user.language, "notifications": user.notifications},
            "status": user.status,
            "created_at": user.created_at,
        }


class LoginUserOutput(UserProfileOutput):
    is_new_user = serializers.BooleanField()

    def to_representation(self, user) -> dict:
        return {**super().to_representation(user), "is_new_user": self.context["is_new_user"]}


class TokenBundleOutput(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="seconds the access token lives")


class LoginOutput(TokenBundleOutput):
    user = LoginUserOutput()
