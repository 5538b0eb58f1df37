"""tunee.cache: Django's Redis cache with its client object built once per pool, not once per call."""

import pytest
from django.conf import settings

from tunee.cache import RedisCache

pytestmark = pytest.mark.skipif("redis" not in settings.CACHES["default"]["BACKEND"].lower(), reason="needs Redis")


def test_one_client_object_serves_every_call_and_the_cache_works():
    backend = RedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": "tunee-test-cache"})
    backend.set("k", {"a": 1}, 30)
    assert backend.get("k") == {"a": 1}
    assert backend.get_many(["k", "missing"]) == {"k": {"a": 1}}
    client = backend._cache.get_client(write=True)
    assert backend._cache.get_client(write=True) is client  # Django's own builds a new one each call
    assert backend._cache.get_client() is client  # one server: reads and writes share the pool
    backend.delete("k")
    assert backend.get("k") is None
