"""The IP block / allow list: a blocked address is refused at once (403, before authentication), unblocking works
without a restart, networks (CIDR) count, and an allow-listed address skips the per-IP limit of anonymous calls."""

import pytest
import time_machine
from django.test import Client

from security import selectors, services
from security.models import IpRule

pytestmark = pytest.mark.django_db


def from_ip(client, address):
    client.defaults["REMOTE_ADDR"] = address
    return client


def test_a_blocked_address_is_refused_before_authentication(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ip_rule_add(network="203.0.113.0/24", action=IpRule.Action.BLOCK)
    from_ip(api, "203.0.113.9")

    response = api.get("/api/user/me", HTTP_AUTHORIZATION="Bearer not-even-a-token")
    body = response.json()
    assert response.status_code == 403 and body["code"] == 403  # not 401: authentication never ran
    assert from_ip(Client(), "203.0.113.9").get("/admin/login/").status_code == 403
    assert from_ip(api, "198.51.100.1").get("/api/points/packages").status_code == 200


def test_unblocking_works_without_a_restart(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rule = services.ip_rule_add(network="198.51.100.7", action=IpRule.Action.BLOCK)
    from_ip(api, "198.51.100.7")
    assert api.get("/api/points/packages").status_code == 403  # cached now

    with django_capture_on_commit_callbacks(execute=True):
        services.ip_rules_delete(rules=[rule])

    assert api.get("/api/points/packages").status_code == 200


def test_an_expired_block_counts_for_nothing(api):
    with time_machine.travel("2026-01-01 00:00:00+00:00"):
        from django.utils import timezone

        services.ip_rule_add(
            network="198.51.100.8", action=IpRule.Action.BLOCK, expires_at=timezone.now() + timezone.timedelta(hours=1)
        )
        selectors.ip_rules_changed()
        assert from_ip(api, "198.51.100.8").get("/api/points/packages").status_code == 403
    with time_machine.travel("2026-01-01 02:00:00+00:00"):
        assert api.get("/api/points/packages").status_code == 200


def test_a_block_wins_over_an_allow(api):
    services.ip_rule_add(network="192.0.2.0/24", action=IpRule.Action.ALLOW)
    services.ip_rule_add(network="192.0.2.5", action=IpRule.Action.BLOCK)
    selectors.ip_rules_changed()
    assert selectors.ip_decision("192.0.2.5") == IpRule.Action.BLOCK
    assert selectors.ip_decision("192.0.2.6") == IpRule.Action.ALLOW
    assert selectors.ip_decision("2001:db8::1") is None


def test_an_allow_listed_address_skips_the_anonymous_per_ip_limit(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "2/min", "user": "1000/min"}
    services.ip_rule_add(network="192.0.2.10", action=IpRule.Action.ALLOW)
    selectors.ip_rules_changed()

    with time_machine.travel(1_900_000_000, tick=False):
        other = from_ip(Client(), "192.0.2.11")
        assert [other.get("/api/points/packages").status_code for _ in range(3)] == [200, 200, 429]
        allowed = from_ip(Client(), "192.0.2.10")
        assert {allowed.get("/api/points/packages").status_code for _ in range(5)} == {200}


def test_networks_are_stored_in_their_canonical_form():
    rule = services.ip_rule_add(network=" 10.1.2.3/8 ", action=IpRule.Action.BLOCK)
    assert rule.network == "10.0.0.0/8"
