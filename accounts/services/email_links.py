"""Account mails and their links: the mail caps, email verification and password reset."""

import datetime
import hashlib
import logging
import uuid

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from ..models import EmailSend, User
from .common import _limits_lock, _password_errors
from .sessions import user_sessions_revoke_all

logger = logging.getLogger(__name__)


EMAIL_VERIFY_SALT = "accounts.email-verify"


RESET_LINK_INVALID = T("重置链接无效或已使用", "This reset link is invalid or has already been used")


VERIFY_LINK_INVALID = T("验证链接无效或已过期", "This verification link is invalid or has expired")


def email_address_key(address: str) -> str:
    """What the mail caps count by: the SHA-256 of the address, trimmed and lowercased (`Bob@Example.com ` and
    `bob@example.com` are one), so that addresses typed by anyone are not kept in clear. Empty for no address."""
    address = (address or "").strip().lower()
    return hashlib.sha256(address.encode()).hexdigest() if address else ""


def email_send_allow(*, address: str, kind: str) -> bool:
    """Count one account mail to `address` unless its caps forbid it; False means: send nothing.

    Like the SMS limits: at most one mail of a kind per EMAIL_COOLDOWN_SECONDS and EMAIL_DAILY_LIMIT_PER_ADDRESS
    mails per business day, per address whatever its case, whether or not an account has it. Checked and counted
    under the address's lock, so that racing requests cannot pass a cap. Callers answer as if it were sent (a
    refusal must not tell who is registered); the caller's transaction (or this one) holds the count.
    """
    key = email_address_key(address)
    if not key:
        return False
    with transaction.atomic():
        _limits_lock(f"email:{key}")
        now = timezone.now()
        cooldown = settings.EMAIL_COOLDOWN_SECONDS
        day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        sent_today = EmailSend.objects.filter(address=key, created_at__gte=day_start)
        if sent_today.count() >= settings.EMAIL_DAILY_LIMIT_PER_ADDRESS:
            logger.info("Account mail (%s) not sent: daily cap of its address reached", kind)
            return False
        if cooldown > 0:
            if sent_today.filter(kind=kind, created_at__gt=now - datetime.timedelta(seconds=cooldown)).exists():
                logger.info("Account mail (%s) not sent: its address is in its cooldown", kind)
                return False
            # As for SMS: the cache claim holds the cooldown where no advisory lock exists (SQLite).
            from django.core.cache import cache

            claim, deadline = (
                f"accounts:email-cooldown:{key}:{kind}",
                now.timestamp() + cooldown,
            )
            if not cache.add(claim, deadline, cooldown):
                held = cache.get(claim)
                if held is not None and float(held) > now.timestamp():
                    return False
                cache.set(claim, deadline, cooldown)
        EmailSend.objects.create(address=key, kind=kind, created_at=now)
    return True


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def email_verification_link(*, user: User) -> str:
    token = signing.dumps({"u": str(user.pk), "e": user.email.lower()}, salt=EMAIL_VERIFY_SALT)
    return _absolute(reverse("accounts-verify-email", args=[token]))


def email_verification_send(*, user_id: str) -> bool:
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.email or user.email_verified:
        return False
    link = email_verification_link(user=user)
    send_mail(
        subject="验证你的 Tunee 邮箱 / Verify your Tunee email",
        message=(
            f"你好 {user.username}，\n\n请打开下面的链接验证你的邮箱：\n{link}\n\n"
            f"Hello {user.username},\n\nopen this link to verify your email address:\n{link}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True


def email_verification_check(*, token: str) -> User:
    """The user a verification link names, or ApiError when it is forged, expired or for an older address."""
    try:
        data = signing.loads(
            token, salt=EMAIL_VERIFY_SALT, max_age=datetime.timedelta(days=settings.EMAIL_VERIFICATION_MAX_AGE_DAYS)
        )
    except signing.BadSignature:
        raise ApiError(Code.VALIDATION, VERIFY_LINK_INVALID) from None
    user = User.objects.filter(pk=data.get("u")).first()
    if user is None or user.email.lower() != data.get("e"):
        raise ApiError(Code.VALIDATION, VERIFY_LINK_INVALID)
    return user


@transaction.atomic
def email_verify(*, token: str) -> User:
    user = email_verification_check(token=token)
    if not user.email_verified:
        User.objects.filter(pk=user.pk).update(email_verified=True, updated_at=timezone.now())
        user.email_verified = True
    return user


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Queues a reset mail when the email has an account; answers the same way when it has none.

    The mail caps (`email_send_allow`) are counted first, for known and unknown addresses alike; over them,
    nothing is sent and the answer is the same success.
    """
    if not email_send_allow(address=email, kind=EmailSend.Kind.PASSWORD_RESET):
        return
    user = User.objects.filter(email__iexact=(email or "").strip()).first() if email else None
    if user is None or user.is_disabled:
        return
    from ..tasks import enqueue, send_password_reset_email

    transaction.on_commit(lambda: enqueue(send_password_reset_email, str(user.pk)))


def password_reset_link(*, user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return _absolute(reverse("accounts-password-reset", args=[uidb64, token]))


def password_reset_send(*, user_id: str) -> bool:
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.email or user.is_disabled:
        return False
    link = password_reset_link(user=user)
    send_mail(
        subject="重置你的 Tunee 密码 / Reset your Tunee password",
        message=(
            f"你好 {user.username}，\n\n打开下面的链接设置新密码（链接只能使用一次）：\n{link}\n\n"
            f"Hello {user.username},\n\nopen this link to set a new password (it works once):\n{link}\n\n"
            "如果不是你本人操作，请忽略此邮件。 If you did not ask for this, ignore this email.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True


def password_reset_user(*, uidb64: str, token: str) -> User | None:
    """The user of a reset link while it is valid: the token embeds the password hash, so it dies once used."""
    try:
        user_id = force_str(urlsafe_base64_decode(uidb64))
        user = User.objects.filter(pk=uuid.UUID(user_id)).first()
    except (ValueError, TypeError, OverflowError):
        return None
    if user is None or user.is_disabled or not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def password_reset_confirm(*, uidb64: str, token: str, password: str) -> User:
    """Set the new password and log the account out everywhere. The link works once."""
    user = password_reset_user(uidb64=uidb64, token=token)
    if user is None:
        raise ApiError(Code.VALIDATION, RESET_LINK_INVALID)
    user = User.objects.select_for_update().get(pk=user.pk)
    if not default_token_generator.check_token(user, token):  # a parallel submission won the race
        raise ApiError(Code.VALIDATION, RESET_LINK_INVALID)
    _password_errors(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    user_sessions_revoke_all(user=user, reason="password_reset")
    return user
