"""Hand-made source rows at chosen business times (Asia/Shanghai), for the statistics tests."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from generation.models import Generation
from generation.tests.factories import GenerationFactory
from membership.models import Plan
from payments.models import Order
from works.models import Like
from works.tests.factories import WorkFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """An aware datetime, read on a Shanghai clock."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def person(joined: dt.datetime, **kwargs) -> User:
    user = UserFactory(**kwargs)
    User.objects.filter(pk=user.pk).update(date_joined=joined, created_at=joined, last_login=None)
    user.refresh_from_db()
    return user


def login(user: User, when: dt.datetime) -> LoginSession:
    session = LoginSession.objects.create(user=user, method=LoginSession.Method.PHONE)
    LoginSession.objects.filter(pk=session.pk).update(created_at=when)
    return session


def generation(user: User, when: dt.datetime, *, status: str = Generation.Status.PENDING, provider: str = ""):
    gen = GenerationFactory(user=user, provider=provider)
    values = {"status": status, "created_at": when}
    if status == Generation.Status.COMPLETED:
        values.update(audio="generations/x/audio.mp3", completed_at=when)
    Generation.objects.filter(pk=gen.pk).update(**values)
    return gen


def work(user: User, when: dt.datetime):
    made = WorkFactory(creator=user)
    type(made).objects.filter(pk=made.pk).update(created_at=when)
    Generation.objects.filter(pk=made.generation_id).update(created_at=when)
    return made


def like(user: User, target, when: dt.datetime) -> Like:
    row = Like.objects.create(user=user, work=target)
    Like.objects.filter(pk=row.pk).update(created_at=when)
    return row


def order(
    user: User,
    *,
    created: dt.datetime,
    paid: dt.datetime | None = None,
    refunded: dt.datetime | None = None,
    method: str = Order.Method.WECHAT,
    amount_fen: int = 1990,
) -> Order:
    """A membership order, paid (and refunded) at the times given, as the payments app would have left it."""
    n = next(_numbers)
    status = Order.Status.REFUNDED if refunded else Order.Status.PAID if paid else Order.Status.PENDING
    return Order.objects.create(
        order_no=f"TNSTATS{n:08d}",
        user=user,
        kind=Order.Kind.MEMBERSHIP,
        plan=Plan.objects.get(type="monthly"),
        subject="月卡会员",
        amount_fen=amount_fen,
        payment_method=method,
        device=Order.Device.APP,
        trade_type="APP",
        status=status,
        transaction_id=f"tx-{n}" if paid else "",
        created_at=created,
        expire_at=created + dt.timedelta(minutes=30),
        paid_at=paid,
        refunded_at=refunded,
    )


def now() -> dt.datetime:
    return timezone.now()
