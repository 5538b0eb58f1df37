"""Reads of membership, quota and points state.

`user_entitlements` is the interface the accounts profile uses (API.md §3 "The user profile"); the entitlements
issue fills it from the real tables. Until then it shows the free level.
"""

from django.utils import timezone


def user_entitlements(*, user) -> dict:
    """The profile's entitlement fields, keys exactly as the contract spells them (the renderer keeps camelCase)."""
    return {
        "membership": {"level": "free", "isValid": True, "expiresAt": None, "startedAt": None},
        "isVIP": False,
        "membershipEndDate": None,
        "points": 0,
        "dailyStats": {"date": timezone.localdate().isoformat(), "usedCount": 0, "totalCount": 3},
    }
