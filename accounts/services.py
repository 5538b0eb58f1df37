"""Every write of accounts: SMS codes, the three logins, login sessions and tokens, profile, email flows, admin.

Views, tasks, admin actions and commands all call these functions. Where a refusal must leave a trace (a wrong
SMS code counts a try; a reused refresh token revokes its session), the trace is committed in its own transaction
before the error is raised, so the request's rollback cannot undo it.
"""

import datetime
import hashlib
import hmac
import logging
import math
import re
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from tunee import fetch as fetching
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from .images import avatar_reencode
from .models import EmailSend, LoginSession, RefreshToken, User, VerificationCode
from .providers import ProviderError, ProviderNotConfigured, ProviderRejected, ProviderUnavailable
from .providers import sms as sms_providers
from .providers import wechat as wechat_provider
from .tokens import access_lifetime, access_token_issue, session_cache_forget, user_auth_forget

logger = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_VERIFY_SALT = "accounts.email-verify"
SMS_TEXT = T(
    "【Tunee】您的验证码是 {code}，{minutes} 分钟内有效，请勿告诉他人。",
    "[Tunee] Your verification code is {code}. It is valid for {minutes} minutes; do not share it.",
)
TAKEN = {
    "username": T("该用户名已被使用", "This username is already taken"),
    "email": T("该邮箱已被注册", "This email is already registered"),
    "phone": T("该手机号已绑定其他账号", "This phone number belongs to another account"),
}
TOO_SOON = T("发送过于频繁，请稍后再试", "Please wait before asking for another code")
DAILY_CAP = T("该手机号今日验证码次数已达上限", "Too many codes for this phone number today")
IP_CAP = T("请求验证码过于频繁，请稍后再试", "Too many codes requested from this network, try again later")
RESET_LINK_INVALID = T("重置链接无效或已使用", "This reset link is invalid or has already been used")
VERIFY_LINK_INVALID = T("验证链接无效或已过期", "This verification link is invalid or has expired")
WECHAT_NOT_CONFIGURED = T("微信登录未配置", "WeChat login is not configured")


# --- Small helpers ----------------------------------------------------------------------------------------------


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


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_username(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


def _throttled(message, retry_after: float) -> ApiError:
    wait = max(1, math.ceil(retry_after))
    return ApiError(Code.THROTTLED, message, details={"retryAfter": wait}, headers={"Retry-After": str(wait)})


def _duplicate(field: str) -> ApiError:
    return ApiError(Code.DUPLICATE, details={field: [str(TAKEN[field])]})


# How each database names the unique rule a duplicate broke: PostgreSQL gives the constraint or index name, SQLite
# the index name of an expression index or the columns of the others. Matched on these names, never on the whole
# message, which also quotes the value (a username `email_fan` must not read as a duplicate email).
_UNIQUE_MARKERS = (
    ("accounts_user_email_ci_unique", "email"),
    ("accounts_user_username_ci_unique", "username"),
    ("accounts_user_username_key", "username"),
    ("accounts_user_phone_unique", "phone"),
    ("accounts_user.email", "email"),
    ("accounts_user.username", "username"),
    ("accounts_user.phone", "phone"),
)


def _duplicate_from_integrity(exc: IntegrityError, fallback: str) -> ApiError:
    text = str(exc).lower()
    for marker, field in _UNIQUE_MARKERS:
        if marker in text:
            return _duplicate(field)
    return _duplicate(fallback)


# --- Login sessions and tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenBundle:
    access_token: str
    refresh_token: str
    expires_in: int
    session: LoginSession


@dataclass(frozen=True)
class LoginResult:
    user: User
    tokens: TokenBundle
    is_new_user: bool


def _refresh_token_create(*, session: LoginSession, device: str, ip: str | None) -> str:
    raw = secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        session=session,
        token_hash=_token_hash(raw),
        expires_at=timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        device=device[:200],
        ip=ip,
    )
    return raw


