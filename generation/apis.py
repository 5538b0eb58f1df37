import json
from functools import partial

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from membership.selectors import quota_status
from tunee.api.envelope import ok
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T
from tunee.api.pagination import page_data
from tunee.api.schema import paginated as paginated_schema
from tunee.api.throttles import UserRateThrottle

from . import selectors, services
from .models import Generation
from .providers.base import get_music_provider
from .serializers import (
    CallbackAnswerSerializer,
    GenerationCreatedSerializer,
    GenerationCreateInput,
    GenerationSerializer,
    MusicTaskInput,
    MusicTaskSerializer,
    generation_list_output,
)

CREATED = T("生成任务已创建", "Generation created")
FAVORITED = T("已收藏", "Added to favorites")
UNFAVORITED = T("已取消收藏", "Removed from favorites")
BAD_STATUS = T("无效的状态", "Unknown status")
CALLBACK_NOTED = T("已收到", "Received")
CALLBACK_UNKNOWN = T("已收到：未知的任务", "Received: unknown task")
NOT_JSON = T("请求体不是有效的 JSON", "The body is not valid JSON")


def _status_filter(request) -> str | None:
    status = request.query_params.get("status") or None
    if status and status not in Generation.Status.values:
        raise ApiError(Code.VALIDATION, details={"status": [str(BAD_STATUS)]})
    return status


class GenerationCreateThrottle(UserRateThrottle):
    """Generation creates per user (scope `generation`, THROTTLE_GENERATION_RATE, read on each request), on top of
    the general rate: each one is a job for the music provider."""

    scope = "generation"

    def get_rate(self):
        return settings.THROTTLE_GENERATION_RATE


class GenerationCreateThrottled:
    def get_throttles(self):
        return [*super().get_throttles(), GenerationCreateThrottle()]


# GenerationCreateInput without building it, for the usual body (text fields and a duration within their limits, no
# options): the serializer costs more than the rest of the view's Python. Anything else (a value to coerce, to
# refuse, options) goes through the serializer, which answers as always. Used only while the serializer is what this
# was written against (`_FAST_INPUT`): other fields or validators and the serializer decides every request.
_CREATE_FIELDS = GenerationCreateInput._declared_fields
_TEXT_FIELDS = {name: f for name, f in _CREATE_FIELDS.items() if type(f) is serializers.CharField}
_DURATION = _CREATE_FIELDS.get("duration")
_FAST_INPUT = (
    set(_CREATE_FIELDS) == {*_TEXT_FIELDS, "duration", "options"}
    and all(f.trim_whitespace and f.max_length and not f.allow_null and not f.min_length for f in _TEXT_FIELDS.values())
    and all(len(f.validators) == 3 for f in _TEXT_FIELDS.values())  # max_length, NUL, surrogates: CharField's own
    and type(_DURATION) is serializers.IntegerField
    and len(_DURATION.validators) == 2  # min_value, max_value
    and type(_CREATE_FIELDS["options"]) is serializers.DictField
    and not any(hasattr(GenerationCreateInput, f"validate_{name}") for name in (*_TEXT_FIELDS, "duration"))
    and GenerationCreateInput.validate is serializers.Serializer.validate
)


def _create_input_fast(data) -> dict | None:
    """The serializer's validated data for a body it would accept as it is, else None (ask the serializer)."""
    if not _FAST_INPUT or type(data) is not dict or "options" in data:
        return None
    out = {}
    for name, f in _TEXT_FIELDS.items():
        if name not in data:
            if f.required:
                return None
            out[name] = f.get_default()
            continue
        value = data[name]
        if type(value) is not str:
            return None
        value = value.strip()
        if (not value and not f.allow_blank) or len(value) > f.max_length or "\x00" in value:
            return None
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate
            return None
        out[name] = value
    duration = data.get("duration", _DURATION.get_default())
    if type(duration) is not int or not _DURATION.min_value <= duration <= _DURATION.max_value:
        return None
    out["duration"] = duration
    out["options"] = {}  # the DictField's default (validate_options accepts it)
    return out


