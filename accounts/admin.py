"""The operations console for accounts: users (search by phone, email, username, openid), login sessions and SMS
codes (read-only). Actions are one-liners calling services."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models

from tunee.admin import ReadOnlyAdmin

from . import services
from .models import LoginSession, RefreshToken, User, VerificationCode


def mask_phone(phone: str | None) -> str:
    if not phone:
        return "—"
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "masked_phone", "email", "email_verified", "wechat_nickname", "status", "created_at")
    list_filter = ("status", "email_verified", "is_staff", "language")
    search_fields = ("username", "email", "phone", "wechat_openid", "wechat_unionid")
    ordering = ("-created_at",)
    readonly_fields = ("created_at", "updated_at", "last_login", "date_joined", "status")
    fieldsets = (
        (None, {"fields": ("username", "password", "status")}),
        ("Contact", {"fields": ("email", "email_verified", "phone", "avatar")}),
        ("WeChat", {"fields": ("wechat_openid", "wechat_unionid", "wechat_nickname", "wechat_avatar_url")}),
        ("Settings", {"fields": ("language", "notifications")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    actions = ["disable_users", "enable_users", "revoke_sessions"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="phone", ordering="phone")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.action(description="Disable the selected accounts (20003 on every request)")
    def disable_users(self, request, queryset):
        for user in queryset:
            services.user_disable(user=user)
        self.message_user(request, f"{queryset.count()} account(s) disabled.", messages.SUCCESS)

    @admin.action(description="Enable the selected accounts")
    def enable_users(self, request, queryset):
        for user in queryset:
            services.user_enable(user=user)
        self.message_user(request, f"{queryset.count()} account(s) enabled.", messages.SUCCESS)

    @admin.action(description="Log the selected accounts out everywhere")
    def revoke_sessions(self, request, queryset):
        total = sum(services.user_sessions_revoke_all(user=user, reason="staff") for user in queryset)
        self.message_user(request, f"{total} login session(s) revoked.", messages.SUCCESS)


class RefreshTokenInline(admin.TabularInline):
    model = RefreshToken
    fields = ("created_at", "expires_at", "rotated_at", "device", "ip")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "method", "device", "created_ip", "created_at", "last_refreshed_at", "revoked_at")
    list_filter = ("method", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__email", "user__phone", "id")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    inlines = [RefreshTokenInline]


@admin.register(VerificationCode)
class VerificationCodeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "masked_phone",
        "purpose",
        "ip",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
        "delivery",
    )
    list_filter = ("purpose", "delivery")
    search_fields = ("phone", "ip")
    exclude = ("code_hash",)

    @admin.display(description="phone", ordering="phone")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)
