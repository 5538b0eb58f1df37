"""`manage.py purge_expired [--dry-run]`: what the daily beat job `tunee.purge_expired` does, on demand."""

from django.core.management.base import BaseCommand

from tunee.retention import purge_expired, summary


class Command(BaseCommand):
    help = (
        "Delete SMS codes, refresh tokens, ended login sessions, notifications and the verdict log past their "
        "retention (the *_RETENTION_DAYS settings); prints one line with the count of each kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args, dry_run: bool = False, **options):
        self.stdout.write(summary(purge_expired(dry_run=dry_run), dry_run=dry_run))
