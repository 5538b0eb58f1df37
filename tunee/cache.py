"""The Redis cache backend, minus a per-call cost: Django's client builds a new `redis.Redis` object around the
connection pool on every cache call (a constructor that parses its whole option set each time); this one builds it
once per pool and reuses it. A `redis.Redis` is safe to share between threads (each command borrows a connection
from the pool), so behaviour is exactly Django's."""

import uuid

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


def version_token(key: str) -> str:
    """The version token stored under `key` (a cache keyed by it is invalidated by storing a new one); a token that
    is missing or was evicted comes back as a new one, the same for every process that asks at once."""
    token = cache.get(key)
    if token is None:
        token = uuid.uuid4().hex
        if not cache.add(key, token, timeout=None):
            token = cache.get(key) or token
    return token
