import pytest

from generation.tests.pipeline_fixtures import (  # noqa: F401  (the pipeline's fixtures, for end-to-end tests)
    fast_pipeline,
    gateway_server,
    jobs,
    openai_vision,
    song_files,
    suno,
)


@pytest.fixture(autouse=True)
def works_settings(settings):
    """The offline providers, URLs on the test server."""
    settings.VISION_PROVIDER = "local"
    settings.MUSIC_PROVIDER = "local"
    settings.PUBLIC_BASE_URL = "http://testserver"