@transaction.atomic
def session_start(
    *,
    user: User,
    method: str = LoginSession.Method.OTHER,
    device: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> TokenBundle:
    """A new login session with its first refresh token and an access token. Tests call this to get tokens."""
    session = LoginSession.objects.create(
        user=user, method=method, device=device[:200], user_agent=user_agent[:300], created_ip=ip, last_ip=ip
    )
    refresh = _refresh_token_create(session=session, device=device, ip=ip)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return TokenBundle(
        access_token=access_token_issue(user_id=user.pk, session_id=session.pk),
        refresh_token=refresh,
        expires_in=int(access_lifetime().total_seconds()),
        session=session,
    )


def session_refresh(*, refresh_token: str, device: str = "", ip: str | None = None) -> TokenBundle:
    """Rotate: the presented token is spent and a new pair is issued. A spent token presented again is a replay
    (stolen or duplicated): its whole session is revoked. Unknown, expired or revoked → 2001."""
    now = timezone.now()
    outcome = None
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .select_related("session", "session__user")
            .filter(token_hash=_token_hash(refresh_token or ""))
            .first()
        )
        if row is None or row.session.revoked_at is not None or row.expires_at <= now:
            outcome = "invalid"
        elif row.rotated_at is not None:
            _sessions_revoke(LoginSession.objects.filter(pk=row.session_id), reason="refresh_reuse")
            outcome = "reuse"
        elif row.session.user.is_disabled:
            outcome = "disabled"
        else:
            RefreshToken.objects.filter(pk=row.pk, rotated_at__isnull=True).update(rotated_at=now)
            session = row.session
            session.last_refreshed_at = now
            session.last_ip = ip or session.last_ip
            session.save(update_fields=["last_refreshed_at", "last_ip"])
            new_refresh = _refresh_token_create(session=session, device=device or row.device, ip=ip)
            bundle = TokenBundle(
                access_token=access_token_issue(user_id=session.user_id, session_id=session.pk),
                refresh_token=new_refresh,
                expires_in=int(access_lifetime().total_seconds()),
                session=session,
            )
    if outcome == "reuse":
        logger.warning("Refresh token reuse: session %s revoked", row.session_id)
    if outcome == "disabled":
        raise ApiError(Code.ACCOUNT_DISABLED)
    if outcome is not None:
        raise ApiError(Code.TOKEN_INVALID)
    return bundle


def _sessions_revoke(queryset, *, reason: str) -> int:
    ids = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    if not ids:
        return 0
    LoginSession.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoke_reason=reason
    )
    # Forget the cached "alive" answers now and once more after commit (a request in between may have re-cached).
    session_cache_forget(ids)
    transaction.on_commit(lambda: session_cache_forget(ids))
    return len(ids)


@transaction.atomic
def session_revoke(*, session_id: uuid.UUID | str, user: User, reason: str = "logout") -> int:
    return _sessions_revoke(LoginSession.objects.filter(pk=session_id, user=user), reason=reason)


@transaction.atomic
def user_sessions_revoke_all(*, user: User, reason: str = "logout_all") -> int:
    """Every login of the user, on every device: refresh and access tokens stop working at once."""
    return _sessions_revoke(LoginSession.objects.filter(user=user), reason=reason)


def _check_not_disabled(user: User) -> None:
    if user.is_disabled:
        raise ApiError(Code.ACCOUNT_DISABLED)


# --- SMS codes ----------------------------------------------------------------------------------------------------


