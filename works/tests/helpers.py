"""Small helpers of the works tests."""

from django.core.files.storage import default_storage


def body(response, status: int, code: int = 0):
    """The envelope of a response, after checking its HTTP status and code."""
    assert response.status_code == status, response.content[:500]
    payload = response.json()
    assert payload["code"] == code, payload
    return payload


def stored_files(folder: str = "works") -> list[str]:
    """Every file under a storage folder (recursively)."""
    if not default_storage.exists(folder):
        return []
    out = []
    stack = [folder]
    while stack:
        current = stack.pop()
        dirs, files = default_storage.listdir(current)
        out += [f"{current}/{name}" for name in files]
        stack += [f"{current}/{name}" for name in dirs]
    return sorted(out)
