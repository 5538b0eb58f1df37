from django.contrib import admin

from .models import SandboxTrade


@admin.register(SandboxTrade)
class SandboxTradeAdmin(admin.ModelAdmin):
    """The payment sandbox's trades: read-only (the sandbox pay page is where they change)."""

    list_display = (
        "out_trade_no",
        "provider",
        "amount_fen",
        "status",
        "trade_type",
        "notify_acknowledged",
        "created_at",
    )
    list_filter = ("provider", "status", "trade_type", "notify_acknowledged", "created_at")
    search_fields = ("out_trade_no", "transaction_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
