"""What a photo upload may cost before it is paid for: the quota is checked before the photo is decoded, uploads
have their own per-user rate, and the pixel limit is one a web worker survives."""

import io
from functools import cache

import pytest
from PIL import Image

from generation.models import Generation
from membership.models import DailyUsage, PointsEntry
from membership.selectors import business_today, quota_status
from membership.services import points_credit
from works import services
from works.images import TOO_MANY_PIXELS
from works.models import Work

from .factories import jpeg_bytes, png_declaring, upload
from .helpers import body, stored_files

pytestmark = pytest.mark.django_db


@cache
def real_png(width: int, height: int) -> bytes:
    """A real, decodable PNG of that many pixels that compresses to little (one grey)."""
    out = io.BytesIO()
    Image.new("L", (width, height), 128).save(out, format="PNG")
    return out.getvalue()


def post_photo(client, content: bytes, name: str = "photo.png", content_type: str = "image/png"):
    return client.post("/api/works", {"image": upload(content, name, content_type)}, format="multipart")


def use_up_the_quota(user) -> None:
    DailyUsage.objects.update_or_create(user=user, day=business_today(), defaults={"used": 3})
    assert quota_status(user=user).remaining == 0


@pytest.fixture
def decodes(monkeypatch):
    """Every photo handed to photo_prepare (the only code that decodes an upload)."""
    seen = []
    real = services.photo_prepare

    def spy(image):
        seen.append(image.name)
        return real(image)

    monkeypatch.setattr(services, "photo_prepare", spy)
    return seen


@pytest.mark.parametrize(
    "photo",
    [real_png(7000, 7000), png_declaring(30000, 30000)],
    ids=["7000x7000-png", "bomb"],
)
def test_a_user_who_cannot_pay_gets_40004_before_the_photo_is_decoded(auth_api, user, decodes, photo):
    use_up_the_quota(user)  # and no points

    payload = body(post_photo(auth_api, photo), 402, 40004)

    assert decodes == []  # refused before a single pixel was decoded
    # The same answer as the real charge gives on another route.
    charged = body(auth_api.post("/api/generation/create", {"prompt": "一首歌"}, format="json"), 402, 40004)
    assert payload["details"] == charged["details"]
    assert payload["details"] == {"remainingToday": 0, "points": 0, "pointsCost": 10}
    assert Work.objects.count() == 0 and Generation.objects.count() == 0 and stored_files() == []


def test_a_user_without_quota_but_with_enough_points_may_upload_and_pays_with_points(auth_api, user, decodes):
    use_up_the_quota(user)
    points_credit(user=user, amount=10, reason=PointsEntry.Reason.PURCHASE)

    body(post_photo(auth_api, jpeg_bytes(), "photo.jpg", "image/jpeg"), 201)

    assert len(decodes) == 1
    assert quota_status(user=user).points == 0
    assert Work.objects.get().generation.charge.kind == "points"


def test_the_charge_still_decides_when_the_early_check_was_passed(auth_api, user, monkeypatch):
    # What a concurrent upload that took the last unit between the check and the charge leaves: the check passed.
    monkeypatch.setattr(services, "quota_ensure_payable", lambda *, user: None)
    use_up_the_quota(user)

    body(post_photo(auth_api, jpeg_bytes(), "photo.jpg", "image/jpeg"), 402, 40004)

    assert Work.objects.count() == 0 and Generation.objects.count() == 0
    assert stored_files() == []  # the photo stored before the charge was refused is removed again


def test_uploads_are_throttled_per_user(auth_api, user, settings):
    from accounts.tests.clients import client_for
    from accounts.tests.factories import UserFactory

    settings.THROTTLE_UPLOAD_RATE = "2/hour"
    for _ in range(2):
        body(post_photo(auth_api, jpeg_bytes(), "photo.jpg", "image/jpeg"), 201)

    response = post_photo(auth_api, jpeg_bytes(), "photo.jpg", "image/jpeg")

    payload = body(response, 429, 429)
    assert payload["data"] is None
    assert 0 < payload["details"]["retryAfter"] <= 3600
    assert int(response["Retry-After"]) == payload["details"]["retryAfter"]
    assert Work.objects.count() == 2 and quota_status(user=user).used == 2  # the refused one cost nothing
    body(auth_api.get("/api/works", {"creator": "me"}), 200)  # reading is not an upload
    body(post_photo(client_for(UserFactory()), jpeg_bytes(), "photo.jpg", "image/jpeg"), 201)  # per user


def test_the_default_pixel_limit_refuses_a_30_megapixel_photo_with_30001(auth_api, user, settings):
    assert settings.WORKS_IMAGE_MAX_PIXELS == 24_000_000

    payload = body(post_photo(auth_api, real_png(6000, 5000)), 400, 30001)

    assert payload["details"]["image"] == [TOO_MANY_PIXELS.zh.format(mp="24")]
    assert Work.objects.count() == 0 and quota_status(user=user).used == 0
