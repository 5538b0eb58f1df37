"""The sandbox pay page: `GET /sandbox/pay/<provider>/<out_trade_no>?token=…` shows the trade; its POST (to the same
URL, token included) completes the payment (then posts the signed notification), closes the trade, or sends the
notification again. Without a valid token for that very trade (access.py), or the order's owner logged in, it is
404 and nothing changes."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from payments.models import Order
from payments.providers.base import sandbox_active

from .access import pay_page_token_valid
from .models import SandboxTrade
from .services import SandboxRefusal, sandbox_trade_close, sandbox_trade_notify, sandbox_trade_pay


@require_http_methods(["GET", "POST"])
def pay_page(request, provider: str, out_trade_no: str):
    if provider not in SandboxTrade.Provider.values or not sandbox_active(provider):
        raise Http404
    trade = get_object_or_404(SandboxTrade, provider=provider, out_trade_no=out_trade_no)
    if not _may_open(request, trade):
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "pay":
                trade = sandbox_trade_pay(provider=provider, out_trade_no=out_trade_no)
                trade = sandbox_trade_notify(provider=provider, out_trade_no=out_trade_no)
                messages.success(request, "支付成功，已发送支付通知 Paid; the payment notification was sent")
            elif action == "notify":
                trade = sandbox_trade_notify(provider=provider, out_trade_no=out_trade_no)
                messages.success(request, "已重新发送支付通知 The payment notification was sent again")
            elif action == "close":
                sandbox_trade_close(provider=provider, out_trade_no=out_trade_no)
                messages.success(request, "交易已关闭 The trade was closed")
            else:
                messages.error(request, "未知操作 Unknown action")
        except SandboxRefusal as refusal:
            messages.error(request, refusal.message)
        return HttpResponseRedirect(request.get_full_path())  # the token stays in the URL
    response = render(
        request,
        "payments_sandbox/pay.html",
        {
            "trade": trade,
            "provider_label": SandboxTrade.Provider(provider).label,
            "status_label": SandboxTrade.Status(trade.status).label,
        },
    )
    response["Referrer-Policy"] = "same-origin"  # the token is in this URL: never sent to another site
    return response


def _may_open(request, trade: SandboxTrade) -> bool:
    """A valid token for this trade in the URL, or the order's owner logged in (a site session)."""
    token = request.GET.get("token", "")
    if pay_page_token_valid(token, provider=trade.provider, out_trade_no=trade.out_trade_no, expire_at=trade.expire_at):
        return True
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return Order.objects.filter(order_no=trade.out_trade_no, payment_method=trade.provider, user_id=user.pk).exists()
