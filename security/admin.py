"""The console of API security: app keys (the secret shown once, on creation) and the IP block / allow list.

Every change goes through security.services, which clears the caches at once (no restart needed to unblock)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .models import AppKey, IpRule


@admin.register(AppKey)
class AppKeyAdmin(admin.ModelAdmin):
    list_display = ("app", "key_id", "is_active", "note", "created_at", "disabled_at")
    list_filter = ("is_active", "app")
    search_fields = ("app", "key_id", "note")
    fields = ("app", "note", "key_id", "is_active", "created_at", "disabled_at")
    readonly_fields = ("key_id", "is_active", "created_at", "disabled_at")
    actions = ["disable_keys", "enable_keys"]

    def has_delete_permission(self, request, obj=None):
        return False  # disable instead: a key's history stays visible

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["app", "note"])
            return
        created = services.app_key_create(app=obj.app, note=obj.note)
        obj.pk, obj.key_id = created.key.pk, created.key.key_id
        self.message_user(
            request,
            f"App key {created.key.key_id} created. Its secret, shown only this once: {created.secret}",
            messages.WARNING,
        )

    @admin.action(
        description=_("Disable the selected keys (their signatures are refused at once)"), permissions=["change"]
    )
    def disable_keys(self, request, queryset):
        count = services.app_keys_disable(keys=list(queryset))
        self.message_user(request, f"{count} key(s) disabled.")

    @admin.action(description=_("Enable the selected keys again"), permissions=["change"])
    def enable_keys(self, request, queryset):
        count = services.app_keys_enable(keys=list(queryset))
        self.message_user(request, f"{count} key(s) enabled.")


@admin.register(IpRule)
class IpRuleAdmin(admin.ModelAdmin):
    list_display = ("network", "action", "note", "expires_at", "created_at")
    list_filter = ("action",)
    search_fields = ("network", "note")

    def save_model(self, request, obj, form, change):
        services.ip_rule_save(rule=obj)

    def delete_model(self, request, obj):
        services.ip_rules_delete(rules=[obj])

    def delete_queryset(self, request, queryset):
        services.ip_rules_delete(rules=list(queryset))
