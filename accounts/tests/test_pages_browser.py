"""The email-verification and password-reset pages, driven in Debian's chromium through Playwright."""

import pytest

from accounts import services
from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory

# serialized_rollback: the flush after these tests leaves the migrated rows (content types) for the next
# transactional test to restore, instead of recreating them with new ids that clash with its restore.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_verification_link_verifies_the_email(page):
    user = UserFactory(email="verify@example.com")

    page.goto(services.email_verification_link(user=user))
    page.click("#verify")

    assert page.locator("#result").get_attribute("data-state") == "verified"
    assert "verified" in page.locator("#result").inner_text()
    user.refresh_from_db()
    assert user.email_verified is True


def test_forged_verification_link_shows_an_error(page, live_server):
    page.goto(f"{live_server.url}/account/verify-email/not-a-real-token")
    assert page.locator("#result").get_attribute("data-state") == "invalid"


def test_reset_link_sets_a_new_password_logs_out_everywhere_and_works_once(page):
    user = UserFactory(email="reset@example.com")
    services.session_start(user=user)
    user.refresh_from_db()
    link = services.password_reset_link(user=user)

    page.goto(link)
    page.fill("#password", "123")
    page.fill("#password_confirm", "123")
    page.click("#save")
    assert page.locator("#errors").is_visible()  # the validators' messages, the form again

    page.fill("#password", "Violet-Harbor-Tune-31")
    page.fill("#password_confirm", "Violet-Harbor-Tune-31")
    page.click("#save")

    assert page.locator("#result").get_attribute("data-state") == "done"
    user.refresh_from_db()
    assert user.check_password("Violet-Harbor-Tune-31")
    assert not LoginSession.objects.filter(user=user, revoked_at__isnull=True).exists()

    page.goto(link)  # the same link, a second time
    assert page.locator("#result").get_attribute("data-state") == "invalid"
    assert page.locator("#password").count() == 0
    assert User.objects.get(pk=user.pk).check_password("Violet-Harbor-Tune-31")
