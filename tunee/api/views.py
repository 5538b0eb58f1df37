"""Django-level views of the plumbing: unknown `/api` routes and Django's error handlers."""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from .errors import ApiError, Code
from .middleware import envelope_json, is_api_path


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Catch-all for `/api/...` paths that match no route: an enveloped 404 whatever the method."""
    return envelope_json(ApiError(Code.NOT_FOUND))


def handler404(request, exception=None):
    if is_api_path(request.path):
        return envelope_json(ApiError(Code.NOT_FOUND))
    return render(request, "404.html", status=404)


def handler500(request):
    if is_api_path(request.path):
        return envelope_json(ApiError(Code.INTERNAL))
    return render(request, "500.html", status=500)


def handler400(request, exception=None):
    if is_api_path(request.path):
        return envelope_json(ApiError(Code.VALIDATION))
    return render(request, "400.html", status=400)


def handler403(request, exception=None):
    if is_api_path(request.path):
        return envelope_json(ApiError(Code.FORBIDDEN))
    return render(request, "403.html", status=403)
