"""The staff roles `support` and `finance` as groups with exactly the permissions accounts/roles.py gives them."""

from django.db import migrations

from accounts.roles import roles_remove, roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_staff_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("generation", "0003_staff_permissions"),
        ("membership", "0004_staff_actions"),
        ("moderation", "0002_seed_words"),
        ("payments", "0002_orders"),
        ("works", "0004_moderate_permission"),
    ]

    operations = [migrations.RunPython(roles_sync, roles_remove)]
