"""Shared fixtures for every app's tests: `api`, `user`, `staff`, `auth_api`, and test-wide isolation."""

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.tokens import forget_verified_tokens
from tunee import localcache
from tunee.celery import app as celery_app

# Tests never write to the development broker under var/: messages go to kombu's in-memory transport, where a test
# can look at what was enqueued, and no job runs unless a test starts a worker.
celery_app.conf.update(broker_url="memory://", broker_transport_options={}, task_always_eager=False)


def _is_test_database(settings_dict) -> bool:
    """Whether the connection's database is the one Django made for the tests (its TEST NAME, else test_<NAME>)."""
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX

    test_name = (settings_dict.get("TEST") or {}).get("NAME")
    return settings_dict["NAME"] == test_name if test_name else settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX)


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_the_end(django_db_setup, django_db_blocker):
    """Torn down just before the test database is dropped: end the connections other threads (the live server
    of the browser tests) left open, so that PostgreSQL can drop the database instead of warning about them."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection as db

        # Only when a test database was made (a run of tests that need none has nothing to clean up, and the
        # connection would then be to the real database).
        if db.vendor == "postgresql" and _is_test_database(db.settings_dict):
            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True)
def _isolation(settings, tmp_path):
    """Each test starts with an empty cache and writes its files under its own temporary folder, never var/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"  # whatever PORT the shell has
    cache.clear()
    localcache.clear()
    forget_verified_tokens()
    yield
    cache.clear()
    localcache.clear()
    forget_verified_tokens()


@pytest.fixture(autouse=True)
def _in_flight_limit_out_of_the_way(settings):
    """Tests that pile up pending generations (quota, points, races) are not about the in-flight limit; its own tests
    (security/tests/test_limits.py) set it back."""
    settings.GENERATION_IN_FLIGHT_FREE = settings.GENERATION_IN_FLIGHT_MEMBER = 10_000


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def user_tokens(user):
    """A TokenBundle (access_token, refresh_token, expires_in, session) of a real login session of `user`."""
    from accounts.tests.clients import tokens_for

    return tokens_for(user)


@pytest.fixture
def auth_api(user):
    """An API client logged in as `user` through a real access token (the project's authentication runs)."""
    from accounts.tests.clients import client_for

    return client_for(user)


CHROMIUM_ARGS = [  # Debian's chromium, headless, with no network of its own to reach for
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def browser(live_server, settings, monkeypatch):
    """Debian's chromium driven by Playwright, with the service on pytest-django's live server.

    Links the service builds (PUBLIC_BASE_URL) point at the live server. Playwright's sync API runs an event loop
    in this thread, so the test's own (synchronous) ORM calls are allowed explicitly.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A browser tab (English locale)."""
    return browser.new_page(locale="en-US")


@pytest.fixture
def member(db):
    """A user with a running monthly membership."""
    from accounts.tests.factories import UserFactory
    from membership.models import Plan
    from membership.services import membership_extend

    person = UserFactory()
    membership_extend(user=person, plan=Plan.objects.get(type="monthly"), source="test")
    return person


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Two rules for the whole suite.

    1. Every transactional test restores the database it found (`serialized_rollback`). A transactional test
       empties every table when it ends, the plans and packages seeded by a data migration included; without
       the restore, later tests lose them, and Django's flush re-creates content types under new ids, which
       breaks the next test that restores. Applying it to all of them keeps the suite order-independent.
    2. Race tests need PostgreSQL; CI always has it (DATABASE_URL), a plain local run on SQLite skips them.
    """
    import os

    from django.conf import settings

    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        transactional = kwargs.get("transaction") or {"live_server", "transactional_db"} & set(
            getattr(item, "fixturenames", ())
        )
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(*(marker.args if marker else ()), **kwargs), append=False)

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run on PostgreSQL: set DATABASE_URL")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """A test with the (module-wide) Celery worker ends only once that worker has been idle for a moment: a job the
    test started (a duplicate delivery, the notifications a finished song sends) must not still be writing while
    the test's database is flushed (a TRUNCATE waiting on the job's row lock deadlocks) or the next test runs."""
    if "celery_worker" not in getattr(item, "fixturenames", ()):
        return
    import time

    from celery.worker import state as worker_state

    deadline, idle_since = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        if worker_state.active_requests or worker_state.reserved_requests:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= 0.5:
            return
        time.sleep(0.05)
