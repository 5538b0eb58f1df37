"""The share page /w/<id>: server-rendered meta tags, the friendly 404, and a real browser playing the song."""

import html
import re

import pytest

from accounts.tests.factories import UserFactory
from generation.models import Generation
from works.models import Work

from .factories import WorkFactory, completed_work

pytestmark = pytest.mark.django_db


def meta(page: str, attribute: str, name: str) -> str:
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', page)
    assert match, f"no {attribute}={name}"
    return html.unescape(match.group(1))


def test_the_share_page_shows_the_work_with_open_graph_and_wechat_meta(client):
    creator = UserFactory(username="小鱼")
    work = completed_work(creator=creator, title="海风来信", description="夏天的海 <b>")

    response = client.get(f"/w/{work.pk}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    image_url = f"http://testserver/media/{work.image.name}"
    audio_url = f"http://testserver/media/{work.generation.audio.name}"
    assert meta(page, "property", "og:title") == "海风来信"
    assert meta(page, "property", "og:description") == "夏天的海 <b>"  # escaped in the page, intact when read
    assert meta(page, "property", "og:image") == image_url
    assert meta(page, "property", "og:audio") == audio_url
    assert meta(page, "property", "og:url") == f"http://testserver/w/{work.pk}"
    assert meta(page, "itemprop", "name") == "海风来信"
    assert meta(page, "itemprop", "image") == image_url
    assert meta(page, "itemprop", "description") == "夏天的海 <b>"
    assert 'name="viewport"' in page
    assert "<b>" not in page.split("<body>")[1]  # the description is escaped
    assert "小鱼" in page
    assert f'src="{audio_url}"' in page and "<audio" in page


@pytest.mark.parametrize("case", ["private", "hidden", "pending", "failed", "missing", "malformed"])
def test_private_unfinished_or_missing_works_get_a_friendly_404(client, case):
    if case == "private":
        target = completed_work(visibility=Work.Visibility.PRIVATE).pk
    elif case == "hidden":
        target = completed_work(hidden=True).pk  # by staff
    elif case == "pending":
        target = WorkFactory().pk
    elif case == "failed":
        work = WorkFactory()
        Generation.objects.filter(pk=work.generation_id).update(status=Generation.Status.FAILED)
        target = work.pk
    elif case == "missing":
        target = "7b1f4b7e-5d7c-4a57-9d7e-6f6b8f1d2c3a"
    else:
        target = "not-an-id"

    response = client.get(f"/w/{target}")

    assert response.status_code == 404
    page = response.content.decode()
    assert "这首歌找不到了" in page
    assert "og:audio" not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_share_page_in_a_real_browser_plays_the_song(browser, live_server):
    work = completed_work(title="海风来信")

    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    response = page.goto(f"{live_server.url}/w/{work.pk}")
    assert response.status == 200
    assert page.locator("#work-title").inner_text() == "海风来信"
    assert page.title().startswith("海风来信")
    # The player loads the song from our storage: metadata known, a real duration.
    page.wait_for_function("document.getElementById('work-audio').readyState >= 1", timeout=15000)
    duration = page.evaluate("document.getElementById('work-audio').duration")
    assert duration > 0
    # The photo is shown (decoded by the browser).
    assert page.evaluate("document.querySelector('img.photo').naturalWidth") > 0
    # Fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    missing = page.goto(f"{live_server.url}/w/7b1f4b7e-5d7c-4a57-9d7e-6f6b8f1d2c3a")
    assert missing.status == 404
    assert "这首歌找不到了" in page.content()
