"""`manage.py reconcile_payments [--since HOURS] [--dry-run]`: settle payments whose notification never came."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.services import payments_reconcile


class Command(BaseCommand):
    help = (
        "Ask the payment provider about every pending or closed, unpaid order created in the last HOURS hours and "
        "settle those it reports paid (through the same settle service as the notifications)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            type=float,
            default=settings.PAYMENT_RECONCILE_HOURS,
            metavar="HOURS",
            help="look at orders created in the last HOURS hours (default PAYMENT_RECONCILE_HOURS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="ask the providers but change nothing")

    def handle(self, *args, since: float, dry_run: bool = False, **options):
        if since <= 0:
            raise CommandError("--since must be a positive number of hours")
        report = payments_reconcile(since_hours=since, dry_run=dry_run)
        self.stdout.write(f"checked {len(report.checked)} order(s) of the last {since:g} hour(s)")
        settled = report.would_settle if dry_run else report.settled
        self.stdout.write(f"{'would settle' if dry_run else 'settled'}: {len(settled)} order(s)")
        for order_no in settled:
            self.stdout.write(f"  {order_no}")
        self.stdout.write(f"failed (provider unreachable or payment refused): {len(report.failed)} order(s)")
        for order_no in report.failed:
            self.stdout.write(f"  {order_no}")
