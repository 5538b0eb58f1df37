"""Writes of API security state: app keys (created with a secret shown once, disabled, enabled) and IP rules (every
change clears the cached list at once, in every process: unblocking needs no restart)."""

import ipaddress
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from . import selectors
from .models import AppKey, IpRule


@dataclass(frozen=True)
class NewAppKey:
    key: AppKey
    secret: str  # shown once; only its encryption is stored


@transaction.atomic
def app_key_create(*, app: str, note: str = "") -> NewAppKey:
    secret = secrets.token_urlsafe(32)
    key = AppKey.objects.create(app=app.strip(), note=note, key_id=f"ak_{secrets.token_hex(12)}", secret=secret)
    transaction.on_commit(lambda: selectors.app_key_forget(key.key_id))
    return NewAppKey(key=key, secret=secret)


@transaction.atomic
def app_keys_disable(*, keys) -> int:
    ids = [key.key_id for key in keys]
    count = AppKey.objects.filter(key_id__in=ids, is_active=True).update(is_active=False, disabled_at=timezone.now())
    transaction.on_commit(lambda: [selectors.app_key_forget(key_id) for key_id in ids])
    return count


@transaction.atomic
def app_keys_enable(*, keys) -> int:
    ids = [key.key_id for key in keys]
    count = AppKey.objects.filter(key_id__in=ids, is_active=False).update(is_active=True, disabled_at=None)
    transaction.on_commit(lambda: [selectors.app_key_forget(key_id) for key_id in ids])
    return count


@transaction.atomic
def ip_rule_save(*, rule: IpRule) -> IpRule:
    rule.network = str(ipaddress.ip_network(rule.network.strip(), strict=False))
    rule.save()
    transaction.on_commit(selectors.ip_rules_changed)
    return rule


@transaction.atomic
def ip_rule_add(*, network: str, action: str, note: str = "", expires_at=None) -> IpRule:
    return ip_rule_save(rule=IpRule(network=network, action=action, note=note, expires_at=expires_at))


@transaction.atomic
def ip_rules_delete(*, rules) -> int:
    count, _ = IpRule.objects.filter(pk__in=[rule.pk for rule in rules]).delete()
    transaction.on_commit(selectors.ip_rules_changed)
    return count
