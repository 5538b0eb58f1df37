"""What can be bought is decided once, in membership's selectors (`plan_on_sale`, `package_on_sale`): the catalog
the apps show, the order endpoints and the order service all follow that rule, and payments reads membership's
tables through membership only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from membership import selectors as membership_selectors
from membership.models import Plan, PointPackage
from membership.services import catalog_changed
from payments import services
from payments.models import Order
from payments.tests.helpers import PACKAGE_60
from tunee.api.errors import ApiError, Code

pytestmark = pytest.mark.django_db

PAYMENTS = Path(__file__).resolve().parents[1]
MEMBERSHIP_MODELS = (
    r"\b(?:Plan|PointPackage|PointsAccount|PointsEntry|Membership|MembershipEvent|DailyUsage)\.objects\b"
)
SALE_RULE = r"\.is_active\b|\.is_free\b"


def _order_plan(auth_api, plan_type="monthly"):
    return auth_api.post(
        "/api/membership/order", {"type": plan_type, "paymentMethod": "alipay", "device": "web"}, format="json"
    )


def _order_package(auth_api, package=PACKAGE_60, amount=6):
    return auth_api.post(
        "/api/points/purchase", {"packageId": package, "payment": {"method": "alipay", "amount": amount}}, format="json"
    )


def _all_but_monthly(plan) -> bool:
    return (plan["type"] if isinstance(plan, dict) else plan.type) != "monthly"


def test_a_plan_the_rule_takes_off_sale_is_refused_by_the_catalog_the_endpoint_and_the_service(
    auth_api, user, monkeypatch
):
    monthly = Plan.objects.get(type="monthly")
    assert "monthly" in [plan["type"] for plan in membership_selectors.purchasable_plans()]
    assert _order_plan(auth_api).json()["code"] == 0

    monkeypatch.setattr(membership_selectors, "plan_on_sale", _all_but_monthly)

    assert "monthly" not in [plan["type"] for plan in membership_selectors.purchasable_plans()]
    assert "yearly" in [plan["type"] for plan in membership_selectors.purchasable_plans()]
    response = _order_plan(auth_api)
    assert response.json()["code"] == 40001
    assert response.json()["details"] == {"type": ["this plan cannot be bought"]}
    with pytest.raises(ApiError) as refused:
        services.order_create(user=user, plan=monthly, payment_method="alipay", device="web")
    assert refused.value.code == Code.PURCHASE_FAILED
    assert refused.value.details == {"type": ["this plan cannot be bought"]}
    assert _order_plan(auth_api, "yearly").json()["code"] == 0
    assert Order.objects.count() == 2


def test_a_package_the_rule_takes_off_sale_is_refused_by_the_catalog_the_endpoint_and_the_service(
    auth_api, user, monkeypatch
):
    package = PointPackage.objects.get(pk=PACKAGE_60)
    assert PACKAGE_60 in [str(row["id"]) for row in membership_selectors.packages()]

    monkeypatch.setattr(membership_selectors, "package_on_sale", lambda package: False)
    catalog_changed()  # the catalog is cached: read it again under the new rule

    assert membership_selectors.packages() == []
    response = _order_package(auth_api)
    assert response.json()["code"] == 40001
    assert response.json()["details"] == {"packageId": ["unknown package"]}
    with pytest.raises(ApiError) as refused:
        services.order_create(user=user, package=package, payment_method="alipay", device="web")
    assert refused.value.code == Code.PURCHASE_FAILED
    assert refused.value.details == {"packageId": ["this package cannot be bought"]}
    assert not Order.objects.exists()


def test_the_rule_itself_active_and_not_free():
    free, monthly = Plan.objects.get(type="free"), Plan.objects.get(type="monthly")
    assert not membership_selectors.plan_on_sale(free)
    assert membership_selectors.plan_on_sale(monthly)
    monthly.is_active = False
    assert not membership_selectors.plan_on_sale(monthly)
    assert not membership_selectors.plan_on_sale({"type": "yearly", "is_active": False})
    assert membership_selectors.plan_on_sale({"type": "yearly", "is_active": True})
    assert not membership_selectors.package_on_sale(PointPackage(name="x", points=1, price_fen=1, is_active=False))
    assert membership_selectors.package_on_sale({"is_active": True})


def test_payments_reads_membership_tables_only_through_membership():
    """No payments module (tests and migrations aside) queries a membership model or applies a sale rule itself."""
    offending = []
    for path in sorted(PAYMENTS.rglob("*.py")):
        relative = path.relative_to(PAYMENTS)
        if relative.parts[0] in ("tests", "migrations"):
            continue
        text = path.read_text()
        found = re.finditer(f"{MEMBERSHIP_MODELS}|{SALE_RULE}", text)
        offending += [f"{relative}: {match.group(0)}" for match in found]
    assert offending == []
