"""Accounts API (API.md §3): views parse, call a service, render."""

from djangorestframework_camel_case.parser import CamelCaseFormParser, CamelCaseMultiPartParser
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from tunee.api.client import client_ip
from tunee.api.envelope import ok
from tunee.api.i18n import T
from tunee.api.parsers import StrictCamelCaseJSONParser
from tunee.api.throttles import AnonRateThrottle, UserRateThrottle

from . import serializers as s
from . import services
from .images import avatar_refuse_declared_length
from .selectors import user_for_profile
from .throttles import LoginAccountThrottle, LoginIPThrottle

CODE_SENT = T("验证码已发送", "Verification code sent")
LOGGED_IN = T("登录成功", "Logged in")
REGISTERED = T("注册成功", "Registered")
REFRESHED = T("令牌已刷新", "Token refreshed")
LOGGED_OUT = T("已退出登录", "Logged out")
UPDATED = T("资料已更新", "Profile updated")
PHONE_BOUND = T("手机号已绑定", "Phone number bound")
RESET_SENT = T(
    "如果该邮箱已注册，我们已发送重置密码邮件", "If this email has an account, a password reset email is on its way"
)

LOGIN_THROTTLES = [AnonRateThrottle, UserRateThrottle, LoginIPThrottle, LoginAccountThrottle]
BODY_PARSERS = [StrictCamelCaseJSONParser, CamelCaseFormParser, CamelCaseMultiPartParser]


