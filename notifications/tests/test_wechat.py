"""WeChat subscribe messages: the real client (wechatpy, token in the shared cache) against a fake WeChat server."""

import pytest
from django.core.cache import cache

from notifications.models import Delivery
from notifications.providers import wechat as wechat_provider

from .conftest import TEMPLATE_FAILED, TEMPLATE_READY
from .helpers import finish, subscribe, unused

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet_push(pushes):
    """The app push channel runs beside WeChat; its locmem outbox keeps it off the console."""


def wechat_row(generation_id) -> Delivery:
    return Delivery.objects.get(generation_id=generation_id, channel="wechat")


def test_a_completed_song_sends_one_message_with_the_template_page_and_data(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY)

    generation_id = finish(notifications_queue, owner, title="雨后的城市")

    assert len(wechat.sent) == 1
    assert wechat.sent[0] == {
        "access_token": "token-1",
        "touser": "o-owner",
        "template_id": TEMPLATE_READY,
        "page": f"pages/generation/detail?id={generation_id}",
        "data": {
            "thing1": {"value": "雨后的城市"},
            "phrase2": {"value": "已完成"},
            "time3": {"value": "2024-01-01 20:10"},
        },
        "miniprogram_state": "trial",
        "lang": "zh_CN",
    }
    assert unused(owner) == 0  # the subscription is used up
    row = wechat_row(generation_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_a_failed_song_uses_the_failure_template(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY)
    subscribe(owner, TEMPLATE_FAILED)

    finish(notifications_queue, owner, outcome="failed", title="一首很长很长很长很长很长很长很长很长的歌名")

    (message,) = wechat.sent
    assert message["template_id"] == TEMPLATE_FAILED
    assert message["data"]["phrase2"] == {"value": "生成失败"}
    assert message["data"]["thing1"] == {
        "value": "一首很长很长很长很长很长很长很长很长的歌名"[:20]
    }  # a `thing` holds 20
    assert (unused(owner, TEMPLATE_READY), unused(owner, TEMPLATE_FAILED)) == (1, 0)


def test_a_works_song_opens_the_work_page(owner, wechat, notifications_queue, settings):
    settings.WECHAT_PAGE_WORK_READY = "pages/work/index?generation={id}"
    subscribe(owner, TEMPLATE_READY)

    generation_id = finish(notifications_queue, owner, source="work")

    assert wechat.sent[0]["page"] == f"pages/work/index?generation={generation_id}"


def test_each_subscription_allows_one_message(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY)

    first = finish(notifications_queue, owner)
    second = finish(notifications_queue, owner)

    assert len(wechat.sent) == 1
    assert wechat_row(first).status == "sent"
    assert (wechat_row(second).status, wechat_row(second).detail) == (
        "skipped",
        "no unused subscription for the template",
    )


def test_not_subscribed_43101_uses_nothing_up(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY)
    wechat.answers = [{"errcode": 43101, "errmsg": "user refuse to accept the msg"}]

    generation_id = finish(notifications_queue, owner)

    assert len(wechat.sent) == 1
    assert unused(owner) == 1
    row = wechat_row(generation_id)
    assert row.status == "skipped" and "43101" in row.detail


def test_an_expired_token_is_refreshed_once_and_the_message_sent(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY)
    cache.set(wechat_provider.CacheSessionStorage.prefix + "wx-test-app_access_token", "stale-token", 600)
    wechat.answers = [{"errcode": 40001, "errmsg": "invalid credential"}]

    generation_id = finish(notifications_queue, owner)

    assert [m["access_token"] for m in wechat.sent] == ["stale-token", "token-1"]
    assert wechat.fetches == 1
    assert wechat_row(generation_id).status == "sent" and unused(owner) == 0


def test_a_token_refused_twice_is_not_refreshed_again_but_retried_later(owner, wechat, notifications_queue, settings):
    settings.NOTIFICATIONS_MAX_RETRIES = 0  # the first transient failure is the last
    subscribe(owner, TEMPLATE_READY)
    wechat.answers = [{"errcode": 42001, "errmsg": "access_token expired"}] * 2

    generation_id = finish(notifications_queue, owner)

    assert wechat.fetches == 2 and len(wechat.sent) == 2  # one fetch, one refresh: never a third
    assert wechat_row(generation_id).status == "failed"
    assert unused(owner) == 1  # given back


def test_every_worker_reuses_the_token_kept_in_the_cache(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY, count=2)

    finish(notifications_queue, owner)
    finish(notifications_queue, owner)

    assert wechat.fetches == 1
    assert [m["access_token"] for m in wechat.sent] == ["token-1", "token-1"]
    assert cache.get(wechat_provider.CacheSessionStorage.prefix + "wx-test-app_access_token") == "token-1"


def test_wechat_busy_is_retried_with_backoff_then_sent(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY)
    wechat.answers = [{"errcode": -1, "errmsg": "system error"}]

    generation_id = finish(notifications_queue, owner)

    assert len(wechat.sent) == 2
    row = wechat_row(generation_id)
    assert (row.status, row.attempts) == ("sent", 2) and unused(owner) == 0


def test_a_permanent_refusal_is_recorded_and_uses_nothing_up(owner, wechat, notifications_queue):
    subscribe(owner, TEMPLATE_READY)
    wechat.answers = [{"errcode": 40037, "errmsg": "invalid template_id"}]

    generation_id = finish(notifications_queue, owner)

    row = wechat_row(generation_id)
    assert row.status == "rejected" and "40037" in row.detail
    assert len(wechat.sent) == 1 and unused(owner) == 1


def test_users_without_an_openid_or_a_subscription_cause_no_request(user, owner, wechat, notifications_queue):
    subscribe(user, TEMPLATE_READY)  # `user` logged in by phone: no openid

    no_openid = finish(notifications_queue, user)
    no_subscription = finish(notifications_queue, owner)

    assert wechat.sent == [] and wechat.fetches == 0
    assert wechat_row(no_openid).detail == "the user has no WeChat openid"
    assert wechat_row(no_subscription).status == "skipped"


def test_nothing_is_sent_without_a_configured_app(owner, settings, notifications_queue):
    settings.WECHAT_APP_ID = ""
    subscribe(owner, TEMPLATE_READY)

    generation_id = finish(notifications_queue, owner)

    assert wechat_row(generation_id).status == "skipped" and unused(owner) == 1


def test_the_fake_rejects_a_wrong_secret_and_so_does_the_client(owner, wechat, settings):
    settings.WECHAT_APP_SECRET = "wrong"

    with pytest.raises(wechat_provider.ProviderRejected):
        wechat_provider.send(openid="o-owner", template_id=TEMPLATE_READY, page="p", data={"thing1": "x"})
    assert wechat.sent == []


def test_an_unreachable_wechat_is_transient(settings):
    settings.WECHAT_APP_ID = "wx-test-app"
    settings.WECHAT_APP_SECRET = "s"
    settings.WECHAT_API_BASE = "http://127.0.0.1:9/"  # discard port: connection refused
    settings.WECHAT_TIMEOUT_SECONDS = 0.5

    with pytest.raises(wechat_provider.ProviderUnavailable):
        wechat_provider.send(openid="o", template_id="t", page="p", data={})
