"""What the staff-adjustment commands share: the user argument, `--reason`, `--dry-run`, one summary line.

Each command is a thin wrapper over `membership.services.staff_adjust`, the function the admin's Staff
adjustments page calls; the adjustment is recorded the same way, with no actor (the system) and the reason given.
`--dry-run` runs the same service in a transaction that is rolled back: everything is checked, nothing is kept.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.selectors import user_find
from membership import services
from tunee.api.errors import ApiError


class _RolledBack(Exception):
    pass


class StaffAdjustmentCommand(BaseCommand):
    action: str = ""

    def add_arguments(self, parser):
        parser.add_argument("user", help="the account: its id, phone, email or username")
        parser.add_argument("--reason", required=True, help="why (kept with the adjustment)")
        parser.add_argument("--dry-run", action="store_true", help="check and show the result, keep nothing")

    def fields(self, options) -> dict:
        """The service's fields from the command line."""
        return {}

    def describe(self, record, user) -> str:
        return f"{record.get_action_display()} {record.payload}"

    def handle(self, *args, **options):
        if not options["reason"].strip():
            raise CommandError("--reason must not be empty")
        try:
            user = user_find(identifier=options["user"])
            with transaction.atomic():
                record = services.staff_adjust(
                    action=self.action, user=user, actor=None, reason=options["reason"], **self.fields(options)
                )
                summary = self.describe(record, user)
                if options["dry_run"]:
                    raise _RolledBack
        except _RolledBack:
            self.stdout.write(f"dry run, nothing kept: {self.action} for {user.username}: {summary}")
            return
        except ApiError as exc:
            raise CommandError(f"{self.action} not done: {exc.message} {exc.details or ''}".strip()) from exc
        self.stdout.write(f"{self.action} for {user.username}: {summary} (adjustment {record.pk})")
