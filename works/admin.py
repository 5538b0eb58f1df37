from django.contrib import admin
from django.db.models import Count

from . import services
from .models import Like, Tag, Work, WorkTag


class WorkTagInline(admin.TabularInline):
    model = WorkTag
    extra = 0
    raw_id_fields = ("tag",)


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ("title_or_id", "creator", "status", "visibility", "featured", "plays", "likes", "created_at")
    list_filter = (("generation__status", admin.ChoicesFieldListFilter), "visibility", "featured", "created_at")
    search_fields = ("title", "description", "creator__username", "creator__email", "creator__phone", "=id")
    list_select_related = ("creator", "generation")
    raw_id_fields = ("creator", "generation")
    readonly_fields = ("id", "plays", "likes", "processed_at", "created_at", "updated_at", "status")
    date_hierarchy = "created_at"
    inlines = [WorkTagInline]
    actions = ["hide", "unhide", "feature", "unfeature"]

    @admin.display(description="title", ordering="title")
    def title_or_id(self, work):
        return work.title or str(work.pk)

    @admin.display(description="status", ordering="generation__status")
    def status(self, work):
        return work.generation.get_status_display()

    def _moderate(self, request, queryset, message, **changes):
        count = services.works_moderate(work_ids=queryset.values_list("pk", flat=True), **changes)
        self.message_user(request, message.format(count=count))

    @admin.action(description="Hide (make private)")
    def hide(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) hidden", visibility=Work.Visibility.PRIVATE)

    @admin.action(description="Unhide (make public)")
    def unhide(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) public again", visibility=Work.Visibility.PUBLIC)

    @admin.action(description="Feature")
    def feature(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) featured", featured=True)

    @admin.action(description="Stop featuring")
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
class LikeAdmin(admin.ModelAdmin):
    """Read-only: the likes counter must match these rows, so staff do not edit them by hand."""

    list_display = ("user", "work", "created_at")
    list_select_related = ("user", "work")
    search_fields = ("user__username", "work__title", "=work__id")
    raw_id_fields = ("user", "work")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
