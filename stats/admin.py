from django.contrib import admin

from .models import DailySnapshot


@admin.register(DailySnapshot)
class DailySnapshotAdmin(admin.ModelAdmin):
    """The stored snapshots, read-only: they are written by the beat job and `manage.py stats_snapshot`."""

    list_display = ("day", "active_users", "new_users", "works_created", "revenue_fen", "conversions", "computed_at")
    date_hierarchy = "day"
    ordering = ("-day",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
