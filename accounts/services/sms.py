"""SMS codes: send one within the caps, deliver it once from the job, spend it at a login or a phone binding."""

import datetime
import hashlib
import hmac
import logging
import re
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tunee import metrics
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from ..models import VerificationCode
from ..providers import ProviderError, ProviderUnavailable
from ..providers import sms as sms_providers
from .common import _limits_lock, _throttled

logger = logging.getLogger(__name__)


PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


SMS_TEXT = T(
    "【Tunee】您的验证码是 {code}，{minutes} 分钟内有效，请勿告诉他人。",
    "[Tunee] Your verification code is {code}. It is valid for {minutes} minutes; do not share it.",
)


TOO_SOON = T("发送过于频繁，请稍后再试", "Please wait before asking for another code")


DAILY_CAP = T("该手机号今日验证码次数已达上限", "Too many codes for this phone number today")


IP_CAP = T("请求验证码过于频繁，请稍后再试", "Too many codes requested from this network, try again later")


def phone_normalize(raw: str) -> str | None:
    """`+86 138-0013-8000` → `13800138000`; None when it is not a mainland mobile number."""
    digits = re.sub(r"[\s\-()]", "", str(raw or ""))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if PHONE_RE.match(digits) else None


def _code_hash(*, phone: str, purpose: str, code: str) -> str:
    # A keyed hash: a plain SHA-256 of a 6-digit code is reversed by trying the million candidates.
    message = f"{phone}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def sms_code_send(*, phone: str, purpose: str, ip: str | None) -> int:
    """Create a code and queue its SMS. Answers the same whether or not the phone has an account.

    Limits: one code per phone and purpose per cooldown, a daily cap per phone, an hourly cap per IP (settings);
    each refusal is 429 with `retryAfter`. The limits are checked and the code stored under a lock on the phone and
    the IP, so that however many requests race, no limit is passed. Returns the cooldown in seconds.
    """
    _limits_lock(f"sms-phone:{phone}", *([f"sms-ip:{ip}"] if ip else []))
    now = timezone.now()
    cooldown = settings.SMS_COOLDOWN_SECONDS
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    sent_today = VerificationCode.objects.filter(phone=phone, created_at__gte=day_start).count()
    if sent_today >= settings.SMS_DAILY_LIMIT_PER_PHONE:
        metrics.sms_refused("daily_cap")
        raise _throttled(DAILY_CAP, (day_start + datetime.timedelta(days=1) - now).total_seconds())
    if ip:
        hour_ago = now - datetime.timedelta(hours=1)
        recent = VerificationCode.objects.filter(ip=ip, created_at__gt=hour_ago).order_by("created_at")
        if recent.count() >= settings.SMS_HOURLY_LIMIT_PER_IP:
            oldest = recent.values_list("created_at", flat=True).first()
            metrics.sms_refused("ip_cap")
            raise _throttled(IP_CAP, (oldest + datetime.timedelta(hours=1) - now).total_seconds())
    last = (
        VerificationCode.objects.filter(
            phone=phone, purpose=purpose, created_at__gt=now - datetime.timedelta(seconds=cooldown)
        )
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None:
        metrics.sms_refused("cooldown")
        raise _throttled(TOO_SOON, (last + datetime.timedelta(seconds=cooldown) - now).total_seconds())
    # The cache claim also holds the cooldown where no advisory lock exists (SQLite) and across processes (Redis).
    from django.core.cache import cache

    key, deadline = f"accounts:sms-cooldown:{phone}:{purpose}", now.timestamp() + cooldown
    if not cache.add(key, deadline, cooldown):
        held = cache.get(key)
        if held is not None and float(held) > now.timestamp():
            metrics.sms_refused("cooldown")
            raise _throttled(TOO_SOON, float(held) - now.timestamp())
        cache.set(key, deadline, cooldown)  # a claim that outlived its deadline by our clock

    code = f"{secrets.randbelow(1_000_000):06d}"
    row = VerificationCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_code_hash(phone=phone, purpose=purpose, code=code),
        ip=ip,
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    text = SMS_TEXT.format(code=code, minutes=max(1, settings.SMS_CODE_TTL_SECONDS // 60))
    from ..tasks import enqueue, send_sms_code

    transaction.on_commit(lambda: enqueue(send_sms_code, row.pk, text, {"code": code}))
    return cooldown


def sms_code_deliver(*, code_id: int, text: str, params: dict) -> bool:
    """Send one code's SMS once (a second delivery of the job sends nothing). Transient provider errors give the
    claim back and are raised for the task to retry; permanent ones mark the row failed. True when sent now."""
    claimed = VerificationCode.objects.filter(
        pk=code_id, delivery=VerificationCode.Delivery.PENDING, used_at__isnull=True
    ).update(delivery=VerificationCode.Delivery.SENDING)
    if not claimed:
        return False
    phone = VerificationCode.objects.values_list("phone", flat=True).get(pk=code_id)
    try:
        sms_providers.get_backend().send(phone=phone, text=text, params=params)
    except ProviderUnavailable as exc:
        VerificationCode.objects.filter(pk=code_id).update(
            delivery=VerificationCode.Delivery.PENDING, delivery_error=str(exc)[:200]
        )
        raise
    except ProviderError as exc:
        VerificationCode.objects.filter(pk=code_id).update(
            delivery=VerificationCode.Delivery.FAILED, delivery_error=str(exc)[:200]
        )
        metrics.sms_refused("provider")
        logger.warning("SMS to %s failed for good: %s", phone[:3] + "****" + phone[-4:], exc)
        return False
    VerificationCode.objects.filter(pk=code_id).update(delivery=VerificationCode.Delivery.SENT, delivery_error="")
    metrics.sms_sent()
    return True


def sms_code_consume(*, phone: str, purposes: list[str], code: str) -> None:
    """Spend a live code of the phone for one of these purposes, or raise 20004.

    Any live code is accepted (a slow first SMS still works after asking again). A wrong try counts against every
    live code of the phone; a code dies after SMS_CODE_MAX_ATTEMPTS wrong tries. Committed in its own transaction,
    so a wrong try still counts when the request fails: call it outside any other transaction.
    """
    now = timezone.now()
    accepted = False
    with transaction.atomic():
        live = list(
            VerificationCode.objects.select_for_update()
            .filter(
                phone=phone,
                purpose__in=purposes,
                used_at__isnull=True,
                expires_at__gt=now,
                attempts__lt=settings.SMS_CODE_MAX_ATTEMPTS,
            )
            .order_by("-created_at")
        )
        for row in live:
            expected = _code_hash(phone=phone, purpose=row.purpose, code=str(code))
            if hmac.compare_digest(row.code_hash, expected):
                VerificationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
                    used_at=now, attempts=F("attempts") + 1
                )
                accepted = True
                break
        if live and not accepted:
            VerificationCode.objects.filter(pk__in=[row.pk for row in live]).update(attempts=F("attempts") + 1)
    if not accepted:
        metrics.login_failed("phone" if VerificationCode.Purpose.LOGIN in purposes else "bind_phone", "wrong_code")
        raise ApiError(Code.VERIFICATION_CODE_INVALID)
