"""The daily statistics snapshot: one row per business day (settings.TIME_ZONE), so history is cheap to show.

A row holds the figures `stats.selectors.day_figures` computed for its day from the source tables (accounts,
generation, works, payments). Breakdowns whose keys vary (generation outcomes, providers, payment methods,
retention cohorts) are JSON objects; their shapes are documented on `selectors.DayFigures`.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DailySnapshot(models.Model):
    day = models.DateField(_("day"), help_text=_("the business day (in the service's time zone)"))
    active_users = models.PositiveIntegerField(_("active users"), default=0)
    new_users = models.PositiveIntegerField(_("new users"), default=0)
    generations = models.JSONField(_("generations by outcome"), default=dict, blank=True)
    providers = models.JSONField(
        _("generations by provider"), default=dict, blank=True, help_text=_("{provider: {total, completed, failed}}")
    )
    works_created = models.PositiveIntegerField(_("works created"), default=0)
    payments = models.JSONField(
        _("orders by payment method"),
        default=dict,
        blank=True,
        help_text=_("{method: {orders, paid, revenue_fen, refunds, refunded_fen}}"),
    )
    revenue_fen = models.BigIntegerField(_("revenue (fen)"), default=0, help_text=_("paid that day, all methods"))
    conversions = models.PositiveIntegerField(
        _("free → paid conversions"), default=0, help_text=_("users whose first payment ever was that day")
    )
    conversion_base = models.PositiveIntegerField(
        _("active free users"), default=0, help_text=_("active users who had never paid before that day")
    )
    retention = models.JSONField(
        _("retention"), default=dict, blank=True, help_text=_("{d1|d7|d30: {cohort_day, size, retained}}")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily snapshot")
        verbose_name_plural = _("daily snapshots")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["day"], name="stats_snapshot_one_per_day"),
            models.CheckConstraint(condition=Q(revenue_fen__gte=0), name="stats_snapshot_revenue_not_negative"),
            models.CheckConstraint(
                condition=Q(conversions__lte=models.F("conversion_base")), name="stats_snapshot_conversions_within"
            ),
        ]

    def __str__(self):
        return f"statistics of {self.day}"
