"""Membership rows built directly, for tests whose given is a state (a running membership, a used-up day, a balance)
rather than the service that leads to it. Tests of those services still call the services."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from membership.models import DailyUsage, Membership, Plan, PointsAccount, PointsEntry
from membership.selectors import business_today


class MembershipFactory(factory.django.DjangoModelFactory):
    """A running membership: monthly, from now for `days` (30) days."""

    class Meta:
        model = Membership

    class Params:
        days = 30

    user = factory.SubFactory(UserFactory)
    level = Plan.Type.MONTHLY
    started_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(days=o.days))


class DailyUsageFactory(factory.django.DjangoModelFactory):
    """A user's usage row for today's business day (`used=3` is a free user's day used up)."""

    class Meta:
        model = DailyUsage

    user = factory.SubFactory(UserFactory)
    day = factory.LazyFunction(business_today)
    used = 0
    extra = 0


class PointsAccountFactory(factory.django.DjangoModelFactory):
    """A points balance, without the ledger entries that led to it: for tests where only the balance matters."""

    class Meta:
        model = PointsAccount

    user = factory.SubFactory(UserFactory)
    balance = 0


class PointsEntryFactory(factory.django.DjangoModelFactory):
    """One ledger entry, alone on its user's ledger by default (`balance` is then its amount); no account row."""

    class Meta:
        model = PointsEntry

    user = factory.SubFactory(UserFactory)
    amount = 10
    reason = PointsEntry.Reason.BONUS
    balance = factory.LazyAttribute(lambda o: o.amount)
