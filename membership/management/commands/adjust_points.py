"""`manage.py adjust_points <user> <amount> --reason "..." [--dry-run]`: positive adds, negative takes."""

from membership.models import StaffAdjustment

from ._staff import StaffAdjustmentCommand


class Command(StaffAdjustmentCommand):
    help = "Add (positive amount) or take (negative) points; taking more than the balance is refused."
    action = StaffAdjustment.Action.ADJUST_POINTS

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("amount", type=int, help="points to add (negative: to take)")

    def fields(self, options) -> dict:
        return {"amount": options["amount"]}

    def describe(self, record, user) -> str:
        return f"{record.payload['amount']:+d} points, balance {record.payload['balance']}"
