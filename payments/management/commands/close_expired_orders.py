"""`manage.py close_expired_orders [--dry-run]`: what the beat job does, on demand."""

from django.core.management.base import BaseCommand

from payments.services import orders_close_expired


class Command(BaseCommand):
    help = (
        "Close pending orders past their expireAt, at the payment provider too. An order the provider reports paid "
        "is settled instead; one whose provider cannot be reached stays pending for the next run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only list the orders that would be closed")

    def handle(self, *args, dry_run: bool = False, **options):
        report = orders_close_expired(dry_run=dry_run)
        if dry_run:
            self._list("would close", report.would_close)
            return
        self._list("closed", report.closed)
        self._list("settled (paid at the provider)", report.settled)
        self._list("left pending (provider unreachable)", report.failed)

    def _list(self, label: str, order_nos: list[str]) -> None:
        self.stdout.write(f"{label}: {len(order_nos)} order(s)")
        for order_no in order_nos:
            self.stdout.write(f"  {order_no}")
