"""WeChat's message push for the verdicts of mediaCheckAsync (`wxa_media_check` events).

WeChat signs each request in the query string (`signature` = sha1 of the sorted Token, `timestamp`, `nonce`); a
request without a valid signature is refused (403) and changes nothing. The GET WeChat sends when the push URL is
configured is answered with its `echostr`. Pushes in plain JSON mode only (the console's "明文模式", data format
JSON). Answers `success` as plain text, as WeChat expects; a body that is not a verdict of ours is acknowledged too,
so that WeChat does not retry it forever.
"""

import json
import logging

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services
from .providers import ModerationUnavailable
from .providers import wechat as wechat_provider

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_push(request):
    query = request.GET
    if not wechat_provider.push_signature_valid(
        signature=query.get("signature", ""), timestamp=query.get("timestamp", ""), nonce=query.get("nonce", "")
    ):
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    if request.method == "GET":
        return HttpResponse(query.get("echostr", ""), content_type="text/plain")
    try:
        body = json.loads(request.body or b"{}")
        if isinstance(body, dict) and body.get("Event", "wxa_media_check") == "wxa_media_check":
            services.media_push_receive(body=body)
    except (ValueError, ModerationUnavailable) as exc:
        logger.info("moderation: push ignored: %s", exc)
    return HttpResponse("success", content_type="text/plain")
