"""The database itself keeps every identity unique (the services' checks are not the only guard)."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services.common import _duplicate_from_integrity
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def integrity_error(**fields) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        User.objects.create(username=fields.pop("username", "someone-else"), **fields)
    return caught.value


@pytest.mark.parametrize(
    ("existing", "duplicate", "field"),
    [
        ({"username": "phone_email_fan"}, {"username": "Phone_Email_Fan"}, "username"),
        ({"email": "Mixed@Example.com"}, {"email": "mixed@example.com"}, "email"),
        ({"phone": "13800138000"}, {"phone": "13800138000", "email": "phone@example.com"}, "phone"),
    ],
)
def test_duplicate_identities_are_refused_by_the_database_and_named_right(existing, duplicate, field):
    UserFactory(**existing)

    error = _duplicate_from_integrity(integrity_error(**duplicate), fallback="other")

    assert list(error.details) == [field] and error.status == 409


@pytest.mark.parametrize("field", ["wechat_openid", "wechat_unionid"])
def test_wechat_identities_are_unique(field):
    UserFactory(**{field: "o-123"})

    integrity_error(email="", **{field: "o-123"})


def test_absent_identities_do_not_collide():
    for index in range(2):
        User.objects.create(username=f"nobody{index}", email="", phone=None, wechat_openid=None, wechat_unionid=None)

    assert User.objects.filter(email="", phone__isnull=True).count() == 2


def test_status_is_active_or_disabled():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(status="banned")
