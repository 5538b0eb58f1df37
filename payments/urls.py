"""API routes of this app, mounted under /api/ by tunee/urls.py (after membership's, which has no clashing path)."""

from django.urls import path

from . import apis

urlpatterns = [
    path("membership/order", apis.MembershipOrderCreateApi.as_view(), name="membership-order-create"),
    path("membership/order/<str:order_no>", apis.OrderDetailApi.as_view(), name="membership-order-detail"),
    path("membership/orders", apis.OrderListApi.as_view(), name="membership-orders"),
    path("points/purchase", apis.PointsPurchaseApi.as_view(), name="points-purchase"),
    path("payment/order/<str:order_no>/query", apis.OrderQueryApi.as_view(), name="payment-order-query"),
    path("payment/wechat/notify", apis.WeChatNotifyApi.as_view(), name="payment-wechat-notify"),
    path("payment/alipay/notify", apis.AlipayNotifyApi.as_view(), name="payment-alipay-notify"),
]
