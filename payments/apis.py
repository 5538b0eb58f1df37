"""Order endpoints (JSON envelope) and the two provider notify endpoints (each provider's own format).

The notify endpoints are the one exception to the envelope on /api: they are called by WeChat Pay and Alipay,
which expect exactly their own answer (WeChat: XML SUCCESS/FAIL; Alipay: `success`/`failure` as plain text) and
retry otherwise. They take no JWT and no CSRF token; the signature is their authentication. They never answer
500: any failure becomes the provider's FAIL. Their one throttle is per client IP (THROTTLE_NOTIFY_IP_RATE): when
tripped the answer is still the provider's FAIL, with HTTP 429 and Retry-After, and nothing is stored.
"""

import logging
import math
import re

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import Throttled
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from membership import selectors as membership_selectors
from tunee.api.client import client_ip
from tunee.api.envelope import ok
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T
from tunee.api.pagination import paginated
from tunee.api.schema import paginated as paginated_schema

from . import selectors, services
from .models import Order
from .providers import get_gateway
from .serializers import (
    MembershipOrderInput,
    OrderCreatedOutput,
    OrderOutput,
    OrderQueryOutput,
    PointsOrderCreatedOutput,
    PointsPurchaseInput,
)
from .throttles import NotifyIPThrottle

ORDER_CREATED = T("订单创建成功", "Order created")
logger = logging.getLogger("payments")


_MOBILE_BROWSER = re.compile(r"Mobi|Android|iPhone|iPod")  # MDN's advice ("Mobi"), plus Android tablets


def mobile_browser(request) -> bool:
    """The request comes from a phone's browser: device "web" then means mobile web (Alipay wap pay)."""
    return bool(_MOBILE_BROWSER.search(request.META.get("HTTP_USER_AGENT", "")))


class MembershipOrderCreateApi(APIView):
    @extend_schema(
        request=MembershipOrderInput,
        responses=OrderCreatedOutput,
        tags=["payments"],
        summary="Order a membership plan; returns the payment parameters",
    )
    def post(self, request):
        data = MembershipOrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = membership_selectors.plan_to_buy(plan_type=data.validated_data["type"])
        order = services.order_create(
            user=request.user,
            plan=plan,
            payment_method=data.validated_data["payment_method"],
            device=data.validated_data["device"],
            client_ip=client_ip(request),
            mobile_web=mobile_browser(request),
        )
        return ok(OrderCreatedOutput(order).data, message=ORDER_CREATED)


class PointsPurchaseApi(APIView):
    @extend_schema(
        request=PointsPurchaseInput,
        responses=PointsOrderCreatedOutput,
        tags=["payments"],
        summary="Order a point package; payment.amount must equal its price (else 40001)",
    )
    def post(self, request):
        data = PointsPurchaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = data.validated_data["payment"]
        package = selectors.package_for_order(package_id=data.validated_data["package_id"], amount=payment["amount"])
        order = services.order_create(
            user=request.user,
            package=package,
            payment_method=payment["method"],
            device=payment["device"],
            client_ip=client_ip(request),
            mobile_web=mobile_browser(request),
        )
        return ok(PointsOrderCreatedOutput(order).data, message=ORDER_CREATED)


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderOutput, tags=["payments"], summary="One of my orders")
    def get(self, request, order_no: str):
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        return ok(OrderOutput(order).data)


class OrderListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Order.Status.values, required=False)],
        responses=paginated_schema(OrderOutput),
        tags=["payments"],
        summary="My orders, newest first",
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        if status is not None and status not in Order.Status.values:
            raise ApiError(Code.VALIDATION, details={"status": [f"one of {', '.join(Order.Status.values)}"]})
        return paginated(
            request,
            selectors.orders_for_user(user=request.user, status=status),
            lambda items: OrderOutput(items, many=True).data,
        )


class OrderQueryApi(APIView):
    @extend_schema(
        responses=OrderQueryOutput,
        tags=["payments"],
        summary="Ask the provider about my order; settles it when it was paid",
    )
    def get(self, request, order_no: str):
        order = selectors.order_get_for_user(user=request.user, order_no=order_no)
        order = services.order_sync(order=order, source="query")
        return ok(OrderQueryOutput(order).data)


# --- notify endpoints ---------------------------------------------------------------------------------------------


class _AnyAccept(BaseContentNegotiation):
    """The notify endpoints answer in the provider's format whatever the Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _NotifyApi(APIView):
    provider = ""
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [NotifyIPThrottle]
    content_negotiation_class = _AnyAccept

    def handle_exception(self, exc):
        """Throttled: the provider's own FAIL (it retries later), never the JSON envelope."""
        if isinstance(exc, Throttled):
            wait = max(1, math.ceil(exc.wait)) if exc.wait is not None else 1
            logger.warning("%s notification from %s throttled", self.provider, client_ip(self.request))
            content, content_type = _reply(self.provider, acknowledged=False)
            response = HttpResponse(content, content_type=content_type, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().handle_exception(exc)

    def post(self, request):
        django_request = request._request
        unreadable = ""
        try:
            body = django_request.body
        except Exception as exc:  # too large, broken stream
            body, unreadable = b"", f"unreadable body: {type(exc).__name__}"
        form = None
        if self.provider == "alipay" and not unreadable:
            try:
                form = django_request.POST.dict()
            except Exception as exc:  # a malformed multipart body
                unreadable = f"unreadable form: {type(exc).__name__}"
        _, acknowledged = services.notification_handle(
            provider=self.provider,
            body=body,
            form=form,
            headers=services.notification_headers(django_request.META),
            remote_addr=client_ip(django_request),
            unreadable=unreadable,
        )
        content, content_type = _reply(self.provider, acknowledged=acknowledged)
        return HttpResponse(content, content_type=content_type)


def _reply(provider: str, *, acknowledged: bool) -> tuple[bytes, str]:
    try:
        return get_gateway(provider).reply(acknowledged)
    except Exception:  # not configured at all: still the provider's format
        return _fallback_reply(provider, acknowledged)


def _fallback_reply(provider: str, acknowledged: bool) -> tuple[bytes, str]:
    if provider == "alipay":
        return (b"success" if acknowledged else b"failure"), "text/plain; charset=utf-8"
    code = "SUCCESS" if acknowledged else "FAIL"
    body = f"<xml><return_code><![CDATA[{code}]]></return_code><return_msg><![CDATA[{code}]]></return_msg></xml>"
    return body.encode(), "text/xml; charset=utf-8"


class WeChatNotifyApi(_NotifyApi):
    provider = "wechat"

    @extend_schema(
        request={"text/xml": OpenApiTypes.STR},
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="WeChat's SUCCESS / FAIL XML"),
            (429, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="throttled: FAIL XML and Retry-After"),
        },
        auth=[],
        tags=["payments"],
        summary="WeChat Pay v2 payment notification (XML, MD5 signature); not the JSON envelope",
    )
    def post(self, request):
        return super().post(request)


class AlipayNotifyApi(_NotifyApi):
    provider = "alipay"

    @extend_schema(
        request={"application/x-www-form-urlencoded": OpenApiTypes.OBJECT},
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`success` or `failure`"),
            (429, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="throttled: `failure` and Retry-After"),
        },
        auth=[],
        tags=["payments"],
        summary="Alipay asynchronous notification (form, RSA2 signature); not the JSON envelope",
    )
    def post(self, request):
        return super().post(request)
