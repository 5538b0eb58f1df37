"""WeChat content security 2.0 against a local fake WeChat server (pytest-httpserver): msgSecCheck's answers, the
fallbacks to the local list, the access token, and mediaCheckAsync with its verdict on a signed message push."""

import json
import threading

import pytest
from werkzeug import Response

from generation.models import Generation
from moderation import services
from moderation.models import MediaCheck, Verdict
from works.models import Work
from works.tests.factories import complete, jpeg_bytes, upload
from works.tests.helpers import body

from .helpers import PUSH_TOKEN, checked, ok, signed_push, standard_words

pytestmark = pytest.mark.django_db


def sec_check(server, answer, *, token="TOKEN-1", content=None):  # noqa: S107 (a fake server's token)
    expected = {"version": 2, "scene": 4, "openid": "o-wx-1"}
    if content is not None:
        expected["content"] = content
    server.expect_oneshot_request(
        "/wxa/msg_sec_check", method="POST", query_string={"access_token": token}
    ).respond_with_handler(lambda request: checked(request, expected, answer))


@pytest.mark.parametrize(
    ("answer", "outcome", "label", "provider"),
    [
        (ok("pass"), "pass", "100", "wechat"),
        (ok("review", 20001), "review", "20001", "wechat"),
        (ok("risky", 20003), "risky", "20003", "wechat"),
        ({"errcode": 87014, "errmsg": "risky content"}, "risky", "", "wechat"),  # v1's way of saying it
        ({"errcode": -1, "errmsg": "system error"}, "pass", "", "local"),  # error → the local answer
    ],
)
def test_msg_sec_check_answers(wechat, wx_user, answer, outcome, label, provider):
    sec_check(wechat, answer, content="雨后的城市")

    check = services.text_check(user=wx_user, text="雨后的城市")

    assert (check.outcome, check.label, check.provider) == (outcome, label, provider)
    wechat.check_assertions()


def test_a_wechat_risky_prompt_is_60001_and_costs_nothing(wechat, wx_user, api):
    sec_check(wechat, ok("risky", 20006), content="一段文字")
    api.force_authenticate(wx_user)

    response = api.post("/api/generation/create", {"prompt": "一段文字"}, format="json")

    assert body(response, 422, 60001)["details"] == {"fields": ["prompt"]}
    assert Generation.objects.count() == 0
    assert Verdict.objects.get(field="prompt").provider == "wechat"


def test_timeout_falls_back_to_the_local_list(wechat, wx_user):
    released = threading.Event()

    def slow(request):
        released.wait(5)
        return Response(json.dumps(ok("risky")), content_type="application/json")

    wechat.expect_oneshot_request("/wxa/msg_sec_check").respond_with_handler(slow)
    try:
        clean = services.text_check(user=wx_user, text="雨后的城市")
    finally:
        released.set()

    assert (clean.outcome, clean.provider) == ("pass", "local")
    assert services.text_check(user=wx_user, text="a forbidden phrase").outcome == "risky"  # local, no WeChat call


def test_unreachable_wechat_falls_back(settings, wx_user):
    settings.MODERATION_PROVIDER = "wechat"
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx", "secret"
    settings.WECHAT_API_BASE = "http://127.0.0.1:9/"  # connection refused
    standard_words()

    assert services.text_check(user=wx_user, text="buy followers").outcome == "review"


def test_users_without_an_openid_get_the_local_checks_only(wechat, user):
    assert services.text_check(user=user, text="雨后的城市").provider == "local"
    assert len(wechat.log) == 0  # WeChat was not asked


def test_a_stale_access_token_is_refreshed_once(wechat, wx_user):
    from django.core.cache import cache

    from moderation.providers.wechat import TOKEN_KEY

    cache.set(TOKEN_KEY, "STALE")
    sec_check(wechat, {"errcode": 40001, "errmsg": "invalid credential"}, token="STALE")
    sec_check(wechat, ok("pass"))

    assert services.text_check(user=wx_user, text="雨后的城市").provider == "wechat"
    assert cache.get(TOKEN_KEY) == "TOKEN-1"
    wechat.check_assertions()


