"""App push: the JPush SDK against a fake JPush server, the console twin, opting out, one message per generation."""

import base64
from unittest import mock

import pytest
from prometheus_client import REGISTRY

from accounts.tests.factories import UserFactory
from notifications.models import Delivery, Device
from notifications.providers import push as push_providers
from notifications.tasks import deliver, song_finished

from .helpers import FINISHED_AT, finish

pytestmark = pytest.mark.django_db


def push_row(generation_id) -> Delivery:
    return Delivery.objects.get(generation_id=generation_id, channel="push")


def counted(channel: str, status: str) -> float:
    return REGISTRY.get_sample_value("tunee_notifications_total", {"channel": channel, "status": status}) or 0.0


def test_a_completed_song_is_pushed_to_each_device_with_its_id_in_the_extras(owner, jpush, notifications_queue):
    Device.objects.create(user=owner, platform="android", registration_id="rid-android")
    Device.objects.create(user=owner, platform="ios", registration_id="rid-ios")

    generation_id = finish(notifications_queue, owner, title="晴天")

    assert [p["audience"] for p in jpush.pushes] == [
        {"registration_id": ["rid-android"]},
        {"registration_id": ["rid-ios"]},
    ]
    android, ios = jpush.pushes
    extras = {"generationId": str(generation_id), "source": "api", "outcome": "completed"}
    assert android["platform"] == ["android"] and ios["platform"] == ["ios"]
    assert android["notification"]["android"] == {
        "alert": "你的歌曲《晴天》已生成，快去听听吧",
        "title": "歌曲已生成",
        "extras": extras,
    }
    assert ios["notification"]["ios"]["extras"] == extras
    assert ios["notification"]["ios"]["alert"] == {"title": "歌曲已生成", "body": "你的歌曲《晴天》已生成，快去听听吧"}
    assert ios["options"]["apns_production"] is False
    row = push_row(generation_id)
    assert row.status == "sent" and sorted(row.sent_to) == ["rid-android", "rid-ios"]


def test_a_failed_song_is_pushed_in_the_users_language(owner, jpush, notifications_queue):
    owner.language = "en"
    owner.save(update_fields=["language"])
    Device.objects.create(user=owner, platform="android", registration_id="rid-1")

    finish(notifications_queue, owner, outcome="failed", title="Rain")

    (push,) = jpush.pushes
    assert push["notification"]["android"]["alert"] == "Your song “Rain” could not be made, please try again"
    assert push["notification"]["android"]["extras"]["outcome"] == "failed"


def test_registration_ids_jpush_does_not_know_are_removed(owner, jpush, notifications_queue):
    Device.objects.create(user=owner, platform="android", registration_id="rid-gone")
    Device.objects.create(user=owner, platform="ios", registration_id="rid-alive")
    jpush.unknown = {"rid-gone"}

    generation_id = finish(notifications_queue, owner)

    assert list(Device.objects.values_list("registration_id", flat=True)) == ["rid-alive"]
    assert [p["audience"]["registration_id"] for p in jpush.pushes] == [["rid-alive"]]
    assert push_row(generation_id).status == "sent"


def test_a_transient_error_is_retried_without_pushing_twice_to_a_device_already_reached(
    owner, jpush, notifications_queue
):
    Device.objects.create(user=owner, platform="android", registration_id="rid-1")
    Device.objects.create(user=owner, platform="android", registration_id="rid-2")
    jpush.answers = [(200, {"sendno": "0", "msg_id": "1"}), (503, {"error": {"code": 1030, "message": "timeout"}})]

    generation_id = finish(notifications_queue, owner)

    # rid-1 reached by the first attempt (answered by `answers`), rid-2 by the retry; rid-1 never again
    assert [p["audience"]["registration_id"] for p in jpush.pushes] == [["rid-2"]]
    row = push_row(generation_id)
    assert (row.status, row.attempts, row.sent_to) == ("sent", 2, ["rid-1", "rid-2"])


def test_after_the_last_retry_the_message_is_failed_logged_and_counted_never_the_generation(
    owner, jpush, notifications_queue, settings, caplog
):
    settings.NOTIFICATIONS_MAX_RETRIES = 2
    Device.objects.create(user=owner, platform="android", registration_id="rid-1")
    jpush.answers = [(500, {"error": {"code": 1030, "message": "internal timeout"}})] * 3
    before = counted("push", "failed")

    generation_id = finish(notifications_queue, owner)

    row = push_row(generation_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert counted("push", "failed") == before + 1
    assert "failed for good" in caplog.text
    assert jpush.pushes == []


def test_wrong_jpush_credentials_are_a_permanent_refusal(owner, jpush, notifications_queue, settings):
    settings.JPUSH_MASTER_SECRET = "wrong"
    Device.objects.create(user=owner, platform="ios", registration_id="rid-1")

    generation_id = finish(notifications_queue, owner)

    row = push_row(generation_id)
    assert row.status == "rejected" and row.attempts == 1
    assert Device.objects.filter(registration_id="rid-1").exists()  # the device is not to blame


def test_the_sdk_sends_basic_auth_to_the_configured_base(settings, jpush, httpserver):
    backend = push_providers.get_backend()
    message = push_providers.PushMessage(title="t", text="hello", extras={"generationId": "g"})

    report = backend.send(recipient="x", devices=[push_providers.PushTarget("ios", "rid-9")], message=message)

    assert report.sent == ["rid-9"] and report.invalid == []
    (request, _response) = httpserver.log[-1]
    assert request.path == "/v3/push"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"jpush-test-key:jpush-test-secret").decode()


