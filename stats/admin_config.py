"""`django.contrib.admin` with Tunee's site (stats/sites.py): branded, and the dashboard as its landing page.

Listed in INSTALLED_APPS in place of "django.contrib.admin" (its own module: INSTALLED_APPS imports it before any
model is loaded). `admin.site` is then an instance of TuneeAdminSite, so every app's `admin.site.register` and
`@admin.register` keep working unchanged.
"""

from django.contrib.admin.apps import AdminConfig


class TuneeAdminConfig(AdminConfig):
    default_site = "stats.sites.TuneeAdminSite"
