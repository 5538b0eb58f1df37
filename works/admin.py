from django.contrib import admin
from django.db.models import Count

from tunee.admin import ReadOnlyAdmin

from . import caching, services
from .models import Like, Tag, Work, WorkTag


class WorkTagInline(admin.TabularInline):
    model = WorkTag
    extra = 0
    raw_id_fields = ("tag",)


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = (
        "title_or_id",
        "creator",
        "status",
        "visibility",
        "hidden",
        "featured",
        "plays",
        "likes",
        "created_at",
    )
    list_filter = (
        ("generation__status", admin.ChoicesFieldListFilter),
        "visibility",
        "hidden",
        "featured",
        "created_at",
    )
    search_fields = ("title", "description", "creator__username", "creator__email", "creator__phone", "=id")
    list_select_related = ("creator", "generation")
    raw_id_fields = ("creator", "generation")
    # Moderation goes through the actions (they invalidate the cached feed and details), not the form; like the
    # form, they need `change_work`.
    readonly_fields = (
        "id",
        "plays",
        "likes",
        "hidden",
        "featured",
        "processed_at",
        "created_at",
        "updated_at",
        "status",
    )
    date_hierarchy = "created_at"
    inlines = [WorkTagInline]
    actions = ["hide", "unhide", "feature", "unfeature"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        caching.invalidate(form.instance.pk)  # an edit in the console shows in the feed and the detail at once

    def delete_model(self, request, obj):
        services.work_delete(work=obj)  # the photo and thumbnail leave the storage; an unstarted song is refunded

    def delete_queryset(self, request, queryset):
        for work in queryset:
            services.work_delete(work=work)

    @admin.display(description="title", ordering="title")
    def title_or_id(self, work):
        return work.title or str(work.pk)

    @admin.display(description="status", ordering="generation__status")
    def status(self, work):
        return work.generation.get_status_display()

    def _moderate(self, request, queryset, message, **changes):
        count = services.works_moderate(work_ids=queryset.values_list("pk", flat=True), **changes)
        self.message_user(request, message.format(count=count))

    @admin.action(
        description="Hide (out of the feed and the share page; the creator cannot undo it)", permissions=["change"]
    )
    def hide(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) hidden", hidden=True)

    @admin.action(description="Unhide (back to the creator's visibility)", permissions=["change"])
    def unhide(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) no longer hidden", hidden=False)

    @admin.action(description="Feature", permissions=["change"])
    def feature(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) featured", featured=True)

    @admin.action(description="Stop featuring", permissions=["change"])
    def unfeature(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) no longer featured", featured=False)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "work_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(work_count=Count("work_tags"))

    @admin.display(description="works", ordering="work_count")
    def work_count(self, tag):
        return tag.work_count


@admin.register(Like)
class LikeAdmin(ReadOnlyAdmin):
    """Read-only: the likes counter must match these rows, so staff do not edit them by hand."""

    list_display = ("user", "work", "created_at")
    list_select_related = ("user", "work")
    search_fields = ("user__username", "work__title", "=work__id")
    raw_id_fields = ("user", "work")
