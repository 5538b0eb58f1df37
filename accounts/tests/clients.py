"""Logged-in API clients for any app's tests: `client_for(user)`, `tokens_for(user)`."""

import dataclasses
import datetime

from rest_framework.test import APIClient


def tokens_for(user):
    """A real login session for `user` (accounts.services.session_start) with an access token that stays valid
    across time travel in tests (issued in 2000, expiring in 2100). Returns the TokenBundle."""
    from accounts.services import session_start
    from accounts.tokens import access_token_issue

    bundle = session_start(user=user)
    issued = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    access = access_token_issue(
        user_id=user.pk, session_id=bundle.session.pk, issued_at=issued, lifetime=datetime.timedelta(days=36500)
    )
    return dataclasses.replace(bundle, access_token=access)


def client_for(user):
    """An APIClient sending `Authorization: Bearer <access token>` of a fresh login session of `user`."""
    client = APIClient()
    client.tokens = tokens_for(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client.tokens.access_token}")
    client.user = user
    return client