def _create_input(data) -> dict:
    fast = _create_input_fast(data)
    if fast is not None:
        return fast
    serializer = GenerationCreateInput(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class GenerationCreateApi(GenerationCreateThrottled, APIView):
    @extend_schema(
        request=GenerationCreateInput,
        responses={201: GenerationCreatedSerializer},
        tags=["generation"],
        summary="Start a generation (charges one unit of today's quota, or points)",
    )
    def post(self, request):
        data = _create_input(request.data)
        generation = services.generation_create(user=request.user, source=Generation.Source.API, **data)
        # the quota as the charge left it (read by the charging statement), else read now
        quota = getattr(generation.charge, "quota_after", None) or quota_status(user=request.user)
        # GenerationCreatedSerializer's output, built directly (its fields only call str() and int())
        body = {
            "generation_id": str(generation.pk),
            "status": str(generation.status),
            "charged_with": str(generation.charge.kind),
            "quota": {"remaining": int(quota.remaining), "used": int(quota.used), "total": int(quota.daily_limit)},
        }
        return ok(body, message=CREATED, status=201)


class GenerationDetailApi(APIView):
    @extend_schema(responses=GenerationSerializer, tags=["generation"], summary="One of my generations")
    def get(self, request, generation_id):
        generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
        context = {"show_hq": selectors.shows_hq_audio(user=request.user)}
        return ok(GenerationSerializer(generation, context=context).data)


class GenerationListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", enum=Generation.Status.values, required=False)],
        responses=paginated_schema(GenerationSerializer),
        operation_id="generation_list",
        tags=["generation"],
        summary="My generations, newest first",
    )
    def get(self, request):
        page = selectors.generation_list_page(
            user=request.user, status=_status_filter(request), query_params=request.query_params
        )
        # who sees the high-quality audio: from the membership the rows carry (asked only if a row has such audio)
        shows_hq = partial(selectors.page_shows_hq_audio, page, user=request.user)
        items = generation_list_output(page.items, show_hq=shows_hq)
        return ok(page_data(page, items))


class FavoriteToggleApi(APIView):
    @extend_schema(
        request=None,
        responses={200: {"type": "object", "properties": {"isFavorite": {"type": "boolean"}}}},
        tags=["generation"],
        summary="Favorite or unfavorite one of my generations",
    )
    def post(self, request, generation_id):
        generation = selectors.generation_get_for_user(user=request.user, generation_id=generation_id)
        is_favorite = services.favorite_toggle(user=request.user, generation=generation)
        return ok({"is_favorite": is_favorite}, message=FAVORITED if is_favorite else UNFAVORITED)


class FavoriteListApi(APIView):
    @extend_schema(responses=paginated_schema(GenerationSerializer), tags=["generation"], summary="My favorites")
    def get(self, request):
        page = selectors.favorites_list_page(user=request.user, query_params=request.query_params)
        # who sees the high-quality audio: from the membership the rows carry (asked only if a row has such audio)
        shows_hq = partial(selectors.page_shows_hq_audio, page, user=request.user)
        items = generation_list_output(page.items, show_hq=shows_hq)
        return ok(page_data(page, items))


class MusicTaskCreateApi(GenerationCreateThrottled, APIView):
    @extend_schema(
        request=MusicTaskInput,
        responses={201: MusicTaskSerializer},
        tags=["music tasks"],
        summary="Photo Song: submit a music task (charges like any generation)",
    )
    def post(self, request):
        data = MusicTaskInput(data=request.data)
        data.is_valid(raise_exception=True)
        generation = services.generation_create(
            user=request.user, source=Generation.Source.MUSIC_TASK, **data.validated_data
        )
        return ok(MusicTaskSerializer(generation).data, message=CREATED, status=201)


class MusicTaskDetailApi(APIView):
    @extend_schema(responses=MusicTaskSerializer, tags=["music tasks"], summary="Photo Song: one of my music tasks")
    def get(self, request, task_id):
        generation = selectors.generation_get_for_user(user=request.user, generation_id=task_id)
        return ok(MusicTaskSerializer(generation).data)


class ProviderCallbackApi(APIView):
    """The music provider's completion webhook (`callBackUrl`, with the `token` we put in it). Unsigned, so it is
    only a hint: the task id it names gets an immediate confirming poll; its status and URLs are never used.
    Always 200 for JSON (also for a task we do not know, so that the gateway stops retrying)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []  # the gateway posts from a few addresses; an unknown task id costs one indexed read

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=False, description="the token of our callback URL")],
        request=OpenApiRequest({"type": "object", "additionalProperties": True}),
        responses={200: CallbackAnswerSerializer},
        tags=["generation"],
        summary="Music provider callback (a hint that triggers a confirming poll)",
    )
    def post(self, request, provider):
        music = get_music_provider()
        if provider != music.name:
            raise ApiError(Code.NOT_FOUND)
        try:
            payload = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(Code.VALIDATION, details={"body": [str(NOT_JSON)]}) from None
        task_id = music.parse_callback(payload)
        token = request.query_params.get("token", "")
        accepted = bool(task_id) and services.generation_callback(
            provider_name=music.name, task_id=str(task_id), token=token
        )
        return ok({"accepted": accepted}, message=CALLBACK_NOTED if accepted else CALLBACK_UNKNOWN)
