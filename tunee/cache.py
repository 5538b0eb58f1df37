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


def redis_client():
    """The shared cache's `redis.Redis` (for Lua scripts and commands Django's cache API has no word for), or None
    when the cache is not Redis (the process's own memory: the embedded defaults)."""
    get_client = getattr(getattr(cache, "_cache", None), "get_client", None)
    return get_client(write=True) if get_client is not None else None


_scripts: dict[str, object] = {}


def lua_script(client, source: str):
    """`source` registered on Redis once per process (redis-py then sends it by its hash, EVALSHA)."""
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = client.register_script(source)
    return script


def version_token(key: str) -> str:
    """The version token stored under `key` (a cache keyed by it is invalidated by storing a new one); a token that
    is missing or was evicted comes back as a new one, the same for every process that asks at once."""
    token = cache.get(key)
    if token is None:
        token = uuid.uuid4().hex
        if not cache.add(key, token, timeout=None):
            token = cache.get(key) or token
    return token
