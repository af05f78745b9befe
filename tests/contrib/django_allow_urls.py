"""URL patterns for test_allow_truth.py: Django and DRF views in each way of declaring methods."""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import View
from django.views.decorators.http import require_GET, require_http_methods, require_safe
from rest_framework import routers, viewsets
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def _text(content: str) -> HttpResponse:
    return HttpResponse(content, content_type="text/plain")


class Article(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return _text("article")

    def post(self, request: HttpRequest) -> HttpResponse:
        return _text("saved")


class Upload(View):
    http_method_names: ClassVar[list[str]] = ["put", "options"]

    def put(self, request: HttpRequest) -> HttpResponse:
        return _text("uploaded")


class GetOnly(View):
    http_method_names: ClassVar[list[str]] = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return _text("get")


@require_http_methods(["GET", "POST"])
def form(request: HttpRequest) -> HttpResponse:
    return _text("form")


@require_safe
def safe(request: HttpRequest) -> HttpResponse:
    return _text("safe")


@require_GET
def only_get(request: HttpRequest) -> HttpResponse:
    return _text("get")


@require_http_methods(["PUT", "DELETE"])
async def form_async(request: HttpRequest) -> HttpResponse:
    return _text("form")


@require_http_methods(["POST"])
def never_reached(request: HttpRequest) -> HttpResponse:
    return _text("shadowed by the pattern before it")


@api_view(["GET"])
def ping(request: Request) -> Response:
    return Response({"pong": True})


@api_view(["GET", "HEAD", "POST"])
def pong(request: Request) -> Response:
    return Response({"ping": True})


class Note(APIView):
    def get(self, request: Request) -> Response:
        return Response({"note": 1})

    def delete(self, request: Request) -> Response:
        return Response(status=204)


class NoteViewSet(viewsets.ViewSet):
    def list(self, request: Request) -> Response:
        return Response([])

    def create(self, request: Request) -> Response:
        return Response({}, status=201)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response({"id": pk})

    def update(self, request: Request, pk: str) -> Response:
        return Response({"id": pk})

    def partial_update(self, request: Request, pk: str) -> Response:
        return Response({"id": pk})

    def destroy(self, request: Request, pk: str) -> Response:
        return Response(status=204)


router = routers.SimpleRouter()
router.register("notes", NoteViewSet, basename="note")

urlpatterns = [
    path("article", Article.as_view()),
    path("upload", Upload.as_view()),
    path("get-only", GetOnly.as_view()),
    path("form", form),
    path("safe", safe),
    path("only-get", only_get),
    path("form-async", form_async),
    path("split", only_get),
    path("split", never_reached),
    path("ping", ping),
    path("pong", pong),
    path("note", Note.as_view()),
    path("", include(router.urls)),
]
