"""Jobs of accounts. Notifications (SMS, mails) go to the `notifications` queue; copying a WeChat avatar to the
`files` one. Thin: they call a service, which makes them idempotent (an SMS row is claimed before sending; a mail
is re-sent at most once per job delivery; an avatar copy only lands while its source URL is still the user's)."""

from celery import shared_task

from tunee import queues
from tunee.fetch import FetchUnavailable

from .providers import ProviderUnavailable

QUEUE = queues.NOTIFICATIONS
AVATAR_QUEUE = queues.FILES  # copying a WeChat avatar is photo processing


def enqueue(task, *args) -> None:
    """Every accounts job goes to the notifications queue (call it from `transaction.on_commit`)."""
    task.apply_async(args=args, queue=QUEUE)


@shared_task(
    name="accounts.send_sms_code",
    autoretry_for=(ProviderUnavailable,),
    retry_backoff=5,
    retry_jitter=True,
    max_retries=3,
)
def send_sms_code(code_id: int, text: str, params: dict) -> bool:
    from .services import sms_code_deliver

    return sms_code_deliver(code_id=code_id, text=text, params=params)


@shared_task(name="accounts.send_verification_email", autoretry_for=(OSError,), max_retries=3)
def send_verification_email(user_id: str) -> bool:
    from .services import email_verification_send

    return email_verification_send(user_id=user_id)


@shared_task(name="accounts.send_password_reset_email", autoretry_for=(OSError,), max_retries=3)
def send_password_reset_email(user_id: str) -> bool:
    from .services import password_reset_send

    return password_reset_send(user_id=user_id)


@shared_task(
    name="accounts.copy_wechat_avatar",
    autoretry_for=(FetchUnavailable,),
    retry_backoff=5,
    retry_jitter=True,
    max_retries=3,
)
def copy_wechat_avatar(user_id: str, url: str) -> bool:
    """Copy a WeChat avatar into our storage (enqueued on AVATAR_QUEUE after a WeChat login commits)."""
    from .services import wechat_avatar_copy

    return wechat_avatar_copy(user_id=user_id, url=url)
