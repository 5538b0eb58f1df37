import pytest


@pytest.fixture(autouse=True)
def works_settings(settings):
    """The offline providers, quick vision retries, URLs on the test server."""
    settings.VISION_PROVIDER = "local"
    settings.MUSIC_PROVIDER = "local"
    settings.WORKS_VISION_RETRY_BACKOFF = 0.01
    settings.PUBLIC_BASE_URL = "http://testserver"
