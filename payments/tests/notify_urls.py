"""A test-only URLconf: the whole site plus stand-in notify endpoints that run the real parse_notification (the
order engineer's notify views take their place in the real URLconf)."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

import tunee.urls
from payments.providers import get_gateway
from payments_sandbox.models import SandboxTrade

received: list = []


@csrf_exempt
def wechat_notify(request):
    gateway = get_gateway("wechat")
    note = gateway.parse_notification(request.body)
    received.append((note, SandboxTrade.objects.count(), connection.in_atomic_block))
    body, content_type = gateway.reply(note.verified)
    return HttpResponse(body, content_type=content_type)


@csrf_exempt
def alipay_notify(request):
    gateway = get_gateway("alipay")
    note = gateway.parse_notification(request.POST.dict())
    received.append((note, SandboxTrade.objects.count(), connection.in_atomic_block))
    body, content_type = gateway.reply(note.verified)
    return HttpResponse(body, content_type=content_type)


@csrf_exempt
def broken_notify(request):
    raise RuntimeError("the notify endpoint failed")


urlpatterns = [
    path("test-notify/broken", broken_notify),
    path("test-notify/wechat", wechat_notify),
    path("test-notify/alipay", alipay_notify),
    *tunee.urls.urlpatterns,
]
