"""The staff console: the works list with its filters and search, and the moderation actions."""

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from generation.models import Generation
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


def test_hide_unhide_and_feature_actions_moderate_and_leave_the_feed_at_once(console, api, client):
    creator = UserFactory()
    work = completed_work(title="海风来信", creator=creator)
    owner = client_for(creator)
    assert len(body(api.get("/api/works"), 200)["data"]["list"]) == 1  # cached now

    def act(action):
        response = console.post("/admin/works/work/", {"action": action, "_selected_action": [str(work.pk)]})
        assert response.status_code == 302
        return Work.objects.get(pk=work.pk)

    hidden = act("hide")
    assert hidden.hidden is True and hidden.visibility == "public"  # the creator's choice is kept, not overwritten
    assert body(api.get("/api/works"), 200)["data"]["list"] == []
    body(api.get(f"/api/works/{work.pk}"), 404, 30000)
    body(api.post(f"/api/works/{work.pk}/play"), 404, 30000)
    assert client.get(f"/w/{work.pk}").status_code == 404
    # The creator still sees it, marked hidden, and cannot bring it back by making it public.
    assert body(owner.get(f"/api/works/{work.pk}"), 200)["data"]["hidden"] is True
    body(owner.patch(f"/api/works/{work.pk}", {"visibility": "public"}, format="json"), 200)
    assert body(api.get("/api/works"), 200)["data"]["list"] == []
    assert client.get(f"/w/{work.pk}").status_code == 404

    assert act("unhide").hidden is False
    assert len(body(api.get("/api/works"), 200)["data"]["list"]) == 1
    assert client.get(f"/w/{work.pk}").status_code == 200

    assert act("feature").featured is True
    assert body(api.get(f"/api/works/{work.pk}"), 200)["data"]["featured"] is True
    assert act("unfeature").featured is False


def test_an_edit_in_the_console_shows_at_once(console, api):
    work = completed_work(title="海风来信")
    assert body(api.get(f"/api/works/{work.pk}"), 200)["data"]["title"] == "海风来信"  # cached now
    assert body(api.get("/api/works"), 200)["data"]["list"][0]["title"] == "海风来信"
    form = {
        "creator": str(work.creator_id),
        "generation": str(work.generation_id),
        "title": "改过的标题",
        "description": work.description,
        "style": work.style,
        "visibility": "public",
        "work_tags-TOTAL_FORMS": "0",
        "work_tags-INITIAL_FORMS": "0",
    }

    response = console.post(f"/admin/works/work/{work.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert body(api.get(f"/api/works/{work.pk}"), 200)["data"]["title"] == "改过的标题"
    assert body(api.get("/api/works"), 200)["data"]["list"][0]["title"] == "改过的标题"


def test_deleting_in_the_console_removes_the_files_too(console):
    work = completed_work(title="海风来信")
    photo = work.image.name
    assert default_storage.exists(photo)

    response = console.post(f"/admin/works/work/{work.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Work.objects.filter(pk=work.pk).exists()
    assert not default_storage.exists(photo)
    assert Generation.objects.filter(pk=work.generation_id).exists()  # the song stays in the history


def test_bulk_deleting_in_the_console_removes_the_files_too(console):
    works = [completed_work(), completed_work()]
    photos = [work.image.name for work in works]

    response = console.post(
        "/admin/works/work/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(work.pk) for work in works]},
    )

    assert response.status_code == 302
    assert not Work.objects.filter(pk__in=[work.pk for work in works]).exists()
    assert not any(default_storage.exists(photo) for photo in photos)


def test_likes_are_read_only_in_the_console(console):
    assert console.get("/admin/works/like/add/").status_code == 403
