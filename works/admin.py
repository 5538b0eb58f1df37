"""Staff console for works: the works (their text editable with `change_work`; creator and song never), tags
(stored normalised, as the services store them), likes (read-only) and the moderation queue. Hiding, unhiding and
the queue's decisions need `works.moderate_work` (the support role, accounts/roles.py), featuring `change_work`;
the services check the same."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from generation.models import TAG_LENGTH
from moderation import selectors as moderation_selectors
from tunee.admin import ReadOnlyAdmin

from . import caching, services
from .models import Like, Tag, Work, WorkInReview, WorkTag
from .selectors import normalize_tag


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
        "moderation",
        "featured",
        "created_at",
    )
    search_fields = ("title", "description", "creator__username", "creator__email", "creator__phone", "=id")
    list_select_related = ("creator", "generation")
    # Moderation goes through the actions (they invalidate the cached feed and details), not the form. Who made a
    # work and which song it is are facts, never edited.
    readonly_fields = (
        "id",
        "creator",
        "generation",
        "plays",
        "likes",
        "hidden",
        "featured",
        "moderation",
        "moderation_label",
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

    @admin.display(description=_("title"), ordering="title")
    def title_or_id(self, work):
        return work.title or str(work.pk)

    @admin.display(description=_("status"), ordering="generation__status")
    def status(self, work):
        return work.generation.get_status_display()

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("works.moderate_work")

    def _moderate(self, request, queryset, message, **changes):
        count = services.works_moderate(work_ids=queryset.values_list("pk", flat=True), actor=request.user, **changes)
        self.message_user(request, message.format(count=count))

    @admin.action(
        description=_("Hide (out of the feed and the share page; the creator cannot undo it)"), permissions=["moderate"]
    )
    def hide(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) hidden", hidden=True)

    @admin.action(description=_("Unhide (back to the creator's visibility)"), permissions=["moderate"])
    def unhide(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) no longer hidden", hidden=False)

    @admin.action(description=_("Feature"), permissions=["change"])
    def feature(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) featured", featured=True)

    @admin.action(description=_("Stop featuring"), permissions=["change"])
    def unfeature(self, request, queryset):
        self._moderate(request, queryset, "{count} work(s) no longer featured", featured=False)


class TagForm(forms.ModelForm):
    """A tag typed in the console is stored as the services store tags (`normalize_tag`: trimmed, single spaces,
    lower case, at most TAG_LENGTH characters), so "  Summer  Sea" becomes "summer sea" and matches the same
    works; a name that normalises to one already there is refused by the unique check."""

    class Meta:
        model = Tag
        fields = ("name",)

    def clean_name(self):
        name = normalize_tag(self.cleaned_data.get("name") or "")
        if not name:
            raise forms.ValidationError(_("A tag cannot be blank."))
        if len(name) > TAG_LENGTH:
            raise forms.ValidationError(_("At most %(limit)d characters.") % {"limit": TAG_LENGTH})
        return name


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagForm
    list_display = ("name", "work_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(work_count=Count("work_tags"))

    @admin.display(description=_("works"), ordering="work_count")
    def work_count(self, tag):
        return tag.work_count


@admin.register(Like)
class LikeAdmin(ReadOnlyAdmin):
    """Read-only: the likes counter must match these rows, so staff do not edit them by hand."""

    list_display = ("user", "work", "created_at")
    list_select_related = ("user", "work")
    search_fields = ("user__username", "work__title", "=work__id")
    raw_id_fields = ("user", "work")


@admin.register(WorkInReview)
class ModerationQueueAdmin(admin.ModelAdmin):
    """Works under review (or awaiting a media verdict) and works with open reports, newest first. Staff with
    `works.view_work` see the queue; approving and hiding need `works.moderate_work`."""

    list_display = (
        "photo",
        "title_or_id",
        "text",
        "moderation",
        "moderation_label",
        "report_count",
        "reasons",
        "creator",
        "created_at",
    )
    list_display_links = ("title_or_id",)
    list_filter = ("moderation", "hidden", "created_at")
    search_fields = ("title", "description", "creator__username", "=id")
    list_select_related = ("creator", "generation")
    ordering = ("-created_at",)
    actions = ["approve", "hide", "hide_and_disable_user"]
    fields = (
        "photo_large",
        "title",
        "description",
        "style",
        "tag_names",
        "moderation",
        "moderation_label",
        "hidden",
        "creator",
        "created_at",
        "reports",
        "verdicts",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        reported = moderation_selectors.open_report_subject_ids(subject="work")
        return (
            super()
            .get_queryset(request)
            .filter(Q(moderation__in=[Work.Moderation.REVIEW, Work.Moderation.PENDING]) | Q(pk__in=reported))
            .prefetch_related("work_tags__tag")
        )

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("works.view_work") or request.user.has_perm("works.change_work")

    def has_moderate_permission(self, request):
        return request.user.has_perm("works.moderate_work")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("photo"))
    def photo(self, work):
        image = work.thumbnail or work.image
        return format_html('<img src="{}" alt="photo" class="queue-photo" style="max-height:80px">', image.url)

    @admin.display(description=_("photo"))
    def photo_large(self, work):
        return format_html('<img src="{}" alt="photo" style="max-width:480px">', work.image.url)

    @admin.display(description=_("title"), ordering="title")
    def title_or_id(self, work):
        return work.title or str(work.pk)

    @admin.display(description=_("text"))
    def text(self, work):
        tags = ", ".join(link.tag.name for link in work.work_tags.all())
        return format_html("{}<br><small>{}</small>", work.description[:200], tags)

    @admin.display(description=_("tags"))
    def tag_names(self, work):
        return ", ".join(link.tag.name for link in work.work_tags.all())

    def _reasons(self, work) -> dict:
        return moderation_selectors.report_reasons(subject="work", subject_ids=[work.pk]).get(str(work.pk), {})

    @admin.display(description=_("open reports"))
    def report_count(self, work):
        return sum(self._reasons(work).values())

    @admin.display(description=_("reasons"))
    def reasons(self, work):
        return ", ".join(f"{reason} ×{count}" for reason, count in sorted(self._reasons(work).items()))

    @admin.display(description=_("reports"))
    def reports(self, work):
        rows = moderation_selectors.reports_of(subject="work", subject_id=work.pk)
        return "; ".join(
            f"{row.created_at:%Y-%m-%d %H:%M} {row.user.username}: {row.reason}{' (closed)' if row.resolved_at else ''}"
            for row in rows
        )

    @admin.display(description=_("verdicts"))
    def verdicts(self, work):
        rows = moderation_selectors.verdicts_of(subject="work", subject_id=work.pk)
        rows += moderation_selectors.verdicts_of(subject="generation", subject_id=work.generation_id)  # the song
        return "; ".join(f"{row.source}.{row.field}: {row.outcome} {row.label} ({row.provider})" for row in rows)

    def _decide(self, request, queryset, message, **kwargs):
        count = services.works_review_decide(
            work_ids=list(queryset.values_list("pk", flat=True)), actor=request.user, **kwargs
        )
        self.message_user(request, message.format(count=count))

    @admin.action(description=_("Approve (back to the feed and the share page)"), permissions=["moderate"])
    def approve(self, request, queryset):
        self._decide(request, queryset, "{count} work(s) approved", approve=True)

    @admin.action(description=_("Hide (rejected: out of the feed and the share page)"), permissions=["moderate"])
    def hide(self, request, queryset):
        self._decide(request, queryset, "{count} work(s) hidden", approve=False)

    @admin.action(description=_("Hide and disable the creator"), permissions=["moderate"])
    def hide_and_disable_user(self, request, queryset):
        self._decide(
            request, queryset, "{count} work(s) hidden, their creators disabled", approve=False, disable_creators=True
        )
