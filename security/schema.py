"""OpenAPI: the four signing headers, declared on every operation that checks them (security.signing)."""

from .signing import is_exempt

DESCRIPTION = (
    "Signed requests: required when the server runs with `API_SIGNING_REQUIRED` on (see the README's "
    '"Signed requests"); a missing, stale, replayed or wrong signature is a 401 with `details.reason`.'
)
HEADERS = [
    ("X-App-Key", "the app key's public id (`ak_…`)", {"type": "string", "maxLength": 40}),
    (
        "X-Timestamp",
        "milliseconds since the epoch; accepted within ±5 minutes",
        {"type": "string", "pattern": "^[0-9]{13}$"},
    ),
    (
        "X-Nonce",
        "8–64 of A-Z a-z 0-9 _ -, new for every request",
        {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
    ),
    ("X-Signature", "hex HMAC-SHA256 of the canonical request", {"type": "string", "pattern": "^[0-9a-f]{64}$"}),
]


def signing_headers_hook(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the optional signing headers to every non-exempt operation."""
    for path, operations in result.get("paths", {}).items():
        if is_exempt(path):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            params = operation.setdefault("parameters", [])
            names = {(param.get("in"), param.get("name")) for param in params}
            for name, description, schema in HEADERS:
                if ("header", name) not in names:
                    params.append(
                        {
                            "in": "header",
                            "name": name,
                            "required": False,
                            "schema": schema,
                            "description": f"{description}. {DESCRIPTION}",
                        }
                    )
    return result
