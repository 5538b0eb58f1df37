"""Server errors schemathesis found (.ci/fuzz), each now a 400 in the envelope instead of a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from generation import tasks

    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda *args, **kwargs: None)


@pytest.mark.parametrize("field", ["page", "pageSize", "limit"])
def test_a_page_number_beyond_64_bits_is_a_400_not_a_500(api, field):
    response = api.get(f"/api/works?{field}=369590804182016917504")
    body = response.json()
    assert response.status_code == 400 and body["code"] == 400, body
    assert field in body["details"]


def test_a_huge_page_within_range_is_an_empty_page(api):
    response = api.get("/api/works?page=2147483647")
    assert response.status_code == 200 and response.json()["data"]["list"] == []


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**30, 1e30, -1e19])
def test_options_with_numbers_json_cannot_carry_are_refused_and_the_list_still_renders(auth_api, number):
    response = auth_api.post(
        "/api/generation/create", {"prompt": "雨后", "options": {"n": number, "deep": [{"m": number}]}}, format="json"
    )
    assert response.status_code == 400 and "options" in response.json()["details"], response.json()
    assert auth_api.get("/api/generation").status_code == 200


def test_options_with_ordinary_numbers_are_kept(auth_api):
    options = {"n": 2**62, "f": 1.5e18, "small": 1e-30}
    response = auth_api.post("/api/generation/create", {"prompt": "雨后", "options": options}, format="json")
    assert response.status_code == 201
    assert auth_api.get("/api/generation").json()["data"]["list"][0]["params"]["options"] == options
