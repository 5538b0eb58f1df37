from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsSandboxConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments_sandbox"
    verbose_name = _("Payment sandbox")
