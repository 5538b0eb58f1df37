"""Demo data for `make run` (idempotent): an email account, and how to log in by phone.

The demo account has a published password, so it is created only while DEBUG is on (a development machine); with
DEBUG off `load()` creates nothing and says so.
"""

from django.conf import settings

DEMO_EMAIL = "demo@tunee.app"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "tunee-demo-2024"  # noqa: S105 # nosec B105  # documented demo account, DEBUG only
DEMO_PHONE = "13800138000"
SKIPPED = f"Demo account {DEMO_EMAIL} skipped: DEBUG is off (its password is public)."


def load() -> list[str]:
    from .models import User
    from .providers import wechat

    if not settings.DEBUG:
        return [SKIPPED]
    user = User.objects.filter(email__iexact=DEMO_EMAIL).first()
    if user is None:
        user = User(username=DEMO_USERNAME, email=DEMO_EMAIL, email_verified=True)
        user.set_password(DEMO_PASSWORD)
        user.save()
    base = f"{settings.PUBLIC_BASE_URL}/api"
    lines = [
        f'Email login:  POST {base}/login  {{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}',
        f'Phone login:  POST {base}/auth/send-code  {{"phone": "{DEMO_PHONE}"}}  (any mainland mobile number), then',
        f"              read the line `SMS to {DEMO_PHONE}: ...` in this console and",
        f'              POST {base}/auth/phone-login  {{"phone": "{DEMO_PHONE}", "code": "<6 digits>"}}',
    ]
    if wechat.is_sandbox():
        code = '{"code": "anything"}'
        lines.append(f"WeChat login: POST {base}/auth/wechat-login  {code}  (sandbox: each code is its own account)")
    return lines
