import pytest

from security import services


@pytest.fixture
def app_key(db):
    """An active app key and its secret (shown once, as the admin shows it)."""
    return services.app_key_create(app="miniprogram", note="tests")


@pytest.fixture
def signing_on(settings):
    settings.API_SIGNING_REQUIRED = True
    return settings
