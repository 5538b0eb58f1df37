"""POST /api/notifications/subscriptions, POST /api/devices, DELETE /api/devices/:registrationId, logout with a
registration id, and the notification switch of PATCH /api/user/me."""

import pytest

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body
from notifications.models import Device, Subscription

from .conftest import TEMPLATE_FAILED, TEMPLATE_READY

pytestmark = pytest.mark.django_db


@pytest.fixture
def templates(settings):
    settings.WECHAT_TEMPLATE_SONG_READY = TEMPLATE_READY
    settings.WECHAT_TEMPLATE_SONG_FAILED = TEMPLATE_FAILED


def subscribe(client, template_ids):
    return client.post("/api/notifications/subscriptions", {"templateIds": template_ids}, format="json")


def register(client, platform="android", registration_id="rid-1"):
    return client.post("/api/devices", {"platform": platform, "registrationId": registration_id}, format="json")


# --- subscriptions ------------------------------------------------------------------------------------------------


def test_subscriptions_are_recorded_one_per_template_id_given(auth_api, user, templates):
    data = body(subscribe(auth_api, [TEMPLATE_READY, TEMPLATE_FAILED, TEMPLATE_READY]), 201, 0)["data"]

    assert data == {
        "available": [{"templateId": TEMPLATE_FAILED, "count": 1}, {"templateId": TEMPLATE_READY, "count": 2}]
    }
    assert Subscription.objects.filter(user=user, used_at__isnull=True).count() == 3


@pytest.mark.parametrize(
    "payload",
    [{}, {"templateIds": []}, {"templateIds": "tmpl"}, {"templateIds": [""]}, {"templateIds": ["x" * 129]}],
)
def test_bad_subscriptions_are_400_and_record_nothing(auth_api, payload):
    response = auth_api.post("/api/notifications/subscriptions", payload, format="json")

    data = body(response, 400, 400)
    assert "templateIds" in data["details"]
    assert Subscription.objects.count() == 0


def test_templates_the_service_does_not_use_are_refused(auth_api, templates):
    data = body(subscribe(auth_api, [TEMPLATE_READY, "someone-elses"]), 400, 400)

    assert "someone-elses" in data["details"]["templateIds"][0]
    assert Subscription.objects.count() == 0


def test_subscriptions_need_a_login(api):
    body(subscribe(api, [TEMPLATE_READY]), 401, 401)
    assert Subscription.objects.count() == 0


# --- devices ------------------------------------------------------------------------------------------------------


def test_a_device_is_registered_and_registering_it_again_refreshes_it(auth_api, user):
    data = body(register(auth_api, "ios", "rid-abc"), 201, 0)["data"]
    assert data["platform"] == "ios" and data["registrationId"] == "rid-abc"
    assert data["createdAt"].endswith("Z")

    body(register(auth_api, "ios", "rid-abc"), 201, 0)

    assert list(Device.objects.values_list("user", "platform", "registration_id")) == [(user.pk, "ios", "rid-abc")]


def test_a_registration_id_moves_to_the_newest_user_who_registers_it(auth_api, user):
    other = client_for(UserFactory())
    body(register(auth_api, registration_id="rid-shared"), 201, 0)

    body(register(other, registration_id="rid-shared"), 201, 0)

    assert Device.objects.get(registration_id="rid-shared").user == other.user


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"platform": "android"},
        {"registrationId": "rid"},
        {"platform": "windows", "registrationId": "rid"},
        {"platform": "ios", "registrationId": ""},
        {"platform": "ios", "registrationId": "r" * 129},
    ],
)
def test_bad_devices_are_400_and_register_nothing(auth_api, payload):
    data = body(auth_api.post("/api/devices", payload, format="json"), 400, 400)

    assert set(data["details"]) <= {"platform", "registrationId"} and data["details"]
    assert Device.objects.count() == 0


