"""Admin building blocks every app's console shares (no domain here)."""

from django.contrib import admin


class ReadOnlyMixin:
    """Logs, ledgers and records that only services write: staff see them, nobody edits them by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass
