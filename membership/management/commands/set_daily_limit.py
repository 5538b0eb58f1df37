"""`manage.py set_daily_limit <user> <limit|none> --reason "..." [--dry-run]`."""

from django.core.management.base import CommandError

from membership.models import StaffAdjustment

from ._staff import StaffAdjustmentCommand


class Command(StaffAdjustmentCommand):
    help = "Set a user's personal daily generation limit, or `none` to go back to their plan's."
    action = StaffAdjustment.Action.SET_DAILY_LIMIT

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("limit", help="generations a day (0 or more), or none")

    def fields(self, options) -> dict:
        text = options["limit"].strip().lower()
        if text == "none":
            return {"limit": None}
        try:
            return {"limit": int(text)}
        except ValueError:
            raise CommandError(f"limit must be a number or none, not {options['limit']!r}") from None

    def describe(self, record, user) -> str:
        limit, previous = record.payload["limit"], record.payload["previous"]
        shown = "the plan's" if limit is None else limit
        return f"daily limit {shown} (was {'the plan' if previous is None else previous})"
