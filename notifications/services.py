"""Writes of notifications: devices, WeChat subscriptions, and the deliveries telling a user a song finished.

A finished generation gets one `Delivery` row per channel (WeChat subscribe message, app push) and outcome, created
before anything is sent (the unique constraint turns every duplicate completion or redelivered job into a no-op);
a job claims a row by a conditional UPDATE (`pending → sending`, or a `sending` row whose worker's lease ran out),
sends, and records what happened. A transient provider error gives the claim back for the task to retry with
backoff; when the retries run out the row is marked failed, logged and counted. Nothing here ever touches the
generation: a notification that cannot be sent never fails a song.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from accounts.models import User
from tunee.api.i18n import T

from .metrics import DELIVERIES
from .models import Delivery, Device, Subscription
from .providers import NotSubscribed, ProviderError, ProviderUnavailable
from .providers import push as push_providers
from .providers import wechat as wechat_provider

logger = logging.getLogger(__name__)

# How long a worker holds a delivery it claimed: longer than any send may take.
LEASE = timedelta(minutes=2)
SOURCE_WORK = "work"  # a work's song is a generation with this source (generation.models.Generation.Source.WORK)

UNTITLED = T("未命名歌曲", "Untitled song")
READY_TITLE = T("歌曲已生成", "Your song is ready")
FAILED_TITLE = T("歌曲生成失败", "Your song could not be made")
READY_TEXT = T("你的歌曲《{title}》已生成，快去听听吧", "Your song “{title}” is ready: have a listen")
WORK_READY_TEXT = T(
    "你的照片歌曲《{title}》已生成，快去听听吧", "The song of your photo “{title}” is ready: have a listen"
)
FAILED_TEXT = T("你的歌曲《{title}》生成失败，请稍后重试", "Your song “{title}” could not be made, please try again")
# WeChat template values (a `phrase` keyword holds at most 5 characters, a `thing` 20).
OUTCOME_WORDS = {Delivery.Outcome.COMPLETED: "已完成", Delivery.Outcome.FAILED: "生成失败"}
THING_MAX = 20


# --- Devices ----------------------------------------------------------------------------------------------------


def device_register(*, user: User, platform: str, registration_id: str) -> Device:
    """Register (or refresh) an app installation for `user`. A registration id already known moves to `user`:
    the newest user who registers it is the one its phone belongs to now."""
    for _ in range(2):  # a concurrent first registration of the same id wins the insert; then this one updates
        try:
            with transaction.atomic():
                device, _created = Device.objects.update_or_create(
                    registration_id=registration_id, defaults={"user": user, "platform": platform}
                )
                return device
        except IntegrityError:
            continue
    raise IntegrityError(f"device {registration_id} could not be registered")


def device_unregister(*, user: User, registration_id: str) -> bool:
    """Forget one of `user`'s devices (logout). False when `user` has no device by that id (someone else's
    device is left alone)."""
    deleted, _ = Device.objects.filter(user=user, registration_id=registration_id).delete()
    return bool(deleted)


# --- WeChat subscriptions ---------------------------------------------------------------------------------------


def subscriptions_add(*, user: User, template_ids: list[str]) -> list[Subscription]:
    """Record the one-time subscriptions the mini program obtained: one row per template id given (a template
    named twice was accepted twice, and allows two messages)."""
    return Subscription.objects.bulk_create([Subscription(user=user, template_id=t) for t in template_ids])


def _subscription_claim(*, user_id, template_id: str, now: datetime) -> int | None:
    """Take the user's oldest unused subscription of `template_id` (a conditional UPDATE: two messages racing
    never use the same one). Returns its id, or None when there is none."""
    candidates = Subscription.objects.filter(user_id=user_id, template_id=template_id, used_at__isnull=True)
    for pk in candidates.order_by("created_at").values_list("pk", flat=True)[:5]:
        if Subscription.objects.filter(pk=pk, used_at__isnull=True).update(used_at=now):
            return pk
    return None


# --- Deliveries -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    status: str
    detail: str = ""


def deliveries_create(
    *, user_id, generation_id, source: str, title: str, outcome: str, finished_at: datetime
) -> list[int]:
    """One row per channel for this generation and outcome (existing rows are kept as they are). Returns the ids
    of the rows still to send."""
    rows = [
        Delivery(
            user_id=user_id,
            generation_id=generation_id,
            source=source,
            title=(title or "")[:200],
            outcome=outcome,
            finished_at=finished_at,
            channel=channel,
        )
        for channel in Delivery.Channel.values
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(generation_id=generation_id, outcome=outcome, status=Delivery.Status.PENDING)
        .order_by("channel")
        .values_list("pk", flat=True)
    )


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.SENDING, locked_until__lt=now),
            pk=delivery_id,
        ).update(status=Delivery.Status.SENDING, locked_until=now + LEASE, attempts=F("attempts") + 1)
    )


def _finish(delivery_id: int, status: str, detail: str = "", **fields) -> None:
    if status == Delivery.Status.SENT:
        fields["sent_at"] = timezone.now()
    Delivery.objects.filter(pk=delivery_id).update(status=status, detail=detail[:300], locked_until=None, **fields)


def delivery_send(*, delivery_id: int) -> str | None:
    """Send one delivery, once. Returns its new status, or None when another job has it or it is done already.
    A transient error gives the claim back (status pending) and is raised for the task to retry."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("user").get(pk=delivery_id)
    try:
        with translation.override("en" if delivery.user.language == User.Language.EN else settings.LANGUAGE_CODE):
            result = CHANNELS[delivery.channel](delivery, now)
    except ProviderUnavailable as exc:
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.PENDING, locked_until=None, detail=str(exc)[:300]
        )
        raise
    except ProviderError as exc:
        result = Sent(Delivery.Status.REJECTED, str(exc))
        logger.warning("notification %s (%s) rejected: %s", delivery_id, delivery.channel, exc)
    _finish(delivery_id, result.status, result.detail)
    DELIVERIES.labels(channel=delivery.channel, status=result.status).inc()
    return result.status


