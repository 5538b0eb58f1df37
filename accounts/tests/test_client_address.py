"""One client address everywhere: X-Forwarded-For believed through exactly NUM_PROXIES proxies of ours."""

import pytest

from accounts.models import LoginSession
from accounts.tests.helpers import body
from tunee.api.client import client_ip

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # our reverse proxy: every request arrives from it


@pytest.fixture
def behind_one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def via_proxy(client_address: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_address}


def test_the_sms_cap_per_ip_counts_each_client_behind_the_proxy(api, send_code, settings, behind_one_proxy):
    settings.SMS_HOURLY_LIMIT_PER_IP = 2
    send_code("13800138001", **via_proxy("203.0.113.1"))
    send_code("13800138002", **via_proxy("203.0.113.1"))

    refused = api.post("/api/auth/send-code", {"phone": "13800138003"}, format="json", **via_proxy("203.0.113.1"))
    someone_else = api.post("/api/auth/send-code", {"phone": "13800138003"}, format="json", **via_proxy("198.51.100.7"))

    body(refused, 429, 429)
    assert someone_else.status_code == 200, someone_else.json()


def test_without_proxies_a_made_up_header_does_not_escape_the_cap(api, send_code, settings):
    settings.SMS_HOURLY_LIMIT_PER_IP = 1
    send_code("13800138001", REMOTE_ADDR="203.0.113.1", HTTP_X_FORWARDED_FOR="198.51.100.1")

    again = api.post(
        "/api/auth/send-code",
        {"phone": "13800138002"},
        format="json",
        REMOTE_ADDR="203.0.113.1",
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )

    body(again, 429, 429)


def test_a_login_session_keeps_the_clients_address_not_the_proxys(api, send_code, behind_one_proxy):
    code = send_code("13800138000", **via_proxy("203.0.113.9"))

    response = api.post(
        "/api/auth/phone-login", {"phone": "13800138000", "code": code}, format="json", **via_proxy("203.0.113.9")
    )

    body(response, 200, 0)
    session = LoginSession.objects.get()
    assert (session.created_ip, session.last_ip) == ("203.0.113.9", "203.0.113.9")


def test_the_address_is_the_one_the_last_proxy_of_ours_saw(rf, behind_one_proxy):
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5")

    assert client_ip(request) == "203.0.113.5"


def test_a_garbled_forwarded_address_is_none_not_stored(rf, behind_one_proxy):
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-ip")) is None
    assert client_ip(rf.get("/", REMOTE_ADDR="::1")) == "::1"


@pytest.mark.parametrize("num_proxies", [None, 0, 1, 2])
@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.1"},
        {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"},
        {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.5"},
        {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": " 198.51.100.1 ,203.0.113.5 , 10.0.0.2"},
        {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ""},
    ],
)
def test_the_address_rule_is_drfs_get_ident(rf, settings, num_proxies, headers):
    from rest_framework.throttling import BaseThrottle

    from tunee.api.client import _ident

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    request = rf.get("/", **headers)

    assert _ident(request) == BaseThrottle().get_ident(request)
