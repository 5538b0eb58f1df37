"""The renderer's shortcuts for hot lists: a `Camelized` list written as it is, `rendered` parts for caches, and the
contract date-time format (its faster path against the plain strftime one)."""

import datetime
import uuid
import zoneinfo

import orjson

from tunee.api.renderers import Camelized, EnvelopeRenderer, format_datetime, rendered


def reference(value: datetime.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def test_datetimes_are_iso_8601_utc_with_truncated_milliseconds():
    shanghai, minus_five = zoneinfo.ZoneInfo("Asia/Shanghai"), datetime.timezone(datetime.timedelta(hours=-5))
    values = [
        datetime.datetime(2024, 1, 1, 12, 10, tzinfo=datetime.UTC),
        datetime.datetime(2024, 1, 1, 12, 10, 0, 999_999, tzinfo=zoneinfo.ZoneInfo("UTC")),
        datetime.datetime(2024, 1, 1, 0, 0, 0, 1_000, tzinfo=shanghai),
        datetime.datetime(2024, 12, 31, 23, 59, 59, 999, tzinfo=minus_five),
        datetime.datetime(2024, 6, 1, 8, 0, 0, 123_456, tzinfo=datetime.UTC).replace(tzinfo=None),  # naive: UTC
        datetime.datetime(999, 3, 4, 5, 6, 7, 8_000, tzinfo=datetime.UTC),  # strftime does not pad the year
    ]
    assert [format_datetime(value) for value in values] == [reference(value) for value in values]
    assert format_datetime(values[2]) == "2023-12-31T16:00:00.001Z"


def test_a_camelized_list_is_written_as_it_is_and_other_keys_are_camelized():
    renderer = EnvelopeRenderer()
    data = {"page_list": Camelized([{"already_camel": 1, "createdAt": None}]), "other_list": [{"snake_key": 2}]}

    out = orjson.loads(renderer.render(data))["data"]

    assert out == {"pageList": [{"already_camel": 1, "createdAt": None}], "otherList": [{"snakeKey": 2}]}


def test_a_rendered_part_is_plain_json_as_the_renderer_writes_it():
    value = {"work_id": uuid.UUID(int=1), "created_at": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)}

    assert rendered([value]) == [
        {"workId": "00000000-0000-0000-0000-000000000001", "createdAt": "2024-01-01T00:00:00.000Z"}
    ]
