"""The operations console for accounts: users (search by phone, email, username, openid), login sessions and SMS
codes (read-only). Actions are one-liners calling services.

Who may do what: each action needs `change_user`; what makes someone staff or gives them permissions (is_staff,
is_superuser, groups, user_permissions) and the groups themselves are for superusers only, and a non-superuser may
change only customer accounts and their own — never a superuser's or another staff member's (their password or
email would be a way into more permissions than the editor has)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.db.models import Q

from tunee.admin import ReadOnlyAdmin

from . import services
from .models import LoginSession, RefreshToken, User, VerificationCode
from .tokens import user_auth_forget

GRANTING_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def may_manage(actor: User, account: User) -> bool:
    """Superusers manage everyone; other staff manage customer accounts and their own."""
    return actor.is_superuser or account.pk == actor.pk or not (account.is_staff or account.is_superuser)


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

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if request.user.is_superuser else (*readonly, *GRANTING_FIELDS)

    def has_change_permission(self, request, obj=None):
        # Django's password-change view asks this too, so it covers a superuser's or a colleague's password.
        return super().has_change_permission(request, obj) and (obj is None or may_manage(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or may_manage(request.user, obj))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # is_active or language may have changed: authentication reads them again on the next request
        transaction.on_commit(lambda: user_auth_forget(obj.pk))

    @admin.display(description="phone", ordering="phone")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    def _manageable(self, request, queryset):
        """The selected accounts this staff member may act on (`may_manage`); the others are left alone."""
        if request.user.is_superuser:
            return queryset
        manageable = queryset.filter(Q(is_staff=False, is_superuser=False) | Q(pk=request.user.pk))
        if skipped := queryset.count() - manageable.count():
            self.message_user(request, f"{skipped} staff account(s) skipped: superusers only.", messages.WARNING)
        return manageable

    @admin.action(description="Disable the selected accounts (20003 on every request)", permissions=["change"])
    def disable_users(self, request, queryset):
        users = self._manageable(request, queryset)
        for user in users:
            services.user_disable(user=user)
        self.message_user(request, f"{users.count()} account(s) disabled.", messages.SUCCESS)

    @admin.action(description="Enable the selected accounts", permissions=["change"])
    def enable_users(self, request, queryset):
        users = self._manageable(request, queryset)
        for user in users:
            services.user_enable(user=user)
        self.message_user(request, f"{users.count()} account(s) enabled.", messages.SUCCESS)

    @admin.action(description="Log the selected accounts out everywhere", permissions=["change"])
    def revoke_sessions(self, request, queryset):
        users = self._manageable(request, queryset)
        total = sum(services.user_sessions_revoke_all(user=user, reason="staff") for user in users)
        self.message_user(request, f"{total} login session(s) revoked.", messages.SUCCESS)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Groups carry permissions, so only superusers make or change them (anyone else could put in a group
    permissions they do not have, then join it); staff with view_group see them."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


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
