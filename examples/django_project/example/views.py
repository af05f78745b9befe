"""Views in Django's default idioms, each with a status-code mistake Django does not catch."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.http import require_GET


def profile(request: HttpRequest) -> HttpResponse:
    if "Authorization" not in request.headers:
        return HttpResponse("Please log in", status=401, content_type="text/plain")  # no WWW-Authenticate
    return JsonResponse({"name": "ada"})


def archive(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])  # Allow: GET (no HEAD), and an empty body
    return JsonResponse({"articles": []})


@require_GET  # refuses HEAD too
def feed(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"items": []})


def search(request: HttpRequest) -> HttpResponse:
    if "q" not in request.GET:
        return HttpResponseBadRequest()  # an empty 400: the client is not told what is wrong
    return JsonResponse({"results": []})
