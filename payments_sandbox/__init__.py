"""The payment sandbox: WeChat Pay v2 and Alipay as they look from this service, run inside it. Its own app,
installed only when PAYMENT_SANDBOX is on (tunee/settings.py; the default with DEBUG): a production installation
has none of its tables, routes or admin pages, and `payments` reaches it only in sandbox mode (lazily, from
`payments/providers/`).

When a provider has no merchant credentials (and PAYMENT_SANDBOX is on), `get_gateway()` configures the real client
(wechatpy / python-alipay-sdk, through `payments/providers/`) with keys generated for the installation (`keys.py`)
and points it at this service's own sandbox gateway (`wechat_gateway.py`, `alipay_gateway.py`), which speaks the
provider's protocol: same signatures, same answers, same error codes. The client's HTTP session answers those
calls in-process (`transport.py`), so no request goes over a socket to ourselves. The trades are `SandboxTrade`
rows (`models.py`, read-only in the admin), kept by `services.py`.

The pay page (`views.py`, `GET /sandbox/pay/<provider>/<out_trade_no>?token=…`, linked from
`payParams.sandboxPayUrl`; only that link's signed token opens it, see `access.py`) plays the payer: its button
marks the trade paid, then posts the provider's correctly signed notification to the trade's notify_url (through
the same in-process transport: the real notify endpoint and code path run).

With credentials configured for a provider, none of its sandbox routes exists.
"""
