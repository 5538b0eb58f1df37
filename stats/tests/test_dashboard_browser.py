"""The dashboard in a real browser (Debian's chromium through Playwright): Chart.js, served from our static files,
draws every chart."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from stats.tests.helpers import generation, login, order, person


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_draws_its_charts(browser, live_server):
    staff = UserFactory(username="analyst", is_staff=True, is_superuser=True)
    staff.set_password("dashboard-pass-123")
    staff.save()
    yesterday = timezone.now() - dt.timedelta(days=1)
    newcomer = person(yesterday)
    login(newcomer, yesterday)
    generation(newcomer, yesterday, provider="suno")
    order(newcomer, created=yesterday, paid=yesterday, amount_fen=1990)

    page = browser.new_page(locale="en-US")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", "dashboard-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.wait_for_function("document.documentElement.dataset.chartsDrawn === '9'")

    assert page.title().endswith("Tunee console")
    assert page.evaluate("typeof window.Chart") == "function"
    charts = page.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {"
        "  const chart = window.Chart.getChart(c);"
        "  return {id: c.dataset.chart, drawn: !!chart && c.width > 0 && c.height > 0,"
        "          points: chart ? chart.data.labels.length : 0, sets: chart ? chart.data.datasets.length : 0};"
        "})"
    )
    assert len(charts) == 9
    assert all(c["drawn"] and c["points"] == 30 for c in charts), charts
    assert next(c for c in charts if c["id"] == "providers")["sets"] == 1  # suno
    # something was painted: the revenue canvas is not blank
    painted = page.evaluate(
        "(() => { const c = document.querySelector('canvas[data-chart=revenue]');"
        "  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "  for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; } return false; })()"
    )
    assert painted
    assert page.locator("#stats-days tbody tr").count() == 30
    assert page.locator("#content-main .app-accounts").count() == 1  # the apps are still listed below
    assert all(url.startswith(live_server.url) for url in requests), requests  # no CDN, nothing from outside
