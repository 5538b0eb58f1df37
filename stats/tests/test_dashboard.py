"""The admin's landing page is the business dashboard (staff only), with its CSV export; the apps stay listed."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from stats.models import DailySnapshot
from stats.sites import TuneeAdminSite
from stats.tests.helpers import generation, login, order, person

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def console():
    return client_for(UserFactory(is_staff=True, is_superuser=True))


@pytest.fixture
def yesterday_and_today():
    """A paying newcomer yesterday, a generation today (business days)."""
    today = timezone.localdate()
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    yesterday = noon - dt.timedelta(days=1)
    newcomer = person(yesterday)
    login(newcomer, yesterday)
    order(newcomer, created=yesterday, paid=yesterday, method="alipay", amount_fen=123456)
    generation(newcomer, min(noon, timezone.now()), provider="suno")
    return today


def test_the_admin_site_is_tunees_and_branded():
    assert isinstance(admin.site, TuneeAdminSite)
    with translation.override("en"):  # English source strings; Chinese by default (locale/)
        assert str(admin.site.site_header) == "Tunee console"
        assert str(admin.site.index_title) == "Dashboard"


def test_the_landing_page_shows_the_last_30_days_with_charts_numbers_and_the_apps(console, yesterday_and_today):
    today = yesterday_and_today
    response = console.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Tunee console" in page
    data = json.loads(re.search(r'<script id="stats-chart-data" type="application/json">(.*?)</script>', page)[1])
    assert len(data["labels"]) == 30
    assert data["labels"][-1] == today.isoformat()
    assert {c["id"] for c in data["charts"]} == {
        "users", "generations", "providers", "failures", "works", "revenue", "orders", "conversion", "retention",
    }  # fmt: skip
    assert page.count("<canvas data-chart=") == 9
    assert 'id="stats-chart-data"' in page
    assert "stats/vendor/chart.umd.min.js" in page  # served from our own static files, no CDN
    assert "1,234.56" in page  # yesterday's Alipay revenue, beside the chart and in the table
    assert "today, live" in page
    assert 'id="content-main"' in page and "/admin/accounts/" in page  # the list of apps is still there
    # past days were snapshotted on the way; today is computed live and never stored
    assert DailySnapshot.objects.count() == 29
    assert not DailySnapshot.objects.filter(day=today).exists()


def test_a_chosen_range(console, yesterday_and_today):
    today = yesterday_and_today
    start = today - dt.timedelta(days=1)

    response = console.get("/admin/", {"start": start.isoformat(), "end": (today + dt.timedelta(days=9)).isoformat()})

    assert response.context["chart_data"]["labels"] == [start.isoformat(), today.isoformat()]  # not past today
    revenue = next(c for c in response.context["charts"] if c.id == "revenue")
    assert [s.summary for s in revenue.series] == ["0.00", "1,234.56"]  # WeChat Pay, Alipay
    conversion = next(c for c in response.context["charts"] if c.id == "conversion")
    assert conversion.series[0].data[0] == 100.0  # yesterday's only active user paid for the first time


def test_a_backwards_range_is_refused_and_the_default_shown(console):
    response = console.get("/admin/", {"start": "2025-02-10", "end": "2025-02-01"})

    assert response.status_code == 200
    assert response.context["range_form"].errors
    assert len(response.context["chart_data"]["labels"]) == 30


def test_csv_export_of_the_range(console, yesterday_and_today):
    today = yesterday_and_today
    start = today - dt.timedelta(days=1)

    response = console.get("/admin/dashboard.csv", {"start": start.isoformat(), "end": today.isoformat()})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="tunee-stats-{start}-{today}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["day"] for r in rows] == [start.isoformat(), today.isoformat()]
    yesterday, live = rows
    assert (yesterday["live"], live["live"]) == ("0", "1")
    assert yesterday["new_users"] == "1"
    assert yesterday["alipay_revenue_fen"] == "123456"  # integer fen, not yuan
    assert yesterday["revenue_fen"] == "123456"
    assert (yesterday["conversions"], yesterday["conversion_base"]) == ("1", "1")
    assert live["generations_total"] == "1"
    assert live["provider_suno_total"] == "1"
    assert live["retention_d1_size"] == "1" and live["retention_d1_retained"] == "1"


@pytest.mark.parametrize("path", ["/admin/", "/admin/dashboard.csv"])
def test_non_staff_are_refused(path, yesterday_and_today):
    for client in (Client(), client_for(UserFactory())):  # anonymous, and a logged-in user who is not staff
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert not DailySnapshot.objects.exists()  # nothing was computed for them


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_range_form_shows_the_range_in_iso_dates_in_either_language(console, language):
    response = console.get("/admin/", {"start": "2025-01-31", "end": "2025-02-01"}, HTTP_ACCEPT_LANGUAGE=language)

    assert response.context["chart_data"]["labels"] == ["2025-01-31", "2025-02-01"]
    page = response.content.decode()
    assert 'type="date" name="start" value="2025-01-31"' in page
    assert 'type="date" name="end" value="2025-02-01"' in page
