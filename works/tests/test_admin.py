"""The staff console: the works list with its filters and search, and the moderation actions."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from works.models import Work

from .factories import WorkFactory, completed_work
from .helpers import body

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # invalidation runs on commit


@pytest.fixture
def console(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_the_works_list_filters_and_searches(console):
    done = completed_work(title="海风来信", creator=UserFactory(username="xiaoyu"))
    WorkFactory(title="还在生成")

    for query in ("", "?generation__status__exact=completed", "?visibility__exact=public", "?featured__exact=0",
                  "?q=xiaoyu", "?q=海风"):  # fmt: skip
        response = console.get(f"/admin/works/work/{query}")
        assert response.status_code == 200, query
    page = console.get("/admin/works/work/?generation__status__exact=completed").content.decode()
    assert "海风来信" in page and "还在生成" not in page
    assert "海风来信" in console.get("/admin/works/work/?q=xiaoyu").content.decode()
    assert console.get(f"/admin/works/work/{done.pk}/change/").status_code == 200


def test_hide_unhide_and_feature_actions_moderate_and_leave_the_feed_at_once(console, api):
    work = completed_work(title="海风来信")
    assert len(body(api.get("/api/works"), 200)["data"]["list"]) == 1  # cached now

    def act(action):
        response = console.post("/admin/works/work/", {"action": action, "_selected_action": [str(work.pk)]})
        assert response.status_code == 302
        return Work.objects.get(pk=work.pk)

    assert act("hide").visibility == "private"
    assert body(api.get("/api/works"), 200)["data"]["list"] == []
    body(api.get(f"/api/works/{work.pk}"), 404, 30000)

    assert act("unhide").visibility == "public"
    assert len(body(api.get("/api/works"), 200)["data"]["list"]) == 1

    assert act("feature").featured is True
    assert body(api.get(f"/api/works/{work.pk}"), 200)["data"]["featured"] is True
    assert act("unfeature").featured is False


def test_likes_are_read_only_in_the_console(console):
    assert console.get("/admin/works/like/add/").status_code == 403
