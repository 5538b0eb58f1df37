"""`manage.py load_demo` makes the demo account (public password) only while DEBUG is on; `manage.py
ensure_superuser` creates the configured staff account, leaves an existing staff one alone, and never promotes an
ordinary account that happens to have the configured name."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts import demo
from accounts.models import User
from accounts.tests.factories import UserFactory
from membership.models import Plan

pytestmark = pytest.mark.django_db

PASSWORD = "Staff-Harbor-2024"


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_load_demo_with_debug_off_skips_the_demo_account_and_says_so(settings, var_dir):
    settings.DEBUG = False

    output = load_demo()

    assert not User.objects.filter(email__iexact=demo.DEMO_EMAIL).exists()
    assert "skipped" in output and demo.DEMO_EMAIL in output and demo.DEMO_PASSWORD not in output
    assert demo.DEMO_PASSWORD not in (var_dir / "demo.txt").read_text()
    assert set(Plan.objects.values_list("type", flat=True)) >= {"free", "monthly", "yearly"}  # by migration


def test_load_demo_with_debug_on_makes_the_demo_account_once(settings, var_dir):
    settings.DEBUG = True

    output = load_demo()
    load_demo()

    assert User.objects.filter(email__iexact=demo.DEMO_EMAIL).count() == 1
    assert demo.DEMO_PASSWORD in output and "skipped" not in output


@pytest.fixture
def superuser_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)


def ensure_superuser() -> str:
    out = io.StringIO()
    call_command("ensure_superuser", stdout=out)
    return out.getvalue()


def test_ensure_superuser_creates_the_staff_account(superuser_env):
    assert "created" in ensure_superuser()

    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password(PASSWORD)


@pytest.mark.parametrize("name", ["admin", "Admin"])
def test_ensure_superuser_refuses_to_promote_an_ordinary_account_of_that_name(superuser_env, name):
    squatter = UserFactory(username=name, email="someone@example.com")

    with pytest.raises(CommandError, match="not staff"):
        ensure_superuser()

    squatter.refresh_from_db()
    assert not squatter.is_staff and not squatter.is_superuser
    assert squatter.check_password("s3cret-Pass!")  # the factory's password, untouched
    assert User.objects.count() == 1


def test_ensure_superuser_refusal_exits_non_zero(superuser_env, capsys):
    UserFactory(username="admin")

    with pytest.raises(SystemExit) as exited:
        from django.core.management import ManagementUtility

        ManagementUtility(["manage.py", "ensure_superuser"]).execute()

    assert exited.value.code != 0
    assert "refusing to promote" in capsys.readouterr().err


def test_ensure_superuser_leaves_an_existing_staff_account_as_it_is(superuser_env):
    UserFactory(username="admin", is_staff=True, is_superuser=True)

    assert "exists" in ensure_superuser()

    admin = User.objects.get(username="admin")
    assert admin.check_password("s3cret-Pass!") and not admin.check_password(PASSWORD)  # password not reset
    assert User.objects.count() == 1


def test_ensure_superuser_refuses_an_email_that_belongs_to_another_account(superuser_env):
    UserFactory(username="someone", email="Admin@Example.com")

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_EMAIL"):
        ensure_superuser()

    assert not User.objects.filter(username="admin").exists()


def test_ensure_superuser_does_nothing_without_its_variables(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    assert ensure_superuser() == ""
    assert User.objects.count() == 0
