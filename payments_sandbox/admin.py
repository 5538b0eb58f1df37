"""Staff console of the payment sandbox: its trades, read-only (the sandbox pay page is where they change). Only
there when the app is installed (PAYMENT_SANDBOX on)."""

from django.contrib import admin

from tunee.admin import ReadOnlyAdmin

from .models import SandboxTrade


@admin.register(SandboxTrade)
class SandboxTradeAdmin(ReadOnlyAdmin):
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
