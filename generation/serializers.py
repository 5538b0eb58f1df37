import json
from collections.abc import Callable

from rest_framework import serializers

from tunee.api.i18n import T, is_english
from tunee.api.renderers import Camelized, camelize
from tunee.api.serializers import OutputSerializer
from tunee.storage import public_url, signed_url

from .models import DEFAULT_DURATION, MAX_DURATION, MIN_DURATION, TAG_LENGTH, TAG_MAX, Generation

NOT_A_LIST = T("必须是字符串列表或逗号分隔的字符串", "Must be a list of strings or a comma-separated string")
OPTIONS_MAX = 2000  # characters of the options as JSON
OPTIONS_TOO_LARGE = T(
    f"选项过大（最多 {OPTIONS_MAX} 个字符）", f"Options are too large (at most {OPTIONS_MAX} characters)"
)
OPTIONS_HUGE_NUMBER = T("选项中的数字超出范围", "A number in the options is out of range (64 bits)")
OPTIONS_NUL = T("选项中不能含有空字符（\\u0000）", "Options cannot contain NUL characters (\\u0000)")


class TagListField(serializers.ListField):
    """Tags as a JSON list, or a comma-separated string (multipart forms send strings)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=TAG_LENGTH, allow_blank=False))
        kwargs.setdefault("max_length", TAG_MAX)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):  # form data: tags=a&tags=b, or tags="a,b"
            values = dictionary.getlist(self.field_name)
            if not values:
                return serializers.empty
            return values if len(values) > 1 else values[0]
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [part.strip() for part in data.replace("，", ",").split(",") if part.strip()]
        if not isinstance(data, list):
            raise serializers.ValidationError(str(NOT_A_LIST))
        return super().to_internal_value(data)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _has_huge_int(value) -> bool:
    """A number outside 64 bits: stored fine, but no JSON answer could carry it back (found by schemathesis). Floats
    count too: PostgreSQL's jsonb gives `1e30` back as the integer 1000…0."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return any(_has_huge_int(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_huge_int(item) for item in value)
    return False


class GenerationCreateInput(serializers.Serializer):
    prompt = serializers.CharField(max_length=500, trim_whitespace=True)
    style = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    mood = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    duration = serializers.IntegerField(
        min_value=MIN_DURATION, max_value=MAX_DURATION, required=False, default=DEFAULT_DURATION
    )
    options = serializers.DictField(required=False, default=dict)
    device = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_options(self, value):
        text = json.dumps(value, ensure_ascii=False)
        if len(text) > OPTIONS_MAX:
            raise serializers.ValidationError(str(OPTIONS_TOO_LARGE))
        if _has_nul(value):  # PostgreSQL refuses NUL in JSON columns: a 400 here, not a 500 at the INSERT
            raise serializers.ValidationError(str(OPTIONS_NUL))
        if _has_huge_int(value):
            raise serializers.ValidationError(str(OPTIONS_HUGE_NUMBER))
        return value


class QuotaAfterSerializer(serializers.Serializer):
    remaining = serializers.IntegerField()
    used = serializers.IntegerField()
    total = serializers.IntegerField()


class GenerationCreatedSerializer(serializers.Serializer):
    generation_id = serializers.UUIDField()
    status = serializers.CharField()
    charged_with = serializers.CharField(help_text='"quota" or "points"')
    quota = QuotaAfterSerializer()


class ParamsSerializer(serializers.Serializer):
    prompt = serializers.CharField()
    style = serializers.CharField()
    mood = serializers.CharField()
    duration = serializers.IntegerField()
    options = serializers.DictField()
    title = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    negative_tags = serializers.ListField(child=serializers.CharField())


class ResultSerializer(serializers.Serializer):
    audio_url = serializers.CharField()
    hq_audio_url = serializers.CharField(
        allow_null=True,
        help_text="members only (null for free users); a signed URL that expires (MEDIA_SIGNED_URL_TTL)",
    )
    cover_url = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    duration = serializers.FloatField(allow_null=True)
    lyrics = serializers.CharField(allow_blank=True)
    completed_at = serializers.DateTimeField()


def params_of(generation: Generation) -> dict:
    return {
        "prompt": generation.prompt,
        "style": generation.style,
        "mood": generation.mood,
        "duration": generation.duration,
        "options": generation.options,
        "title": generation.title,
        "tags": generation.tags,
        "negative_tags": generation.negative_tags,
    }


def result_of(generation: Generation, *, show_hq: bool) -> dict | None:
    if generation.status != Generation.Status.COMPLETED:
        return None
    return {
        "audio_url": public_url(generation.audio),
        # members only, and through a URL that expires (MEDIA_SIGNED_URL_TTL): its file is not public
        "hq_audio_url": signed_url(generation.audio_hq) if show_hq else None,
        "cover_url": public_url(generation.cover),
        "title": generation.result_title,
        "duration": generation.result_duration,
        "lyrics": generation.lyrics,
        "completed_at": generation.completed_at,
    }


