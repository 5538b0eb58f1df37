"""Orders over time: stacking memberships, expiry, reconciliation, refunds, the admin, commands and beat jobs."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from membership.models import MembershipEvent, PointsEntry
from membership.selectors import membership_state, points_balance
from membership.services import points_spend
from payments import services, tasks
from payments.models import Order, OrderEvent
from payments.tests.helpers import pay_in_sandbox, place_membership_order, place_points_order
from payments_sandbox.models import SandboxTrade
from payments_sandbox.services import sandbox_trade_pay
from tunee.api.errors import ApiError, Code

pytestmark = pytest.mark.django_db


def test_monthly_then_yearly_stack_to_395_days(auth_api, client):
    start = timezone.now()
    pay_in_sandbox(client, place_membership_order(auth_api, "monthly", "wechat", "app"))
    pay_in_sandbox(client, place_membership_order(auth_api, "yearly", "alipay", "web"))

    state = membership_state(user=auth_api.user)
    assert state.level == "yearly"
    days = (state.expires_at - start).total_seconds() / 86400
    assert 395 <= days < 395.01
    sources = MembershipEvent.objects.filter(user=auth_api.user).values_list("source", flat=True)
    assert sorted(sources) == sorted(f"order:{o.order_no}" for o in Order.objects.all())


# --- expiry -------------------------------------------------------------------------------------------------------


def test_expiry_closes_pending_orders_past_expire_at_here_and_at_the_provider(auth_api):
    old = place_membership_order(auth_api, "monthly", "wechat", "app")
    young = place_points_order(auth_api, method="alipay", device="web")
    Order.objects.filter(order_no=young["orderNo"]).update(expire_at=timezone.now() + timedelta(minutes=60))

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        report = services.orders_close_expired()

    assert report.closed == [old["orderNo"]]
    order = Order.objects.get(order_no=old["orderNo"])
    assert (order.status, order.close_reason) == ("closed", "expired")
    assert order.events.filter(kind="closed", source="expiry").count() == 1
    assert SandboxTrade.objects.get(out_trade_no=old["orderNo"]).status == "closed"
    assert Order.objects.get(order_no=young["orderNo"]).status == "pending"


def test_expiry_settles_an_order_the_provider_reports_paid(auth_api):
    data = place_membership_order(auth_api, "monthly", "alipay", "app")
    sandbox_trade_pay(provider="alipay", out_trade_no=data["orderNo"])

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        report = services.orders_close_expired()

    assert report.settled == [data["orderNo"]]
    order = Order.objects.get(order_no=data["orderNo"])
    assert order.status == "paid"
    assert order.paid_after_close is False
    assert membership_state(user=auth_api.user).level == "monthly"


def test_close_expired_orders_command_and_dry_run(auth_api):
    data = place_membership_order(auth_api, "monthly", "wechat", "web")
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        call_command("close_expired_orders", "--dry-run", stdout=out)
        assert Order.objects.get().status == "pending"
        assert f"would close: 1 order(s)\n  {data['orderNo']}" in out.getvalue()

        call_command("close_expired_orders", stdout=out)
    assert Order.objects.get().status == "closed"
    assert f"closed: 1 order(s)\n  {data['orderNo']}" in out.getvalue()


def test_beat_jobs_are_scheduled_and_run(auth_api, settings):
    assert settings.CELERY_BEAT_SCHEDULE["payments-close-expired"]["task"] == "payments.close_expired_orders"
    assert settings.CELERY_BEAT_SCHEDULE["payments-reconcile"]["task"] == "payments.reconcile"
    place_membership_order(auth_api)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert tasks.close_expired_orders.run() == {"closed": 1, "settled": 0, "failed": 0}
    assert tasks.reconcile.run() == {"checked": 1, "settled": 0, "failed": 0}


def test_closing_twice_or_closing_a_paid_order_is_40005(auth_api, client):
    data = place_membership_order(auth_api)
    order = services.order_close(order=Order.objects.get(), reason="cancelled", source="test")
    with pytest.raises(ApiError) as error:
        services.order_close(order=order, reason="again", source="test")
    assert error.value.code == Code.ORDER_STATE_CONFLICT

    paid = place_membership_order(auth_api)
    pay_in_sandbox(client, paid)
    with pytest.raises(ApiError) as error:
        services.order_close(order=Order.objects.get(order_no=paid["orderNo"]), reason="x", source="test")
    assert error.value.code == Code.ORDER_STATE_CONFLICT
    assert Order.objects.get(order_no=data["orderNo"]).events.filter(kind="closed").count() == 1


# --- reconciliation -----------------------------------------------------------------------------------------------


def test_reconcile_settles_payments_whose_notification_never_came(auth_api):
    paid = place_points_order(auth_api, method="wechat", device="app")
    place_membership_order(auth_api, "monthly", "alipay", "app")
    sandbox_trade_pay(provider="wechat", out_trade_no=paid["orderNo"])
    out = StringIO()

    call_command("reconcile_payments", "--since", "2", "--dry-run", stdout=out)
    assert points_balance(user=auth_api.user) == 0
    assert f"would settle: 1 order(s)\n  {paid['orderNo']}" in out.getvalue()

    call_command("reconcile_payments", "--since", "2", stdout=out)
    call_command("reconcile_payments", "--since", "2", stdout=out)

    assert points_balance(user=auth_api.user) == 60
    order = Order.objects.get(order_no=paid["orderNo"])
    assert order.status == "paid"
    assert order.events.filter(kind="paid", source="reconcile").count() == 1
    assert "checked 2 order(s) of the last 2 hour(s)" in out.getvalue()


def test_reconcile_looks_only_at_recent_orders(auth_api):
    place_membership_order(auth_api)
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        assert services.payments_reconcile(since_hours=2).checked == []


# --- refunds ------------------------------------------------------------------------------------------------------


def test_refunding_a_membership_order_takes_the_days_back(auth_api, client, staff):
    data = place_membership_order(auth_api, "monthly", "wechat", "app")
    pay_in_sandbox(client, data)
    order = Order.objects.get()

    services.order_refund(order=order, actor=staff, reason="customer asked")

    order.refresh_from_db()
    assert order.status == "refunded"
    assert order.refunded_at is not None
    assert order.refund_no == f"RF{order.order_no}"
    assert membership_state(user=auth_api.user).is_valid is False
    revoke = MembershipEvent.objects.get(kind="revoke")
    assert (revoke.days, revoke.source, revoke.actor) == (-30, f"order:{order.order_no}", staff)
    event = order.events.get(kind="refunded")
    assert (event.actor, event.data["days"]) == (staff, 30)
    assert SandboxTrade.objects.get(out_trade_no=order.order_no).status == "refunded"
    assert order.grant.revoked_at is not None


def test_refunding_a_points_order_takes_the_points_back_with_a_ledger_entry(auth_api, client, staff):
    pay_in_sandbox(client, place_points_order(auth_api, method="alipay", device="app"))
    order = Order.objects.get()

    services.order_refund(order=order, actor=staff)

    assert points_balance(user=auth_api.user) == 0
    entry = PointsEntry.objects.get(reason="order_refund")
    assert (entry.amount, entry.reference) == (-60, f"order:{order.order_no}")
    order.refresh_from_db()
    assert order.status == "refunded"
    assert order.grant.revoked_points == 60


def test_refund_when_points_were_spent_is_refused_unless_staff_take_back_what_is_left(auth_api, client, staff):
    pay_in_sandbox(client, place_points_order(auth_api, method="wechat", device="app"))
    points_spend(user=auth_api.user, amount=50, reason=PointsEntry.Reason.GENERATION)
    order = Order.objects.get()

    with pytest.raises(ApiError) as error:
        services.order_refund(order=order, actor=staff)
    assert error.value.code == Code.INSUFFICIENT_POINTS
    assert error.value.details == {"points": 10, "required": 60}
    order.refresh_from_db()
    assert order.status == "paid"
    assert SandboxTrade.objects.get().status == "paid"

    services.order_refund(order=order, actor=staff, take_back_available_points=True)

    assert points_balance(user=auth_api.user) == 0
    data = order.events.get(kind="refunded").data
    assert (data["points"], data["shortfall"]) == (10, 50)
    assert PointsEntry.objects.get(reason="order_refund").amount == -10


def test_refunding_an_unpaid_or_refunded_order_is_40005(auth_api, client, staff):
    place_membership_order(auth_api)
    with pytest.raises(ApiError) as error:
        services.order_refund(order=Order.objects.get(), actor=staff)
    assert error.value.code == Code.ORDER_STATE_CONFLICT


# --- admin --------------------------------------------------------------------------------------------------------


def test_admin_lists_and_searches_orders_events_and_notifications(auth_api, client, staff):
    data = place_membership_order(auth_api)
    pay_in_sandbox(client, data)
    client.force_login(staff)

    for url in (
        "/admin/payments/order/",
        f"/admin/payments/order/?q={data['orderNo']}",
        "/admin/payments/order/?status__exact=paid&paid_after_close__exact=0",
        f"/admin/payments/order/{Order.objects.get().pk}/change/",
        "/admin/payments/orderevent/",
        "/admin/payments/paymentnotification/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert data["orderNo"] in client.get(f"/admin/payments/order/?q={auth_api.user.username}").content.decode()


def test_refund_action_needs_the_refund_permission(auth_api, client):
    data = place_membership_order(auth_api)
    pay_in_sandbox(client, data)
    order = Order.objects.get()
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "change_order"]))
    client.force_login(clerk)

    page = client.get("/admin/payments/order/").content.decode()
    assert "close_orders" in page
    assert "refund_orders" not in page
    response = client.post(
        "/admin/payments/order/", {"action": "refund_orders", "_selected_action": [str(order.pk)]}, follow=True
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"

    clerk.user_permissions.add(Permission.objects.get(codename="refund"))
    client.force_login(clerk)
    response = client.post(
        "/admin/payments/order/", {"action": "refund_orders", "_selected_action": [str(order.pk)]}, follow=True
    )
    order.refresh_from_db()
    assert order.status == "refunded"
    assert OrderEvent.objects.get(kind="refunded").actor == clerk


def test_superusers_may_refund_from_the_admin(auth_api, client, staff):
    pay_in_sandbox(client, place_points_order(auth_api, method="alipay", device="app"))
    order = Order.objects.get()
    assert staff.is_superuser and not staff.user_permissions.exists()
    client.force_login(staff)

    assert "refund_orders" in client.get("/admin/payments/order/").content.decode()
    response = client.post(
        "/admin/payments/order/", {"action": "refund_orders", "_selected_action": [str(order.pk)]}, follow=True
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "refunded"
    assert points_balance(user=auth_api.user) == 0
    assert PointsEntry.objects.get(reason="order_refund").actor == staff
    assert SandboxTrade.objects.get().status == "refunded"


def test_admin_close_and_sync_actions(auth_api, client, staff):
    pending = place_membership_order(auth_api, "monthly", "wechat", "app")
    paid_quietly = place_membership_order(auth_api, "yearly", "alipay", "app")
    sandbox_trade_pay(provider="alipay", out_trade_no=paid_quietly["orderNo"])
    client.force_login(staff)
    ids = {o.order_no: str(o.pk) for o in Order.objects.all()}

    client.post("/admin/payments/order/", {"action": "close_orders", "_selected_action": [ids[pending["orderNo"]]]})
    client.post(
        "/admin/payments/order/", {"action": "query_and_sync", "_selected_action": [ids[paid_quietly["orderNo"]]]}
    )

    assert Order.objects.get(order_no=pending["orderNo"]).status == "closed"
    assert Order.objects.get(order_no=paid_quietly["orderNo"]).status == "paid"
    assert Order.objects.get(order_no=pending["orderNo"]).events.get(kind="closed").actor == staff


def test_demo_lines_explain_the_sandbox():
    from payments.demo import load

    text = "\n".join(load())
    assert "/api/membership/order" in text
    assert "sandboxPayUrl" in text
