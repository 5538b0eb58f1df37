"""Admin building blocks every app's console shares (no domain here)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _


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


class ReasonActionForm(ActionForm):
    """The changelist's action bar with a "reason" box, for actions that record why (`reason_of`)."""

    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=255, widget=forms.TextInput(attrs={"size": 40})
    )


def reason_of(request) -> str:
    """The reason typed beside the action ("" when none)."""
    return (request.POST.get("reason") or "").strip()[:255]
