"""Shared bits of the moderation tests: a word list of their own, a signed WeChat push."""

import hashlib
import json

from moderation.models import Word
from moderation.providers import local


def words(*entries: tuple[str, str, str]) -> None:
    """Replace the word list with these (word, label, outcome) entries and make the matcher see it."""
    Word.objects.all().delete()
    for word, label, outcome in entries:
        Word.objects.create(word=word, label=label, outcome=outcome)
    local.forget_version()


def standard_words() -> None:
    words(("forbidden phrase", "abuse", "risky"), ("禁止词语", "illegal", "risky"), ("buy followers", "spam", "review"))


def signed_push(client, body: dict, *, token: str, nonce: str = "n0nce", timestamp: str = "1700000000", bad=False):
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    if bad:
        signature = "0" * 40
    query = f"signature={signature}&timestamp={timestamp}&nonce={nonce}"
    return client.post(f"/api/moderation/wechat/push?{query}", data=json.dumps(body), content_type="application/json")