def _work_with_pending_photo(wx_user, api):
    api.force_authenticate(wx_user)
    data = body(api.post("/api/works", {"image": upload(jpeg_bytes())}, format="multipart"), 201)["data"]
    assert data["moderation"] == "pending"
    check = MediaCheck.objects.get()
    assert (check.subject, check.subject_id, check.status) == ("work", data["id"], "pending")
    return Work.objects.get(pk=data["id"]), check


def test_a_photo_checked_asynchronously_is_hidden_by_a_risky_push(
    wechat, wx_user, api, client, django_capture_on_commit_callbacks
):
    wechat.expect_oneshot_request("/wxa/media_check_async", method="POST").respond_with_handler(
        lambda request: checked(
            request, {"media_type": 2, "version": 2, "scene": 4, "openid": "o-wx-1"}, {"errcode": 0, "trace_id": "T-9"}
        )
    )
    with django_capture_on_commit_callbacks(execute=False):
        work, check = _work_with_pending_photo(wx_user, api)
    services.media_check_submit(check_id=check.pk)  # the job the upload enqueued
    check.refresh_from_db()
    assert check.trace_id == "T-9"
    complete(work)
    api.force_authenticate(None)
    assert body(api.get("/api/works"), 200)["data"]["list"] == []  # not shown before the verdict

    push = {"Event": "wxa_media_check", "trace_id": "T-9", "version": 2, "result": {"suggest": "risky", "label": 20002}}
    refused = signed_push(client, push, token=PUSH_TOKEN, bad=True)
    assert refused.status_code == 403
    work.refresh_from_db()
    assert work.moderation == "pending"  # a badly signed push changes nothing

    answer = signed_push(client, push, token=PUSH_TOKEN)
    assert (answer.status_code, answer.content) == (200, b"success")
    work.refresh_from_db()
    assert work.moderation == "rejected" and "photo:20002" in work.moderation_label
    assert Verdict.objects.filter(field="photo", outcome="risky", provider="wechat", trace_id="T-9").exists()
    assert signed_push(client, push, token=PUSH_TOKEN).content == b"success"  # a duplicate push: no-op
    body(api.get(f"/api/works/{work.pk}"), 404, 30000)


def test_a_passing_push_approves_the_waiting_work(wechat, wx_user, api, client, django_capture_on_commit_callbacks):
    wechat.expect_oneshot_request("/wxa/media_check_async").respond_with_json({"errcode": 0, "trace_id": "T-1"})
    with django_capture_on_commit_callbacks(execute=False):
        work, check = _work_with_pending_photo(wx_user, api)
    services.media_check_submit(check_id=check.pk)

    push = {"trace_id": "T-1", "result": {"suggest": "pass", "label": 100}}
    assert signed_push(client, push, token=PUSH_TOKEN).status_code == 200

    work.refresh_from_db()
    assert work.moderation == "approved"


def test_a_failing_media_submit_falls_back_to_the_local_verdict(
    wechat, wx_user, api, settings, django_capture_on_commit_callbacks
):
    settings.MODERATION_PHOTOS_REVIEW = True
    wechat.expect_oneshot_request("/wxa/media_check_async").respond_with_data("busy", status=503)
    with django_capture_on_commit_callbacks(execute=False):
        work, check = _work_with_pending_photo(wx_user, api)

    services.media_check_submit(check_id=check.pk)

    work.refresh_from_db()
    assert work.moderation == "review"  # the local rule: photos to staff when MODERATION_PHOTOS_REVIEW is on


def test_the_push_url_verification_echoes_only_when_signed(wechat, client):
    import hashlib

    signature = hashlib.sha1("".join(sorted([PUSH_TOKEN, "1", "2"])).encode()).hexdigest()  # noqa: S324
    good = client.get(f"/api/moderation/wechat/push?signature={signature}&timestamp=1&nonce=2&echostr=hello")
    bad = client.get("/api/moderation/wechat/push?signature=x&timestamp=1&nonce=2&echostr=hello")

    assert (good.status_code, good.content) == (200, b"hello")
    assert bad.status_code == 403
