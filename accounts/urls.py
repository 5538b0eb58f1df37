"""API routes of this app, mounted under /api/ by tunee/urls.py."""

urlpatterns: list = []
