"""Photo Song's email accounts: POST /users, POST /login, POST /requestPasswordReset, and the mails they send."""

import io
import re

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts import services
from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body, image_upload

pytestmark = pytest.mark.django_db

STRONG = "Melody-Harbor-2024"


def register(api, **fields):
    payload = {"username": "alice", "email": "alice@example.com", "password": STRONG, **fields}
    return api.post("/api/users", payload, format="json")


def test_register_with_json_logs_in_and_queues_a_verification_mail(
    api, notifications, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = register(api)

    data = body(response, 201, 0)["data"]
    user = User.objects.get()
    assert data["user"]["id"] == str(user.pk) and data["user"]["isNewUser"] is True
    assert data["user"]["email"] == "alice@example.com" and data["user"]["emailVerified"] is False
    assert data["accessToken"] and data["refreshToken"] and data["expiresIn"] == 604800
    assert user.password.startswith("argon2")
    assert mail.outbox == []  # not sent inside the request
    jobs = notifications.deliver()
    assert [(job.task, job.queue) for job in jobs] == [("accounts.send_verification_email", "notifications")]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    assert re.search(r"http://127\.0\.0\.1:8000/account/verify-email/\S+", mail.outbox[0].body)


def test_register_with_multipart_avatar_stores_a_reencoded_image_without_metadata(api):
    response = api.post(
        "/api/users",
        {"username": "alice", "email": "alice@example.com", "password": STRONG, "avatar": image_upload()},
        format="multipart",
    )

    data = body(response, 201, 0)["data"]
    user = User.objects.get()
    assert data["user"]["avatarUrl"] == f"http://127.0.0.1:8000/media/{user.avatar.name}"
    with default_storage.open(user.avatar.name) as stored:
        raw = stored.read()
    assert b"SecretCam" not in raw and b"Exif" not in raw
    with Image.open(io.BytesIO(raw)) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
        assert not image.getexif()


def test_register_with_a_non_image_avatar_is_400_and_creates_nothing(api):
    fake = SimpleUploadedFile("avatar.png", b"not an image at all", content_type="image/png")

    data = body(
        api.post("/api/users", {"username": "a", "email": "a@example.com", "password": STRONG, "avatar": fake}),
        400,
        400,
    )

    assert "avatar" in data["details"]
    assert User.objects.count() == 0


def test_avatar_above_5_mb_is_refused(api, settings):
    big = SimpleUploadedFile("big.jpg", b"\xff" * (5 * 1024 * 1024 + 1), content_type="image/jpeg")

    data = body(
        api.post("/api/users", {"username": "a", "email": "a@example.com", "password": STRONG, "avatar": big}), 400, 400
    )

    assert "5" in data["details"]["avatar"][0]
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "taken"),
    [({"username": "Bob"}, "username"), ({"email": "BOB@Example.com"}, "email")],
)
def test_duplicate_username_or_email_is_11000(api, fields, taken):
    UserFactory(username="bob", email="bob@example.com")

    data = body(register(api, **fields), 409, 11000)

    assert list(data["details"]) == [taken]
    assert User.objects.count() == 1


def test_weak_password_is_400_with_the_validators_messages(api):
    data = body(register(api, password="123"), 400, 400)

    assert len(data["details"]["password"]) >= 2  # too short, entirely numeric
    assert User.objects.count() == 0


def test_register_needs_username_email_password(api):
    data = body(api.post("/api/users", {}, format="json"), 400, 400)
    assert set(data["details"]) == {"username", "email", "password"}


def login(api, email, password, **extra):
    return api.post("/api/login", {"email": email, "password": password}, format="json", **extra)


def test_email_login(api):
    user = UserFactory(email="carol@example.com")

    data = body(login(api, "Carol@Example.com", "s3cret-Pass!"), 200, 0)["data"]

    assert data["user"]["id"] == str(user.pk) and data["user"]["isNewUser"] is False
    assert LoginSession.objects.get().method == "email"


def test_wrong_password_and_unknown_email_look_the_same(api):
    UserFactory(email="carol@example.com")

    wrong = body(login(api, "carol@example.com", "nope"), 401, 20001)
    unknown = body(login(api, "nobody@example.com", "nope"), 401, 20001)

    assert (wrong["message"], wrong["details"]) == (unknown["message"], unknown["details"])
    assert LoginSession.objects.count() == 0


def test_phone_account_without_password_cannot_log_in_by_email(api):
    user = UserFactory(email="p@example.com")
    user.set_unusable_password()
    user.save()
    body(login(api, "p@example.com", ""), 400, 400)
    body(login(api, "p@example.com", "anything"), 401, 20001)


