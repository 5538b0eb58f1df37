"""The envelope, the error mapping, pagination, ids and languages, through real HTTP requests."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tunee.tests.urls")]


def assert_error(response, status, code):
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code
    assert body["data"] is None
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 1_600_000_000_000
    assert isinstance(body["message"], str) and body["message"]
    assert "details" in body
    return body


def test_success_is_enveloped_in_camel_case_with_utc_millisecond_datetimes(api):
    response = api.get("/api/_t/ok")

    body = response.json()
    assert response.status_code == 200
    assert body["code"] == 0
    assert body["message"] == "操作成功"
    assert body["data"] == {"someField": "2024-01-01T12:10:00.000Z", "price": 19.9}
    assert isinstance(body["timestamp"], int)


def test_requests_accept_snake_and_camel_case_field_names(api):
    snake = api.post("/api/_t/ok", {"prompt": "hi", "negative_tags": ["rock"]}, format="json")
    camel = api.post("/api/_t/ok", {"prompt": "hi", "negativeTags": ["rock"]}, format="json")

    assert snake.status_code == camel.status_code == 201
    assert snake.json()["data"] == camel.json()["data"] == {"prompt": "hi", "negativeTags": ["rock"]}


def test_validation_error_has_per_field_details(api):
    response = api.post("/api/_t/ok", {"prompt": "far too long", "negativeTags": "x"}, format="json")

    body = assert_error(response, 400, 400)
    assert set(body["details"]) == {"prompt", "negativeTags"}
    assert all(isinstance(messages, list) and messages for messages in body["details"].values())


def test_missing_field_is_named_in_details(api):
    body = assert_error(api.post("/api/_t/ok", {}, format="json"), 400, 400)
    assert list(body["details"]) == ["prompt"]


def test_malformed_json_is_a_400(api):
    response = api.generic("POST", "/api/_t/ok", '{"prompt": "x",', content_type="application/json")

    assert_error(response, 400, 400)


def test_unsupported_content_type_is_a_400(api):
    response = api.generic("POST", "/api/_t/ok", "prompt=x", content_type="text/csv")

    assert_error(response, 400, 400)


def test_domain_error_keeps_its_code_status_and_details(api):
    body = assert_error(api.get("/api/_t/raise"), 402, 40004)

    assert body["details"] == {"remainingToday": 0, "points": 3, "pointsCost": 10}
    assert body["message"] == "今日生成次数已用完，积分也不足"


def test_unexpected_exception_is_an_enveloped_500_without_internals(api):
    api.raise_request_exception = False
    response = api.post("/api/_t/raise", {}, format="json")

    body = assert_error(response, 500, 500)
    text = response.content.decode()
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert body["details"] is None


def test_exception_outside_drf_is_an_enveloped_500(client):
    client.raise_request_exception = False
    response = client.get("/api/_t/django")

    assert_error(response, 500, 500)
    assert "boom" not in response.content.decode()


def test_no_credentials_is_401(api):
    assert_error(api.get("/api/_t/private"), 401, 401)


def test_garbage_bearer_token_is_2001(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_error(api.get("/api/_t/private"), 401, 2001)


def test_forbidden_is_403(auth_api):
    assert_error(auth_api.get("/api/_t/staff"), 403, 403)


def test_staff_passes_permission(api, staff):
    api.force_authenticate(staff)
    assert api.get("/api/_t/staff").status_code == 200


def test_throttled_is_429_with_retry_after(api):
    assert api.get("/api/_t/throttled").status_code == 200

    response = api.get("/api/_t/throttled")

    body = assert_error(response, 429, 429)
    assert 1 <= body["details"]["retryAfter"] <= 60
    assert response["Retry-After"] == str(body["details"]["retryAfter"])


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_route_is_an_enveloped_404(api, method):
    response = getattr(api, method)("/api/no/such/route")

    assert_error(response, 404, 404)


def test_api_root_is_an_enveloped_404(api):
    assert_error(api.get("/api"), 404, 404)
    assert_error(api.get("/api/"), 404, 404)


def test_wrong_method_is_an_enveloped_405(api):
    assert_error(api.delete("/api/_t/ok"), 405, 405)


def test_unknown_page_outside_api_is_html(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_malformed_id_is_1002(api):
    assert_error(api.get("/api/_t/items/not-a-uuid"), 400, 1002)


def test_well_formed_id_passes(api):
    item = "5f0c1f8e-3c2a-4a57-9a4f-6c5b9a0f1d2e"
    assert api.get(f"/api/_t/items/{item}").json()["data"] == {"id": item}


def test_english_messages_with_accept_language_en(api):
    response = api.get("/api/_t/raise", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.json()["message"] == "Daily generation quota used up and not enough points"


def test_english_validation_messages_with_accept_language_en(api):
    response = api.post("/api/_t/ok", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["message"] == "Invalid parameters"
    assert response.json()["details"]["prompt"] == ["This field is required."]


def test_chinese_is_the_default_language(api):
    response = api.post("/api/_t/ok", {}, format="json")

    assert response.json()["message"] == "请求参数错误"
    assert response.json()["details"]["prompt"] == ["该字段是必填项。"]


class TestPagination:
    def test_defaults(self, api):
        data = api.get("/api/_t/list").json()["data"]

        assert [item["n"] for item in data["list"]] == list(range(1, 11))
        assert data["pagination"] == {"page": 1, "pageSize": 10, "total": 250, "totalPages": 25}

    def test_page_and_page_size(self, api):
        data = api.get("/api/_t/list?page=3&pageSize=20").json()["data"]

        assert [item["n"] for item in data["list"]] == list(range(41, 61))
        assert data["pagination"] == {"page": 3, "pageSize": 20, "total": 250, "totalPages": 13}

    def test_limit_is_an_alias_of_page_size(self, api):
        data = api.get("/api/_t/list?limit=5").json()["data"]

        assert len(data["list"]) == 5
        assert data["pagination"]["pageSize"] == 5

    def test_page_size_is_clamped_to_100(self, api):
        data = api.get("/api/_t/list?pageSize=1000").json()["data"]

        assert len(data["list"]) == 100
        assert data["pagination"]["pageSize"] == 100

    def test_page_past_the_end_is_empty(self, api):
        data = api.get("/api/_t/list?page=99").json()["data"]

        assert data["list"] == []
        assert data["pagination"]["total"] == 250

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=abc", "page"),
            ("pageSize=0", "pageSize"),
            ("pageSize=x", "pageSize"),
            ("limit=1.5", "limit"),
        ],
    )
    def test_bad_values_are_400_naming_the_field(self, api, query, field):
        body = assert_error(api.get(f"/api/_t/list?{query}"), 400, 400)

        assert list(body["details"]) == [field]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constants_are_malformed_json(api, constant):
    response = api.generic("POST", "/api/_t/ok", f'{{"prompt": {constant}}}', content_type="application/json")

    assert_error(response, 400, 400)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_wechat_login_with_an_infinite_code_is_refused(api, constant):
    response = api.generic("POST", "/api/auth/wechat-login", f'{{"code": {constant}}}', content_type="application/json")

    assert_error(response, 400, 400)


def test_every_api_view_parses_json_strictly():
    """No view falls back to a parser that takes NaN/Infinity: each one's JSON parser is the strict one."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.parsers import JSONParser
    from rest_framework.views import APIView

    from tunee.api.parsers import StrictCamelCaseJSONParser

    def views(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from views(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                view = getattr(entry.callback, "cls", None)
                if view is not None and issubclass(view, APIView):
                    yield view

    checked = 0
    for view in views(get_resolver().url_patterns):
        for parser in view().get_parsers():
            if isinstance(parser, JSONParser):
                assert isinstance(parser, StrictCamelCaseJSONParser), view
                checked += 1
    assert checked > 20
