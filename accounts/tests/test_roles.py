"""Staff roles: the groups the migration made are exactly accounts/roles.py's table, neither role may touch groups
or permissions, and the services refuse an actor without the permission (the admin's side is in each app's
test_roles*.py / test_staff_*.py)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import LoginSession
from accounts.roles import FINANCE, ROLES, SUPPORT, require_permission, roles_sync
from tunee.api.errors import ApiError, Code

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def staff_in(role: str):
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=role))
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def codenames(group: Group) -> set[str]:
    return {f"{app}.{code}" for app, code in group.permissions.values_list("content_type__app_label", "codename")}


@pytest.mark.parametrize("role", [SUPPORT, FINANCE])
def test_each_role_is_a_group_with_exactly_the_tables_permissions(role):
    assert codenames(Group.objects.get(name=role)) == set(ROLES[role])


def test_syncing_again_puts_a_tampered_group_back_to_the_table():
    from django.apps import apps

    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="refund"))
    support.permissions.remove(Permission.objects.get(codename="view_user"))

    roles_sync(apps)

    assert codenames(support) == set(ROLES[SUPPORT])


def test_only_finance_may_refund_orders_and_only_support_may_adjust_entitlements():
    support, finance = staff_in(SUPPORT), staff_in(FINANCE)

    assert not support.has_perm("payments.refund") and finance.has_perm("payments.refund")
    assert support.has_perm("membership.add_staffadjustment") and not finance.has_perm("membership.add_staffadjustment")
    assert support.has_perm("generation.refund_generation") and not finance.has_perm("generation.refund_generation")


@pytest.mark.parametrize("role", [SUPPORT, FINANCE])
def test_neither_role_may_edit_groups_or_permissions_nor_grant_itself_more(role):
    person = staff_in(role)
    group = Group.objects.get(name=role)
    refund = Permission.objects.get(codename="refund")
    console = logged_in(person)

    # no permission on groups or permissions at all
    assert not any(person.has_perm(f"auth.{verb}_group") for verb in ("add", "change", "delete"))
    assert not any(person.has_perm(f"auth.{verb}_permission") for verb in ("add", "change", "delete"))
    assert not person.has_perm("accounts.change_user")

    # the group admin refuses changing its own group, adding one, deleting one
    changed = console.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": role, "permissions": []})
    added = console.post(reverse("admin:auth_group_add"), {"name": "more", "permissions": [str(refund.pk)]})
    deleted = console.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})
    assert (changed.status_code, added.status_code, deleted.status_code) == (403, 403, 403)

    # and its own user page is read-only for it (no change_user): nothing it posts is saved
    posted = console.post(
        reverse("admin:accounts_user_change", args=[person.pk]),
        {"username": person.username, "is_superuser": "on", "user_permissions": [str(refund.pk)]},
    )
    assert posted.status_code == 403
    person.refresh_from_db()
    assert not person.is_superuser and not person.user_permissions.exists()
    assert codenames(group) == set(ROLES[role]) and not Group.objects.filter(name="more").exists()


def test_require_permission_lets_the_system_and_superusers_through_and_refuses_the_rest():
    require_permission(None, "payments.refund")
    require_permission(UserFactory(is_staff=True, is_superuser=True), "payments.refund")

    with pytest.raises(ApiError) as refused:
        require_permission(staff_in(SUPPORT), "payments.refund")

    assert refused.value.code is Code.FORBIDDEN
    assert refused.value.status == 403
    assert refused.value.details == {"permission": "payments.refund"}


def test_support_logs_a_customer_out_everywhere_and_finance_may_not():
    customer = UserFactory()
    services.session_start(user=customer)
    services.session_start(user=customer)

    with pytest.raises(ApiError) as refused:
        services.user_sessions_revoke_by_staff(user=customer, actor=staff_in(FINANCE))
    assert refused.value.code is Code.FORBIDDEN
    assert LoginSession.objects.filter(user=customer, revoked_at__isnull=True).count() == 2

    assert services.user_sessions_revoke_by_staff(user=customer, actor=staff_in(SUPPORT)) == 2
    assert not LoginSession.objects.filter(user=customer, revoked_at__isnull=True).exists()
    assert set(LoginSession.objects.values_list("revoke_reason", flat=True)) == {"staff"}


def test_in_the_admin_support_is_offered_revoke_sessions_but_not_disable(client):
    customer = UserFactory()
    services.session_start(user=customer)
    console = logged_in(staff_in(SUPPORT))

    page = console.get(reverse("admin:accounts_user_changelist"))
    offered = {name for name, _ in page.context["action_form"].fields["action"].choices if name}
    assert offered == {"revoke_sessions"}

    console.post(
        reverse("admin:accounts_user_changelist"), {"action": "disable_users", "_selected_action": [str(customer.pk)]}
    )
    console.post(
        reverse("admin:accounts_user_changelist"), {"action": "revoke_sessions", "_selected_action": [str(customer.pk)]}
    )
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not LoginSession.objects.filter(user=customer, revoked_at__isnull=True).exists()


def test_disabling_needs_change_user_in_the_service_too():
    customer = UserFactory()

    with pytest.raises(ApiError):
        services.user_disable(user=customer, actor=staff_in(SUPPORT))

    customer.refresh_from_db()
    assert customer.status == "active"
