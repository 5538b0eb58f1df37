"""Make sure the staff account of DJANGO_SUPERUSER_* exists (idempotent `createsuperuser --noinput`).

An existing staff account of that name is left as it is (its password is not reset). An existing account of that
name that is not staff is refused, never promoted: anyone can register a username, so promoting whoever took the
configured name first would hand the admin to them.
"""

import os

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, call_command


class Command(BaseCommand):
    help = "Create the superuser from DJANGO_SUPERUSER_USERNAME/EMAIL/PASSWORD when set and not there yet."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME")
        if not (username and os.environ.get("DJANGO_SUPERUSER_PASSWORD")):
            return
        User = get_user_model()
        existing = User.objects.filter(username__iexact=username).first()  # usernames are unique whatever the case
        if existing is not None:
            if not (existing.is_staff or existing.is_superuser):
                raise CommandError(
                    f"An account named {existing.username} exists and is not staff: refusing to promote it. "
                    "Set another DJANGO_SUPERUSER_USERNAME, or make that account staff in the admin if it is yours."
                )
            self.stdout.write(f"Superuser {existing.username} exists.")
            return
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip()
        if email and User.objects.filter(email__iexact=email).exists():
            raise CommandError(
                f"The email {email} belongs to another account: set another DJANGO_SUPERUSER_EMAIL for {username}."
            )
        call_command("createsuperuser", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"Superuser {username} created."))
