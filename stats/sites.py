"""Tunee's admin site: branded, with the business dashboard as its landing page (and the usual list of apps
below it), and the dashboard's CSV export. Installed as the default site by stats.apps.TuneeAdminConfig, so
`admin.site` is this site everywhere.

Both pages are staff-only like the rest of the admin (`admin_view`: anybody else is sent to the login page).
"""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from . import dashboard, selectors, services


class TuneeAdminSite(admin.AdminSite):
    site_header = _("Tunee console")
    site_title = _("Tunee console")
    index_title = _("Dashboard")
    index_template = "admin/tunee_index.html"

    def get_urls(self):
        return [
            path("dashboard.csv", self.admin_view(self.dashboard_csv), name="stats_dashboard_csv"),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        start, end, form = dashboard.chosen_range(request.GET)
        days = services.figures_for_range(start=start, end=end)
        specs = dashboard.charts(days)
        context = {
            "range_form": form,
            "range_start": start,
            "range_end": end,
            "charts": specs,
            "chart_data": dashboard.chart_data(days, specs),
            "rows": dashboard.table_rows(days),
            "retention_days": selectors.RETENTION_DAYS,
            "csv_query": f"start={start.isoformat()}&end={end.isoformat()}",
            **(extra_context or {}),
        }
        return super().index(request, context)

    def dashboard_csv(self, request):
        start, end, _form = dashboard.chosen_range(request.GET)
        days = services.figures_for_range(start=start, end=end)
        response = HttpResponse(dashboard.csv_text(days), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="tunee-stats-{start}-{end}.csv"'
        return response
