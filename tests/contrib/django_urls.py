"""Views and URL patterns for the Django integration tests, each in Django's (or DRF's) default idiom."""

from __future__ import annotations

from typing import Any, ClassVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.urls import include, path
from django.views import View
from django.views.decorators.http import require_GET, require_http_methods, require_safe
from rest_framework import routers, viewsets
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.decorators import api_view
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView


class ServerSpyMiddleware:
    """Outermost test middleware: records the response as the WSGI/ASGI handler receives it.

    Django's test client drops the content of HEAD and 204 responses (as most servers do) before a
    test sees it; ``response.server_content`` keeps what was there before that.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self.record(self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> Any:
        return self.record(await self.get_response(request))

    @staticmethod
    def record(response: Any) -> Any:
        response.server_content = None if response.streaming else bytes(response.content)
        return response


# -- plain Django -------------------------------------------------------------------------------


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


async def hello_async(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


def legacy(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return HttpResponse("legacy", content_type="text/plain")


@require_http_methods(["GET", "POST"])
def form(request: HttpRequest) -> HttpResponse:
    return HttpResponse("form", content_type="text/plain")


@require_GET
def only_get(request: HttpRequest) -> HttpResponse:
    return HttpResponse("get", content_type="text/plain")


@require_safe
def safe(request: HttpRequest) -> HttpResponse:
    return HttpResponse("safe", content_type="text/plain")


@require_http_methods(["GET", "PUT"])
async def form_async(request: HttpRequest) -> HttpResponse:
    return HttpResponse("form", content_type="text/plain")


def bad_request(request: HttpRequest) -> HttpResponse:
    return HttpResponseBadRequest()


def empty_stream(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(iter(()), status=400, headers={"Content-Length": "0"})


async def empty_stream_async(request: HttpRequest) -> StreamingHttpResponse:
    async def nothing() -> Any:
        for chunk in ():
            yield chunk

    return StreamingHttpResponse(nothing(), status=400, headers={"Content-Length": "0"})


def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse("log in first", status=401, content_type="text/plain")


class Article(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("article", content_type="text/plain")

    def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("saved", content_type="text/plain")


# -- Django REST framework ----------------------------------------------------------------------


class Profile(APIView):
    """No authentication class: DRF answers an anonymous request 403, not 401."""

    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"name": "ada"})


class SessionProfile(Profile):
    """SessionAuthentication first: DRF turns the anonymous 401 into a 403 (no authenticate_header)."""

    authentication_classes: ClassVar[list[Any]] = [SessionAuthentication, BasicAuthentication]


class BasicProfile(Profile):
    authentication_classes: ClassVar[list[Any]] = [BasicAuthentication]


class OncePerMinute(AnonRateThrottle):
    rate = "1/min"
    scope = "statusguard-tests"


class Search(APIView):
    throttle_classes: ClassVar[list[Any]] = [OncePerMinute]

    def get(self, request: Request) -> Response:
        return Response({"results": []})


@api_view(["GET"])
def ping(request: Request) -> Response:
    return Response({"pong": True})


class ThingViewSet(viewsets.ViewSet):
    def list(self, request: Request) -> Response:
        return Response([])

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response({"id": pk})


router = routers.SimpleRouter()
router.register("things", ThingViewSet, basename="thing")

urlpatterns = [
    path("hello", hello),
    path("hello-async", hello_async),
    path("legacy", legacy),
    path("form", form),
    path("form-async", form_async),
    path("only-get", only_get),
    path("safe", safe),
    path("bad", bad_request),
    path("private", private),
    path("empty-stream", empty_stream),
    path("empty-stream-async", empty_stream_async),
    path("article", Article.as_view()),
    path("profile", Profile.as_view()),
    path("session-profile", SessionProfile.as_view()),
    path("basic-profile", BasicProfile.as_view()),
    path("search", Search.as_view()),
    path("ping", ping),
    path("", include(router.urls)),
]