def delivery_give_up(*, delivery_id: int, error: str) -> None:
    """The retries ran out: mark it failed, log it and count it."""
    updated = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, detail=error[:300], locked_until=None
    )
    if updated:
        channel = Delivery.objects.values_list("channel", flat=True).get(pk=delivery_id)
        DELIVERIES.labels(channel=channel, status=Delivery.Status.FAILED).inc()
        logger.error("notification %s (%s) failed for good: %s", delivery_id, channel, error)


# --- What the messages say ----------------------------------------------------------------------------------------


def _title(delivery: Delivery) -> str:
    return delivery.title or str(UNTITLED)


def message_text(delivery: Delivery) -> str:
    if delivery.outcome == Delivery.Outcome.FAILED:
        return FAILED_TEXT.format(title=_title(delivery))
    text = WORK_READY_TEXT if delivery.source == SOURCE_WORK else READY_TEXT
    return text.format(title=_title(delivery))


def _page(delivery: Delivery) -> str:
    """The mini program page the message opens: a work's song opens the work, any other generation itself, both
    named by the generation id (`{id}` in the configured page)."""
    page = settings.WECHAT_PAGE_WORK_READY if delivery.source == SOURCE_WORK else settings.WECHAT_PAGE_SONG_READY
    return page.format(id=delivery.generation_id)


def _template(delivery: Delivery) -> str:
    if delivery.outcome == Delivery.Outcome.FAILED:
        return settings.WECHAT_TEMPLATE_SONG_FAILED
    return settings.WECHAT_TEMPLATE_SONG_READY


