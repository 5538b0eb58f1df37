"""What the admin's dashboard shows of a range of days: the charts (Chart.js configurations as plain data), the
numbers beside each chart, the daily table and the CSV export. Pure functions of `DayFigures`; no queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext_lazy as _

from generation.models import Generation
from payments.models import Order
from tunee.money import fen_to_yuan

from . import selectors
from .selectors import RETENTION_DAYS, DayFigures, ratio

ISO = "%Y-%m-%d"  # what <input type="date"> sends and shows, whatever the language
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format=ISO)


class RangeForm(forms.Form):
    """The dashboard's GET parameters: `start` and `end`, business days, inclusive."""

    start = forms.DateField(label=_("From"), required=False, input_formats=[ISO], widget=DATE_INPUT)
    end = forms.DateField(label=_("To"), required=False, input_formats=[ISO], widget=DATE_INPUT)

    def clean(self):
        data = super().clean()
        default_start, today = selectors.default_range()
        end = min(data.get("end") or today, today)
        start = data.get("start") or end - (today - default_start)
        if start > end:
            raise forms.ValidationError(_("The first day must not be after the last one."))
        if (end - start).days + 1 > selectors.MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)d days.") % {"days": selectors.MAX_DAYS})
        data.update(start=start, end=end)
        return data


def chosen_range(params) -> tuple[dt.date, dt.date, RangeForm]:
    """The range asked for in `params` (request.GET), or the default one when absent or invalid; the form returned
    shows the range used (or the errors of the one asked for)."""
    form = RangeForm(params)
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        return start, end, RangeForm(initial={"start": start, "end": end})
    start, end = selectors.default_range()
    return start, end, form


def yuan(fen: int) -> str:
    """Integer fen as yuan text, exactly (no float): 123456 → "1,234.56"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{fen_to_yuan(abs(fen)):,}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


@dataclass
class Series:
    label: str
    data: list  # one value per day (None: nothing to divide that day)
    summary: str  # the figure shown beside the chart for the whole range, formatted
    summary_label: str  # what that figure is ("total", "average per day", "over the range")


@dataclass
class ChartSpec:
    id: str
    title: str
    kind: str  # Chart.js type: "line" or "bar"
    series: list[Series] = field(default_factory=list)
    stacked: bool = False
    unit: str = ""  # "%" for rates (the data are 0..100), "¥" for money (the data are yuan)

    def config(self) -> dict:
        """The JSON the page's script hands to Chart.js (labels are added once for all charts)."""
        return {
            "id": self.id,
            "type": self.kind,
            "stacked": self.stacked,
            "unit": self.unit,
            "datasets": [{"label": str(s.label), "data": s.data} for s in self.series],
        }


def _total(label, data: list[int]) -> Series:
    return Series(label, data, f"{sum(data):,}", _("total"))


def _average(label, data: list[int]) -> Series:
    return Series(label, data, f"{sum(data) / len(data):,.1f}" if data else "–", _("average per day"))


def _rate(label, parts: list[int], wholes: list[int]) -> Series:
    data = [None if r is None else round(r * 100, 2) for r in map(ratio, parts, wholes)]
    overall = ratio(sum(parts), sum(wholes))
    return Series(label, data, f"{percent(overall)} ({sum(parts):,} / {sum(wholes):,})", _("over the range"))


def providers_in(days: list[DayFigures]) -> list[str]:
    return sorted({name for d in days for name in d.providers})


