"""Staff console for payments: orders (query-and-sync, close and refund actions, each calling a service), and the
order events and raw notifications, read-only. Asking the provider and closing need `payments.change_order`,
refunds the dedicated `payments.refund` permission (the finance role, accounts/roles.py; superusers have both), and
the services check the same. The user page lists the user's last orders."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import Panel, user_panel
from tunee.admin import ReadOnlyAdmin, ReadOnlyMixin
from tunee.api.errors import ApiError

from . import selectors, services
from .models import Order, OrderEvent, OrderGrant, PaymentNotification


class OrderEventInline(ReadOnlyMixin, admin.TabularInline):
    model = OrderEvent
    fields = ("created_at", "kind", "source", "actor", "data")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")


class GrantInline(ReadOnlyMixin, admin.StackedInline):
    model = OrderGrant
    fields = ("days", "points", "membership_event", "points_entry", "created_at", "revoked_at", "revoked_points")
    readonly_fields = fields
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "order_no",
        "user",
        "kind",
        "item",
        "amount_yuan",
        "payment_method",
        "device",
        "status",
        "paid_after_close",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "kind", "payment_method", "device", "paid_after_close", "created_at")
    search_fields = ("order_no", "transaction_id", "user__username", "user__phone", "user__email")
    list_select_related = ("user", "plan", "package")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    readonly_fields = [field.name for field in Order._meta.fields]
    inlines = [GrantInline, OrderEventInline]
    actions = ["query_and_sync", "close_orders", "refund_orders", "refund_orders_taking_back_points_left"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("payments.refund")

    @admin.display(description=_("item"))
    def item(self, order: Order) -> str:
        return str(order.plan or order.package)

    def _each(self, request, queryset, verb: str, call) -> None:
        done, failed = [], []
        for order in queryset:
            try:
                call(order)
                done.append(order.order_no)
            except ApiError as exc:
                failed.append(f"{order.order_no} ({exc.code.code}: {exc.message}; {exc.details})")
        if done:
            self.message_user(request, f"{verb}: {', '.join(done)}", messages.SUCCESS)
        if failed:
            self.message_user(request, f"not {verb}: {'; '.join(failed)}", messages.ERROR)

    @admin.action(description=_("Ask the provider and settle if paid"), permissions=["change"])
    def query_and_sync(self, request, queryset):
        self._each(
            request, queryset, "synced", lambda order: services.order_sync_by_staff(order=order, actor=request.user)
        )

    @admin.action(description=_("Close (at the provider too)"), permissions=["change"])
    def close_orders(self, request, queryset):
        self._each(
            request,
            queryset,
            "closed",
            lambda order: services.order_close_by_staff(order=order, actor=request.user),
        )

    @admin.action(description=_("Refund (refused when the user already spent the points)"), permissions=["refund"])
    def refund_orders(self, request, queryset):
        self._each(
            request,
            queryset,
            "refunded",
            lambda order: services.order_refund(order=order, actor=request.user, reason="refunded by staff"),
        )

    @admin.action(description=_("Refund, taking back only the points left"), permissions=["refund"])
    def refund_orders_taking_back_points_left(self, request, queryset):
        self._each(
            request,
            queryset,
            "refunded",
            lambda order: services.order_refund(
                order=order, actor=request.user, reason="refunded by staff", take_back_available_points=True
            ),
        )


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "order", "kind", "source", "actor")
    list_filter = ("kind", "source", "created_at")
    search_fields = ("order__order_no",)
    list_select_related = ("order", "actor")
    raw_id_fields = ("order", "actor")


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "provider", "order_no", "verified", "outcome", "reason", "remote_addr")
    list_filter = ("provider", "verified", "outcome", "received_at")
    search_fields = ("order_no", "transaction_id")
    list_select_related = ("order",)
    raw_id_fields = ("order",)
    date_hierarchy = "received_at"


ORDERS_SHOWN = 5


@user_panel(_("Last orders"), permission="payments.view_order", order=30)
def orders_panel(user) -> Panel:
    orders = selectors.orders_for_user(user=user).select_related("package")[:ORDERS_SHOWN]
    rows = [
        (
            format_html('<a href="{}">{}</a>', reverse("admin:payments_order_change", args=[order.pk]), order.order_no),
            str(order.plan or order.package),
            f"¥{order.amount_yuan}",
            order.get_payment_method_display(),
            order.get_status_display(),
            order.created_at,
            order.paid_at or "—",
        )
        for order in orders
    ]
    columns = (_("order"), _("item"), _("amount"), _("method"), _("status"), _("created"), _("paid"))
    return Panel(rows=rows, columns=columns, empty=_("no orders"))
