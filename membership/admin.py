"""Staff console for entitlements: the catalog (editable), membership state, usage, ledgers (read-only), and the
staff controls — each adjustment is made through a service and recorded with who, when and why.

Support's way in: Entitlements › Staff adjustments › "Add" picks a user and an action (custom daily limit, extra
generations today, reset today's usage, grant or revoke membership, adjust points) with a reason; the admin hands
it to `services.staff_adjust`, as the `manage.py` commands do. It needs `membership.add_staffadjustment` (the
support role), and so do the services. The user page shows the user's entitlements and last points entries.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin import Panel, user_panel
from tunee.admin import ReadOnlyAdmin
from tunee.api.errors import ApiError

from . import selectors, services
from .models import (
    Charge,
    ChargeRefund,
    DailyUsage,
    Membership,
    MembershipEvent,
    Plan,
    PointPackage,
    PointsAccount,
    PointsEntry,
    StaffAdjustment,
)


class CatalogAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(services.catalog_changed)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(services.catalog_changed)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(services.catalog_changed)


@admin.register(Plan)
class PlanAdmin(CatalogAdmin):
    list_display = ("type", "name", "price_fen", "duration_days", "daily_limit", "rank", "is_active")
    list_editable = ("daily_limit", "is_active")
    ordering = ("rank",)


@admin.register(PointPackage)
class PointPackageAdmin(CatalogAdmin):
    list_display = ("name", "points", "price_fen", "sort_order", "is_active", "id")
    list_editable = ("sort_order", "is_active")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "level", "started_at", "expires_at", "custom_daily_limit", "updated_at")
    list_filter = ("level",)
    search_fields = ("user__username", "user__email", "user__phone")
    list_select_related = ("user",)
    date_hierarchy = "expires_at"


@admin.register(MembershipEvent)
class MembershipEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "plan", "days", "source", "actor", "expires_after")
    list_filter = ("kind", "plan")
    search_fields = ("user__username", "user__email", "user__phone", "source")
    list_select_related = ("user", "plan", "actor")


@admin.register(DailyUsage)
class DailyUsageAdmin(ReadOnlyAdmin):
    list_display = ("day", "user", "used", "extra")
    search_fields = ("user__username", "user__email", "user__phone")
    list_select_related = ("user",)
    date_hierarchy = "day"


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "balance", "updated_at")
    search_fields = ("user__username", "user__email", "user__phone")
    list_select_related = ("user",)


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "amount", "reason", "balance", "reference", "actor", "note")
    list_filter = ("reason",)
    search_fields = ("user__username", "user__email", "user__phone", "reference")
    list_select_related = ("user", "actor")


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "day", "points", "reference", "refunded_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__email", "reference")
    list_select_related = ("user",)


@admin.register(ChargeRefund)
class ChargeRefundAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "charge")
    raw_id_fields = ("charge",)


class StaffAdjustmentForm(forms.ModelForm):
    """One form for every staff control (services.STAFF_ADJUSTMENTS); the fields an action does not use are
    ignored."""

    action = forms.ChoiceField(
        choices=[(action.value, action.label) for action in services.STAFF_ADJUSTMENTS],
        label=_("Action"),
    )

    limit = forms.IntegerField(
        required=False,
        min_value=0,
        help_text=_("Custom daily limit: a number, or empty to go back to the plan's limit."),
    )
    count = forms.IntegerField(required=False, min_value=1, help_text=_("Extra generations for today."))
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.exclude(type=Plan.Type.FREE),
        required=False,
        help_text=_("Grant membership: the plan (its full duration unless days are given)."),
    )
    days = forms.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Grant membership: number of days. Revoke membership: days taken back (empty: all that is left)."),
    )
    amount = forms.IntegerField(
        required=False, help_text=_("Adjust points: positive adds, negative takes (never below zero).")
    )

    class Meta:
        model = StaffAdjustment
        fields = ("user", "action", "reason")

    def clean(self):
        data = super().clean()
        action = data.get("action")
        needed = {
            StaffAdjustment.Action.GRANT_EXTRA: "count",
            StaffAdjustment.Action.ADJUST_POINTS: "amount",
        }.get(action)
        if needed and data.get(needed) in (None, 0):
            self.add_error(needed, "Required for this action.")
        if action == StaffAdjustment.Action.GRANT_MEMBERSHIP and not (data.get("plan") or data.get("days")):
            self.add_error("plan", "Choose a plan or a number of days.")
        return data


@admin.register(StaffAdjustment)
class StaffAdjustmentAdmin(admin.ModelAdmin):
    form = StaffAdjustmentForm
    list_display = ("created_at", "user", "action", "payload", "reason", "actor")
    list_filter = ("action",)
    search_fields = ("user__username", "user__email", "user__phone", "reason")
    list_select_related = ("user", "actor")
    autocomplete_fields = ("user",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return ("user", "action", "limit", "count", "plan", "days", "amount", "reason")

    def save_model(self, request, obj, form, change):
        """Adjustments are made by the services (which write this record themselves), never saved directly."""
        data = dict(form.cleaned_data)
        user = data.pop("user")
        try:
            record = services.staff_adjust(
                action=data.pop("action"), user=user, actor=request.user, reason=data.pop("reason"), **data
            )
        except ApiError as exc:
            self.message_user(request, f"Not done: {exc.message} {exc.details or ''}", messages.ERROR)
            obj.pk = None
            return
        obj.pk = record.pk
        self.message_user(request, f"Done: {record.get_action_display()} for {user}.", messages.SUCCESS)

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(reverse("admin:membership_staffadjustment_changelist"))


# --- the user page (accounts/admin.py) ----------------------------------------------------------------------------


@user_panel(_("Membership, quota today, points"), permission="membership.view_membership", order=10)
def entitlements_panel(user) -> Panel:
    status = selectors.quota_status(user=user)  # one query
    membership = status.membership
    return Panel(
        rows=[
            (_("level"), membership.level),
            (_("member until"), membership.expires_at or "—"),
            (
                _("personal daily limit"),
                "—" if membership.custom_daily_limit is None else membership.custom_daily_limit,
            ),
            (_("today (business day)"), status.day),
            (_("used today / limit"), f"{status.used} / {status.daily_limit}"),
            (_("left today"), status.remaining),
            (_("points"), status.points),
        ]
    )


POINTS_ENTRIES_SHOWN = 5


@user_panel(_("Last points entries"), permission="membership.view_pointsentry", order=20)
def points_panel(user) -> Panel:
    entries = selectors.points_history(user=user)[:POINTS_ENTRIES_SHOWN]
    return Panel(
        rows=[(entry.created_at, f"{entry.amount:+d}", entry.get_reason_display(), entry.balance) for entry in entries],
        columns=(_("when"), _("amount"), _("reason"), _("balance after")),
        empty=_("no points entries"),
    )