def test_disabled_account_is_20003_only_with_the_right_password(api):
    UserFactory(email="d@example.com", status=User.Status.DISABLED, is_active=False)

    body(login(api, "d@example.com", "wrong"), 401, 20001)
    body(login(api, "d@example.com", "s3cret-Pass!"), 403, 20003)


def test_unverified_email_is_20002_when_verification_is_required(api, settings):
    UserFactory(email="u@example.com")
    UserFactory(email="v@example.com", email_verified=True)
    settings.REQUIRE_EMAIL_VERIFICATION = True

    body(login(api, "u@example.com", "s3cret-Pass!"), 403, 20002)
    body(login(api, "v@example.com", "s3cret-Pass!"), 200, 0)


def test_password_reset_answers_the_same_for_unknown_emails_and_mails_only_known_ones(
    api, notifications, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        known = body(api.post("/api/requestPasswordReset", {"email": "known@example.com"}, format="json"), 200, 0)
        unknown = body(api.post("/api/requestPasswordReset", {"email": "other@example.com"}, format="json"), 200, 0)

    assert (known["message"], known["data"]) == (unknown["message"], unknown["data"])
    jobs = notifications.deliver()
    assert [(job.task, job.queue) for job in jobs] == [("accounts.send_password_reset_email", "notifications")]
    assert [m.to for m in mail.outbox] == [["known@example.com"]]
    assert re.search(r"/account/reset-password/[\w-]+/[\w-]+", mail.outbox[0].body)


def test_password_reset_needs_an_email(api):
    body(api.post("/api/requestPasswordReset", {"email": "nope"}, format="json"), 400, 400)


def test_verification_link_page_marks_the_email_verified(client):
    user = UserFactory(email="v@example.com")
    link = services.email_verification_link(user=user).removeprefix("http://127.0.0.1:8000")

    page = client.get(link)
    assert page.status_code == 200 and b'id="verify"' in page.content
    user.refresh_from_db()
    assert user.email_verified is False  # a GET (mail scanners) changes nothing

    done = client.post(link)
    assert done.status_code == 200 and b'data-state="verified"' in done.content
    user.refresh_from_db()
    assert user.email_verified is True


def test_forged_or_stale_verification_link_is_refused(client):
    user = UserFactory(email="v@example.com")
    link = services.email_verification_link(user=user).removeprefix("http://127.0.0.1:8000")
    User.objects.filter(pk=user.pk).update(email="new@example.com")

    assert client.post(link).status_code == 400
    assert client.get("/account/verify-email/forged").status_code == 400
    user.refresh_from_db()
    assert user.email_verified is False


def test_reset_page_sets_the_password_revokes_sessions_and_works_once(client, api):
    user = UserFactory(email="r@example.com")
    tokens = services.session_start(user=user)
    user.refresh_from_db()  # the link is made from the stored user, as the mail job does
    link = services.password_reset_link(user=user).removeprefix("http://127.0.0.1:8000")

    assert client.get(link).status_code == 200
    done = client.post(link, {"password": "New-Harbor-Tune-77", "password_confirm": "New-Harbor-Tune-77"})

    assert done.status_code == 200 and b'data-state="done"' in done.content
    user.refresh_from_db()
    assert user.check_password("New-Harbor-Tune-77")
    body(api.get("/api/user/me", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"), 401, 2001)
    again = client.post(link, {"password": "Other-Harbor-Tune-88", "password_confirm": "Other-Harbor-Tune-88"})
    assert again.status_code == 400
    user.refresh_from_db()
    assert user.check_password("New-Harbor-Tune-77")


def test_reset_page_refuses_weak_or_mismatched_passwords(client):
    user = UserFactory(email="r@example.com")
    link = services.password_reset_link(user=user).removeprefix("http://127.0.0.1:8000")

    weak = client.post(link, {"password": "123", "password_confirm": "123"})
    mismatch = client.post(link, {"password": "New-Harbor-Tune-77", "password_confirm": "x"})

    assert weak.status_code == mismatch.status_code == 200
    assert b'id="errors"' in weak.content and b'id="errors"' in mismatch.content
    user.refresh_from_db()
    assert user.check_password("s3cret-Pass!")


def test_login_attempts_are_throttled_per_email_whatever_its_case(api, settings):
    settings.THROTTLE_LOGIN_ACCOUNT_RATE = "2/min"
    UserFactory(email="carol@example.com")
    body(login(api, "carol@example.com", "nope"), 401, 20001)
    body(login(api, "Carol@Example.com", "nope"), 401, 20001)

    body(login(api, "CAROL@example.com", "s3cret-Pass!", REMOTE_ADDR="10.2.2.2"), 429, 429)

    assert LoginSession.objects.count() == 0
    body(login(api, "dave@example.com", "nope"), 401, 20001)  # another account is not affected
