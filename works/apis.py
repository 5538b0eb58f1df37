from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.views import APIView

from tunee.api.client import client_ip
from tunee.api.envelope import ok
from tunee.api.errors import ApiError, Code
from tunee.api.handlers import to_api_error
from tunee.api.i18n import T
from tunee.api.ids import parse_id
from tunee.api.pagination import page_data, page_params, paginate_queryset
from tunee.api.renderers import Camelized, rendered
from tunee.api.schema import paginated as paginated_schema
from tunee.api.throttles import UserRateThrottle

from . import caching, selectors, services
from .images import TOO_LARGE
from .serializers import (
    LikeOutput,
    PlayOutput,
    WorkCreateInput,
    WorkReportInput,
    WorkReportOutput,
    WorkSerializer,
    WorkUpdateInput,
)

CREATED = T("作品已创建，歌曲生成中", "Work created, its song is being made")
UPDATED = T("作品已更新", "Work updated")
DELETED = T("作品已删除", "Work deleted")
LIKED = T("已点赞", "Liked")
UNLIKED = T("已取消点赞", "Like removed")
REPORTED = T("举报已收到，我们会尽快处理", "Report received; we will look at it soon")
BAD_CREATOR = T("必须是用户 ID 或 me", "Must be a user id or me")
BAD_TAG = T("标签不能包含空字符", "A tag cannot contain NUL characters")
MULTIPART_SLACK = 1024 * 1024  # room for the other form fields and the multipart framing


class UploadThrottle(UserRateThrottle):
    """Photo uploads per user (scope `uploads`, THROTTLE_UPLOAD_RATE, read on each request): decoding a photo costs
    far more than any other request, so uploads get their own, much lower rate on top of the general one."""

    scope = "uploads"

    def get_rate(self):
        return settings.THROTTLE_UPLOAD_RATE


def _serialize(works) -> list:
    return WorkSerializer(works, many=True).data


def _with_liked(items: list, user) -> list:
    """Fill `liked` into cached (requester-independent) items."""
    liked = selectors.liked_ids(user=user, work_ids=[item["id"] for item in items])
    return [{**item, "liked": str(item["id"]) in liked} for item in items]


def _valid(serializer, code: Code) -> dict:
    """The validated data, or the domain's error code with the same per-field details as a plain 400."""
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError as exc:
        raise ApiError(code, details=to_api_error(exc).details) from None
    return serializer.validated_data


class WorkListCreateApi(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(UploadThrottle())
        return throttles

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "creator", str, required=False, description="a user id, or `me` for all of one's own works"
            ),
            OpenApiParameter("tag", str, required=False, description="one tag (matched trimmed, in lower case)"),
            OpenApiParameter("page", int, required=False),
            OpenApiParameter("pageSize", int, required=False),
            OpenApiParameter("limit", int, required=False, description="alias of pageSize"),
        ],
        responses=paginated_schema(WorkSerializer),
        tags=["works"],
        operation_id="works_list",
        summary="The public feed of finished works, newest first (creator=me: all of mine)",
    )
    def get(self, request):
        user = request.user
        creator = (request.query_params.get("creator") or "").strip() or None
        tag = (request.query_params.get("tag") or "").strip() or None
        if tag is not None and "\x00" in tag:  # PostgreSQL cannot even compare such a string: a 400, not a 500
            raise ApiError(Code.VALIDATION, details={"tag": [str(BAD_TAG)]})
        if creator == "me":
            if not user.is_authenticated:
                raise ApiError(Code.UNAUTHENTICATED)
        elif creator is not None:
            try:
                creator = parse_id(creator)
            except ApiError:
                raise ApiError(Code.VALIDATION, details={"creator": [str(BAD_CREATOR)]}) from None
        page, page_size = page_params(request.query_params)
        if page == 1 and creator is None and tag is None:
            # Querysets are built only when needed: on a cache hit, building one would cost more than the answer.

            def build():
                first = paginate_queryset(selectors.work_feed(user=None), request.query_params)
                return page_data(first, rendered(_serialize(first.items)))  # stored as rendered: see below

            data = caching.feed_first_page_get(page_size, build)
            # Its items are stored as the renderer writes them (caching.feed_first_page_get): nothing to camelize.
            return ok({**data, "list": Camelized(_with_liked(data["list"], user))})
        current = paginate_queryset(selectors.work_feed(user=user, creator=creator, tag=tag), request.query_params)
        return ok(page_data(current, _serialize(current.items)))

    @extend_schema(
        request={"multipart/form-data": WorkCreateInput},
        responses={201: WorkSerializer},
        tags=["works"],
        operation_id="works_create",
        summary="Make a work from a photo (charges one generation; the song is made in the background)",
    )
    def post(self, request):
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > settings.WORKS_IMAGE_MAX_BYTES + MULTIPART_SLACK:
            # Refused before the body is read: nobody waits for 100 MB to arrive to be told it is too large.
            mb = f"{settings.WORKS_IMAGE_MAX_BYTES / 1024 / 1024:g}"
            raise ApiError(Code.WORK_CREATE_FAILED, details={"image": [TOO_LARGE.format(mb=mb)]})
        data = _valid(WorkCreateInput(data=request.data), Code.WORK_CREATE_FAILED)
        work = services.work_create(user=request.user, **data)
        work = selectors.work_get_owned(user=request.user, work_id=work.pk)
        return ok(WorkSerializer(work).data, message=CREATED, status=201)


