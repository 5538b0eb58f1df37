"""The staff's moderation queue (admin › Works › Moderation queue): what it lists, its actions and who may run them,
the word list in the admin; and the queue page in a real browser."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from moderation.models import Report, Word
from moderation.providers import local
from works.models import Work
from works.tests.factories import completed_work

pytestmark = pytest.mark.django_db

QUEUE = "/admin/works/workinreview/"


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def console(staff):
    return logged_in(staff)


def queue_works():
    under_review = completed_work(title="待审核的歌")
    Work.objects.filter(pk=under_review.pk).update(moderation="review", moderation_label="description:spam")
    reported = completed_work(title="被举报的歌")
    Report.objects.create(user=UserFactory(), subject="work", subject_id=str(reported.pk), reason="abuse")
    fine = completed_work(title="普通的歌")
    return under_review, reported, fine


def run(client, action, works):
    return client.post(QUEUE, {"action": action, "_selected_action": [str(work.pk) for work in works]})


def test_the_queue_lists_works_under_review_and_reported_ones_newest_first(console):
    _, reported, _ = queue_works()

    page = console.get(QUEUE).content.decode()

    assert "待审核的歌" in page and "被举报的歌" in page and "普通的歌" not in page
    assert page.index("被举报的歌") < page.index("待审核的歌")  # newest first
    assert "description:spam" in page and "abuse ×1" in page
    assert 'class="queue-photo"' in page
    detail = console.get(f"{QUEUE}{reported.pk}/change/").content.decode()
    assert "abuse" in detail


def test_approve_hide_and_disable_act_and_close_the_reports(console):
    under_review, reported, fine = queue_works()

    assert run(console, "approve", [under_review]).status_code == 302
    under_review.refresh_from_db()
    assert (under_review.moderation, under_review.hidden) == ("approved", False)

    run(console, "hide", [reported])
    reported.refresh_from_db()
    assert (reported.moderation, reported.hidden) == ("rejected", True)
    assert not Report.objects.filter(resolved_at__isnull=True).exists()  # decided: out of the queue
    assert "被举报的歌" not in console.get(QUEUE).content.decode()

    Work.objects.filter(pk=fine.pk).update(moderation="review")
    run(console, "hide_and_disable_user", [fine])
    fine.refresh_from_db()
    assert fine.hidden and User.objects.get(pk=fine.creator_id).status == User.Status.DISABLED


def test_staff_who_may_only_look_see_the_queue_but_cannot_act():
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_work"))
    under_review, _, _ = queue_works()
    client = logged_in(viewer)

    response = client.get(QUEUE)

    assert response.status_code == 200
    form = response.context["action_form"]
    assert not form or not [name for name, _ in form.fields["action"].choices if name]
    run(client, "approve", [under_review])
    under_review.refresh_from_db()
    assert under_review.moderation == "review"


def test_the_word_list_is_edited_in_the_admin_and_the_matcher_follows(console, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            "/admin/moderation/word/add/",
            {"word": "Ｎｅｗ Ｂａｄ Ｗｏｒｄ", "label": "abuse", "outcome": "risky", "active": "on"},
        )

    assert response.status_code == 302
    assert Word.objects.get(word="Ｎｅｗ Ｂａｄ Ｗｏｒｄ").normalized == "newbadword"
    assert local.check_text("new bad-word").outcome == "risky"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_queue_in_a_real_browser(browser, live_server):
    staff = UserFactory(username="moderator", is_staff=True, is_superuser=True)
    staff.set_password("queue-pass-123")
    staff.save()
    under_review, _, _ = queue_works()
    page = browser.new_page(locale="en-US")

    page.goto(f"{live_server.url}/admin/login/?next={QUEUE}")
    page.fill("#id_username", "moderator")
    page.fill("#id_password", "queue-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{QUEUE}")

    assert page.locator("img.queue-photo").count() == 2
    assert page.evaluate("document.querySelector('img.queue-photo').naturalWidth") > 0  # the photo is shown
    page.check(f"input[name=_selected_action][value='{under_review.pk}']")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    page.wait_for_load_state()

    assert "1 work(s) approved" in page.content()
    under_review.refresh_from_db()
    assert under_review.moderation == "approved"
    assert page.locator("img.queue-photo").count() == 1  # only the reported one is left
