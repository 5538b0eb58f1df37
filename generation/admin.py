"""Staff console for generations: find one, see how it went (timings, the provider's raw answers), retry a failed
one for free, or fail and refund a stuck one (both actions need `change_generation`: the refund gives back the quota or
points the generation cost, not money). Favorites are read-only."""

from django.contrib import admin, messages
from django.utils.html import format_html

from tunee.admin import ReadOnlyAdmin
from tunee.api.i18n import T
from tunee.storage import signed_url

from . import services
from .models import Favorite, Generation

FAILED_BY_STAFF = T("生成已被取消，本次消耗已退还", "The generation was cancelled; what it cost has been refunded")


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
    actions = ("retry_failed", "fail_and_refund")
    readonly_fields = (
        "id",
        "user",
        "source",
        "status",
        "priority",
        "charge",
        "charge_state",
        "provider",
        "provider_task_id",
        "provider_response",
        "image_analysis",
        "attempts",
        "retries",
        "error_message",
        "error_message_en",
        "error_detail",
        "result_title",
        "result_duration",
        "audio",
        "audio_hq_link",
        "cover",
        "lyrics",
        "created_at",
        "queued_at",
        "started_at",
        "completed_at",
        "updated_at",
        "locked_until",
        "next_check_at",
        "run_time",
    )
    fieldsets = (
        (None, {"fields": ("id", "user", "source", "status", "priority", "charge", "charge_state")}),
        (
            "Request",
            {"fields": ("prompt", "style", "mood", "duration", "title", "tags", "negative_tags", "options", "device")},
        ),
        ("Photo", {"fields": ("image", "image_analysis")}),
        (
            "Provider",
            {"fields": ("provider", "provider_task_id", "attempts", "retries", "provider_response", "error_detail")},
        ),
        (
            "Result",
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
            "Timings",
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

    def has_add_permission(self, request):
        return False  # generations are created (and charged) through the API only

    @admin.display(description="audio hq")
    def audio_hq_link(self, obj: Generation):
        """The members' file sits under private/: a signed link that expires (MEDIA_SIGNED_URL_TTL)."""
        url = signed_url(obj.audio_hq)
        return format_html('<a href="{}">{}</a>', url, obj.audio_hq.name.rsplit("/", 1)[-1]) if url else "-"

    @admin.display(description="run time")
    def run_time(self, obj: Generation) -> str:
        if obj.started_at and obj.completed_at:
            return f"{(obj.completed_at - obj.started_at).total_seconds():.1f} s"
        return "-"

    @admin.display(description="charge")
    def charge_state(self, obj: Generation) -> str:
        if obj.charge_id is None:
            return "not charged"
        charge = obj.charge
        what = f"{charge.points} points" if charge.kind == "points" else f"quota of {charge.day}"
        return f"{what}, refunded {charge.refunded_at:%Y-%m-%d %H:%M}" if charge.refunded_at else what

    @admin.action(
        description="Retry the selected failed generations (free: their charge stays refunded)", permissions=["change"]
    )
    def retry_failed(self, request, queryset):
        done = sum(services.generation_retry(generation=generation) for generation in queryset)
        skipped = queryset.count() - done
        self.message_user(request, f"{done} generation(s) queued again; {skipped} skipped (not failed).")

    @admin.action(description="Fail and refund the selected pending/processing generations", permissions=["change"])
    def fail_and_refund(self, request, queryset):
        done = sum(
            services.generation_fail(generation=generation, message=FAILED_BY_STAFF, detail=f"failed by {request.user}")
            for generation in queryset
        )
        skipped = queryset.count() - done
        level = messages.SUCCESS if done else messages.WARNING
        self.message_user(request, f"{done} generation(s) failed and refunded; {skipped} skipped (finished).", level)


@admin.register(Favorite)
class FavoriteAdmin(ReadOnlyAdmin):
    list_display = ("user", "generation", "created_at")
    list_select_related = ("user", "generation")
    search_fields = ("user__username", "user__phone", "generation__id")
    raw_id_fields = ("user", "generation")
    date_hierarchy = "created_at"