class GenerationSerializer(OutputSerializer):
    """Tunee's generation shape. Context: `show_hq` (bool)."""

    generation_id = serializers.UUIDField(source="id")
    status = serializers.CharField()
    source = serializers.CharField()
    params = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    error_message = serializers.SerializerMethodField()
    is_favorite = serializers.BooleanField(default=False)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_params(self, generation) -> ParamsSerializer:
        return params_of(generation)

    def get_result(self, generation) -> ResultSerializer(allow_null=True):
        return result_of(generation, show_hq=self.context.get("show_hq", False))

    def get_error_message(self, generation) -> str | None:
        return generation.error_text or None


def _json_list_of_str(text: str) -> list:
    """A JSON column of `ListField(child=CharField())` as that field shows it."""
    if text == "[]":
        return []
    return [None if item is None else str(item) for item in json.loads(text)]


def _json_dict(text: str) -> dict:
    """A JSON column of `DictField()` as the renderer writes it (the renderer camelizes every mapping's keys)."""
    if text == "{}":
        return {}
    return camelize({str(key): value for key, value in json.loads(text).items()})


def generation_rows_output(rows, *, show_hq: Callable[[], bool]) -> Camelized:
    """`GenerationSerializer(many=True)`'s output for rows of `selectors.LIST_COLUMNS` (and the page's total), with
    camelCase keys already: one function building plain dicts, instead of DRF's field-by-field walk and the
    renderer's camelizing (tests/test_generation_api.py holds the two outputs equal, state by state). `show_hq` is
    asked at most once, and only when a row has high-quality audio it would decide about (a free user's page of
    queued songs costs no membership query)."""
    english = is_english()
    completed = Generation.Status.COMPLETED
    hq = None
    items = Camelized()
    for (
        pk,
        status,
        source,
        prompt,
        style,
        mood,
        duration,
        options,
        title,
        tags,
        negative_tags,
        audio,
        audio_hq,
        cover,
        result_title,
        result_duration,
        lyrics,
        error_message,
        error_message_en,
        created_at,
        started_at,
        completed_at,
        is_favorite,
        _member_level,
        _member_expires,
        _total,
    ) in rows:
        result = None
        if status == completed:
            if audio_hq and hq is None:
                hq = show_hq()
            result = {
                "audioUrl": public_url(audio),
                "hqAudioUrl": signed_url(audio_hq) if hq and audio_hq else None,
                "coverUrl": public_url(cover),
                "title": result_title,
                "duration": result_duration,
                "lyrics": lyrics,
                "completedAt": completed_at,
            }
        items.append(
            {
                "generationId": pk,
                "status": status,
                "source": source,
                "params": {
                    "prompt": prompt,
                    "style": style,
                    "mood": mood,
                    "duration": duration,
                    "options": _json_dict(options),
                    "title": title,
                    "tags": _json_list_of_str(tags),
                    "negativeTags": _json_list_of_str(negative_tags),
                },
                "result": result,
                "errorMessage": (error_message_en if english and error_message_en else error_message) or None,
                "isFavorite": is_favorite,
                "createdAt": created_at,
                "startedAt": started_at,
                "completedAt": completed_at,
            }
        )
    return items


def generation_list_output(items: list, *, show_hq: Callable[[], bool]) -> list:
    """A page of generations in GenerationSerializer's shape: rows (`selectors.generation_list_page` on PostgreSQL)
    through `generation_rows_output`, Generation instances (other databases) through the serializer."""
    if items and isinstance(items[0], Generation):
        return GenerationSerializer(items, many=True, context={"show_hq": show_hq()}).data
    return generation_rows_output(items, show_hq=show_hq)


class MusicTaskInput(serializers.Serializer):
    """Photo Song's custom-generate body: `prompt` is lyrics or a description."""

    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tags = TagListField()
    prompt = serializers.CharField(max_length=3000)
    negative_tags = TagListField()
    duration = serializers.IntegerField(
        min_value=MIN_DURATION, max_value=MAX_DURATION, required=False, default=DEFAULT_DURATION
    )


class MusicTaskSerializer(serializers.Serializer):
    """Photo Song's MusicTask shape: taskId, status, params, audioUrl, createdAt (plus the cover and error)."""

    task_id = serializers.UUIDField(source="id")
    status = serializers.CharField()
    params = serializers.SerializerMethodField()
    audio_url = serializers.SerializerMethodField()
    cover_url = serializers.SerializerMethodField()
    error_message = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_params(self, generation) -> ParamsSerializer:
        return params_of(generation)

    def get_audio_url(self, generation) -> str | None:
        return public_url(generation.audio) if generation.status == Generation.Status.COMPLETED else None

    def get_cover_url(self, generation) -> str | None:
        return public_url(generation.cover) if generation.status == Generation.Status.COMPLETED else None

    def get_error_message(self, generation) -> str | None:
        return generation.error_text or None


class CallbackAnswerSerializer(serializers.Serializer):
    accepted = serializers.BooleanField(help_text="whether the callback named a generation we are waiting for")
