from rest_framework import serializers

from accounts.selectors import user_avatar_url
from generation.models import Generation
from generation.serializers import TagListField
from moderation.models import Report
from tunee.api.serializers import OutputSerializer
from tunee.storage import public_url

from . import selectors
from .models import Work

TITLE_MAX = 100
DESCRIPTION_MAX = 1000
STYLE_MAX = 100


class WorkCreateInput(serializers.Serializer):
    """multipart/form-data: the photo and whatever the creator wants to say; blanks are filled from the photo."""

    image = serializers.FileField(help_text="JPEG, PNG or WebP, at most 10 MB")
    title = serializers.CharField(max_length=TITLE_MAX, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="")
    style = serializers.CharField(max_length=STYLE_MAX, required=False, allow_blank=True, default="")
    tags = TagListField(help_text='a list, repeated form fields, or one comma-separated string ("海边,夏天")')


class WorkUpdateInput(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX, required=False, allow_blank=True)
    description = serializers.CharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True)
    tags = TagListField()
    visibility = serializers.ChoiceField(choices=Work.Visibility.choices, required=False)


class CreatorSerializer(OutputSerializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class WorkSerializer(OutputSerializer):
    """The seed's Work in camelCase, plus what an app needs to show it (thumbnail, cover, the requester's like).

    `status` is the generation's; `audioUrl` / `coverUrl` are the generation's files once it is completed.
    `liked` comes from a `liked` annotation (selectors.with_liked) and is false for anonymous requests.
    """

    id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    audio_url = serializers.SerializerMethodField()
    cover_url = serializers.SerializerMethodField()
    duration = serializers.SerializerMethodField()
    creator = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Generation.Status.choices)
    style = serializers.CharField()
    tags = serializers.SerializerMethodField()
    plays = serializers.IntegerField()
    likes = serializers.IntegerField()
    liked = serializers.SerializerMethodField()
    visibility = serializers.ChoiceField(choices=Work.Visibility.choices)
    featured = serializers.BooleanField()
    hidden = serializers.BooleanField(help_text="hidden by staff: only its creator sees it until staff unhide it")
    moderation = serializers.ChoiceField(
        choices=Work.Moderation.choices,
        help_text="content screening: approved, pending (a photo check is awaited), review (staff decide) or "
        "rejected; only approved works reach the feed and the share page",
    )
    created_at = serializers.DateTimeField()
    generation_id = serializers.UUIDField()
    error_message = serializers.SerializerMethodField()

    def get_image_url(self, work) -> str:
        return public_url(work.image)

    def get_thumbnail_url(self, work) -> str:
        """The thumbnail once it is made (moments after the upload); the photo itself until then."""
        return public_url(work.thumbnail) or public_url(work.image)

    def _completed(self, work) -> bool:
        return work.generation.status == Generation.Status.COMPLETED

    def get_audio_url(self, work) -> str | None:
        return public_url(work.generation.audio) if self._completed(work) else None

    def get_cover_url(self, work) -> str | None:
        return public_url(work.generation.cover) if self._completed(work) else None

    def get_duration(self, work) -> float | None:
        return work.generation.result_duration if self._completed(work) else None

    def get_creator(self, work) -> CreatorSerializer:
        creator = work.creator
        return {"id": creator.pk, "username": creator.username, "avatar_url": user_avatar_url(user=creator)}

    def get_tags(self, work) -> list[str]:
        return selectors.tag_names(work)

    def get_liked(self, work) -> bool:
        return bool(getattr(work, "liked", False))

    def get_error_message(self, work) -> str | None:
        """Why the song failed, in the reader's language (both are stored)."""
        return work.generation.error_text or None


class WorkReportInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)


class WorkReportOutput(serializers.Serializer):
    reported = serializers.BooleanField()


class LikeOutput(serializers.Serializer):
    liked = serializers.BooleanField()
    likes = serializers.IntegerField()


class PlayOutput(serializers.Serializer):
    plays = serializers.IntegerField()