def client_context(request, data: dict) -> dict:
    """Who is logging in from where: the device the client names (or its User-Agent) and its IP."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return {"device": (data.pop("device", "") or user_agent)[:200], "ip": client_ip(request), "user_agent": user_agent}


def login_answer(result: services.LoginResult, message=LOGGED_IN, status: int = 200):
    tokens = result.tokens
    return ok(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
            "user": s.LoginUserOutput(result.user, context={"is_new_user": result.is_new_user}).data,
        },
        message=message,
        status=status,
    )


def parse(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class SendCodeApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=["auth"],
        summary="Send an SMS verification code",
        request=s.SendCodeInput,
        responses={200: s.SendCodeOutput},
        auth=[],
    )
    def post(self, request):
        data = parse(s.SendCodeInput, request)
        cooldown = services.sms_code_send(phone=data["phone"], purpose=data["purpose"], ip=client_ip(request))
        return ok({"cooldown": cooldown}, message=CODE_SENT)


class PhoneLoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = LOGIN_THROTTLES

    @extend_schema(tags=["auth"], summary="Log in (or sign up) with an SMS code", request=s.PhoneLoginInput,
                   responses={200: s.LoginOutput}, auth=[])  # fmt: skip
    def post(self, request):
        data = parse(s.PhoneLoginInput, request)
        result = services.phone_login(phone=data["phone"], code=data["code"], **client_context(request, data))
        return login_answer(result)


class WechatLoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = LOGIN_THROTTLES

    @extend_schema(tags=["auth"], summary="Log in (or sign up) with WeChat", request=s.WechatLoginInput,
                   description="Without WECHAT_APP_ID and with WECHAT_SANDBOX off: 50000 (not configured).",
                   responses={200: s.LoginOutput}, auth=[])  # fmt: skip
    def post(self, request):
        data = parse(s.WechatLoginInput, request)
        result = services.wechat_login(
            code=data["code"],
            nickname=data["nickname"],
            avatar_url=data["avatar_url"],
            **client_context(request, data),
        )
        return login_answer(result)


class RefreshTokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonRateThrottle, LoginIPThrottle]

    @extend_schema(tags=["auth"], summary="Rotate the refresh token", request=s.RefreshTokenInput,
                   responses={200: s.TokenBundleOutput}, auth=[])  # fmt: skip
    def post(self, request):
        data = parse(s.RefreshTokenInput, request)
        context = client_context(request, data)
        tokens = services.session_refresh(
            refresh_token=data["refresh_token"], device=context["device"], ip=context["ip"]
        )
        return ok(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_in": tokens.expires_in,
            },
            message=REFRESHED,
        )


class MeApi(APIView):
    parser_classes = BODY_PARSERS

    @extend_schema(tags=["user"], summary="The current user's profile", responses={200: s.UserProfileOutput})
    def get(self, request):
        return ok(s.UserProfileOutput(user_for_profile(user_id=request.user.pk)).data)

    @extend_schema(
        tags=["user"],
        summary="Update username, avatar (multipart) or settings",
        request={"application/json": s.ProfileUpdateInput, "multipart/form-data": s.ProfileUpdateInput},
        responses={200: s.UserProfileOutput},
    )
    def patch(self, request):
        avatar_refuse_declared_length(request.META.get("CONTENT_LENGTH"))  # before the body is read
        data = parse(s.ProfileUpdateInput, request)
        user_settings = data.get("settings") or {}
        user = services.user_update_profile(
            user=request.user,
            username=data.get("username"),
            avatar=data.get("avatar"),
            language=user_settings.get("language"),
            notifications=user_settings.get("notifications"),
        )
        return ok(s.UserProfileOutput(user).data, message=UPDATED)


class BindPhoneApi(APIView):
    @extend_schema(tags=["user"], summary="Bind a phone number (code purpose bind_phone)", request=s.BindPhoneInput,
                   responses={200: s.UserProfileOutput})  # fmt: skip
    def post(self, request):
        data = parse(s.BindPhoneInput, request)
        user = services.user_bind_phone(user=request.user, phone=data["phone"], code=data["code"])
        return ok(s.UserProfileOutput(user).data, message=PHONE_BOUND)


class LogoutApi(APIView):
    @extend_schema(tags=["user"], summary="Log out this device, or every device with revokeAll",
                   request=s.LogoutInput, responses={200: s.LogoutOutput})  # fmt: skip
    def post(self, request):
        data = parse(s.LogoutInput, request)
        if data["revoke_all"]:
            count = services.user_sessions_revoke_all(user=request.user)
        else:
            count = services.session_revoke(session_id=request.auth["sid"], user=request.user)
        if data.get("registration_id"):
            # The one call from accounts into notifications (like the profile reading membership): its API, on
            # logout, stops the pushes to the device the client names; accounts' models and services know nothing.
            from notifications.services import device_unregister

            device_unregister(user=request.user, registration_id=data["registration_id"])
        return ok({"revoked_sessions": count}, message=LOGGED_OUT)


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonRateThrottle, LoginIPThrottle]
    parser_classes = BODY_PARSERS

    @extend_schema(
        tags=["users (Photo Song)"],
        summary="Register with email and password (optional avatar, multipart)",
        request={"application/json": s.RegisterInput, "multipart/form-data": s.RegisterInput},
        responses={201: s.LoginOutput},
        auth=[],
    )
    def post(self, request):
        avatar_refuse_declared_length(request.META.get("CONTENT_LENGTH"))  # before the body is read
        data = parse(s.RegisterInput, request)
        context = client_context(request, data)
        result = services.email_register(
            username=data["username"],
            email=data["email"],
            password=data["password"],
            avatar=data.get("avatar"),
            **context,
        )
        return login_answer(result, message=REGISTERED, status=201)


class EmailLoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = LOGIN_THROTTLES

    @extend_schema(tags=["users (Photo Song)"], summary="Log in with email and password", request=s.LoginInput,
                   responses={200: s.LoginOutput}, auth=[])  # fmt: skip
    def post(self, request):
        data = parse(s.LoginInput, request)
        result = services.email_login(email=data["email"], password=data["password"], **client_context(request, data))
        return login_answer(result)


class PasswordResetRequestApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = LOGIN_THROTTLES

    @extend_schema(
        tags=["users (Photo Song)"],
        summary="Mail a password reset link (always answers success)",
        description=(
            "Answers the same success whether or not the email has an account. At most one mail per address per "
            "EMAIL_COOLDOWN_SECONDS and EMAIL_DAILY_LIMIT_PER_ADDRESS per day (case-insensitive, counted for "
            "unknown addresses too); requests over those limits also answer success and send nothing."
        ),
        request=s.PasswordResetRequestInput,
        responses={200: OpenApiResponse(description="always success, whether or not the email has an account")},
        auth=[],
    )
    def post(self, request):
        data = parse(s.PasswordResetRequestInput, request)
        services.password_reset_request(email=data["email"])
        return ok(None, message=RESET_SENT)
