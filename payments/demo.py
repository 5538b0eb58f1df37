"""Demo lines for `make run`: how to buy a plan or points through the payment sandbox."""

from django.conf import settings


def load() -> list[str]:
    from payments.providers import sandbox_active

    base = f"{settings.PUBLIC_BASE_URL}/api"
    sandboxed = [p for p in ("wechat", "alipay") if sandbox_active(p)]
    if not sandboxed:
        return ["Payments: WeChat Pay / Alipay run with the configured merchant credentials (no sandbox)."]
    return [
        f"Payment sandbox ({', '.join(sandboxed)}): log in (above), then",
        f'  POST {base}/membership/order  {{"type": "monthly", "paymentMethod": "alipay", "device": "web"}}',
        f'  or POST {base}/points/purchase  {{"packageId": "7d0a3c1e-0b6f-4d51-9a51-000000000060", '
        '"payment": {"method": "wechat", "amount": 6, "device": "app"}}',
        "  open data.payParams.sandboxPayUrl in a browser and press the pay button: the signed notification reaches",
        f"  /api/payment/<provider>/notify and GET {base}/membership/info shows the membership (or points history).",
    ]
