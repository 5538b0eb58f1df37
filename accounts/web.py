"""The pages the account mails link to: confirm an email address, set a new password (single-use link).

Plain Django views (CSRF-protected forms), rendered with templates/accounts/. Texts follow the request's
language (Accept-Language), Chinese by default.
"""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tunee.api.errors import ApiError
from tunee.api.i18n import T, is_english

from . import services

TEXT = {
    "verify_title": T("验证邮箱", "Verify your email"),
    "verify_intro": T("确认 {email} 是你的邮箱。", "Confirm that {email} is your email address."),
    "verify_button": T("确认验证", "Verify email"),
    "verify_done": T("邮箱已验证，现在可以返回 App 了。", "Your email is verified. You can go back to the app."),
    "verify_invalid": T("验证链接无效或已过期。", "This verification link is invalid or has expired."),
    "reset_title": T("设置新密码", "Set a new password"),
    "reset_password": T("新密码", "New password"),
    "reset_confirm": T("再次输入新密码", "Repeat the new password"),
    "reset_button": T("保存新密码", "Save the new password"),
    "reset_mismatch": T("两次输入的密码不一致。", "The two passwords differ."),
    "reset_done": T(
        "密码已更新，所有设备都已退出登录。请用新密码重新登录。",
        "Your password is changed and every device is logged out. Log in again with the new password.",
    ),
    "reset_invalid": T(
        "重置链接无效、已过期或已经使用过。请重新申请。",
        "This reset link is invalid, expired or already used. Ask for a new one.",
    ),
}


def _texts(**kwargs) -> dict:
    return {key: value.format(**kwargs) if "{" in str(value) else str(value) for key, value in TEXT.items()}


def _page(request, template: str, status: int = 200, **context):
    context.setdefault("t", _texts(email=context.get("email", "")))
    context["lang"] = "en" if is_english() else "zh-CN"
    return render(request, template, context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def verify_email(request, token: str):
    try:
        user = services.email_verification_check(token=token)
    except ApiError:
        return _page(request, "accounts/verify_email.html", status=400, state="invalid")
    if request.method == "POST" or user.email_verified:
        services.email_verify(token=token)
        return _page(request, "accounts/verify_email.html", state="done", email=user.email)
    return _page(request, "accounts/verify_email.html", state="confirm", email=user.email)


@never_cache
@require_http_methods(["GET", "POST"])
def reset_password(request, uidb64: str, token: str):
    user = services.password_reset_user(uidb64=uidb64, token=token)
    if user is None:
        return _page(request, "accounts/reset_password.html", status=400, state="invalid")
    errors: list[str] = []
    if request.method == "POST":
        password = request.POST.get("password", "")
        if password != request.POST.get("password_confirm", ""):
            errors = [str(TEXT["reset_mismatch"])]
        else:
            try:
                services.password_reset_confirm(uidb64=uidb64, token=token, password=password)
            except ApiError as exc:
                details = exc.details or {}
                errors = list(details.get("password") or [str(exc.message)])
            else:
                return _page(request, "accounts/reset_password.html", state="done")
    return _page(request, "accounts/reset_password.html", state="form", errors=errors, username=user.username)
