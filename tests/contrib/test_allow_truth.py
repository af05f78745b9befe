"""An Allow that tells the truth (issue 16), on every framework statusguard reads a router from.

For each framework a small app, with split routes where the framework has them (two routes at
one path, each with its own methods), and for every route path three answers that must agree:

- what the framework really answers: the methods a real test client gets a non-405 for, with
  statusguard off (probing GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, and TRACE, which none
  of these apps serve, so that every path has a refusal to look at);
- what the router reader reports (``methods_at`` for Starlette/FastAPI and Flask,
  ``view_methods`` for Django and DRF);
- the ``Allow`` of every 405 the app sends at that path, as statusguard leaves it in fix mode.

Each table also writes the answer out by hand: it is what the installed framework does (see
docs/frameworks.md), and a framework release that changes it should fail here, not in production.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from .conftest import starlette_test_client

PROBES = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")

# (method, path) -> (status, the Allow values): one request to the app under statusguard's mode.
Send = Callable[[str, str], tuple[int, list[str]]]


def _members(values: list[str]) -> list[str]:
    return [member.strip() for value in values for member in value.split(",") if member.strip()]


def assert_allow_tells_the_truth(
    path: str, expected: set[str], off: Send, fix: Send, reader: Callable[[str], frozenset[str] | None],
) -> None:
    answered = {method for method in PROBES if off(method, path)[0] != 405}
    assert answered == expected, f"{path}: the framework answers {sorted(answered)}"
    assert reader(path) == answered, f"{path}: the router reader disagrees with the framework"
    refused = [method for method in PROBES if method not in answered]
    assert refused, f"{path}: no probe is refused, so no 405 to look at"
    for method in refused:
        status, allow = fix(method, path)
        assert status == 405, f"{method} {path} answered {status} in fix mode"
        members = _members(allow)
        assert set(members) == answered, f"{method} {path}: fixed Allow {allow!r}, the route answers {sorted(answered)}"
        assert len(members) == len(set(members)), allow


# =============================================================================================
# FastAPI: APIRoute serves exactly its methods (no HEAD for @app.get); add_route is Starlette's Route
# =============================================================================================

FASTAPI_ROUTES = {
    "/items": {"GET", "POST"},  # @app.get + @app.post: split, and HEAD refused
    "/items/7": {"PUT", "DELETE"},  # @app.put + @app.delete
    "/feed": {"GET", "HEAD", "PATCH"},  # api_route(methods=["GET", "HEAD"]) + @app.patch
    "/v2/things": {"GET", "OPTIONS"},  # an included router: @router.get + @router.options
    "/plain": {"GET", "HEAD"},  # app.add_route: a Starlette Route, which serves HEAD with GET
}


@functools.cache
def fastapi_app(mode: str) -> Any:
    pytest.importorskip("fastapi")
    from fastapi import APIRouter, FastAPI
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response

    from statusguard.contrib.starlette import StatusGuardMiddleware

    app = FastAPI()
    app.add_middleware(StatusGuardMiddleware, mode=mode)

    @app.get("/items")
    def list_items() -> list[int]:
        return [1]

    @app.post("/items")
    def create_item() -> int:
        return 2

    @app.put("/items/{item_id}")
    def put_item(item_id: int) -> int:
        return item_id

    @app.delete("/items/{item_id}")
    def delete_item(item_id: int) -> int:
        return item_id

    @app.api_route("/feed", methods=["GET", "HEAD"])
    def feed() -> list[int]:
        return []

    @app.patch("/feed")
    def patch_feed() -> list[int]:
        return []

    router = APIRouter(prefix="/v2")

    @router.get("/things")
    def things() -> list[int]:
        return []

    @router.options("/things")
    def things_options() -> dict[str, str]:
        return {}

    app.include_router(router)

    async def plain(request: Request) -> Response:
        return PlainTextResponse("plain")

    app.add_route("/plain", plain, methods=["GET"])
    return app


def _asgi_sender(app: Any) -> Send:
    client = starlette_test_client()(app)

    def send(method: str, path: str) -> tuple[int, list[str]]:
        response = client.request(method, path)
        return response.status_code, response.headers.get_list("allow")

    return send


def _asgi_reader(app: Any) -> Callable[[str], frozenset[str] | None]:
    from statusguard.contrib.starlette import methods_at

    def read(path: str) -> frozenset[str] | None:
        return methods_at(app, {"type": "http", "method": "TRACE", "path": path, "root_path": "", "headers": []})

    return read


@pytest.mark.parametrize(("path", "expected"), FASTAPI_ROUTES.items(), ids=list(FASTAPI_ROUTES))
def test_fastapi_allow_is_what_the_routes_answer(path: str, expected: set[str]) -> None:
    assert_allow_tells_the_truth(
        path, expected, _asgi_sender(fastapi_app("off")), _asgi_sender(fastapi_app("fix")),
        _asgi_reader(fastapi_app("off")),
    )


def test_fastapi_get_route_405_allow_has_no_head() -> None:
    send = _asgi_sender(fastapi_app("fix"))
    assert send("HEAD", "/items")[0] == 405  # @app.get refuses HEAD (fastapi#1773)...
    status, allow = send("DELETE", "/items")
    assert (status, allow) == (405, ["GET, POST"])  # ...so statusguard's Allow does not offer it


# =============================================================================================
# Starlette: Route adds HEAD to GET; HTTPEndpoint serves its handlers (HEAD with get); no OPTIONS
# =============================================================================================

STARLETTE_ROUTES = {
    "/items": {"GET", "HEAD", "POST"},  # Route(methods=["GET"]) + Route(methods=["POST"]): split
    "/thing": {"GET", "HEAD", "PUT"},  # an HTTPEndpoint with get() and put()
    "/feed": {"GET", "HEAD"},  # a Route without methods: GET, and so HEAD
    "/admin/users": {"DELETE", "OPTIONS"},  # split routes inside a Mount
}


@functools.cache
def starlette_app(mode: str) -> Any:
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.endpoints import HTTPEndpoint
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Mount, Route

    from statusguard.contrib.starlette import StatusGuardMiddleware

    async def ok(request: Request) -> Response:
        return PlainTextResponse("ok")

    class Thing(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return PlainTextResponse("thing")

        async def put(self, request: Request) -> Response:
            return PlainTextResponse("put")

    routes = [
        Route("/items", ok, methods=["GET"]),
        Route("/items", ok, methods=["POST"]),
        Route("/thing", Thing),
        Route("/feed", ok),
        Mount("/admin", routes=[Route("/users", ok, methods=["DELETE"]), Route("/users", ok, methods=["OPTIONS"])]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(StatusGuardMiddleware, mode=mode)])


@pytest.mark.parametrize(("path", "expected"), STARLETTE_ROUTES.items(), ids=list(STARLETTE_ROUTES))
def test_starlette_allow_is_what_the_routes_answer(path: str, expected: set[str]) -> None:
    assert_allow_tells_the_truth(
        path, expected, _asgi_sender(starlette_app("off")), _asgi_sender(starlette_app("fix")),
        _asgi_reader(starlette_app("off")),
    )


def test_starlette_get_route_405_allow_has_head() -> None:
    send = _asgi_sender(starlette_app("fix"))
    assert send("HEAD", "/items")[0] == 200  # Route(methods=["GET"]) serves HEAD...
    status, allow = send("DELETE", "/items")
    assert status == 405
    assert "HEAD" in _members(allow)  # ...so statusguard's Allow offers it


# =============================================================================================
# Flask: Werkzeug's Rule adds HEAD to GET; Flask adds OPTIONS unless provide_automatic_options is off
# =============================================================================================

FLASK_ROUTES = {
    "/items": {"GET", "HEAD", "POST", "OPTIONS"},  # @app.get + @app.post: split rules
    "/bare": {"GET", "HEAD"},  # provide_automatic_options=False: OPTIONS refused
    "/mixed": {"GET", "HEAD", "POST", "OPTIONS"},  # split: OPTIONS off on the GET rule, on for the POST rule
    "/thing": {"GET", "HEAD", "DELETE", "OPTIONS"},  # a MethodView with get() and delete()
    "/upload": {"PUT", "OPTIONS"},
}


@functools.cache
def flask_app(mode: str) -> Any:
    pytest.importorskip("flask")
    from flask import Flask
    from flask.views import MethodView

    from statusguard.contrib.flask import StatusGuard

    app = Flask(__name__)

    @app.get("/items")
    def list_items() -> str:
        return "items"

    @app.post("/items")
    def create_item() -> str:
        return "created"

    @app.route("/bare", methods=["GET"], provide_automatic_options=False)
    def bare() -> str:
        return "bare"

    @app.route("/mixed", methods=["GET"], provide_automatic_options=False)
    def mixed_get() -> str:
        return "mixed"

    @app.post("/mixed")
    def mixed_post() -> str:
        return "mixed"

    class Thing(MethodView):
        def get(self) -> str:
            return "thing"

        def delete(self) -> str:
            return "deleted"

    app.add_url_rule("/thing", view_func=Thing.as_view("thing"))

    @app.put("/upload")
    def upload() -> str:
        return "uploaded"

    StatusGuard(app, mode=mode)
    return app


def _wsgi_sender(app: Any) -> Send:
    client = app.test_client()

    def send(method: str, path: str) -> tuple[int, list[str]]:
        response = client.open(path, method=method)
        return response.status_code, response.headers.getlist("Allow")

    return send


@pytest.mark.parametrize(("path", "expected"), FLASK_ROUTES.items(), ids=list(FLASK_ROUTES))
def test_flask_allow_is_what_the_url_map_answers(path: str, expected: set[str]) -> None:
    from werkzeug.test import EnvironBuilder

    from statusguard.contrib.flask import methods_at

    app = flask_app("off")
    assert_allow_tells_the_truth(
        path, expected, _wsgi_sender(app), _wsgi_sender(flask_app("fix")),
        lambda p: methods_at(app, EnvironBuilder(path=p, method="TRACE").get_environ()),
    )


# =============================================================================================
# Django and DRF: one view per path (the first pattern wins), answering what its dispatch allows
# =============================================================================================

DJANGO_ROUTES = {
    "/article": {"GET", "HEAD", "POST", "OPTIONS"},  # View: handlers, HEAD with get (View.setup), options
    "/upload": {"PUT", "OPTIONS"},  # View with http_method_names = ["put", "options"]
    "/get-only": {"GET"},  # View with http_method_names = ["get"]: its head() is never dispatched
    "/form": {"GET", "POST"},  # require_http_methods(["GET", "POST"]): exactly its list
    "/safe": {"GET", "HEAD"},  # require_safe
    "/only-get": {"GET"},  # require_GET refuses HEAD
    "/form-async": {"PUT", "DELETE"},  # require_http_methods on an async view
    "/split": {"GET"},  # two patterns at one path: the first one's view answers everything
}

DRF_ROUTES = {
    "/ping": {"GET", "OPTIONS"},  # @api_view(["GET"]): its list plus OPTIONS; HEAD refused
    "/pong": {"GET", "HEAD", "POST", "OPTIONS"},  # @api_view(["GET", "HEAD", "POST"])
    "/note": {"GET", "HEAD", "DELETE", "OPTIONS"},  # APIView with get() and delete()
    "/notes/": {"GET", "HEAD", "POST", "OPTIONS"},  # a router's list route: list, create
    "/notes/7/": {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"},  # its detail route
}


@pytest.fixture
def django_send(django_configured: None) -> Iterator[Callable[[str], Send]]:
    """``django_send(mode)``: a test client over tests/contrib/django_allow_urls.py, statusguard in ``mode``."""
    from django.test import Client, override_settings

    from . import django_settings

    with ExitStack() as stack:
        stack.enter_context(override_settings(**django_settings.overridable()))
        stack.enter_context(override_settings(ROOT_URLCONF=f"{__package__}.django_allow_urls"))

        def make(mode: str) -> Send:
            stack.enter_context(override_settings(STATUSGUARD={"mode": mode}))
            client = Client()
            client.get("/article")  # loads the middleware chain while this mode is in force

            def send(method: str, path: str) -> tuple[int, list[str]]:
                response = client.generic(method, path)
                return response.status_code, [response["Allow"]] if response.has_header("Allow") else []

            return send

        yield make


def _django_reader(path: str) -> frozenset[str] | None:
    from django.urls import resolve

    from statusguard.contrib.django import view_methods

    return view_methods(resolve(path).func)


@pytest.mark.parametrize(
    ("path", "expected"), [*DJANGO_ROUTES.items(), *DRF_ROUTES.items()], ids=[*DJANGO_ROUTES, *DRF_ROUTES]
)
def test_django_and_drf_allow_is_what_the_view_answers(
    django_send: Callable[[str], Send], path: str, expected: set[str]
) -> None:
    off = django_send("off")
    fix = django_send("fix")
    assert_allow_tells_the_truth(path, expected, off, fix, _django_reader)
