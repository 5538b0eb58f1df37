"""Moderation in the staff console: the word list (editable; every change rebuilds the matchers), the verdict log
and the reports (read-only). The queue of works to review is Works › Moderation queue (works/admin.py)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tunee.admin import ReadOnlyAdmin

from . import services
from .models import MediaCheck, Report, Verdict, Word


@admin.register(Word)
class WordAdmin(admin.ModelAdmin):
    list_display = ("word", "label", "outcome", "active", "updated_at")
    list_filter = ("label", "outcome", "active")
    list_editable = ("active",)
    search_fields = ("word", "normalized")
    readonly_fields = ("normalized", "created_at", "updated_at")
    actions = ["deactivate"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.word_list_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.word_list_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.word_list_changed()

    @admin.action(description=_("Deactivate (keep the entry, stop matching it)"), permissions=["change"])
    def deactivate(self, request, queryset):
        count = queryset.update(active=False)
        services.word_list_changed()
        self.message_user(request, f"{count} word(s) deactivated")


@admin.register(Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "source", "field", "outcome", "label", "provider", "subject", "subject_id", "user")
    list_filter = ("outcome", "source", "provider", "field", "created_at")
    search_fields = ("=subject_id", "=trace_id", "label", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


@admin.register(MediaCheck)
class MediaCheckAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "subject", "subject_id", "field", "status", "outcome", "label", "trace_id")
    list_filter = ("status", "outcome", "subject")
    search_fields = ("=subject_id", "=trace_id")


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "subject", "subject_id", "reason", "user", "resolved_at")
    list_filter = ("reason", "subject", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("=subject_id", "user__username")
    list_select_related = ("user",)
