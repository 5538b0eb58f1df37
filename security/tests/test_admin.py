"""The API security console: a new app key's secret is shown once and stored encrypted; keys are disabled, not
deleted; IP rules added or removed in the admin take effect at once."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from security.models import AppKey, IpRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_creating_a_key_shows_its_secret_once(console, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post("/admin/security/appkey/add/", {"app": "miniprogram", "note": "v2"}, follow=True)

    key = AppKey.objects.get()
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(key.key_id in text and key.secret in text for text in shown), shown
    page = console.get(f"/admin/security/appkey/{key.pk}/change/").content.decode()
    assert key.secret not in page  # never again
    assert key.key_id.startswith("ak_") and key.is_active


def test_keys_are_disabled_by_an_action_and_never_deleted(console, app_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        console.post(
            "/admin/security/appkey/",
            {"action": "disable_keys", "_selected_action": [app_key.key.pk]},
        )
    key = AppKey.objects.get(pk=app_key.key.pk)
    assert not key.is_active and key.disabled_at is not None
    assert console.get(f"/admin/security/appkey/{key.pk}/delete/").status_code == 403


def test_ip_rules_from_the_admin_take_effect_at_once(console, django_capture_on_commit_callbacks):
    visitor = Client(REMOTE_ADDR="203.0.113.50")
    assert visitor.get("/api/points/packages").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        console.post("/admin/security/iprule/add/", {"network": "203.0.113.0/24", "action": "block", "note": "abuse"})
    assert IpRule.objects.get().network == "203.0.113.0/24"
    assert visitor.get("/api/points/packages").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        console.post(
            "/admin/security/iprule/",
            {"action": "delete_selected", "_selected_action": [IpRule.objects.get().pk], "post": "yes"},
        )
    assert not IpRule.objects.exists()
    assert visitor.get("/api/points/packages").status_code == 200
