"""Make sure the staff account of DJANGO_SUPERUSER_* exists (idempotent `createsuperuser --noinput`)."""

import os

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command


class Command(BaseCommand):
    help = "Create the superuser from DJANGO_SUPERUSER_USERNAME/EMAIL/PASSWORD when set and not there yet."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME")
        if not (username and os.environ.get("DJANGO_SUPERUSER_PASSWORD")):
            return
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Superuser {username} exists.")
            return
        call_command("createsuperuser", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"Superuser {username} created."))
