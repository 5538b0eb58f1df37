"""The operations console for accounts: users (search by phone, email, username, openid), login sessions and SMS
codes (read-only). Actions are one-liners calling services.

Who may do what: disabling and enabling need `change_user`, logging out everywhere `revoke_sessions` (the roles in
accounts/roles.py; the services check the same permissions); what makes someone staff or gives them permissions
(is_staff, is_superuser, groups, user_permissions) and the groups themselves are for superusers only, and a
non-superuser may change only customer accounts and their own — never a superuser's or another staff member's
(their password or email would be a way into more permissions than the editor has).

A user's page opens with a summary (`user_panel`): membership, today's quota and points, the last orders and
generations, sessions. accounts knows none of those apps: each registers its own panel from its admin module (the
higher app calls the lower, as everywhere), and each panel is a bounded number of queries through its selectors.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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


# --- the user page's summary panels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """What one panel shows: label/value rows (`columns` empty), or a table with these column headings."""

    rows: list = field(default_factory=list)
    columns: tuple = ()
    empty: str = "—"


@dataclass(frozen=True)
class UserPanel:
    title: str
    build: Callable[[User], Panel]
    permission: str | None  # the viewer needs it to see the panel (None: anyone who may see the user)
    order: int


USER_PANELS: list[UserPanel] = []


def user_panel(title, *, permission: str | None = None, order: int = 100):
    """Register `build(user) -> Panel` as a panel of the user page (from the admin module of the app it reads)."""

    def register(build):
        key = f"{build.__module__}.{build.__qualname__}"
        others = [panel for panel in USER_PANELS if f"{panel.build.__module__}.{panel.build.__qualname__}" != key]
        USER_PANELS[:] = sorted([*others, UserPanel(title, build, permission, order)], key=lambda panel: panel.order)
        return build

    return register


def user_panels(request, user: User) -> list[dict]:
    """The panels `request.user` may see, built for `user`."""
    shown = []
    for panel in USER_PANELS:
        if panel.permission is None or request.user.has_perm(panel.permission):
            content = panel.build(user)
            shown.append(
                {"title": panel.title, "rows": content.rows, "columns": content.columns, "empty": content.empty}
            )
    return shown


SESSIONS_SHOWN = 5


@user_panel(_("Sessions"), permission="accounts.view_loginsession", order=60)
def sessions_panel(user: User) -> Panel:
    sessions = list(LoginSession.objects.filter(user=user).order_by("-created_at")[:SESSIONS_SHOWN])
    rows = [
        (
            s.get_method_display(),
            s.device or "—",
            s.created_ip or "—",
            s.created_at,
            s.last_refreshed_at or "—",
            s.revoked_at or _("active"),
        )
        for s in sessions
    ]
    columns = (_("method"), _("device"), _("IP"), _("started"), _("last refreshed"), _("revoked"))
    return Panel(rows=rows, columns=columns, empty=_("no login sessions"))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "masked_phone", "email", "email_verified", "wechat_nickname", "status", "created_at")
    list_filter = ("status", "email_verified", "is_staff", "language")
    search_fields = ("username", "email", "phone", "wechat_openid", "wechat_unionid")
    ordering = ("-created_at",)
    readonly_fields = ("created_at", "updated_at", "last_login", "date_joined", "status")
    fieldsets = (
        (None, {"fields": ("username", "password", "status")}),
        (_("Contact"), {"fields": ("email", "email_verified", "phone", "avatar")}),
        (_("WeChat"), {"fields": ("wechat_openid", "wechat_unionid", "wechat_nickname", "wechat_avatar_url")}),
        (_("Settings"), {"fields": ("language", "notifications")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    actions = ["disable_users", "enable_users", "revoke_sessions"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    change_form_template = "admin/accounts/user/summary_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, admin.utils.unquote(object_id))
        panels = user_panels(request, user) if user is not None else []
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "user_panels": panels})

    def has_revoke_sessions_permission(self, request) -> bool:
        return request.user.has_perm("accounts.revoke_sessions")

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

    @admin.display(description=_("phone"), ordering="phone")
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

    @admin.action(description=_("Disable the selected accounts (20003 on every request)"), permissions=["change"])
    def disable_users(self, request, queryset):
        users = self._manageable(request, queryset)
        for user in users:
            services.user_disable(user=user, actor=request.user)
        self.message_user(request, f"{users.count()} account(s) disabled.", messages.SUCCESS)

    @admin.action(description=_("Enable the selected accounts"), permissions=["change"])
    def enable_users(self, request, queryset):
        users = self._manageable(request, queryset)
        for user in users:
            services.user_enable(user=user, actor=request.user)
        self.message_user(request, f"{users.count()} account(s) enabled.", messages.SUCCESS)

    @admin.action(description=_("Log the selected accounts out everywhere"), permissions=["revoke_sessions"])
    def revoke_sessions(self, request, queryset):
        users = self._manageable(request, queryset)
        total = sum(services.user_sessions_revoke_by_staff(user=user, actor=request.user) for user in users)
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

    @admin.display(description=_("phone"), ordering="phone")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)