def _template_data(delivery: Delivery) -> dict[str, str]:
    """The template's keywords (WECHAT_TEMPLATE_FIELDS maps title, outcome and time to them)."""
    finished = timezone.localtime(delivery.finished_at)
    values = {
        "title": _title(delivery)[:THING_MAX],
        "outcome": OUTCOME_WORDS[delivery.outcome],
        "time": finished.strftime("%Y-%m-%d %H:%M"),
    }
    return {keyword: values[name] for name, keyword in settings.WECHAT_TEMPLATE_FIELDS.items() if name in values}


# --- Channels -----------------------------------------------------------------------------------------------------


def _send_wechat(delivery: Delivery, now: datetime) -> Sent:
    user = delivery.user
    if not user.notifications:
        return Sent(Delivery.Status.SKIPPED, "the user turned notifications off")
    template = _template(delivery)
    if not wechat_provider.is_configured() or not template:
        return Sent(Delivery.Status.SKIPPED, "WeChat subscribe messages are not configured")
    if not user.wechat_openid:
        return Sent(Delivery.Status.SKIPPED, "the user has no WeChat openid")
    subscription_id = _subscription_claim(user_id=user.pk, template_id=template, now=now)
    if subscription_id is None:
        return Sent(Delivery.Status.SKIPPED, "no unused subscription for the template")
    try:
        answer = wechat_provider.send(
            openid=user.wechat_openid, template_id=template, page=_page(delivery), data=_template_data(delivery)
        )
    except NotSubscribed as exc:  # WeChat holds no subscription for it: ours is given back, nothing used up
        Subscription.objects.filter(pk=subscription_id).update(used_at=None)
        return Sent(Delivery.Status.SKIPPED, str(exc))
    except ProviderError:
        Subscription.objects.filter(pk=subscription_id).update(used_at=None)
        raise
    return Sent(Delivery.Status.SENT, f"msgid {answer.get('msgid', '')}" if isinstance(answer, dict) else "")


def _send_push(delivery: Delivery, now: datetime) -> Sent:
    user = delivery.user
    if not user.notifications:
        return Sent(Delivery.Status.SKIPPED, "the user turned notifications off")
    backend = push_providers.get_backend()
    reached = set(delivery.sent_to or [])
    devices = [
        push_providers.PushTarget(platform=platform, registration_id=rid)
        for platform, rid in Device.objects.filter(user=user).order_by("pk").values_list("platform", "registration_id")
        if rid not in reached
    ]
    if backend.needs_devices and not devices:
        if reached:
            return Sent(Delivery.Status.SENT)
        return Sent(Delivery.Status.SKIPPED, "the user has no app device")
    title = str(FAILED_TITLE if delivery.outcome == Delivery.Outcome.FAILED else READY_TITLE)
    extras = {"generationId": str(delivery.generation_id), "source": delivery.source, "outcome": delivery.outcome}
    message = push_providers.PushMessage(title=title, text=message_text(delivery), extras=extras)
    try:
        report = backend.send(recipient=user.username, devices=devices, message=message)
    except push_providers.PushUnavailable as exc:
        _push_record(delivery, exc.report)
        raise
    _push_record(delivery, report)
    if report.sent or reached or not backend.needs_devices:
        return Sent(Delivery.Status.SENT)
    return Sent(Delivery.Status.SKIPPED, "every device of the user was invalid")


def _push_record(delivery: Delivery, report: push_providers.PushReport) -> None:
    """Keep the devices reached (a retry skips them) and remove the ones JPush called invalid."""
    if report.sent:
        sent_to = [*(delivery.sent_to or []), *report.sent]
        Delivery.objects.filter(pk=delivery.pk).update(sent_to=sent_to)
        delivery.sent_to = sent_to
    if report.invalid:
        Device.objects.filter(user=delivery.user, registration_id__in=report.invalid).delete()
        logger.info("removed %d push device(s) JPush does not know", len(report.invalid))


CHANNELS = {Delivery.Channel.WECHAT: _send_wechat, Delivery.Channel.PUSH: _send_push}
