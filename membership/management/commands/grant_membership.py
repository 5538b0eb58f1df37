"""`manage.py grant_membership <user> [--plan monthly] [--days 30] --reason "..." [--dry-run]`."""

from membership.models import StaffAdjustment

from ._staff import StaffAdjustmentCommand


class Command(StaffAdjustmentCommand):
    help = "Give a user membership time: a plan's duration, or a number of days (of the highest paid plan if none)."
    action = StaffAdjustment.Action.GRANT_MEMBERSHIP

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--plan", help="the plan type, e.g. monthly or yearly")
        parser.add_argument("--days", type=int, help="days to add (default: the plan's duration)")

    def fields(self, options) -> dict:
        return {"plan": options["plan"], "days": options["days"]}

    def describe(self, record, user) -> str:
        payload = record.payload
        return f"+{payload['days']} days of {payload['plan']}, member until {payload['expires_at']}"
