"""Staff console for notifications: what was sent about which generation and why not (read-only), the users'
WeChat subscriptions (read-only) and app devices (staff may remove a device)."""

from django.contrib import admin

from tunee.admin import ReadOnlyAdmin

from .models import Delivery, Device, Subscription


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("generation_id", "user", "channel", "outcome", "status", "attempts", "created_at", "sent_at")
    list_filter = ("channel", "outcome", "status", "source", "created_at")
    search_fields = ("generation_id", "user__username", "user__phone", "detail")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("user", "template_id", "created_at", "used_at")
    list_filter = ("template_id", "created_at")
    search_fields = ("user__username", "user__phone", "template_id")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("registration_id", "platform", "user", "created_at", "updated_at")
    list_filter = ("platform",)
    search_fields = ("registration_id", "user__username", "user__phone")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("user", "platform", "registration_id", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False