def test_an_unreachable_jpush_is_transient(settings):
    settings.JPUSH_APP_KEY = "k"
    settings.JPUSH_MASTER_SECRET = "s"
    settings.JPUSH_API_BASE = "http://127.0.0.1:9/v3/"  # discard port: connection refused
    backend = push_providers.JPushBackend()

    with pytest.raises(push_providers.PushUnavailable):
        backend.send(
            recipient="x",
            devices=[push_providers.PushTarget("android", "r")],
            message=push_providers.PushMessage("t", "x"),
        )


def test_users_without_devices_get_no_request(owner, jpush, notifications_queue):
    generation_id = finish(notifications_queue, owner)

    assert jpush.pushes == []
    assert (push_row(generation_id).status, push_row(generation_id).detail) == ("skipped", "the user has no app device")


def test_the_console_twin_prints_one_line_for_the_owner(owner, settings, notifications_queue, capfd):
    settings.PUSH_BACKEND = "console"
    settings.WECHAT_APP_ID = ""

    generation_id = finish(notifications_queue, owner, title="晴天")

    assert capfd.readouterr().out == "PUSH to xiaoming: 你的歌曲《晴天》已生成，快去听听吧\n"
    assert push_row(generation_id).status == "sent"


def test_the_console_is_the_default_without_jpush_credentials():
    from django.conf import settings

    assert settings.JPUSH_APP_KEY == "" and settings.PUSH_BACKEND == "console"


def test_opted_out_users_get_nothing_on_any_channel(owner, jpush, wechat, notifications_queue):
    from .conftest import TEMPLATE_READY
    from .helpers import subscribe, unused

    owner.notifications = False
    owner.save(update_fields=["notifications"])
    Device.objects.create(user=owner, platform="android", registration_id="rid-1")
    subscribe(owner, TEMPLATE_READY)

    generation_id = finish(notifications_queue, owner)

    assert jpush.pushes == [] and wechat.sent == []
    assert set(Delivery.objects.filter(generation_id=generation_id).values_list("status", flat=True)) == {"skipped"}
    assert unused(owner) == 1


def test_one_message_per_generation_and_channel_whatever_the_duplicates(owner, jpush, wechat, notifications_queue):
    from .conftest import TEMPLATE_READY
    from .helpers import subscribe

    Device.objects.create(user=owner, platform="android", registration_id="rid-1")
    subscribe(owner, TEMPLATE_READY, count=3)

    generation_id = finish(notifications_queue, owner)
    finish(notifications_queue, owner, generation_id=generation_id)  # a duplicate completion
    kwargs = {
        "user_id": str(owner.pk),
        "generation_id": str(generation_id),
        "source": "api",
        "title": "晴天",
        "outcome": "completed",
        "finished_at": FINISHED_AT.isoformat(),
    }
    assert song_finished.apply(kwargs=kwargs).get() == []  # a redelivered job: nothing left to send
    for row in Delivery.objects.filter(generation_id=generation_id):
        assert deliver.apply(args=[row.pk]).get() is None  # a redelivered send: claimed already

    assert len(jpush.pushes) == 1 and len(wechat.sent) == 1
    assert Delivery.objects.filter(generation_id=generation_id).count() == 2


def test_a_broker_that_is_down_never_fails_the_caller(owner, caplog):
    from notifications.tasks import enqueue_song_finished

    with mock.patch.object(song_finished, "apply_async", side_effect=OSError("broker down")):
        enqueue_song_finished(
            user_id=owner.pk, generation_id="g", source="api", title="", outcome="completed", finished_at=FINISHED_AT
        )
    assert "could not enqueue" in caplog.text


def test_a_device_moves_to_the_newest_user_who_registers_it(owner):
    from notifications.services import device_register

    other = UserFactory()
    device_register(user=owner, platform="android", registration_id="rid-shared")
    device_register(user=other, platform="ios", registration_id="rid-shared")

    device = Device.objects.get()
    assert (device.user, device.platform) == (other, "ios")
