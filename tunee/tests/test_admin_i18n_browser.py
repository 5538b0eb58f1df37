"""The admin console in a real browser, in both languages: Chinese by default (zh-CN browsers and any other), English
when the browser asks for it (Accept-Language from the browser's locale), through Django's i18n and the compiled
catalog in locale/zh_Hans/LC_MESSAGES/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from membership.models import Plan
from payments.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "s3cret-Pass!"  # UserFactory's


@pytest.fixture
def console_data():
    UserFactory(username="root", is_staff=True, is_superuser=True)
    return Order.objects.create(
        order_no="TN-I18N-1",
        user=UserFactory(),
        kind=Order.Kind.MEMBERSHIP,
        plan=Plan.objects.get(type="monthly"),
        subject="monthly",
        amount_fen=1800,
        payment_method=Order.Method.WECHAT,
        device=Order.Device.MINIPROGRAM,
        trade_type="JSAPI",
        expire_at=timezone.now() + timedelta(minutes=30),
    )


def logged_in_tab(browser, live_server, locale: str):
    tab = browser.new_context(locale=locale).new_page()
    tab.goto(f"{live_server.url}/admin/login/")
    tab.fill("#id_username", "root")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{live_server.url}/admin/")
    return tab


def texts(tab, selector: str) -> list[str]:
    return [text.strip() for text in tab.locator(selector).all_inner_texts()]


def test_the_console_speaks_chinese_to_a_chinese_browser(browser, live_server, console_data):
    tab = logged_in_tab(browser, live_server, "zh-CN")

    assert tab.locator("html").get_attribute("lang") == "zh-hans"
    index = tab.locator("#content").text_content()  # as written, before CSS capitalises app names
    for name in ("账号", "支付", "会员与积分", "音乐生成", "照片歌曲"):  # apps
        assert name in index
    for name in ("订单", "积分流水", "登录会话", "生成任务"):  # models
        assert name in index
    assert "Points entrys" not in index and "Login sessions" not in index

    tab.goto(f"{live_server.url}/admin/payments/order/")
    headers = texts(tab, "#result_list thead th")
    assert "订单号" in headers and "支付方式" in headers and "状态" in headers
    filters = tab.locator("#changelist-filter").text_content()
    assert "支付方式" in filters and "设备" in filters  # filter titles
    assert "待支付" in filters and "微信支付" in filters and "小程序" in filters  # choice labels in the filters
    row = tab.locator("#result_list tbody tr").first.inner_text()
    assert "TN-I18N-1" in row
    assert "待支付" in row and "微信支付" in row and "小程序" in row  # choice labels in the row
    assert "pending" not in row and "WeChat Pay" not in row


def test_the_console_speaks_english_to_an_english_browser(browser, live_server, console_data):
    tab = logged_in_tab(browser, live_server, "en-US")

    assert tab.locator("html").get_attribute("lang") == "en"
    index = tab.locator("#content").text_content()  # as written, before CSS capitalises app names
    for name in ("Accounts", "Payments", "Membership and points", "Music generation", "Photo songs"):
        assert name in index
    for name in ("Orders", "Points entries", "Login sessions", "Generations"):
        assert name in index
    assert "订单" not in index and "Points entrys" not in index

    tab.goto(f"{live_server.url}/admin/payments/order/")
    headers = [header.lower() for header in texts(tab, "#result_list thead th")]
    assert "order number" in headers and "payment method" in headers and "status" in headers
    filters = tab.locator("#changelist-filter").text_content()
    assert "payment method" in filters.lower() and "device" in filters.lower()
    assert "awaiting payment" in filters and "WeChat Pay" in filters and "mini program" in filters
    row = tab.locator("#result_list tbody tr").first.inner_text()
    assert "TN-I18N-1" in row
    assert "awaiting payment" in row and "WeChat Pay" in row and "mini program" in row
    assert "待支付" not in row and "微信支付" not in row
