"""The sandbox's routes, mounted at the site root by tunee/urls.py when this app is installed (PAYMENT_SANDBOX on).
They exist only for providers running in the sandbox (no merchant credentials and PAYMENT_SANDBOX on), decided when
the URLconf is loaded: with real credentials configured there is no route."""

from django.urls import path

from payments.providers.base import sandbox_active

from . import alipay_gateway, views, wechat_gateway


def sandbox_urlpatterns() -> list:
    patterns = []
    providers = [p for p in ("wechat", "alipay") if sandbox_active(p)]
    if "wechat" in providers:
        patterns += [
            path(
                "sandbox/wechatpay/pay/unifiedorder", wechat_gateway.unified_order, name="sandbox-wechat-unifiedorder"
            ),
            path("sandbox/wechatpay/pay/orderquery", wechat_gateway.order_query, name="sandbox-wechat-orderquery"),
            path("sandbox/wechatpay/pay/closeorder", wechat_gateway.close_order, name="sandbox-wechat-closeorder"),
            path("sandbox/wechatpay/secapi/pay/refund", wechat_gateway.refund, name="sandbox-wechat-refund"),
        ]
    if "alipay" in providers:
        patterns.append(path("sandbox/alipay/gateway.do", alipay_gateway.gateway, name="sandbox-alipay-gateway"))
    for provider in providers:
        patterns.append(
            path(
                f"sandbox/pay/{provider}/<str:out_trade_no>",
                views.pay_page,
                {"provider": provider},
                name=f"sandbox-pay-{provider}",
            )
        )
    return patterns


urlpatterns = sandbox_urlpatterns()