def _limits_lock(*keys: str) -> None:
    """Serialize the check-then-insert of the SMS limits per phone and per IP until the transaction ends.

    PostgreSQL transaction-level advisory locks, taken in one global order (sorted keys) so that two requests never
    wait on each other in a cycle. Without them, concurrent requests all read "below the cap" and all insert. SQLite
    (local development only) has no such lock; its writers are serialized by the database file anyway.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            lock_id = int.from_bytes(hashlib.sha256(f"accounts:{key}".encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


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
        raise _throttled(DAILY_CAP, (day_start + datetime.timedelta(days=1) - now).total_seconds())
    if ip:
        hour_ago = now - datetime.timedelta(hours=1)
        recent = VerificationCode.objects.filter(ip=ip, created_at__gt=hour_ago).order_by("created_at")
        if recent.count() >= settings.SMS_HOURLY_LIMIT_PER_IP:
            oldest = recent.values_list("created_at", flat=True).first()
            raise _throttled(IP_CAP, (oldest + datetime.timedelta(hours=1) - now).total_seconds())
    last = (
        VerificationCode.objects.filter(
            phone=phone, purpose=purpose, created_at__gt=now - datetime.timedelta(seconds=cooldown)
        )
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None:
        raise _throttled(TOO_SOON, (last + datetime.timedelta(seconds=cooldown) - now).total_seconds())
    # The cache claim also holds the cooldown where no advisory lock exists (SQLite) and across processes (Redis).
    from django.core.cache import cache

    key, deadline = f"accounts:sms-cooldown:{phone}:{purpose}", now.timestamp() + cooldown
    if not cache.add(key, deadline, cooldown):
        held = cache.get(key)
        if held is not None and float(held) > now.timestamp():
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
    from .tasks import enqueue, send_sms_code

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
        logger.warning("SMS to %s failed for good: %s", phone[:3] + "****" + phone[-4:], exc)
        return False
    VerificationCode.objects.filter(pk=code_id).update(delivery=VerificationCode.Delivery.SENT, delivery_error="")
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
        raise ApiError(Code.VERIFICATION_CODE_INVALID)


# --- Logins -------------------------------------------------------------------------------------------------------


def phone_login(*, phone: str, code: str, device: str = "", ip: str | None = None, user_agent: str = "") -> LoginResult:
    """Log in with an SMS code, creating the account on first login."""
    sms_code_consume(
        phone=phone, purposes=[VerificationCode.Purpose.LOGIN, VerificationCode.Purpose.REGISTER], code=code
    )
    with transaction.atomic():
        user = User.objects.filter(phone=phone).first()
        created = False
        if user is None:
            try:
                with transaction.atomic():
                    user = User(username=_new_username("p"), phone=phone)
                    user.set_unusable_password()
                    user.save()
                    created = True
            except IntegrityError:
                user = User.objects.get(phone=phone)
        _check_not_disabled(user)
        tokens = session_start(user=user, method=LoginSession.Method.PHONE, device=device, ip=ip, user_agent=user_agent)
    return LoginResult(user=user, tokens=tokens, is_new_user=created)


def wechat_login(
    *,
    code: str,
    nickname: str = "",
    avatar_url: str = "",
    device: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> LoginResult:
    """Exchange the WeChat code for an identity; link by unionid when WeChat gives one, else by openid."""
    try:
        identity = wechat_provider.exchange_code(code)
    except ProviderNotConfigured as exc:
        logger.error("WeChat login refused: %s", exc)
        raise ApiError(Code.UPSTREAM_FAILED, WECHAT_NOT_CONFIGURED) from None
    except ProviderRejected as exc:
        logger.info("WeChat login refused: %s", exc)
        raise ApiError(Code.THIRD_PARTY_LOGIN_FAILED) from None
    except ProviderError as exc:
        logger.warning("WeChat login unavailable: %s", exc)
        raise ApiError(Code.UPSTREAM_FAILED) from None
    nickname = (identity.nickname or nickname or "")[:100]
    avatar_url = (identity.avatar_url or avatar_url or "")[:500]

    def find() -> User | None:
        if identity.unionid:
            found = User.objects.filter(wechat_unionid=identity.unionid).first()
            if found:
                return found
        return User.objects.filter(wechat_openid=identity.openid).first()

    with transaction.atomic():
        user = find()
        created = False
        if user is None:
            try:
                with transaction.atomic():
                    user = User(
                        username=_new_username("wx"),
                        wechat_openid=identity.openid,
                        wechat_unionid=identity.unionid,
                        wechat_session_key=identity.session_key,
                        wechat_nickname=nickname,
                        wechat_avatar_url=avatar_url,
                    )
                    user.set_unusable_password()
                    user.save()
                    created = True
            except IntegrityError:
                user = find()
                if user is None:
                    raise
            else:
                _wechat_avatar_copy_later(user=user, url=avatar_url)
        else:
            changed = []
            if identity.unionid and not user.wechat_unionid:
                user.wechat_unionid = identity.unionid
                changed.append("wechat_unionid")
            if identity.session_key and identity.session_key != user.wechat_session_key:
                user.wechat_session_key = identity.session_key
                changed.append("wechat_session_key")
            if nickname and nickname != user.wechat_nickname:
                user.wechat_nickname = nickname
                changed.append("wechat_nickname")
            if avatar_url and (avatar_url != user.wechat_avatar_url or not user.wechat_avatar):
                user.wechat_avatar_url = avatar_url
                changed.append("wechat_avatar_url")
                _wechat_avatar_copy_later(user=user, url=avatar_url)
            if changed:
                user.save(update_fields=[*changed, "updated_at"])
        _check_not_disabled(user)
        tokens = session_start(
            user=user, method=LoginSession.Method.WECHAT, device=device, ip=ip, user_agent=user_agent
        )
    return LoginResult(user=user, tokens=tokens, is_new_user=created)


# --- WeChat avatars -------------------------------------------------------------------------------------------
# The avatarUrl a client sends (or WeChat's headimgurl) is never shown: it could point anywhere, and would be shown to
# everyone as given. After the login commits, a job on the default queue copies it into our storage, re-encoded like
# an uploaded avatar (tunee.fetch: public addresses, image bytes only; Pillow with a pixel bound); the profile shows
# that copy, and no WeChat avatar until then. The login never waits for it nor fails because of it.

WECHAT_AVATAR_TIMEOUT = 10.0


def _wechat_avatar_copy_later(*, user: User, url: str) -> None:
    if not url:
        return
    from .tasks import copy_wechat_avatar

    user_id = str(user.pk)
    # robust: a broker that is down is logged, and the login that committed still answers
    transaction.on_commit(lambda: copy_wechat_avatar.apply_async(args=[user_id, url], queue="default"), robust=True)


def wechat_avatar_copy(*, user_id, url: str) -> bool:
    """Copy the WeChat avatar at `url` into our storage for this user; True when a copy was stored.

    Does nothing when the user's source URL is no longer `url` (a later login brought another one and copies that).
    A URL that is refused (private address, not an image, too large, 4xx) or bytes Pillow will not decode are logged
    and dropped; transient trouble (FetchUnavailable) propagates for the job to retry.
    """
    user = User.objects.filter(pk=user_id, wechat_avatar_url=url).first()
    if user is None or not url:
        return False
    try:
        fetched = fetching.fetch(
            url, max_bytes=settings.AVATAR_MAX_BYTES, timeout=WECHAT_AVATAR_TIMEOUT, allowed=fetching.IMAGE
        )
        image = avatar_reencode(ContentFile(fetched.data))
    except fetching.FetchRefused as exc:
        logger.info("WeChat avatar of %s not copied: %s", user_id, exc)
        return False
    except ApiError:
        logger.info("WeChat avatar of %s not copied: not a decodable image", user_id)
        return False
    old = user.wechat_avatar.name if user.wechat_avatar else ""
    name = default_storage.save(f"avatars/{user.pk}/{image.name}", image)
    if not User.objects.filter(pk=user.pk, wechat_avatar_url=url).update(wechat_avatar=name):
        default_storage.delete(name)  # the URL changed meanwhile
        return False
    if old and old != name:
        default_storage.delete(old)
    return True


def _password_errors(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ApiError(Code.VALIDATION, details={"password": list(exc.messages)}) from None


def email_register(
    *,
    username: str,
    email: str,
    password: str,
    avatar=None,
    device: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> LoginResult:
    """Photo Song's `POST /users`: an email account, logged in at once; a verification mail is queued."""
    email = User.objects.normalize_email(email).strip()
    if User.objects.filter(username__iexact=username).exists():
        raise _duplicate("username")
    if User.objects.filter(email__iexact=email).exists():
        raise _duplicate("email")
    candidate = User(username=username, email=email)
    _password_errors(password, candidate)
    image = avatar_reencode(avatar) if avatar is not None else None
    stored = None
    try:
        with transaction.atomic():
            user = User(username=username, email=email)
            user.set_password(password)
            user.save()
            if image is not None:
                stored = default_storage.save(f"avatars/{user.pk}/{image.name}", image)
                user.avatar.name = stored
                user.save(update_fields=["avatar"])
            tokens = session_start(
                user=user, method=LoginSession.Method.REGISTER, device=device, ip=ip, user_agent=user_agent
            )
            from .tasks import enqueue, send_verification_email

            if email_send_allow(address=email, kind=EmailSend.Kind.VERIFICATION):
                transaction.on_commit(lambda: enqueue(send_verification_email, str(user.pk)))
    except IntegrityError as exc:
        if stored:
            default_storage.delete(stored)
        raise _duplicate_from_integrity(exc, "email") from None
    return LoginResult(user=user, tokens=tokens, is_new_user=True)


