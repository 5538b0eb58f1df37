from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from moderation import subjects

        from . import (
            checks,  # noqa: F401 (registers the system checks)
            services,
        )

        subjects.register("avatar", services.user_avatar_verdict)  # WeChat's later verdict on an uploaded avatar
