"""The guards in front of everything else: the IP block list, then request signatures on `/api`.

`IpFilterMiddleware` refuses a blocked client address (403, before sessions, authentication or any view) and marks an
allow-listed one (`request.ip_allowlisted`, read by tunee.api.throttles: no per-IP limit for anonymous requests).

`RequestSigningMiddleware`, while `API_SIGNING_REQUIRED` is on, lets an `/api` request through only with a valid
signature of an active app key (security.signing); webhooks and the schema pages are exempt, and so is everything
outside `/api` (admin, probes, metrics, web pages, the payment sandbox). A refusal is a 401 in the envelope with
`details.reason`.
"""

import logging

from django.conf import settings
from django.http import HttpResponseForbidden

from tunee.api.client import client_ip
from tunee.api.errors import ApiError, Code
from tunee.api.middleware import envelope_json, is_api_path

from . import selectors, signing
from .models import IpRule

logger = logging.getLogger(__name__)


class IpFilterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        address = client_ip(request)
        try:
            decision = selectors.ip_decision(address)
        except Exception:  # the cache or the database down: the block list must not take the service down
            logger.warning("IP rules not checked", exc_info=True)
            decision = None
        if decision == IpRule.Action.BLOCK:
            logger.info("request from blocked address %s refused", address)
            if is_api_path(request.path):
                return envelope_json(ApiError(Code.FORBIDDEN))
            return HttpResponseForbidden("Forbidden", content_type="text/plain")
        request.ip_allowlisted = decision == IpRule.Action.ALLOW
        return self.get_response(request)


class RequestSigningMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.API_SIGNING_REQUIRED
            and is_api_path(request.path)
            and request.method != "OPTIONS"  # a CORS preflight carries no custom headers and changes nothing
            and not signing.is_exempt(request.path)
        ):
            try:
                request.app_key = signing.verify(request)
            except ApiError as error:
                return envelope_json(error)
        return self.get_response(request)
