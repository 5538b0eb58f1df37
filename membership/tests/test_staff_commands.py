"""`grant_membership`, `adjust_points`, `set_daily_limit`: thin wrappers over the staff adjustments, recorded with
no actor and the reason given; `--dry-run` checks everything and keeps nothing; one summary line each."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from membership import selectors
from membership.models import MembershipEvent, PointsEntry, StaffAdjustment

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def customer():
    return UserFactory(username="Xiaoyu", email="Xiaoyu@Example.org", phone="13800138000")


def test_grant_membership_by_phone_records_the_reason_without_an_actor(customer):
    output = run("grant_membership", "13800138000", "--plan", "monthly", "--reason", "prize")

    assert output.count("\n") == 1
    assert output.startswith("grant_membership for Xiaoyu: +30 days of monthly, member until ")
    state = selectors.membership_state(user=customer)
    assert state.is_valid and state.level == "monthly"
    record = StaffAdjustment.objects.get()
    assert (record.action, record.actor, record.reason) == ("grant_membership", None, "prize")
    assert f"(adjustment {record.pk})" in output


def test_grant_membership_dry_run_keeps_nothing(customer):
    output = run("grant_membership", "xiaoyu@example.org", "--days", "5", "--reason", "prize", "--dry-run")

    assert output.startswith("dry run, nothing kept: grant_membership for Xiaoyu: +5 days of yearly")
    assert not selectors.membership_state(user=customer).is_valid
    assert not StaffAdjustment.objects.exists() and not MembershipEvent.objects.exists()


def test_adjust_points_by_username_with_and_without_dry_run(customer):
    dry = run("adjust_points", "XIAOYU", "40", "--reason", "goodwill", "--dry-run")
    assert dry.strip() == "dry run, nothing kept: adjust_points for Xiaoyu: +40 points, balance 40"
    assert selectors.points_balance(user=customer) == 0 and not PointsEntry.objects.exists()

    done = run("adjust_points", "xiaoyu", "40", "--reason", "goodwill")
    taken = run("adjust_points", str(customer.pk), "-15", "--reason", "mistake")

    assert done.startswith("adjust_points for Xiaoyu: +40 points, balance 40")
    assert taken.startswith("adjust_points for Xiaoyu: -15 points, balance 25")
    assert selectors.points_balance(user=customer) == 25
    assert list(PointsEntry.objects.values_list("note", "actor")) == [("mistake", None), ("goodwill", None)]


def test_adjust_points_refuses_to_take_more_than_the_balance(customer):
    with pytest.raises(CommandError, match="adjust_points not done"):
        run("adjust_points", "xiaoyu", "-1", "--reason", "x")

    assert not StaffAdjustment.objects.exists()


def test_set_daily_limit_and_back_to_the_plan(customer):
    dry = run("set_daily_limit", "xiaoyu", "9", "--reason", "beta", "--dry-run")
    assert dry.startswith("dry run, nothing kept: set_daily_limit for Xiaoyu: daily limit 9 (was the plan)")
    assert selectors.daily_limit(user=customer) == 3

    run("set_daily_limit", "xiaoyu", "9", "--reason", "beta")
    assert selectors.daily_limit(user=customer) == 9
    back = run("set_daily_limit", "xiaoyu", "none", "--reason", "done")

    assert back.startswith("set_daily_limit for Xiaoyu: daily limit the plan's (was 9)")
    assert selectors.daily_limit(user=customer) == 3
    assert list(StaffAdjustment.objects.order_by("created_at").values_list("reason", flat=True)) == ["beta", "done"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set_daily_limit", "xiaoyu", "9"), "--reason"),
        (("set_daily_limit", "xiaoyu", "9", "--reason", "  "), "--reason must not be empty"),
        (("set_daily_limit", "xiaoyu", "lots", "--reason", "x"), "a number or none"),
        (("set_daily_limit", "nobody", "9", "--reason", "x"), "not done"),
        (("grant_membership", "xiaoyu", "--plan", "free", "--reason", "x"), "no such paid plan"),
    ],
)
def test_the_commands_refuse_bad_input_and_keep_nothing(customer, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)

    assert not StaffAdjustment.objects.exists()
