"""The negotiation shortcut answers exactly what DRF's own negotiation answers (tunee/api/negotiation.py)."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tunee.api.errors import Code
from tunee.api.negotiation import ContentNegotiation
from tunee.api.renderers import EnvelopeRenderer

ACCEPTS = [None, "", "*/*", "application/json", "application/json; indent=4", "text/html", "application/*",
           "text/html, application/json;q=0.9", "image/png"]  # fmt: skip
QUERIES = ["", "page=2", "format=json", "format=api", "a=1&format=json", "informat=x"]


def _answer(negotiation, accept, query, renderers):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/api/x?{query}" if query else "/api/x", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except Exception as error:  # the answer compared is the error itself
        return type(error).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", [[EnvelopeRenderer()], [EnvelopeRenderer(), BrowsableAPIRenderer()]])
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_shortcut_answers_what_drf_answers(accept, query, renderers):
    ours = _answer(ContentNegotiation(), accept, query, renderers)

    assert ours == _answer(DefaultContentNegotiation(), accept, query, renderers)


@pytest.mark.parametrize("accept", ["image/png", ""])
def test_an_unacceptable_type_is_still_refused_in_the_envelope(auth_api, accept):
    response = auth_api.get("/api/generation/quota", HTTP_ACCEPT=accept)

    assert response.status_code == 400
    assert response.json()["code"] == Code.VALIDATION.code
    assert "accept" in response.json()["details"]


def test_what_apps_send_gets_json(auth_api):
    for headers in ({}, {"HTTP_ACCEPT": "*/*"}, {"HTTP_ACCEPT": "application/json"}):
        response = auth_api.get("/api/generation/quota", **headers)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
