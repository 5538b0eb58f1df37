"""The user and group admins: who may grant permissions, and whose account a staff member may edit.

Staff with `change_user` edit customer accounts (and their own details); only superusers make someone staff or a
superuser, hand out groups or permissions, change groups, or touch a superuser's or another staff member's account.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User

from .factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Pass!"  # the factory's
NEW_PASSWORD = "An0ther-Pass!"


def perms(*codenames: str) -> list[Permission]:
    found = list(Permission.objects.filter(codename__in=codenames))
    assert len(found) == len(codenames)
    return found


@pytest.fixture
def clerk():
    """Staff who may view and change users, nothing more."""
    person = UserFactory(is_staff=True)
    person.user_permissions.add(*perms("view_user", "change_user", "delete_user"))
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def change_url(person) -> str:
    return reverse("admin:accounts_user_change", args=[person.pk])


def password_url(person) -> str:
    return reverse("admin:auth_user_password_change", args=[person.pk])


def form_data(client: Client, person, **changes) -> dict:
    """What the change form would post back unchanged (its editable fields only), with `changes` on top."""
    response = client.get(change_url(person))
    assert response.status_code == 200
    data = {}
    for field in response.context["adminform"].form:
        value = field.value()
        if isinstance(value, bool):
            if value:
                data[field.name] = "on"
        elif isinstance(value, list | tuple):
            data[field.name] = [str(item) for item in value]
        elif value is not None and field.name not in ("avatar", "password"):
            data[field.name] = str(value)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def granting(refund: Permission, group: Group) -> dict:
    return {
        "is_staff": "on",
        "is_superuser": "on",
        "user_permissions": [str(refund.pk)],
        "groups": [str(group.pk)],
    }


def has_nothing(person) -> bool:
    person.refresh_from_db()
    return (
        not person.is_superuser
        and not person.has_perm("payments.refund")
        and not person.groups.exists()
        and person.user_permissions.filter(codename="refund").count() == 0
    )


# --- granting -----------------------------------------------------------------------------------------------------


def test_a_change_user_clerk_cannot_make_themselves_superuser_or_grant_themselves_refund(clerk):
    # given a clerk and a group with the refund permission
    (refund,) = perms("refund")
    group = Group.objects.create(name="refunders")
    group.permissions.add(refund)
    console = logged_in(clerk)

    # when they post their own change form asking for superuser, the permission and the group
    response = console.post(change_url(clerk), form_data(console, clerk, **granting(refund, group)))

    # then the rest of the form saves, and none of it is granted
    assert response.status_code == 302
    assert has_nothing(clerk)
    assert clerk.is_staff  # unchanged, and not removable by them either
    assert set(clerk.user_permissions.values_list("codename", flat=True)) == {"view_user", "change_user", "delete_user"}


def test_a_change_user_clerk_cannot_grant_permissions_to_another_user(clerk):
    customer = UserFactory()
    (refund,) = perms("refund")
    group = Group.objects.create(name="refunders")
    console = logged_in(clerk)

    response = console.post(change_url(customer), form_data(console, customer, **granting(refund, group)))

    assert response.status_code == 302
    assert has_nothing(customer)
    assert not customer.is_staff


def test_a_change_user_clerk_still_edits_a_customers_details(clerk):
    customer = UserFactory()
    console = logged_in(clerk)

    page = console.get(change_url(customer)).content.decode()
    response = console.post(change_url(customer), form_data(console, customer, email="new@example.org"))

    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "new@example.org"


# --- whose account ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["superuser", "other staff"])
def test_a_change_user_clerk_cannot_edit_delete_or_reset_the_password_of_a_superuser_or_other_staff(clerk, kind):
    # given a superuser (or a staff member with more permissions than the clerk)
    target = UserFactory(is_staff=True, is_superuser=kind == "superuser", email="boss@example.org")
    if kind == "other staff":
        target.user_permissions.add(*perms("refund"))
    console = logged_in(clerk)
    data = {"username": target.username, "email": "clerk@example.org", "is_active": "on"}

    # when the clerk posts their change form, their delete page and their password form
    edited = console.post(change_url(target), data)
    deleted = console.post(reverse("admin:accounts_user_delete", args=[target.pk]), {"post": "yes"})
    password_page = console.get(password_url(target))
    password_set = console.post(
        password_url(target), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    # then every one is refused and the account is as it was
    assert (edited.status_code, deleted.status_code, password_page.status_code, password_set.status_code) == (
        403,
        403,
        403,
        403,
    )
    target.refresh_from_db()
    assert target.email == "boss@example.org"
    assert target.check_password(PASSWORD) and not target.check_password(NEW_PASSWORD)


def test_a_change_user_clerk_may_still_reset_a_customers_password(clerk):
    customer = UserFactory()

    response = logged_in(clerk).post(
        password_url(customer), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_a_change_user_clerks_actions_leave_superusers_and_other_staff_alone(clerk):
    boss = UserFactory(is_staff=True, is_superuser=True)
    colleague = UserFactory(is_staff=True)
    customer = UserFactory()

    response = logged_in(clerk).post(
        reverse("admin:accounts_user_changelist"),
        {"action": "disable_users", "_selected_action": [str(boss.pk), str(colleague.pk), str(customer.pk)]},
        follow=True,
    )

    assert "2 staff account(s) skipped" in response.content.decode()
    statuses = dict(User.objects.filter(pk__in=[boss.pk, colleague.pk, customer.pk]).values_list("pk", "status"))
    assert statuses == {boss.pk: "active", colleague.pk: "active", customer.pk: "disabled"}


# --- superusers ---------------------------------------------------------------------------------------------------


def test_a_superuser_still_grants_permissions_and_edits_a_superuser(staff):
    customer = UserFactory()
    other_superuser = UserFactory(is_staff=True, is_superuser=True)
    (refund,) = perms("refund")
    group = Group.objects.create(name="refunders")
    console = logged_in(staff)

    granted = console.post(change_url(customer), form_data(console, customer, **granting(refund, group)))
    password_set = console.post(
        password_url(other_superuser), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert (granted.status_code, password_set.status_code) == (302, 302)
    customer.refresh_from_db()
    assert customer.is_superuser and customer.is_staff
    assert customer.user_permissions.filter(pk=refund.pk).exists() and customer.groups.filter(pk=group.pk).exists()
    other_superuser.refresh_from_db()
    assert other_superuser.check_password(NEW_PASSWORD)


# --- groups -------------------------------------------------------------------------------------------------------


def test_only_superusers_make_or_change_groups(staff):
    # given a staff member allowed, by Django's standard permissions, to add and change groups
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*perms("view_group", "add_group", "change_group", "delete_group"))
    group = Group.objects.create(name="helpdesk")  # beside the roles' groups (accounts/roles.py)
    group.permissions.add(*perms("view_user"))
    (refund,) = perms("refund")
    console = logged_in(clerk)
    changed = {"name": "helpdesk", "permissions": [str(refund.pk)]}

    # when they add a group with refund, or put refund in an existing one (or delete it)
    added = console.post(reverse("admin:auth_group_add"), {"name": "refunders", "permissions": [str(refund.pk)]})
    edited = console.post(reverse("admin:auth_group_change", args=[group.pk]), changed)
    deleted = console.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})

    # then all are refused; they can still look
    assert (added.status_code, edited.status_code, deleted.status_code) == (403, 403, 403)
    assert set(Group.objects.values_list("name", flat=True)) - {"support", "finance"} == {"helpdesk"}
    assert list(group.permissions.values_list("codename", flat=True)) == ["view_user"]
    assert console.get(reverse("admin:auth_group_change", args=[group.pk])).status_code == 200

    # and a superuser does it
    assert logged_in(staff).post(reverse("admin:auth_group_change", args=[group.pk]), changed).status_code == 302
    assert list(group.permissions.values_list("codename", flat=True)) == ["refund"]
