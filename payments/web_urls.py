"""Web pages of this app (outside /api), mounted at the site root by tunee/urls.py.

The payment sandbox's routes (its pay page and its WeChat Pay / Alipay gateways) exist only for providers that
run without merchant credentials; see payments/sandbox/.
"""

from payments.sandbox.urls import sandbox_urlpatterns

urlpatterns: list = [*sandbox_urlpatterns()]
