"""Assertions shared by the accounts tests."""


def body(response, status: int, code: int) -> dict:
    """Assert the envelope's HTTP status and code; return the decoded body."""
    data = response.json()
    assert response.status_code == status, data
    assert data["code"] == code, data
    assert isinstance(data["message"], str) and data["message"]
    assert isinstance(data["timestamp"], int)
    return data
