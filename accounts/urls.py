"""API routes of this app, mounted under /api/ by tunee/urls.py."""

from django.urls import path

from . import apis

urlpatterns = [
    path("auth/send-code", apis.SendCodeApi.as_view(), name="auth-send-code"),
    path("auth/phone-login", apis.PhoneLoginApi.as_view(), name="auth-phone-login"),
    path("auth/wechat-login", apis.WechatLoginApi.as_view(), name="auth-wechat-login"),
    path("auth/refresh-token", apis.RefreshTokenApi.as_view(), name="auth-refresh-token"),
    path("user/me", apis.MeApi.as_view(), name="user-me"),
    path("user/bind-phone", apis.BindPhoneApi.as_view(), name="user-bind-phone"),
    path("user/logout", apis.LogoutApi.as_view(), name="user-logout"),
    path("users", apis.RegisterApi.as_view(), name="users-register"),
    path("login", apis.EmailLoginApi.as_view(), name="users-login"),
    path("requestPasswordReset", apis.PasswordResetRequestApi.as_view(), name="users-request-password-reset"),
]