def charts(days: list[DayFigures]) -> list[ChartSpec]:
    """Every chart of the dashboard, each with the range's figures beside it."""
    providers = providers_in(days)
    methods = Order.Method.choices
    statuses = Generation.Status.choices

    def provider_values(key: str) -> dict[str, list[int]]:
        return {p: [(d.providers.get(p) or {}).get(key, 0) for d in days] for p in providers}

    failed, completed = provider_values("failed"), provider_values("completed")
    return [
        ChartSpec(
            "users",
            _("Users"),
            "line",
            [
                _average(_("Active users"), [d.active_users for d in days]),
                _total(_("New users"), [d.new_users for d in days]),
            ],
        ),
        ChartSpec(
            "generations",
            _("Generations by outcome"),
            "bar",
            [_total(label, [d.generations.get(value, 0) for d in days]) for value, label in statuses],
            stacked=True,
        ),
        ChartSpec(
            "providers",
            _("Generations by provider"),
            "bar",
            [_total(p, [(d.providers.get(p) or {}).get("total", 0) for d in days]) for p in providers],
            stacked=True,
        ),
        ChartSpec(
            "failures",
            _("Provider failure rate"),
            "line",
            [_rate(p, failed[p], [f + c for f, c in zip(failed[p], completed[p], strict=True)]) for p in providers],
            unit="%",
        ),
        ChartSpec("works", _("Works created"), "bar", [_total(_("Works"), [d.works_created for d in days])]),
        ChartSpec(
            "revenue",
            _("Revenue by payment method (yuan)"),
            "bar",
            [
                Series(
                    label,
                    [d.method(value)["revenue_fen"] / 100 for d in days],
                    yuan(sum(d.method(value)["revenue_fen"] for d in days)),
                    _("total (yuan)"),
                )
                for value, label in methods
            ],
            stacked=True,
            unit="¥",
        ),
        ChartSpec(
            "orders",
            _("Orders paid by payment method"),
            "bar",
            [_total(label, [d.method(value)["paid"] for d in days]) for value, label in methods],
            stacked=True,
        ),
        ChartSpec(
            "conversion",
            _("Free → paid conversion"),
            "line",
            [_rate(_("Conversion rate"), [d.conversions for d in days], [d.conversion_base for d in days])],
            unit="%",
        ),
        ChartSpec(
            "retention",
            _("Retention"),
            "line",
            [
                _rate(
                    f"D{n}",
                    [d.retention.get(f"d{n}", {}).get("retained", 0) for d in days],
                    [d.retention.get(f"d{n}", {}).get("size", 0) for d in days],
                )
                for n in RETENTION_DAYS
            ],
            unit="%",
        ),
    ]


def chart_data(days: list[DayFigures], specs: list[ChartSpec]) -> dict:
    return {"labels": [d.day.isoformat() for d in days], "charts": [spec.config() for spec in specs]}


def table_rows(days: list[DayFigures]) -> list[dict]:
    """The daily table under the charts, newest day first."""
    rows = []
    for d in reversed(days):
        rows.append(
            {
                "day": d.day,
                "live": d.live,
                "active_users": d.active_users,
                "new_users": d.new_users,
                "generations": d.generations_total,
                "completed": d.generations.get(Generation.Status.COMPLETED, 0),
                "failed": d.generations.get(Generation.Status.FAILED, 0),
                "works": d.works_created,
                "orders_paid": sum(d.method(m)["paid"] for m in Order.Method.values),
                "revenue": yuan(d.revenue_fen),
                "conversions": d.conversions,
                "conversion_rate": percent(d.conversion_rate),
                "retention": [percent(d.retention_rate(n)) for n in RETENTION_DAYS],
            }
        )
    return rows


PAYMENT_KEYS = ("orders", "paid", "revenue_fen", "refunds", "refunded_fen")


def csv_text(days: list[DayFigures]) -> str:
    """The range as CSV, one row per day, oldest first: every stored figure flattened into columns (money in
    integer fen, rates left to the reader: their parts are there)."""
    providers = providers_in(days)
    header = ["day", "live", "active_users", "new_users", "works_created", "generations_total"]
    header += [f"generations_{s}" for s in Generation.Status.values]
    header += [f"provider_{p}_{k}" for p in providers for k in ("total", "completed", "failed")]
    header += [f"{m}_{k}" for m in Order.Method.values for k in PAYMENT_KEYS]
    header += ["revenue_fen", "conversions", "conversion_base"]
    header += [f"retention_d{n}_{k}" for n in RETENTION_DAYS for k in ("size", "retained")]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for d in days:
        row = [d.day.isoformat(), int(d.live), d.active_users, d.new_users, d.works_created, d.generations_total]
        row += [d.generations.get(s, 0) for s in Generation.Status.values]
        row += [(d.providers.get(p) or {}).get(k, 0) for p in providers for k in ("total", "completed", "failed")]
        row += [d.method(m)[k] for m in Order.Method.values for k in PAYMENT_KEYS]
        row += [d.revenue_fen, d.conversions, d.conversion_base]
        row += [d.retention.get(f"d{n}", {}).get(k, 0) for n in RETENTION_DAYS for k in ("size", "retained")]
        writer.writerow(row)
    return out.getvalue()
