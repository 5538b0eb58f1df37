"""Staff console for generations: find one, see how it went (timings, the provider's raw answers), retry a failed
one for free, fail and refund a stuck one, or refund what a completed one cost (with the reason typed beside the
action). Each action needs its own permission (`generation.retry_generation`, `fail_generation`,
`refund_generation`: the support role, accounts/roles.py), and the services check the same; the refunds give back the
quota or points a generation cost, not money. Favorites are read-only. The user page lists the last generations."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import Panel, user_panel
from tunee.admin import ReadOnlyAdmin, ReasonActionForm, reason_of
from tunee.api.errors import ApiError
from tunee.storage import signed_url

from . import selectors, services
from .models import Favorite, Generation

# The change page, written once: what staff may edit (the request), the rest read-only.
FIELDSETS = (
    (None, {"fields": ("id", "user", "source", "status", "priority", "charge", "charge_state")}),
    (
        _("Request"),
        {"fields": ("prompt", "style", "mood", "duration", "title", "tags", "negative_tags", "options", "device")},
    ),
    (_("Photo"), {"fields": ("image", "image_analysis")}),
    (
        _("Provider"),
        {"fields": ("provider", "provider_task_id", "attempts", "retries", "provider_response", "error_detail")},
    ),
    (
        _("Result"),
        {
            "fields": (
                "result_title",
                "result_duration",
                "audio",
                "audio_hq_link",
                "cover",
                "lyrics",
                "error_message",
                "error_message_en",
            )
        },
    ),
    (
        _("Timings"),
        {
            "fields": (
                "created_at",
                "queued_at",
                "started_at",
                "completed_at",
                "run_time",
                "updated_at",
                "locked_until",
                "next_check_at",
            )
        },
    ),
)
EDITABLE = ("prompt", "style", "mood", "duration", "title", "tags", "negative_tags", "options", "device", "image")
READONLY = tuple(name for _title, options in FIELDSETS for name in options["fields"] if name not in EDITABLE)


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "source",
        "status",
        "provider",
        "priority",
        "created_at",
        "started_at",
        "completed_at",
        "attempts",
        "retries",
    )
    list_filter = ("status", "provider", "source", "priority", "created_at")
    search_fields = ("id", "user__username", "user__phone", "user__email", "prompt", "provider_task_id")
    list_select_related = ("user",)
    raw_id_fields = ("user", "charge")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("retry_failed", "fail_and_refund", "refund_completed")
    action_form = ReasonActionForm
    fieldsets = FIELDSETS
    readonly_fields = READONLY

    def has_add_permission(self, request):
        return False  # generations are created (and charged) through the API only

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("generation.retry_generation")

    def has_fail_permission(self, request) -> bool:
        return request.user.has_perm("generation.fail_generation")

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("generation.refund_generation")

    @admin.display(description=_("audio hq"))
    def audio_hq_link(self, obj: Generation):
        """The members' file sits under private/: a signed link that expires (MEDIA_SIGNED_URL_TTL)."""
        url = signed_url(obj.audio_hq)
        return format_html('<a href="{}">{}</a>', url, obj.audio_hq.name.rsplit("/", 1)[-1]) if url else "-"

    @admin.display(description=_("run time"))
    def run_time(self, obj: Generation) -> str:
        if obj.started_at and obj.completed_at:
            return f"{(obj.completed_at - obj.started_at).total_seconds():.1f} s"
        return "-"

    @admin.display(description=_("charge"))
    def charge_state(self, obj: Generation) -> str:
        if obj.charge_id is None:
            return "not charged"
        charge = obj.charge
        what = f"{charge.points} points" if charge.kind == "points" else f"quota of {charge.day}"
        return f"{what}, refunded {charge.refunded_at:%Y-%m-%d %H:%M}" if charge.refunded_at else what

    @admin.action(
        description=_("Retry the selected failed generations (free: their charge stays refunded)"),
        permissions=["retry"],
    )
    def retry_failed(self, request, queryset):
        done = sum(services.generation_retry(generation=generation, actor=request.user) for generation in queryset)
        skipped = queryset.count() - done
        self.message_user(request, f"{done} generation(s) queued again; {skipped} skipped (not failed).")

    @admin.action(description=_("Fail and refund the selected pending/processing generations"), permissions=["fail"])
    def fail_and_refund(self, request, queryset):
        reason = reason_of(request)
        done = sum(
            services.generation_fail_by_staff(generation=generation, actor=request.user, reason=reason)
            for generation in queryset
        )
        skipped = queryset.count() - done
        level = messages.SUCCESS if done else messages.WARNING
        self.message_user(request, f"{done} generation(s) failed and refunded; {skipped} skipped (finished).", level)

    @admin.action(
        description=_("Refund what the selected completed generations cost (type the reason beside the action)"),
        permissions=["refund"],
    )
    def refund_completed(self, request, queryset):
        reason = reason_of(request)
        if not reason:
            self.message_user(request, _("Type the reason for the refund beside the action."), messages.ERROR)
            return
        done, refused = [], []
        for generation in queryset:
            try:
                services.generation_refund(generation=generation, actor=request.user, reason=reason)
                done.append(str(generation.pk))
            except ApiError as exc:
                refused.append(f"{generation.pk} ({exc.code.code}: {exc.details})")
        if done:
            self.message_user(request, f"{len(done)} generation(s) refunded: {', '.join(done)}", messages.SUCCESS)
        if refused:
            self.message_user(request, f"not refunded: {'; '.join(refused)}", messages.ERROR)


GENERATIONS_SHOWN = 5


@user_panel(_("Last generations"), permission="generation.view_generation", order=40)
def generations_panel(user) -> Panel:
    generations = selectors.generation_list(user=user).only(
        "id", "status", "source", "provider", "title", "result_title", "error_message", "created_at"
    )[:GENERATIONS_SHOWN]
    rows = [
        (
            format_html(
                '<a href="{}">{}</a>', reverse("admin:generation_generation_change", args=[g.pk]), str(g.pk)[:8]
            ),
            g.get_status_display(),
            g.get_source_display(),
            g.provider or "—",
            g.result_title or g.title or "—",
            g.error_message or "",
            g.created_at,
        )
        for g in generations
    ]
    columns = (_("id"), _("status"), _("source"), _("provider"), _("title"), _("error"), _("created"))
    return Panel(rows=rows, columns=columns, empty=_("no generations"))


@admin.register(Favorite)
class FavoriteAdmin(ReadOnlyAdmin):
    list_display = ("user", "generation", "created_at")
    list_select_related = ("user", "generation")
    search_fields = ("user__username", "user__phone", "generation__id")
    raw_id_fields = ("user", "generation")
    date_hierarchy = "created_at"
