"""JSON rendering: camelCase keys, the envelope around anything a view returns, contract date-times."""

import datetime
import decimal
import uuid

from djangorestframework_camel_case.render import CamelCaseJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from .envelope import Envelope, success_body


def format_datetime(value: datetime.datetime) -> str:
    """ISO 8601 in UTC with milliseconds: 2024-01-01T12:10:00.000Z."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class ContractJSONEncoder(JSONEncoder):
    def default(self, obj):
        if isinstance(obj, datetime.datetime):
            return format_datetime(obj)
        if isinstance(obj, decimal.Decimal):
            # Money is stored exactly and shown in yuan as a JSON number with at most 2 decimals.
            return float(obj)
        if isinstance(obj, uuid.UUID):
            return str(obj)
        return super().default(obj)


class EnvelopeRenderer(CamelCaseJSONRenderer):
    encoder_class = ContractJSONEncoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if not isinstance(data, Envelope) and not (response is not None and response.status_code >= 400):
            data = success_body(data)
        return super().render(data, accepted_media_type, renderer_context)
