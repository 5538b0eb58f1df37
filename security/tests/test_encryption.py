"""Sensitive fields at rest: app-key secrets and WeChat session keys are stored as MultiFernet tokens, read back as
plaintext, re-encrypted under a new first key by `manage.py reencrypt_fields`; FIELD_ENCRYPTION_KEYS is required
with DEBUG off; phone numbers are masked in log lines."""

import logging
import uuid

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection, models

from accounts.tests.factories import UserFactory
from security import services
from security.models import AppKey
from tunee import crypto
from tunee.logmask import mask_phones

pytestmark = pytest.mark.django_db


def stored(table: str, column: str, pk) -> str:
    if isinstance(pk, uuid.UUID):  # as the database keeps it (SQLite: 32 hex digits)
        pk = models.UUIDField().get_db_prep_value(pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (test constants)
        return cursor.fetchone()[0]


def test_app_key_secrets_are_stored_encrypted(app_key):
    raw = stored("security_appkey", "secret", app_key.key.pk)
    assert app_key.secret not in raw and raw.startswith("gAAAAA")
    assert AppKey.objects.get(pk=app_key.key.pk).secret == app_key.secret


def test_wechat_session_keys_are_stored_encrypted():
    user = UserFactory(wechat_openid="o-enc", wechat_session_key="sess-key-123")
    raw = stored("accounts_user", "wechat_session_key", user.pk)
    assert "sess-key-123" not in raw
    user.refresh_from_db()
    assert user.wechat_session_key == "sess-key-123"


def test_the_mini_program_login_keeps_the_session_key_encrypted(settings, httpserver):
    from accounts.services import wechat_login

    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx-test", "secret"
    settings.WECHAT_API_BASE = httpserver.url_for("/")
    httpserver.expect_request("/sns/jscode2session").respond_with_json(
        {"openid": "o-mini", "session_key": "tk/abc==", "unionid": "u-mini"}
    )
    result = wechat_login(code="code-1")
    assert result.user.wechat_session_key == "tk/abc=="
    assert "tk/abc==" not in stored("accounts_user", "wechat_session_key", result.user.pk)


def test_rotation_re_encrypts_every_value_under_the_new_first_key(settings, app_key):
    user = UserFactory(wechat_session_key="rotate-me")
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]

    call_command("reencrypt_fields", stdout=open("/dev/null", "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: everything still reads
    assert AppKey.objects.get(pk=app_key.key.pk).secret == app_key.secret
    user.refresh_from_db()
    assert user.wechat_session_key == "rotate-me"
    assert Fernet(new_key.encode()).decrypt(stored("accounts_user", "wechat_session_key", user.pk).encode())


def test_a_value_no_configured_key_decrypts_is_an_error_not_garbage(settings, app_key):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.InvalidToken):
        AppKey.objects.get(pk=app_key.key.pk)


def test_the_keys_are_required_with_debug_off(tmp_path):
    from tunee.tests.test_settings import load_settings

    result = load_settings(tmp_path, DEBUG="0", SECRET_KEY="x" * 50, ALLOW_LOCAL_CACHE="1")
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEYS must be set" in result.stderr
    ok = load_settings(
        tmp_path,
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ALLOW_LOCAL_CACHE="1",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert ok.returncode == 0, ok.stderr


def test_phone_numbers_are_masked_in_logs(caplog):
    assert (
        mask_phones("SMS to 13800138000 failed; +8613912345678 too") == "SMS to 138****8000 failed; +86139****5678 too"
    )
    assert mask_phones("order TN2026010112001234 id 1380013800012") == "order TN2026010112001234 id 1380013800012"
    from tunee.logmask import PhoneMaskFilter

    record = logging.LogRecord("t", logging.INFO, __file__, 1, "code for %s", ("13800138000",), None)
    PhoneMaskFilter().filter(record)
    assert record.getMessage() == "code for 138****8000"


def test_a_created_key_has_a_fresh_secret_each_time():
    one, two = services.app_key_create(app="ios"), services.app_key_create(app="ios")
    assert one.secret != two.secret and one.key.key_id != two.key.key_id
