import pytest


@pytest.fixture(autouse=True)
def _business_time_zone(settings):
    """The figures are per business day in Asia/Shanghai (the default TIME_ZONE), whatever the shell says."""
    settings.TIME_ZONE = "Asia/Shanghai"