_DUMMY_PASSWORD_HASH = None


def _burn_password_check(password: str) -> None:
    """Spend the time a real check takes, so an unknown email is not told apart by the answer's timing."""
    global _DUMMY_PASSWORD_HASH
    from django.contrib.auth.hashers import check_password, make_password

    if _DUMMY_PASSWORD_HASH is None:
        _DUMMY_PASSWORD_HASH = make_password(secrets.token_urlsafe(16))
    check_password(password, _DUMMY_PASSWORD_HASH)


def email_login(
    *, email: str, password: str, device: str = "", ip: str | None = None, user_agent: str = ""
) -> LoginResult:
    """Unknown email and wrong password both give 20001 (no enumeration); disabled 20003; unverified 20002 when
    `REQUIRE_EMAIL_VERIFICATION` is on — the last two only after the password was right."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first() if email else None
    if user is None or not user.has_usable_password():
        _burn_password_check(password)
        raise ApiError(Code.WRONG_CREDENTIALS)
    if not user.check_password(password):
        raise ApiError(Code.WRONG_CREDENTIALS)
    _check_not_disabled(user)
    if settings.REQUIRE_EMAIL_VERIFICATION and not user.email_verified:
        raise ApiError(Code.EMAIL_NOT_VERIFIED)
    tokens = session_start(user=user, method=LoginSession.Method.EMAIL, device=device, ip=ip, user_agent=user_agent)
    return LoginResult(user=user, tokens=tokens, is_new_user=False)


# --- Email links: verification and password reset -----------------------------------------------------------------


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
    from .tasks import enqueue, send_password_reset_email

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


# --- Profile --------------------------------------------------------------------------------------------------------


def user_update_profile(
    *,
    user: User,
    username: str | None = None,
    avatar=None,
    language: str | None = None,
    notifications: bool | None = None,
) -> User:
    """PATCH /user/me: only the fields given change. A new avatar replaces (and deletes) the old file. A new username
    is screened first (60001, nothing changed); a new avatar is screened as a photo (moderation app)."""
    from moderation.providers import SCENE_PROFILE
    from moderation.services import content_screen, media_screen

    if username is not None and username != user.username:
        content_screen(
            user=user,
            source="profile",
            fields={"username": username},
            subject="user",
            subject_id=user.pk,
            scene=SCENE_PROFILE,
        )
    image = avatar_reencode(avatar) if avatar is not None else None
    stored = None
    old_avatar = user.avatar.name if user.avatar else ""
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user.pk)
            fields = []
            if username is not None and username != user.username:
                if User.objects.filter(username__iexact=username).exclude(pk=user.pk).exists():
                    raise _duplicate("username")
                user.username = username
                fields.append("username")
            if language is not None:
                user.language = language
                fields.append("language")
            if notifications is not None:
                user.notifications = notifications
                fields.append("notifications")
            if image is not None:
                stored = default_storage.save(f"avatars/{user.pk}/{image.name}", image)
                user.avatar.name = stored
                fields.append("avatar")
                media_screen(
                    user=user,
                    source="profile",
                    field_name="avatar",
                    subject="avatar",
                    subject_id=user.pk,
                    file_name=stored,
                    scene=SCENE_PROFILE,
                )
            if fields:
                user.save(update_fields=[*fields, "updated_at"])
                if "language" in fields:  # now, and once committed (a request in between may cache the old one)
                    user_auth_forget(user.pk)
                    transaction.on_commit(lambda: user_auth_forget(user.pk))
    except IntegrityError:
        if stored:
            default_storage.delete(stored)
        raise _duplicate("username") from None
    except ApiError:
        if stored:
            default_storage.delete(stored)
        raise
    if stored and old_avatar:
        transaction.on_commit(lambda: default_storage.delete(old_avatar))
    return user


def user_bind_phone(*, user: User, phone: str, code: str) -> User:
    """Bind a phone after its `bind_phone` code checks out; a phone on another account → 11000 (asked only after
    the code, so only the phone's owner can learn that)."""
    sms_code_consume(phone=phone, purposes=[VerificationCode.Purpose.BIND_PHONE], code=code)
    try:
        with transaction.atomic():
            if User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
                raise _duplicate("phone")
            User.objects.filter(pk=user.pk).update(phone=phone, updated_at=timezone.now())
    except IntegrityError:
        raise _duplicate("phone") from None
    user.phone = phone
    return user


# --- Staff ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def user_disable(*, user: User) -> None:
    """Logins and authenticated requests answer 20003 until enabled again (sessions are kept for that)."""
    User.objects.filter(pk=user.pk).update(status=User.Status.DISABLED, is_active=False, updated_at=timezone.now())
    user_auth_forget(user.pk)
    transaction.on_commit(lambda: user_auth_forget(user.pk))


@transaction.atomic
def user_enable(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(status=User.Status.ACTIVE, is_active=True, updated_at=timezone.now())
    user_auth_forget(user.pk)
    transaction.on_commit(lambda: user_auth_forget(user.pk))


def user_avatar_verdict(*, subject_id, field: str, outcome: str, label: str, file_name: str = "") -> None:
    """A later verdict on an uploaded avatar (moderation's WeChat media push): a risky one is removed, if it is still
    the user's avatar."""
    if outcome != "risky" or not file_name:
        return
    if User.objects.filter(pk=subject_id, avatar=file_name).update(avatar="", updated_at=timezone.now()):
        transaction.on_commit(lambda: default_storage.delete(file_name))
