"""Web pages of this app (outside /api), mounted at the site root by tunee/urls.py."""

urlpatterns: list = []
