"""The generation lists' own output function (`serializers.generation_rows_output`) against the serializer it
replaces on the hot path (`GenerationSerializer`, still the schema): for the same rows, the same rendered JSON,
state by state, so the two can never drift."""

import time

import orjson
import pytest
from django.db import connection
from django.utils import timezone, translation
from rest_framework.test import APIRequestFactory

from accounts.tests.factories import UserFactory
from generation import selectors
from generation.models import Favorite, Generation
from generation.serializers import GenerationSerializer, generation_list_output, generation_rows_output
from tunee.api.renderers import camelize, dumps

from .factories import GenerationFactory, complete

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the row path is PostgreSQL's")


def _rendered(data) -> object:
    """What the renderer writes for `data`, read back."""
    return orjson.loads(dumps(camelize(data)))


def _states(user) -> list[Generation]:
    """One generation in every state a list shows, newest last."""
    queued = GenerationFactory(user=user, tags=["海边", "summer sea"], negative_tags=["rock"])
    processing = GenerationFactory(
        user=user,
        status=Generation.Status.PROCESSING,
        started_at=timezone.now(),
        options={"model_version": "v4", "nested_keys": {"inner_key": [1, {"deep_key": None}]}, "1": 2.5},
    )
    with_hq = complete(GenerationFactory(user=user, title="海风", lyrics="啦啦啦"), title="晴天", duration=31.5)
    without_hq = complete(GenerationFactory(user=user))
    without_hq.audio_hq = ""
    without_hq.cover = ""
    without_hq.save()
    failed = GenerationFactory(
        user=user, status=Generation.Status.FAILED, error_message="生成失败", error_message_en="It failed"
    )
    failed_zh_only = GenerationFactory(user=user, status=Generation.Status.FAILED, error_message="只有中文")
    Favorite.objects.create(user=user, generation=with_hq)
    Favorite.objects.create(user=user, generation=queued)
    Favorite.objects.create(user=UserFactory(), generation=without_hq)  # someone else's: not a favorite of user
    return [queued, processing, with_hq, without_hq, failed, failed_zh_only]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("show_hq", [True, False])
@pytest.mark.parametrize("status", [None, "completed"])
def test_the_row_output_equals_the_serializer_output(db, monkeypatch, language, show_hq, status):
    # given generations in every state, and a clock that stands still (signed URLs carry the time)
    user = UserFactory()
    _states(user)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    query = APIRequestFactory().get("/api/generation", {"pageSize": 20}).GET

    with translation.override(language):
        # when both paths serialize the same page
        rows = selectors.generation_list_page(user=user, status=status, query_params=query).items
        fast = generation_rows_output(rows, show_hq=lambda: show_hq)
        instances = list(selectors.generation_list(user=user, status=status))
        slow = GenerationSerializer(instances, many=True, context={"show_hq": show_hq}).data

        # then they render the same JSON, in the same order
        assert [row[0] for row in rows] == [generation.pk for generation in instances]
        assert _rendered(fast) == _rendered(slow)
        assert dumps(camelize({"list": fast})) == dumps(camelize({"list": camelize(slow)}))


def test_the_favorites_rows_equal_the_serializer_output(db):
    user = UserFactory()
    _states(user)
    query = APIRequestFactory().get("/api/generation/favorites/list").GET

    rows = selectors.favorites_list_page(user=user, query_params=query).items
    slow = GenerationSerializer(list(selectors.favorites_list(user=user)), many=True, context={"show_hq": True}).data

    assert len(rows) == 2
    assert _rendered(generation_rows_output(rows, show_hq=lambda: True)) == _rendered(slow)


def test_membership_is_asked_only_when_a_row_has_high_quality_audio(db):
    user = UserFactory()
    GenerationFactory(user=user)
    without_hq = complete(GenerationFactory(user=user))
    without_hq.audio_hq = ""
    without_hq.save()
    asked = []
    query = APIRequestFactory().get("/api/generation").GET

    rows = selectors.generation_list_page(user=user, status=None, query_params=query).items
    generation_rows_output(rows, show_hq=lambda: asked.append(1) or True)
    assert asked == []

    complete(GenerationFactory(user=user))
    rows = selectors.generation_list_page(user=user, status=None, query_params=query).items
    items = generation_rows_output(rows, show_hq=lambda: asked.append(1) or False)
    assert asked == [1]
    assert items[0]["result"]["hqAudioUrl"] is None


def test_the_page_total_past_the_end_and_on_an_empty_list(db):
    user = UserFactory()
    for _ in range(3):
        GenerationFactory(user=user)
    factory = APIRequestFactory()

    past = selectors.generation_list_page(user=user, status=None, query_params=factory.get("/", {"page": 3}).GET)
    empty = selectors.generation_list_page(user=UserFactory(), status=None, query_params=factory.get("/").GET)
    second = selectors.generation_list_page(
        user=user, status=None, query_params=factory.get("/", {"page": 2, "pageSize": 2}).GET
    )

    assert (past.items, past.total) == ([], 3)
    assert (empty.items, empty.total) == ([], 0)
    assert (len(second.items), second.total) == (1, 3)


def test_a_page_of_instances_from_other_databases_goes_through_the_serializer(db):
    user = UserFactory()
    _states(user)
    instances = list(selectors.generation_list(user=user))
    query = APIRequestFactory().get("/api/generation").GET
    rows = selectors.generation_list_page(user=user, status=None, query_params=query).items

    assert _rendered(generation_list_output(instances, show_hq=lambda: True)) == _rendered(
        generation_list_output(rows, show_hq=lambda: True)
    )
    assert generation_list_output([], show_hq=lambda: True) == []


def test_the_page_knows_who_sees_high_quality_audio_as_membership_does(db, member):
    from datetime import timedelta

    from membership.models import Membership
    from membership.selectors import is_member

    lapsed = UserFactory()
    Membership.objects.create(
        user=lapsed, level="monthly", started_at=timezone.now() - timedelta(days=40),
        expires_at=timezone.now() - timedelta(days=10),
    )  # fmt: skip
    query = APIRequestFactory().get("/api/generation").GET
    for person in (member, lapsed, UserFactory()):
        complete(GenerationFactory(user=person))
        page = selectors.generation_list_page(user=person, status=None, query_params=query)
        assert selectors.page_shows_hq_audio(page, user=person) is is_member(user=person)
    assert [is_member(user=person) for person in (member, lapsed)] == [True, False]
