"""API routes of moderation, mounted under /api/ by tunee/urls.py."""

from django.urls import path

from . import apis

urlpatterns = [
    path("moderation/wechat/push", apis.wechat_push, name="moderation-wechat-push"),
]