class WorkDetailApi(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        responses=WorkSerializer,
        tags=["works"],
        operation_id="works_retrieve",
        summary="A public finished work, or one of my own in any state",
    )
    def get(self, request, work_id):
        pk = parse_id(work_id)

        def build():
            work = selectors.work_get(work_id=pk)
            return WorkSerializer(work).data if work is not None else None

        data = caching.detail_get(pk, build)
        if data is None or not selectors.is_visible_to(data=data, user=request.user):
            raise ApiError(Code.WORK_NOT_FOUND)
        return ok(_with_liked([data], request.user)[0])

    @extend_schema(
        request=WorkUpdateInput,
        responses=WorkSerializer,
        tags=["works"],
        operation_id="works_update",
        summary="Edit my work (title, description, tags, visibility)",
    )
    def patch(self, request, work_id):
        work = selectors.work_get_owned(user=request.user, work_id=work_id)
        data = _valid(WorkUpdateInput(data=request.data, partial=True), Code.WORK_UPDATE_FAILED)
        services.work_update(work=work, **data)
        work = selectors.work_get_owned(user=request.user, work_id=work.pk)
        return ok(WorkSerializer(work).data, message=UPDATED)

    @extend_schema(
        request=None,
        responses={200: None},
        tags=["works"],
        operation_id="works_destroy",
        summary="Delete my work and its photo",
    )
    def delete(self, request, work_id):
        work = selectors.work_get_owned(user=request.user, work_id=work_id)
        services.work_delete(work=work)
        return ok(None, message=DELETED)


class WorkLikeApi(APIView):
    @extend_schema(request=None, responses=LikeOutput, tags=["works"], summary="Like or unlike a work")
    def post(self, request, work_id):
        liked, likes = services.work_like_toggle_visible(user=request.user, work_id=work_id)
        return ok({"liked": liked, "likes": likes}, message=LIKED if liked else UNLIKED)


class WorkPlayApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        request=None,
        responses=PlayOutput,
        tags=["works"],
        summary="Count a play (once per IP and work within WORKS_PLAY_WINDOW_SECONDS)",
    )
    def post(self, request, work_id):
        work = selectors.work_get_visible(user=request.user, work_id=work_id)
        plays = services.work_play(work=work, client=client_ip(request) or "unknown")
        return ok({"plays": plays})


class WorkReportApi(APIView):
    @extend_schema(
        request=WorkReportInput,
        responses=WorkReportOutput,
        tags=["works"],
        summary="Report a work (once per user and work: a second report is 11000); reported by "
        "MODERATION_REPORT_THRESHOLD users, it is kept out of the feed until staff review it",
    )
    def post(self, request, work_id):
        work = selectors.work_get_visible(user=request.user, work_id=work_id)
        data = WorkReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.work_report(user=request.user, work=work, reason=data.validated_data["reason"])
        return ok({"reported": True}, message=REPORTED)
