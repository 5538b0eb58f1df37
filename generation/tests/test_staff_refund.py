"""Support and generations: refund what a completed one cost (once, with a reason, recorded), retry, fail and
refund; finance may do none of it, in the admin or through the services."""

from datetime import timedelta

import pytest
from django.contrib import messages
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import FINANCE, SUPPORT
from accounts.tests.factories import UserFactory
from generation import services
from generation.models import Generation
from generation.tests.factories import GenerationFactory, complete
from membership.models import Charge, DailyUsage, StaffAdjustment
from membership.selectors import business_today, points_balance, quota_status
from membership.services import points_credit, quota_set_daily_limit
from tunee.api.errors import ApiError, Code

pytestmark = pytest.mark.django_db

GENERATIONS = "/admin/generation/generation/"


def staff_in(role: str):
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=role))
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def offered(console: Client) -> set[str]:
    form = console.get(GENERATIONS).context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def completed_song(user) -> Generation:
    generation = services.generation_create(user=user, prompt="海边的歌", enqueue=False)
    return complete(generation)


def used_today(user) -> int:
    return quota_status(user=user).used


def test_support_refunds_a_completed_generations_quota_unit_once_from_the_admin(user):
    generation = completed_song(user)
    assert used_today(user) == 1
    support = staff_in(SUPPORT)
    console = logged_in(support)
    post = {"action": "refund_completed", "_selected_action": [str(generation.pk)], "reason": "song was silent"}

    first = console.post(GENERATIONS, post, follow=True)
    second = console.post(GENERATIONS, post, follow=True)

    assert [str(m) for m in first.context["messages"]] == [f"1 generation(s) refunded: {generation.pk}"]
    (refused,) = [str(m) for m in second.context["messages"]]
    assert refused.startswith(f"not refunded: {generation.pk} (11000")
    assert used_today(user) == 0  # given back once, not twice
    record = StaffAdjustment.objects.get(action=StaffAdjustment.Action.REFUND_GENERATION)
    assert (record.user, record.actor, record.reason) == (user, support, "song was silent")
    assert record.payload["reference"] == f"generation:{generation.pk}"
    assert Charge.objects.get(pk=generation.charge_id).refunded_at is not None
    generation.refresh_from_db()
    assert generation.status == Generation.Status.COMPLETED  # the song stays


def test_a_refund_without_a_reason_is_refused_and_changes_nothing(user):
    generation = completed_song(user)

    response = logged_in(staff_in(SUPPORT)).post(
        GENERATIONS,
        {"action": "refund_completed", "_selected_action": [str(generation.pk)], "reason": " "},
        follow=True,
    )

    assert [m.level for m in response.context["messages"]] == [messages.ERROR]  # "type the reason…"
    assert used_today(user) == 1
    assert not StaffAdjustment.objects.exists()


def test_refunding_points_gives_them_back_once(user, settings):
    settings.GENERATION_POINTS_COST = 10
    quota_set_daily_limit(user=user, limit=0, actor=None, reason="only points")
    points_credit(user=user, amount=25, reason="bonus")
    generation = completed_song(user)
    assert points_balance(user=user) == 15
    support = staff_in(SUPPORT)

    services.generation_refund(generation=generation, actor=support, reason="bad song")
    with pytest.raises(ApiError) as again:
        services.generation_refund(generation=generation, actor=support, reason="bad song")

    assert again.value.code is Code.DUPLICATE
    assert points_balance(user=user) == 25
    assert user.points_entries.filter(reason="generation_refund").count() == 1


def test_a_unit_from_an_earlier_day_comes_back_as_an_extra_generation_today(user):
    generation = completed_song(user)
    yesterday = business_today() - timedelta(days=1)
    Charge.objects.filter(pk=generation.charge_id).update(day=yesterday)
    DailyUsage.objects.filter(user=user).update(day=yesterday)

    services.generation_refund(generation=generation, actor=staff_in(SUPPORT), reason="late complaint")

    today = DailyUsage.objects.get(user=user, day=business_today())
    assert (today.used, today.extra) == (0, 1)


@pytest.mark.parametrize("status", ["pending", "processing", "failed"])
def test_only_a_completed_generation_is_refunded_this_way(user, status):
    generation = services.generation_create(user=user, prompt="歌", enqueue=False)
    Generation.objects.filter(pk=generation.pk).update(status=status)

    with pytest.raises(ApiError) as refused:
        services.generation_refund(generation=generation, actor=staff_in(SUPPORT), reason="x")

    assert refused.value.code is Code.VALIDATION
    assert used_today(user) == 1


def test_finance_may_not_refund_retry_or_fail_a_generation(user):
    generation = completed_song(user)
    failed = GenerationFactory(user=user, status=Generation.Status.FAILED)
    pending = GenerationFactory(user=user)
    finance = staff_in(FINANCE)

    for call in (
        lambda: services.generation_refund(generation=generation, actor=finance, reason="x"),
        lambda: services.generation_retry(generation=failed, actor=finance),
        lambda: services.generation_fail_by_staff(generation=pending, actor=finance, reason="x"),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert refused.value.code is Code.FORBIDDEN

    assert used_today(user) == 1
    assert Generation.objects.get(pk=failed.pk).status == "failed"
    assert Generation.objects.get(pk=pending.pk).status == "pending"


def test_support_is_offered_the_generation_actions_and_fails_one_with_its_reason(user):
    pending = GenerationFactory(user=user)
    support = staff_in(SUPPORT)
    console = logged_in(support)

    assert offered(console) == {"retry_failed", "fail_and_refund", "refund_completed"}
    console.post(GENERATIONS, {"action": "fail_and_refund", "_selected_action": [str(pending.pk)], "reason": "stuck"})

    pending.refresh_from_db()
    assert pending.status == Generation.Status.FAILED
    assert pending.error_detail == f"failed by {support}: stuck"
    assert pending.error_message == services.FAILED_BY_STAFF.zh

    console.post(GENERATIONS, {"action": "retry_failed", "_selected_action": [str(pending.pk)]})
    pending.refresh_from_db()
    assert pending.status == Generation.Status.PENDING
