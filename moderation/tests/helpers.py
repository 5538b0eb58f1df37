"""Shared bits of the moderation tests: a word list of their own, the fake WeChat's answers, a signed push."""

import hashlib
import json

from werkzeug import Response

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


PUSH_TOKEN = "push-token-for-tests"  # the fake message push's Token


def ok(suggest, label=100) -> dict:
    """A msgSecCheck answer of content security 2.0."""
    return {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": label}, "trace_id": "t"}


def checked(request, expected: dict, answer: dict) -> Response:
    """The fake's handler: the body WeChat received carries `expected`'s keys and values; answers `answer`."""
    sent = json.loads(request.data)
    assert {key: sent[key] for key in expected} == expected
    return Response(json.dumps(answer), content_type="application/json")


def signed_push(client, body: dict, *, token: str, nonce: str = "n0nce", timestamp: str = "1700000000", bad=False):
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    if bad:
        signature = "0" * 40
    query = f"signature={signature}&timestamp={timestamp}&nonce={nonce}"
    return client.post(f"/api/moderation/wechat/push?{query}", data=json.dumps(body), content_type="application/json")
