"""Staff roles: what each Django group may do, in one table, and the one check staff-facing services make.

A role is a Django group of the same name, created and kept equal to `ROLES` by data migrations
(`accounts/migrations/0008_roles.py` calls `roles_sync`; when the table changes, add a migration that calls it
again). The admin offers each role only what its permissions allow (actions name their permission), and the
services refuse the rest too (`require_permission`). Superusers have every permission; neither role may edit
groups or permissions, and neither may make anyone staff (accounts/admin.py keeps that for superusers).

Permissions are written `app_label.codename`. The ones that are not a model's add/change/delete/view are declared
in the models' `Meta.permissions`: `accounts.revoke_sessions`, `generation.retry_generation`,
`generation.fail_generation`, `generation.refund_generation`, `works.moderate_work`, `payments.refund`.
Staff adjustments (quota, points, membership) are `membership.add_staffadjustment`; asking a provider about an
order, settling and closing it are `payments.change_order` (every field of an order is read-only, so the change
permission unlocks those actions and nothing else).
"""

from tunee.api.errors import ApiError, Code

SUPPORT = "support"
FINANCE = "finance"

ROLES: dict[str, tuple[str, ...]] = {
    SUPPORT: (
        # users and their sessions
        "accounts.view_user",
        "accounts.view_loginsession",
        "accounts.view_refreshtoken",
        "accounts.revoke_sessions",
        # entitlements: see them, adjust quota, points and membership with a reason
        "membership.view_plan",
        "membership.view_pointpackage",
        "membership.view_membership",
        "membership.view_membershipevent",
        "membership.view_dailyusage",
        "membership.view_pointsaccount",
        "membership.view_pointsentry",
        "membership.view_charge",
        "membership.view_chargerefund",
        "membership.view_staffadjustment",
        "membership.add_staffadjustment",
        # orders: look only
        "payments.view_order",
        "payments.view_ordergrant",
        "payments.view_orderevent",
        # generations: look, retry, fail and refund, refund a completed one
        "generation.view_generation",
        "generation.retry_generation",
        "generation.fail_generation",
        "generation.refund_generation",
        # works: look and moderate (the queue's decisions, hide and unhide)
        "works.view_work",
        "works.view_tag",
        "works.moderate_work",
        "moderation.view_report",
        "moderation.view_verdict",
        "moderation.view_mediacheck",
    ),
    FINANCE: (
        # orders: look, ask the provider and settle, close, refund
        "payments.view_order",
        "payments.change_order",
        "payments.refund",
        "payments.view_ordergrant",
        "payments.view_orderevent",
        "payments.view_paymentnotification",
        # the points ledger and what can be bought
        "membership.view_plan",
        "membership.view_pointpackage",
        "membership.view_pointsaccount",
        "membership.view_pointsentry",
    ),
}


def require_permission(actor, permission: str) -> None:
    """Staff-facing services call this before they write. `actor` None is the system (a `manage.py` command, a
    job): allowed. Anyone else needs `permission` (superusers have all), else 403 (`Code.FORBIDDEN`)."""
    if actor is None:
        return
    if not actor.has_perm(permission):
        raise ApiError(Code.FORBIDDEN, details={"permission": permission})


def roles_sync(apps, schema_editor=None) -> None:
    """Create each role's group and set its permissions to exactly the table's (a data migration's operation).

    Permissions are normally created after `migrate` (post_migrate); this creates the missing ones first, so it
    works on a fresh database too. An unknown permission is an error: the table names only existing ones."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for label in {name.split(".")[0] for names in ROLES.values() for name in names}:
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLES.items():
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(wanted)


def roles_remove(apps, schema_editor=None) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()
