"""GET/PATCH /user/me and POST /user/bind-phone."""

import datetime

import pytest
from django.core.files.storage import default_storage

from accounts.models import User, VerificationCode
from accounts.services.sms import _code_hash
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body, image_upload

pytestmark = pytest.mark.django_db

PROFILE_KEYS = {
    "id", "username", "email", "emailVerified", "phone", "avatarUrl", "wechat", "membership", "isVIP",
    "membershipEndDate", "points", "dailyStats", "settings", "status", "createdAt",
}  # fmt: skip
MEMBERSHIP_KEYS = {"level", "isValid", "expiresAt", "startedAt"}


def test_me_returns_the_contract_profile(auth_api, user):
    data = body(auth_api.get("/api/user/me"), 200, 0)["data"]

    assert set(data) == PROFILE_KEYS
    assert data["id"] == str(user.pk) and data["username"] == user.username and data["email"] == user.email
    assert data["settings"] == {"language": "zh-CN", "notifications": True}
    assert data["status"] == "active" and data["wechat"] is None and data["avatarUrl"] is None
    assert set(data["membership"]) == MEMBERSHIP_KEYS
    assert (data["membership"]["level"], data["isVIP"], data["membershipEndDate"], data["points"]) == (
        "free", False, None, 0
    )  # fmt: skip
    assert set(data["dailyStats"]) == {"date", "usedCount", "totalCount"}
    assert data["createdAt"].endswith("Z")


def test_me_needs_authentication(api):
    body(api.get("/api/user/me"), 401, 401)
    body(api.patch("/api/user/me", {"username": "x"}, format="json"), 401, 401)


def test_patch_username_and_settings(auth_api, user):
    data = body(
        auth_api.patch("/api/user/me", {"username": "newname", "settings": {"language": "en"}}, format="json"), 200, 0
    )

    assert data["data"]["username"] == "newname"
    assert data["data"]["settings"] == {"language": "en", "notifications": True}
    user.refresh_from_db()
    assert (user.username, user.language, user.notifications) == ("newname", "en", True)
    assert body(auth_api.get("/api/user/me"), 200, 0)["message"] == "Success"  # English from now on


def test_patch_settings_partially(auth_api, user):
    body(auth_api.patch("/api/user/me", {"settings": {"notifications": False}}, format="json"), 200, 0)
    user.refresh_from_db()
    assert (user.language, user.notifications) == ("zh-CN", False)


def test_patch_taken_username_is_11000_and_changes_nothing(auth_api, user):
    UserFactory(username="taken")

    data = body(
        auth_api.patch("/api/user/me", {"username": "Taken", "settings": {"language": "en"}}, format="json"), 409, 11000
    )

    assert list(data["details"]) == ["username"]
    user.refresh_from_db()
    assert user.language == "zh-CN"


@pytest.mark.parametrize("payload", [{"settings": {"language": "fr"}}, {"settings": "nope"}, {"username": "bad name!"}])
def test_patch_invalid_input_is_400(auth_api, payload):
    body(auth_api.patch("/api/user/me", payload, format="json"), 400, 400)


def test_patch_avatar_multipart_replaces_the_old_file(auth_api, user, django_capture_on_commit_callbacks):
    upload = image_upload()
    assert b"SecretCam" in upload.read()
    upload.seek(0)
    first = body(auth_api.patch("/api/user/me", {"avatar": upload}, format="multipart"), 200, 0)["data"]
    user.refresh_from_db()
    old = user.avatar.name
    with default_storage.open(old) as stored:
        assert b"SecretCam" not in stored.read()
    assert first["avatarUrl"] == f"http://127.0.0.1:8000/media/{old}"

    with django_capture_on_commit_callbacks(execute=True):
        body(
            auth_api.patch(
                "/api/user/me",
                {"avatar": image_upload("a.png", fmt="PNG", mode="RGBA"), "settings": '{"notifications": false}'},
                format="multipart",
            ),
            200,
            0,
        )

    user.refresh_from_db()
    assert user.avatar.name.endswith(".png") and user.notifications is False
    assert default_storage.exists(user.avatar.name) and not default_storage.exists(old)


def test_patch_non_image_avatar_is_400(auth_api, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("a.gif", b"GIF89a-not-really", content_type="image/gif")
    body(auth_api.patch("/api/user/me", {"avatar": fake}, format="multipart"), 400, 400)
    user.refresh_from_db()
    assert not user.avatar


def bind(client, phone, code):
    return client.post("/api/user/bind-phone", {"phone": phone, "code": code}, format="json")


def test_bind_phone(auth_api, user, send_code):
    code = send_code("13700137000", purpose="bind_phone")

    data = body(bind(auth_api, "+8613700137000", code), 200, 0)["data"]

    assert data["phone"] == "13700137000"
    user.refresh_from_db()
    assert user.phone == "13700137000"


def test_bind_phone_of_another_account_is_11000(auth_api, user, send_code):
    UserFactory(phone="13700137000")
    code = send_code("13700137000", purpose="bind_phone")

    data = body(bind(auth_api, "13700137000", code), 409, 11000)

    assert list(data["details"]) == ["phone"]
    user.refresh_from_db()
    assert user.phone is None


def test_bind_phone_with_a_wrong_code_is_20004(auth_api, user, send_code):
    code = send_code("13700137000", purpose="bind_phone")
    body(bind(auth_api, "13700137000", "000000" if code != "000000" else "111111"), 400, 20004)
    login_code = send_code("13700137000", purpose="login")
    body(bind(auth_api, "13700137000", login_code), 400, 20004)  # a login code does not bind
    user.refresh_from_db()
    assert user.phone is None


def test_bind_phone_needs_authentication(api):
    body(bind(api, "13700137000", "123456"), 401, 401)


def test_an_earlier_live_code_still_works(auth_api, user):
    from django.utils import timezone

    now = timezone.now()
    for code in ("111111", "222222"):
        VerificationCode.objects.create(
            phone="13700137000",
            purpose="bind_phone",
            code_hash=_code_hash(phone="13700137000", purpose="bind_phone", code=code),
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=5),
        )
    body(bind(auth_api, "13700137000", "111111"), 200, 0)
    assert User.objects.get(pk=user.pk).phone == "13700137000"


def test_every_login_answers_the_same_profile_plus_is_new_user(api, send_code, settings):
    settings.WECHAT_APP_ID = ""  # the WeChat sandbox
    code = send_code("13500135000")
    account = {"username": "shape", "email": "shape@example.com", "password": "Melody-Harbor-2024"}

    answers = [
        body(api.post("/api/auth/phone-login", {"phone": "13500135000", "code": code}, format="json"), 200, 0),
        body(api.post("/api/auth/wechat-login", {"code": "shape"}, format="json"), 200, 0),
        body(api.post("/api/users", account, format="json"), 201, 0),
        body(
            api.post("/api/login", {"email": account["email"], "password": account["password"]}, format="json"), 200, 0
        ),
    ]

    for answer in answers:
        data = answer["data"]
        assert set(data) == {"accessToken", "refreshToken", "expiresIn", "user"}
        assert set(data["user"]) == PROFILE_KEYS | {"isNewUser"}
        assert set(data["user"]["membership"]) == MEMBERSHIP_KEYS
        assert set(data["user"]["dailyStats"]) == {"date", "usedCount", "totalCount"}
    assert [answer["data"]["user"]["isNewUser"] for answer in answers] == [True, True, True, False]
