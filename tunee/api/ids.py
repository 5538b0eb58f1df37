"""Ids in paths are opaque UUID strings; a malformed one is code 1002, not a 404 or a 500."""

import uuid

from .errors import ApiError, Code


def parse_id(value) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ApiError(Code.INVALID_ID, details={"id": [str(Code.INVALID_ID.default_message)]}) from None
