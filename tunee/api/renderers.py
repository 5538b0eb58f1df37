"""JSON rendering: camelCase keys, the envelope around anything a view returns, contract date-times.

orjson writes the bytes (several times faster than the standard library's encoder); keys are camelized by the same
rule as djangorestframework-camel-case's renderer, with each key's conversion remembered (a response repeats the
same few dozen keys), so the two together cost a fraction of what they did.
"""

import datetime
import decimal
import types
import uuid

import orjson
from django.utils.encoding import force_str
from django.utils.functional import Promise
from djangorestframework_camel_case.util import camelize_re, underscore_to_camel
from rest_framework.renderers import BaseRenderer

from .envelope import Envelope, success_body


def format_datetime(value: datetime.datetime) -> str:
    """ISO 8601 in UTC with milliseconds: 2024-01-01T12:10:00.000Z."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    offset = value.utcoffset()
    if offset is None or offset:
        value = value.astimezone(datetime.UTC)
    if value.year >= 1000:  # isoformat truncates to milliseconds too, and is faster; it would zero-pad the year
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # without its "+00:00"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class Camelized(list):
    """A list whose items a view built with their keys already camelized (a hot list's own function per shape,
    tested equal to its serializer's output): the renderer writes it as it is, without walking it."""


_camel_keys: dict[str, str] = {}
_CAMEL_KEYS_MAX = 4096
# Values written as they are: nothing inside them to camelize (checked by exact type, the cheapest test there is).
_LEAVES = frozenset(
    {str, int, float, bool, type(None), datetime.datetime, datetime.date, uuid.UUID, decimal.Decimal, Camelized}
)


def camel_key(key: str) -> str:
    """`points_cost` → `pointsCost` (djangorestframework-camel-case's rule), each key's answer remembered."""
    camel = _camel_keys.get(key)
    if camel is None:
        camel = camelize_re.sub(underscore_to_camel, key) if "_" in key else key
        if len(_camel_keys) < _CAMEL_KEYS_MAX:
            _camel_keys[key] = camel
    return camel


def camelize(data):
    """Keys of every mapping camelized, lists and tuples as lists, lazy strings as strings; the rest (and a
    `Camelized` list) as it is."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(key, Promise):
                key = force_str(key)
            if isinstance(key, str):
                key = camel_key(key)
            out[key] = value if type(value) in _LEAVES else camelize(value)
        return out
    if isinstance(data, list | tuple | set | frozenset | types.GeneratorType):
        return [item if type(item) in _LEAVES else camelize(item) for item in data]
    if isinstance(data, Promise):
        return force_str(data)
    return data


def _default(obj):
    if isinstance(obj, datetime.datetime):
        return format_datetime(obj)
    if isinstance(obj, decimal.Decimal):
        # Money is stored exactly and shown in yuan as a JSON number with at most 2 decimals.
        return float(obj)
    if isinstance(obj, uuid.UUID | Promise):
        return str(obj)
    if isinstance(obj, datetime.date | datetime.time):
        return obj.isoformat()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(data) -> bytes:
    return orjson.dumps(data, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS)


def rendered(data):
    """`data` as the renderer writes it, read back: camelCase keys and plain JSON values only (datetimes as their
    contract strings, UUIDs as strings). For a cached part of an answer: a hit is cheap to unpickle and has nothing
    left to camelize or format."""
    return orjson.loads(dumps(camelize(data)))


class EnvelopeRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # UTF-8, said by the media type

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if not isinstance(data, Envelope) and not (response is not None and response.status_code >= 400):
            data = success_body(data)
        if data is None:
            return b""
        return dumps(camelize(data))
