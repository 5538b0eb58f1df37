"""The works console: creator and song are never edited, tags are stored normalised as the services store them,
and moderation follows the roles (support moderates; finance does not)."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import FINANCE, SUPPORT
from accounts.tests.factories import UserFactory
from tunee.api.errors import ApiError, Code
from works import services
from works.models import Tag, Work

from .factories import WorkFactory

pytestmark = pytest.mark.django_db


def staff_in(role: str):
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=role))
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def offered(console: Client, changelist: str) -> set[str]:
    form = console.get(changelist).context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_a_works_creator_and_song_are_not_editable(staff):
    work = WorkFactory(title="旧标题")
    other = WorkFactory()
    console = logged_in(staff)

    form = console.get(f"/admin/works/work/{work.pk}/change/").context["adminform"].form
    assert "creator" not in form.fields and "generation" not in form.fields
    console.post(
        f"/admin/works/work/{work.pk}/change/",
        {
            "title": "新标题",
            "description": work.description,
            "style": work.style,
            "visibility": work.visibility,
            "creator": str(other.creator_id),
            "generation": str(other.generation_id),
            "work_tags-TOTAL_FORMS": "0",
            "work_tags-INITIAL_FORMS": "0",
        },
    )

    work.refresh_from_db()
    assert work.title == "新标题"
    assert (work.creator_id, work.generation_id) != (other.creator_id, other.generation_id)


def test_a_tag_typed_in_the_console_is_stored_normalised_and_once(staff):
    console = logged_in(staff)

    first = console.post("/admin/works/tag/add/", {"name": "  Summer   SEA "})
    again = console.post("/admin/works/tag/add/", {"name": "summer sea"})
    blank = console.post("/admin/works/tag/add/", {"name": "   "})

    assert first.status_code == 302
    assert again.status_code == 200 and blank.status_code == 200  # the form again, with its error
    assert list(Tag.objects.values_list("name", flat=True)) == ["summer sea"]


def test_support_hides_works_and_works_the_queue_but_does_not_feature(staff):
    console = logged_in(staff_in(SUPPORT))

    assert offered(console, "/admin/works/work/") == {"hide", "unhide"}
    assert offered(console, "/admin/works/workinreview/") == {"approve", "hide", "hide_and_disable_user"}
    work = WorkFactory()
    console.post("/admin/works/work/", {"action": "hide", "_selected_action": [str(work.pk)]})
    assert Work.objects.get(pk=work.pk).hidden


def test_finance_is_offered_no_work_action_and_the_services_refuse_it():
    finance = staff_in(FINANCE)
    work = WorkFactory()

    for call in (
        lambda: services.works_moderate(work_ids=[work.pk], hidden=True, actor=finance),
        lambda: services.works_review_decide(work_ids=[work.pk], approve=False, actor=finance),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert refused.value.code is Code.FORBIDDEN

    assert not Work.objects.get(pk=work.pk).hidden


def test_support_may_not_feature_through_the_service():
    work = WorkFactory()

    with pytest.raises(ApiError):
        services.works_moderate(work_ids=[work.pk], featured=True, actor=staff_in(SUPPORT))

    assert not Work.objects.get(pk=work.pk).featured
