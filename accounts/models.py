import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tunee.crypto import EncryptedTextField


class User(AbstractUser):
    """The custom user model, in place from the first migration (swapping it later is painful).

    Ids are UUIDs: the contract's ids are opaque strings. A user can log in by phone (SMS code), by WeChat, or by
    email and password; whichever identities they have are unique across accounts (database constraints below).
    `status` is the account switch the contract speaks of (20003); `is_active` follows it so that Django's own
    login (the admin) refuses a disabled account too.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        DISABLED = "disabled", _("disabled")

    class Language(models.TextChoices):  # each language named in itself, as settings.LANGUAGES: not translated
        ZH_CN = "zh-CN", "简体中文"
        EN = "en", "English"

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    email_verified = models.BooleanField(_("email verified"), default=False)
    phone = models.CharField(
        _("phone"), max_length=20, null=True, blank=True, help_text=_("mainland mobile, 11 digits")
    )
    avatar = models.FileField(_("avatar"), upload_to="avatars/", blank=True, max_length=255)
    wechat_openid = models.CharField(_("WeChat openid"), max_length=64, null=True, blank=True)
    wechat_unionid = models.CharField(_("WeChat unionid"), max_length=64, null=True, blank=True)
    wechat_session_key = EncryptedTextField(
        _("WeChat session key"),
        blank=True,
        default="",
        help_text=_("the mini program's session_key of the last login, encrypted at rest"),
    )
    wechat_nickname = models.CharField(_("WeChat nickname"), max_length=100, blank=True)
    wechat_avatar_url = models.URLField(
        _("WeChat avatar URL"),
        max_length=500,
        blank=True,
        help_text=_("as WeChat or the client gave it: never shown, only copied from"),
    )
    wechat_avatar = models.FileField(
        _("WeChat avatar copy"),
        upload_to="avatars/",
        blank=True,
        max_length=255,
        help_text=_("our re-encoded copy of the WeChat avatar"),
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.ZH_CN)
    notifications = models.BooleanField(_("notifications on"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        db_table = "accounts_user"
        # Staff actions that are not a model's add/change/delete/view (the roles in accounts/roles.py hand them out)
        permissions = [("revoke_sessions", "Can log a user out on every device")]
        constraints = [
            # Usernames are told apart ignoring case (`Bob` and `bob` are one name), as the services check them.
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            # Email is optional (phone and WeChat accounts have none) and unique ignoring case when present.
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(
                fields=["phone"], condition=Q(phone__isnull=False), name="accounts_user_phone_unique"
            ),
            models.UniqueConstraint(
                fields=["wechat_openid"], condition=Q(wechat_openid__isnull=False), name="accounts_user_openid_unique"
            ),
            models.UniqueConstraint(
                fields=["wechat_unionid"],
                condition=Q(wechat_unionid__isnull=False),
                name="accounts_user_unionid_unique",
            ),
            models.CheckConstraint(condition=Q(status__in=["active", "disabled"]), name="accounts_user_status_valid"),
        ]

    @property
    def is_disabled(self) -> bool:
        return self.status == self.Status.DISABLED or not self.is_active


class LoginSession(models.Model):
    """One login on one device: the access tokens carry its id, the refresh tokens hang from it.

    Revoking it (logout, logout everywhere, refresh-token reuse, password reset) stops both kinds of token at once.
    """

    class Method(models.TextChoices):
        PHONE = "phone", _("phone (SMS code)")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("email")
        REGISTER = "register", _("registration")
        OTHER = "other", _("other")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions", verbose_name=_("user"))
    method = models.CharField(_("login method"), max_length=10, choices=Method.choices)
    device = models.CharField(_("device"), max_length=200, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_ip = models.GenericIPAddressField(_("first IP"), null=True, blank=True)
    last_ip = models.GenericIPAddressField(_("last IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_refreshed_at = models.DateTimeField(_("last refreshed at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, db_index=True)
    revoke_reason = models.CharField(_("revoke reason"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.method} login of {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RefreshToken(models.Model):
    """An opaque refresh token, stored as its SHA-256 only. `rotated_at` set = already used once."""

    id = models.BigAutoField(_("ID"), primary_key=True)
    session = models.ForeignKey(
        LoginSession, on_delete=models.CASCADE, related_name="refresh_tokens", verbose_name=_("login session")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    rotated_at = models.DateTimeField(_("rotated at"), null=True, blank=True)
    device = models.CharField(_("device"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="refresh_expires_after")
        ]

    def __str__(self):
        return f"refresh token {self.pk} of session {self.session_id}"


class VerificationCode(models.Model):
    """An SMS code: 6 digits, stored as an HMAC, valid for a few minutes, single use, dead after too many tries."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("log in")
        REGISTER = "register", _("register")
        RESET_PASSWORD = "reset_password", _("reset password")
        BIND_PHONE = "bind_phone", _("bind phone")

    class Delivery(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    id = models.BigAutoField(_("ID"), primary_key=True)
    phone = models.CharField(_("phone"), max_length=20)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(_("code hash"), max_length=64)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    delivery = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.PENDING)
    delivery_error = models.CharField(_("delivery error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone", "purpose", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="code_expires_after"),
        ]

    def __str__(self):
        return f"{self.purpose} code for {self.phone}"


class EmailSend(models.Model):
    """An account mail accepted for sending, counted against its address's cooldown and daily cap.

    Keyed by the SHA-256 of the address, lowercased (`Bob@X.com` and `bob@x.com` are one; the address itself is not
    kept), whether or not an account has it: a password reset for an unknown address counts too, so the caps say
    nothing about who is registered.
    """

    class Kind(models.TextChoices):
        VERIFICATION = "verification", _("email verification")
        PASSWORD_RESET = "password_reset", _("password reset")

    id = models.BigAutoField(_("ID"), primary_key=True)
    address = models.CharField(_("address hash"), max_length=254)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("account mail")
        verbose_name_plural = _("account mails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["address", "created_at"])]

    def __str__(self):
        return f"{self.kind} mail to {self.address[:12]}…"
