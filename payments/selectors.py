"""Reads of orders. Protected objects go through access selectors that answer not-found for someone else's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from membership import selectors as membership_selectors
from membership.models import PointPackage
from tunee.api.errors import ApiError, Code
from tunee.money import fen_to_yuan

from .models import Order


def orders_for_user(*, user, status: str | None = None) -> QuerySet[Order]:
    """The user's orders, newest first, with what the list needs in the same query."""
    queryset = Order.objects.filter(user=user).select_related("plan").order_by("-created_at", "-order_no")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def order_get_for_user(*, user, order_no: str) -> Order:
    """The user's order with this number; 404 when there is none or it is someone else's."""
    if not order_no or len(order_no) > 32 or "\x00" in order_no:  # PostgreSQL refuses NUL in a text parameter
        raise ApiError(Code.NOT_FOUND)
    order = Order.objects.select_related("plan", "package").filter(user=user, order_no=order_no).first()
    if order is None:
        raise ApiError(Code.NOT_FOUND)
    return order


def orders_expired(*, now: datetime) -> QuerySet[Order]:
    """Pending orders past their expireAt, oldest first."""
    return Order.objects.filter(status=Order.Status.PENDING, expire_at__lte=now).order_by("expire_at")


def orders_to_reconcile(*, since: datetime) -> QuerySet[Order]:
    """Orders created since `since` that the provider may have been paid for without us hearing of it."""
    return Order.objects.filter(
        created_at__gte=since, status__in=[Order.Status.PENDING, Order.Status.CLOSED], paid_at__isnull=True
    ).order_by("created_at")


def package_for_order(*, package_id, amount) -> PointPackage:
    """The package a points order buys; 40001 when it is unknown or withdrawn (membership decides what is on
    sale), or when the amount the client means to pay is not its price (compared exactly, in yuan)."""
    package = membership_selectors.package_to_buy(package_id=package_id)
    price = fen_to_yuan(package.price_fen)
    if Decimal(str(amount)) != price:
        raise ApiError(Code.PURCHASE_FAILED, details={"amount": [f"must be {price}"], "price": price})
    return package
