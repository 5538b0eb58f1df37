"""`manage.py fail_stuck_generations [--dry-run]`: what the beat job does, on demand."""

from django.conf import settings
from django.core.management.base import BaseCommand

from generation.services import generations_sweep


class Command(BaseCommand):
    help = (
        "Fail and refund generations pending or processing for longer than GENERATION_TIMEOUT, and enqueue again "
        "the younger ones whose job was lost."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only list what would be done")

    def handle(self, *args, dry_run: bool = False, **options):
        report = generations_sweep(dry_run=dry_run)
        verb = "would fail" if dry_run else "failed and refunded"
        self.stdout.write(f"{verb} {len(report.failed)} generation(s) older than {settings.GENERATION_TIMEOUT} s")
        for generation_id in report.failed:
            self.stdout.write(f"  {generation_id}")
        verb = "would enqueue again" if dry_run else "enqueued again"
        self.stdout.write(f"{verb} {len(report.requeued)} generation(s) whose job was lost")
        for generation_id in report.requeued:
            self.stdout.write(f"  {generation_id}")
