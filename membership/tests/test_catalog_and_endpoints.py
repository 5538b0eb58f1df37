"""Plans and packages from the first migration, and the four read endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from membership import services
from membership.models import Plan, PointPackage, PointsEntry

from .factories import PointsEntryFactory

pytestmark = pytest.mark.django_db


def test_plans_exist_after_migrate_with_the_seeds_values():
    plans = {p.type: (p.price_fen, p.duration_days, p.daily_limit) for p in Plan.objects.all()}

    assert plans == {"free": (0, 0, 3), "monthly": (1990, 30, 50), "yearly": (19900, 365, 50)}


def test_point_packages_exist_after_migrate():
    assert PointPackage.objects.filter(is_active=True).count() == 3


def test_membership_info_for_a_free_user(auth_api):
    response = auth_api.get("/api/membership/info")

    data = response.json()["data"]
    assert response.status_code == 200
    assert data["currentLevel"] == "free"
    assert data["isValid"] is False
    assert data["expiresAt"] is None
    assert data["dailyLimit"] == 3
    assert data["remainingToday"] == 3
    assert [p["type"] for p in data["plans"]] == ["monthly", "yearly"]
    monthly = data["plans"][0]
    assert monthly == {
        "type": "monthly",
        "name": "月卡会员",
        "price": 19.9,
        "duration": 30,
        "dailyLimit": 50,
        "features": ["每日50首音乐生成", "优先处理队列", "高清音质下载"],
    }


def test_membership_info_for_a_member(api, member):
    api.force_authenticate(member)

    data = api.get("/api/membership/info").json()["data"]

    assert data["currentLevel"] == "monthly"
    assert data["isValid"] is True
    assert data["dailyLimit"] == 50
    assert data["expiresAt"].endswith("Z")


def test_plan_edited_in_the_admin_shows_at_once(auth_api, staff, client, django_capture_on_commit_callbacks):
    client.force_login(staff)
    monthly = Plan.objects.get(type="monthly")
    auth_api.get("/api/membership/info")  # fills the cache

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/membership/plan/{monthly.pk}/change/",
            {
                "type": "monthly",
                "name": "月卡会员",
                "price_fen": 1990,
                "duration_days": 30,
                "daily_limit": 60,
                "features": '["每日60首"]',
                "rank": 10,
                "is_active": "on",
            },
        )

    assert response.status_code == 302

    plans = auth_api.get("/api/membership/info").json()["data"]["plans"]
    assert plans[0]["dailyLimit"] == 60


def test_quota_endpoint(auth_api):
    services.quota_consume(user=auth_api.user)

    response = auth_api.get("/api/generation/quota")

    data = response.json()["data"]
    assert response.status_code == 200
    assert (data["dailyLimit"], data["usedToday"], data["remainingToday"]) == (3, 1, 2)
    assert data["membership"] == {"level": "free", "isValid": False, "expiresAt": None, "startedAt": None}
    assert data["date"] == timezone.localdate().isoformat()


def test_points_history_is_paginated_newest_first(auth_api):
    user = auth_api.user
    for amount in (5, 7, 9):
        services.points_credit(user=user, amount=amount, reason=PointsEntry.Reason.BONUS)
    services.points_spend(user=user, amount=4, reason=PointsEntry.Reason.GENERATION)

    response = auth_api.get("/api/points/history?pageSize=3")

    data = response.json()["data"]
    assert [(e["amount"], e["balance"]) for e in data["list"]] == [(-4, 17), (9, 21), (7, 12)]
    assert data["list"][0]["reason"] == "generation"
    assert data["list"][0]["time"].endswith("Z")
    assert data["pagination"] == {"page": 1, "pageSize": 3, "total": 4, "totalPages": 2}


def test_points_history_shows_only_ones_own_entries(auth_api, staff):
    PointsEntryFactory(user=staff, amount=5)

    assert auth_api.get("/api/points/history").json()["data"]["list"] == []


def test_point_packages_are_public(api):
    response = api.get("/api/points/packages")

    data = response.json()["data"]
    assert response.status_code == 200
    assert [(p["points"], p["price"]) for p in data["list"]] == [(60, 6.0), (300, 28.0), (1000, 88.0)]
    assert data["list"][0]["id"] == "7d0a3c1e-0b6f-4d51-9a51-000000000060"


def test_inactive_package_is_not_listed(api, staff, client, django_capture_on_commit_callbacks):
    client.force_login(staff)
    package = PointPackage.objects.order_by("price_fen").first()
    api.get("/api/points/packages")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/membership/pointpackage/{package.pk}/change/",
            {
                "name": package.name,
                "points": package.points,
                "price_fen": package.price_fen,
                "sort_order": 1,
            },
        )

    assert response.status_code == 302

    assert len(api.get("/api/points/packages").json()["data"]["list"]) == 2


@pytest.mark.parametrize("path", ["/api/membership/info", "/api/generation/quota", "/api/points/history"])
def test_endpoints_need_login(api, path):
    response = api.get(path)

    assert response.status_code == 401
    assert response.json()["code"] == 401


@pytest.mark.parametrize(
    "path", ["/api/membership/info", "/api/generation/quota", "/api/points/history", "/api/points/packages"]
)
def test_endpoints_use_a_bounded_number_of_queries(auth_api, path, django_assert_max_num_queries):
    for _ in range(15):
        services.points_credit(user=auth_api.user, amount=1, reason=PointsEntry.Reason.BONUS)
    services.membership_extend(user=auth_api.user, plan=Plan.objects.get(type="monthly"), source="test")
    auth_api.get(path)  # warm the catalog cache

    with django_assert_max_num_queries(8):
        assert auth_api.get(f"{path}?pageSize=100").status_code == 200


def test_write_methods_are_405(auth_api):
    assert auth_api.post("/api/membership/info", {}).status_code == 405


def test_lapsed_member_reads_as_free(api, member):
    api.force_authenticate(member)
    later = timezone.now() + timedelta(days=31)

    import time_machine

    with time_machine.travel(later, tick=False):
        data = api.get("/api/generation/quota").json()["data"]

    assert data["membership"]["level"] == "free"
    assert data["dailyLimit"] == 3
