"""The local screen: normalisation, the Aho-Corasick matcher and its rebuild, the seeded list, retention, metrics."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from moderation import services
from moderation.models import Verdict, Word
from moderation.providers import local
from moderation.tasks import purge

from .helpers import standard_words, words

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "a forbidden phrase here",
        "A FORBIDDEN PHRASE",
        "ｆｏｒｂｉｄｄｅｎ　ｐｈｒａｓｅ",  # full width, ideographic space
        "for-bid.den  p h r a s e!",
        "Forbidden\u200bPhrase",  # zero-width space
        "这里有禁止 词语。",
        "禁 止 词 语",
    ],
)
def test_risky_words_match_whatever_the_width_case_spaces_and_punctuation(text):
    standard_words()

    assert local.check_text(text).outcome == "risky"


def test_clean_text_passes_and_review_words_ask_for_review():
    standard_words()

    assert local.check_text("雨后的城市，轻快的钢琴").outcome == "pass"
    check = local.check_text("Buy Followers now")
    assert (check.outcome, check.label) == ("review", "spam")
    assert local.check_text("buy followers and a forbidden phrase").outcome == "risky"  # the worst wins


def test_the_matcher_is_rebuilt_when_the_list_changes():
    words(("first", "other", "risky"))
    assert local.check_text("the first one").outcome == "risky"
    version = local.version()

    Word.objects.create(word="second", label="other", outcome="risky")
    services.word_list_changed()  # what the admin calls (on commit)
    local.forget_version()  # the on-commit callback, in a test transaction

    assert local.version() != version
    assert local.check_text("the second one").outcome == "risky"
    Word.objects.filter(word="first").update(active=False, updated_at=timezone.now())
    local.forget_version()
    assert local.check_text("the first one").outcome == "pass"


def test_the_seed_migration_filled_the_word_list_from_the_files():
    assert Word.objects.filter(word="代开发票", outcome="risky").exists()
    assert Word.objects.filter(word="kill yourself", label="abuse").exists()
    local.forget_version()
    assert local.check_text("KILL  your-self").outcome == "risky"


def test_every_verdict_is_logged_and_counted_and_old_ones_are_purged(settings, user):
    standard_words()
    before = REGISTRY.get_sample_value("tunee_moderation_verdicts_total", {"source": "test", "outcome": "review"}) or 0

    screening = services.content_check(user=user, source="test", fields={"title": "buy followers", "style": "pop"})

    assert screening.review == ["title"] and screening.risky == []
    assert list(Verdict.objects.values_list("field", "outcome", "provider")) in (
        [("style", "pass", "local"), ("title", "review", "local")],
        [("title", "review", "local"), ("style", "pass", "local")],
    )
    after = REGISTRY.get_sample_value("tunee_moderation_verdicts_total", {"source": "test", "outcome": "review"})
    assert after == before + 1

    settings.MODERATION_LOG_RETENTION_DAYS = 30
    Verdict.objects.filter(field="title").update(created_at=timezone.now() - timedelta(days=31))
    assert purge() == {"expired": 0, "purged": 1}
    assert list(Verdict.objects.values_list("field", flat=True)) == ["style"]


def test_metrics_endpoint_exposes_the_counter(client, user):
    standard_words()
    services.content_check(user=user, source="generation", fields={"prompt": "a forbidden phrase"})

    text = client.get("/metrics").content.decode()

    assert 'tunee_moderation_verdicts_total{outcome="risky",source="generation"}' in text
