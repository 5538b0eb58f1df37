import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from tunee.crypto import EncryptedTextField


class User(AbstractUser):
    """The custom user model, in place from the first migration (swapping it later is painful).

    Ids are UUIDs: the contract's ids are opaque strings. A user can log in by phone (SMS code), by WeChat, or by
    email and password; whichever identities they have are unique across accounts (database constraints below).
    `status` is the account switch the contract speaks of (20003); `is_active` follows it so that Django's own
    login (the admin) refuses a disabled account too.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        DISABLED = "disabled", "disabled"

    class Language(models.TextChoices):
        ZH_CN = "zh-CN", "简体中文"
        EN = "en", "English"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email_verified = models.BooleanField(default=False)
    phone = models.CharField(max_length=20, null=True, blank=True, help_text="mainland mobile, 11 digits")
    avatar = models.FileField(upload_to="avatars/", blank=True, max_length=255)
    wechat_openid = models.CharField(max_length=64, null=True, blank=True)
    wechat_unionid = models.CharField(max_length=64, null=True, blank=True)
    wechat_session_key = EncryptedTextField(
        blank=True, default="", help_text="the mini program's session_key of the last login, encrypted at rest"
    )
    wechat_nickname = models.CharField(max_length=100, blank=True)
    wechat_avatar_url = models.URLField(
        max_length=500, blank=True, help_text="as WeChat or the client gave it: never shown, only copied from"
    )
    wechat_avatar = models.FileField(
        upload_to="avatars/", blank=True, max_length=255, help_text="our re-encoded copy of the WeChat avatar"
    )
    language = models.CharField(max_length=10, choices=Language.choices, default=Language.ZH_CN)
    notifications = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_user"
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
        PHONE = "phone", "phone"
        WECHAT = "wechat", "wechat"
        EMAIL = "email", "email"
        REGISTER = "register", "register"
        OTHER = "other", "other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    method = models.CharField(max_length=10, choices=Method.choices)
    device = models.CharField(max_length=200, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    last_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoke_reason = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.method} login of {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RefreshToken(models.Model):
    """An opaque refresh token, stored as its SHA-256 only. `rotated_at` set = already used once."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(LoginSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)
    device = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="refresh_expires_after")
        ]

    def __str__(self):
        return f"refresh token {self.pk} of session {self.session_id}"


class VerificationCode(models.Model):
    """An SMS code: 6 digits, stored as an HMAC, valid for a few minutes, single use, dead after too many tries."""

    class Purpose(models.TextChoices):
        LOGIN = "login", "login"
        REGISTER = "register", "register"
        RESET_PASSWORD = "reset_password", "reset_password"
        BIND_PHONE = "bind_phone", "bind_phone"

    class Delivery(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    id = models.BigAutoField(primary_key=True)
    phone = models.CharField(max_length=20)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PENDING)
    delivery_error = models.CharField(max_length=200, blank=True)

    class Meta:
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
        VERIFICATION = "verification", "verification"
        PASSWORD_RESET = "password_reset", "password_reset"

    id = models.BigAutoField(primary_key=True)
    address = models.CharField(max_length=254)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["address", "created_at"])]

    def __str__(self):
        return f"{self.kind} mail to {self.address[:12]}…"
