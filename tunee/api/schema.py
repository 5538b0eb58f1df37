"""OpenAPI: describe the envelope around every answer, the error envelope, and the contract's pagination."""

from functools import cache

from rest_framework import serializers

ERROR_STATUSES = {
    "400": "Invalid parameters (code 400, or a domain code such as 1002, 20004, 30001, 40001)",
    "401": "Not authenticated (401), token invalid (2001) or expired (2002); a bad token is refused on public "
    "endpoints too",
    "402": "Daily quota used up and not enough points (40004), insufficient points (40000)",
    "403": "Forbidden (403), account disabled (20003), email not verified (20002)",
    "404": "Not found (404, 20000, 30000)",
    "409": "Duplicate (11000), order state conflict (40005); 40002 (points deduction failed) is reserved, never sent",
    "422": "Content refused by screening (60001): `details.fields` names the refused fields, never the matched word",
    "429": "Too many requests; `details.retryAfter` seconds and a `Retry-After` header",
    "500": "Internal error, no internals in the body",
    "502": "An upstream provider (SMS, WeChat, payment, AI) failed or is unreachable (50000)",
}


class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total = serializers.IntegerField()
    total_pages = serializers.IntegerField()


@cache
def paginated(item_serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """`@extend_schema(responses=paginated(WorkOutput))` for a list view built on `pagination.paginated`."""
    name = item_serializer.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}",
        (serializers.Serializer,),
        {"list": item_serializer(many=True), "pagination": PaginationSerializer(), "__module__": __name__},
    )


def _envelope(data_schema: dict | None) -> dict:
    return {
        "type": "object",
        "required": ["code", "message", "data", "timestamp"],
        "properties": {
            "code": {"type": "integer", "enum": [0]},
            "message": {"type": "string", "example": "操作成功"},
            "data": data_schema or {"nullable": True},
            "timestamp": {"type": "integer", "format": "int64", "description": "milliseconds since the epoch"},
        },
    }


ERROR_ENVELOPE = {
    "type": "object",
    "required": ["code", "message", "data", "details", "timestamp"],
    "properties": {
        "code": {"type": "integer", "description": "the contract's error code (API.md §2)", "example": 400},
        "message": {"type": "string", "example": "请求参数错误"},
        "data": {"nullable": True, "enum": [None]},
        "details": {
            "type": "object",
            "nullable": True,
            "additionalProperties": {},
            "description": "per-field messages for validation errors; code-specific facts otherwise",
        },
        "timestamp": {"type": "integer", "format": "int64"},
    },
}


def envelope_postprocessing_hook(result, generator, request, public):
    """Wrap every JSON 2xx answer of `/api` in the envelope and add the enveloped error answers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorEnvelope"] = ERROR_ENVELOPE
    error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api"):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            json_answers = True
            for status, response in list(responses.items()):
                if not str(status).startswith("2"):
                    continue
                content = response.setdefault("content", {})
                media = content.get("application/json")
                if media is None:
                    if content:
                        json_answers = False  # a provider webhook answering XML or text: not the envelope
                        continue
                    media = content["application/json"] = {}
                media["schema"] = _envelope(media.get("schema"))
            if not json_answers:
                continue
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": error_ref}}}
                )
    return result
