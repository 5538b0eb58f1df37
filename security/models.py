"""App keys for signed requests and the IP block / allow list."""

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tunee.crypto import EncryptedTextField


class AppKey(models.Model):
    """One key of one app client (the mini program, the iOS app, …). An app may have several active keys at once, so
    that a new key can be rolled out before the old one is disabled. The secret is stored encrypted and shown once,
    when the key is created; `key_id` is the public half that clients send as `X-App-Key`."""

    id = models.BigAutoField(_("ID"), primary_key=True)
    app = models.CharField(
        _("client app"), max_length=50, help_text=_("the client this key belongs to, e.g. miniprogram, ios")
    )
    key_id = models.CharField(_("key ID"), max_length=40, unique=True, editable=False)
    secret = EncryptedTextField(_("secret"), editable=False)
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("app key")
        verbose_name_plural = _("app keys")
        ordering = ["app", "-created_at"]

    def __str__(self):
        return f"{self.app} {self.key_id}"


class IpRule(models.Model):
    """An address or network (CIDR) that is refused at once (403, before authentication), or allowed: an allowed
    address is not held to the per-IP limit of anonymous requests. A block wins over an allow."""

    class Action(models.TextChoices):
        BLOCK = "block", _("block")
        ALLOW = "allow", _("allow")

    id = models.BigAutoField(_("ID"), primary_key=True)
    network = models.CharField(
        _("network"), max_length=64, help_text=_("an address (203.0.113.7) or a network (203.0.113.0/24)")
    )
    action = models.CharField(_("action"), max_length=5, choices=Action.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, help_text=_("empty: until removed"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("IP rule")
        verbose_name_plural = _("IP rules")
        ordering = ["action", "network"]
        constraints = [
            models.UniqueConstraint(fields=["network", "action"], name="security_iprule_unique"),
            models.CheckConstraint(condition=Q(action__in=["block", "allow"]), name="security_iprule_action_valid"),
        ]

    def __str__(self):
        return f"{self.action} {self.network}"

    def clean(self):
        try:
            self.network = str(ipaddress.ip_network(self.network.strip(), strict=False))
        except ValueError:
            raise ValidationError({"network": _("not an IP address or CIDR network")}) from None