def test_devices_need_a_login(api, user):
    Device.objects.create(user=user, platform="ios", registration_id="rid-1")

    body(register(api, registration_id="rid-2"), 401, 401)
    body(api.delete("/api/devices/rid-1"), 401, 401)

    assert list(Device.objects.values_list("registration_id", flat=True)) == ["rid-1"]


def test_the_owner_deletes_a_device(auth_api, user):
    Device.objects.create(user=user, platform="ios", registration_id="rid-1")

    assert body(auth_api.delete("/api/devices/rid-1"), 200, 0)["data"] == {"deleted": True}

    assert Device.objects.count() == 0


def test_deleting_another_users_or_an_unknown_device_is_404_and_changes_nothing(auth_api, user):
    someone = UserFactory()
    Device.objects.create(user=someone, platform="android", registration_id="rid-theirs")

    body(auth_api.delete("/api/devices/rid-theirs"), 404, 404)
    body(auth_api.delete("/api/devices/rid-unknown"), 404, 404)

    assert Device.objects.get().user == someone


def test_staff_cannot_delete_someone_elses_device_through_the_api(staff, user):
    Device.objects.create(user=user, platform="android", registration_id="rid-1")

    body(client_for(staff).delete("/api/devices/rid-1"), 404, 404)

    assert Device.objects.count() == 1


def test_logout_removes_the_device_the_client_names_and_only_its_own(auth_api, user):
    Device.objects.create(user=user, platform="android", registration_id="rid-mine")
    Device.objects.create(user=user, platform="ios", registration_id="rid-tablet")
    Device.objects.create(user=UserFactory(), platform="ios", registration_id="rid-theirs")

    body(auth_api.post("/api/user/logout", {"registrationId": "rid-mine"}, format="json"), 200, 0)
    assert sorted(Device.objects.values_list("registration_id", flat=True)) == ["rid-tablet", "rid-theirs"]

    other_login = client_for(user)
    body(other_login.post("/api/user/logout", {"registrationId": "rid-theirs"}, format="json"), 200, 0)
    assert Device.objects.filter(registration_id="rid-theirs").exists()


def test_logout_without_a_registration_id_keeps_the_devices(auth_api, user):
    Device.objects.create(user=user, platform="android", registration_id="rid-1")

    body(auth_api.post("/api/user/logout", {}, format="json"), 200, 0)

    assert Device.objects.count() == 1


# --- the switch in the profile --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({"songReady": False}, False),
        ({"songReady": True}, True),
        (False, False),  # the boolean it always was still works
        (True, True),
    ],
)
def test_notifications_are_switched_by_a_boolean_or_song_ready(auth_api, user, given, stored):
    user.notifications = not stored
    user.save(update_fields=["notifications"])

    data = body(auth_api.patch("/api/user/me", {"settings": {"notifications": given}}, format="json"), 200, 0)

    assert data["data"]["settings"]["notifications"] is stored  # the profile keeps its shape: a boolean
    user.refresh_from_db()
    assert user.notifications is stored


def test_song_ready_in_a_multipart_profile_update(auth_api, user):
    response = auth_api.patch(
        "/api/user/me", {"settings": '{"notifications": {"songReady": false}}'}, format="multipart"
    )

    body(response, 200, 0)
    user.refresh_from_db()
    assert user.notifications is False


@pytest.mark.parametrize(
    "given", [{"songReady": "maybe"}, {"other": True}, {"songReady": True, "extra": 1}, {}, [True], "sometimes"]
)
def test_a_bad_notifications_setting_is_400_and_changes_nothing(auth_api, user, given):
    data = body(auth_api.patch("/api/user/me", {"settings": {"notifications": given}}, format="json"), 400, 400)

    assert "settings" in data["details"]
    user.refresh_from_db()
    assert user.notifications is True


def test_the_endpoints_are_in_the_openapi_schema(api):
    response = api.get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert set(paths["/api/notifications/subscriptions"]) == {"post"}
    assert set(paths["/api/devices"]) == {"post"}
    assert set(paths["/api/devices/{registration_id}"]) == {"delete"}
    assert paths["/api/devices"]["post"]["tags"] == ["notifications"]
