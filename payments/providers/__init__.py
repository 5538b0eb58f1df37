"""Payment providers: WeChat Pay v2 (wechatpy) and Alipay (python-alipay-sdk), behind one small interface.

Everything the order / notify / settle code needs is importable from here:

    from payments.providers import (
        get_gateway, PayRequest, ProviderPayment, ProviderRefund, Notification,
        ProviderError, ProviderUnavailable, ProviderRejected, OpenIdRequired, sandbox_active,
    )

Getting a gateway
    gateway = get_gateway("wechat" | "alipay")
    Reads settings on every call (cheap; keeps tests' setting overrides working). With the provider's merchant
    credentials set it talks to the real provider; with none set (and PAYMENT_SANDBOX on, the default with
    DEBUG) it talks to the sandbox inside this service (the payments_sandbox app), through the same client code.
    Raises ProviderUnavailable(code="not_configured", retryable=False) when neither is possible.
    Attributes: gateway.provider ("wechat"/"alipay"), gateway.sandbox (bool), gateway.app_id,
    gateway.merchant_id (WeChat mch_id / Alipay seller_id, "" when ALIPAY_SELLER_ID is unset).

Placing a payment (no database access; call it outside your transaction, then save the order with the result)
    params: dict = gateway.create_payment(PayRequest(
        order_no="TN202401011200" "1234", amount_fen=1990, subject="月度会员", device="miniprogram"|"app"|"web",
        notify_url=settings.PUBLIC_BASE_URL + "/api/payment/wechat/notify", client_ip=<payer's IP>,
        openid=<WeChat openid, required for wechat+miniprogram>, expire_at=<aware datetime>,
        return_url=<optional, Alipay page/wap>, mobile_web=<web in a phone's browser: Alipay wap pay>))
    The dict is the contract's `payParams`, ready to return as is (keys are already camelCase or are the
    provider's signed field names, which the renderer leaves alone):
      wechat miniprogram (JSAPI): {appId, timeStamp, nonceStr, package: "prepay_id=…", signType: "MD5", paySign}
      wechat app (APP):           {appid, partnerid, prepayid, package: "Sign=WXPay", noncestr, timestamp, sign}
      wechat web (NATIVE):        {codeUrl}
      alipay app:                 {orderString}
      alipay web (page pay):      {payUrl}   (redirect the browser there)
      alipay miniprogram (wap):   {payUrl}   (also web with mobile_web=True: a phone's browser)
      + in sandbox mode:          sandboxPayUrl (absolute, from PUBLIC_BASE_URL): the sandbox pay page, with its token.
    wechat + miniprogram without openid raises OpenIdRequired (a ProviderRejected, code "openid_required")
    before any call: map it to 40001 with details telling the user to log in with WeChat.

Asking the provider
    payment: ProviderPayment = gateway.query(order_no)
      .state: "paid" | "pending" | "closed" | "refunded" | "not_found"  (.paid is state == "paid")
      .transaction_id, .amount_fen (int fen, compare with the order), .paid_at (aware), .app_id, .merchant_id, .raw
      Alipay reports a trade nobody has opened yet as "not_found", and a fully refunded one as "closed".
    gateway.close(order_no) -> None
      Already closed / unknown at the provider: returns normally. Paid: raises ProviderRejected(code=
      "already_paid") — query and settle instead.
    refund: ProviderRefund = gateway.refund(order_no, refund_no, total_fen, refund_fen)
      .refund_no, .refund_id, .amount_fen, .raw. WeChat needs WECHAT_PAY_CERT_PATH/KEY_PATH (else
      ProviderRejected(code="not_configured")); the same refund_no again does not refund twice.

Notifications (webhooks): never raise, whatever the body
    note: Notification = gateway.parse_notification(request.body)            # wechat: the raw XML bytes
    note: Notification = gateway.parse_notification(request.POST.dict())     # alipay: a plain dict of str
      .verified: signature checks with our key AND app id / merchant id are ours (else .reason says why)
      .paid: the notification reports a successful payment (WeChat result_code SUCCESS; Alipay trade_status
             TRADE_SUCCESS or TRADE_FINISHED). A verified, unpaid notification is just acknowledged.
      .order_no, .transaction_id, .amount_fen (int fen), .app_id, .merchant_id, .paid_at, .raw (the fields)
      Checking order_no exists and amount_fen == order amount is the settle service's job.
    body, content_type = gateway.reply(ok)
      The exact answer the provider expects (WeChat: its XML SUCCESS/FAIL; Alipay: "success"/"failure" text).
      Answer ok=True once the notification is stored and handled (also for refused ones you never want
      retried); ok=False makes the provider retry later.

Errors (all ProviderError: .message, .code, .provider_code, .retryable, .raw)
    ProviderUnavailable: no answer, timeout, HTTP 5xx, unreadable or wrongly signed answer (retryable except
                         bad signature/bad response/not configured) -> contract 50000
    ProviderRejected:    the provider refused (business error; .provider_code is theirs, .code one of
                         "already_paid", "not_found", "openid_required", "not_configured", "rejected")
                         -> 40001 when placing an order, otherwise as fits
    Neutral codes are constants on ProviderError (ProviderError.ALREADY_PAID, …).

Sandbox mode
    sandbox_active(provider) -> bool: no credential of that provider set and PAYMENT_SANDBOX on. The sandbox
    routes (/sandbox/…) exist only then. Completing a payment on the sandbox pay page posts a correctly signed
    notification to the notify_url given in PayRequest, in-process when it is under PUBLIC_BASE_URL (the real
    notify endpoint runs), so notify_url must be PUBLIC_BASE_URL + the notify path.

Timeouts: PAYMENT_TIMEOUT_SECONDS on every call. How the sandbox is reached without HTTP: payments_sandbox/transport.py.
"""

from .base import (
    Gateway,
    Notification,
    OpenIdRequired,
    PayRequest,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    fen_to_yuan_str,
    get_gateway,
    sandbox_active,
    yuan_str_to_fen,
)

__all__ = [
    "Gateway",
    "Notification",
    "OpenIdRequired",
    "PayRequest",
    "ProviderError",
    "ProviderPayment",
    "ProviderRefund",
    "ProviderRejected",
    "ProviderUnavailable",
    "fen_to_yuan_str",
    "get_gateway",
    "sandbox_active",
    "yuan_str_to_fen",
]
