"""System checks of accounts, shown by `manage.py check` and at every start (runserver, migrate, …)."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def wechat_login_configured(app_configs=None, **kwargs) -> list[Warning]:
    """WeChat login needs WECHAT_APP_ID, or the sandbox (WECHAT_SANDBOX, on with DEBUG) that logs in by any code."""
    if settings.WECHAT_APP_ID:
        return []
    if not settings.WECHAT_SANDBOX:
        return [
            Warning(
                "WeChat login is not configured: WECHAT_APP_ID is unset and WECHAT_SANDBOX is off, "
                "so POST /api/auth/wechat-login answers 50000.",
                hint="Set WECHAT_APP_ID and WECHAT_APP_SECRET (or WECHAT_SANDBOX=1 on a development machine).",
                id="accounts.W001",
            )
        ]
    if not settings.DEBUG:
        return [
            Warning(
                "The WeChat login sandbox is on with DEBUG off: any code string logs in as its own account.",
                hint="Set WECHAT_APP_ID and WECHAT_APP_SECRET, or WECHAT_SANDBOX=0.",
                id="accounts.W002",
            )
        ]
    return []
