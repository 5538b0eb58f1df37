"""The three logins (phone code, WeChat, email and password) and the email registration; the copy of a WeChat
avatar into our storage that a WeChat login queues."""

import logging
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from tunee import fetch as fetching
from tunee import metrics
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from ..images import avatar_reencode
from ..models import EmailSend, LoginSession, User, VerificationCode
from ..providers import ProviderError, ProviderNotConfigured, ProviderRejected
from ..providers import wechat as wechat_provider
from .common import _check_not_disabled, _duplicate, _duplicate_from_integrity, _new_username, _password_errors
from .email_links import email_send_allow
from .sessions import LoginResult, session_start
from .sms import sms_code_consume

logger = logging.getLogger(__name__)


WECHAT_NOT_CONFIGURED = T("微信登录未配置", "WeChat login is not configured")


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
        metrics.login_failed("wechat", "rejected")
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


WECHAT_AVATAR_TIMEOUT = 10.0


def _wechat_avatar_copy_later(*, user: User, url: str) -> None:
    if not url:
        return
    from ..tasks import AVATAR_QUEUE, copy_wechat_avatar

    user_id = str(user.pk)
    # robust: a broker that is down is logged, and the login that committed still answers
    transaction.on_commit(lambda: copy_wechat_avatar.apply_async(args=[user_id, url], queue=AVATAR_QUEUE), robust=True)


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
            from ..tasks import enqueue, send_verification_email

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
        metrics.login_failed("email", "wrong_credentials")
        raise ApiError(Code.WRONG_CREDENTIALS)
    if not user.check_password(password):
        metrics.login_failed("email", "wrong_credentials")
        raise ApiError(Code.WRONG_CREDENTIALS)
    _check_not_disabled(user)
    if settings.REQUIRE_EMAIL_VERIFICATION and not user.email_verified:
        raise ApiError(Code.EMAIL_NOT_VERIFIED)
    tokens = session_start(user=user, method=LoginSession.Method.EMAIL, device=device, ip=ip, user_agent=user_agent)
    return LoginResult(user=user, tokens=tokens, is_new_user=False)
