"""The cached first page of the feed (works/caching.py): stored as rendered, kept by the process that read it for as
long as the shared entry lives and its tokens name it, and the same answer as the uncached pages."""

import time

import pytest

from works.models import Work

from .factories import completed_work
from .helpers import body

pytestmark = pytest.mark.django_db


def items(response) -> list[dict]:
    return body(response, 200)["data"]["list"]


def test_a_cached_first_page_is_the_same_answer_as_the_uncached_one(auth_api, user, django_capture_on_commit_callbacks):
    # given works, one of them liked by the requester
    works = [completed_work(creator=user, tags=["海边", "Summer Sea"]) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        assert body(auth_api.post(f"/api/works/{works[2].pk}/like"), 200)["data"]["liked"] is True

    # when the first page is read from the cache (twice: the shared entry, then this process's copy)
    first, second = (items(auth_api.get("/api/works?pageSize=2")) for _ in range(2))
    # and the same works come uncached (a creator's feed is never cached)
    uncached = items(auth_api.get(f"/api/works?pageSize=2&creator={user.pk}"))

    # then every answer is the same
    assert first == second == uncached
    assert [item["liked"] for item in first] == [True, False]
    assert first[0]["tags"] == ["海边", "summer sea"]
    assert first[0]["createdAt"].endswith("Z")


def test_the_process_copy_lives_no_longer_than_the_shared_entry(api, user, settings, monkeypatch):
    settings.WORKS_FEED_CACHE_SECONDS = 60
    work = completed_work(creator=user, title="旧标题")
    assert items(api.get("/api/works"))[0]["title"] == "旧标题"

    # a change the works app is not told about (here: straight in the database) waits for the entry to expire
    Work.objects.filter(pk=work.pk).update(title="新标题")
    assert items(api.get("/api/works"))[0]["title"] == "旧标题"
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)

    assert items(api.get("/api/works"))[0]["title"] == "新标题"


def test_a_change_of_a_work_is_seen_at_once_by_the_process_that_read_the_page(
    auth_api, user, api, django_capture_on_commit_callbacks
):
    work = completed_work(creator=user)
    assert items(api.get("/api/works"))[0]["likes"] == 0

    with django_capture_on_commit_callbacks(execute=True):  # the like replaces the feed's token once it commits
        body(auth_api.post(f"/api/works/{work.pk}/like"), 200)

    assert items(api.get("/api/works"))[0]["likes"] == 1
    assert items(auth_api.get("/api/works"))[0]["liked"] is True
