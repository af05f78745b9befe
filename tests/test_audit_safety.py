"""A default audit never sends POST, PUT, PATCH or DELETE to a handler that accepts them.

Each app below records the method of every request its handlers receive; a default audit may
only ever call them with safe methods (the "method the route does not serve" is refused by the
router before any handler runs). With ``--unsafe`` the handlers' unsafe methods are sent.
Flask's version is in test_cli.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from statusguard.cli import main
from statusguard.cli.audit import UNSAFE_METHODS, Route, Target, plan_probes

SRC = Path(__file__).resolve().parent.parent / "src"
SAFE = {"GET", "HEAD", "OPTIONS"}


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("STATUSGUARD_MODE", raising=False)
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("sg_safety_")]:
        del sys.modules[name]


def audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["audit", *argv, "--format", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


STARLETTE_APP = """
    from starlette.applications import Starlette
    from starlette.endpoints import HTTPEndpoint
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route, Router

    CALLS = []

    async def things(request):
        CALLS.append(("things", request.method))
        return JSONResponse({"ok": True})

    async def post_only(request):
        CALLS.append(("post_only", request.method))
        return JSONResponse({"ok": True}, status_code=201)

    class Item(HTTPEndpoint):
        async def get(self, request):
            CALLS.append(("item", request.method))
            return JSONResponse({"id": request.path_params["item_id"]})

        async def delete(self, request):
            CALLS.append(("item", request.method))
            return JSONResponse(None, status_code=204)

    class RawASGI:  # a raw endpoint: the router cannot say what it serves
        async def __call__(self, scope, receive, send):
            CALLS.append(("raw", scope["method"]))
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"ok"})

    api = Router(routes=[Route("/items/{item_id:int}", Item), Route("/items", post_only, methods=["POST"])])
    app = Starlette(routes=[
        Route("/things", things, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Mount("/api", app=api),
        Route("/raw", RawASGI()),
    ])
"""

FASTAPI_APP = """
    from fastapi import APIRouter, FastAPI

    CALLS = []
    app = FastAPI()
    router = APIRouter(prefix="/v1")

    @app.api_route("/things", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def things():
        CALLS.append("things")
        return {"ok": True}

    @app.post("/orders")
    def create_order():
        CALLS.append("orders POST")
        return {"id": 1}

    @router.get("/orders/{order_id}")
    def read_order(order_id: int):
        CALLS.append("orders GET")
        return {"id": order_id}

    @router.delete("/orders/{order_id}")
    def delete_order(order_id: int):
        CALLS.append("orders DELETE")
        return None

    @router.put("/orders/{order_id}")
    def replace_order(order_id: int):
        CALLS.append("orders PUT")
        return {"id": order_id}

    app.include_router(router)
"""


def test_starlette_default_audit_sends_no_unsafe_method(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app_dir / "sg_safety_star.py").write_text(textwrap.dedent(STARLETTE_APP))
    _, report = audit(capsys, "sg_safety_star:app")
    import sg_safety_star  # type: ignore[import-not-found]

    assert {method for _, method in sg_safety_star.CALLS} <= SAFE
    assert ("things", "GET") in sg_safety_star.CALLS
    assert ("item", "GET") in sg_safety_star.CALLS  # through the Mount, into the HTTPEndpoint
    assert ("raw", "GET") in sg_safety_star.CALLS
    assert not any(name == "post_only" for name, _ in sg_safety_star.CALLS)  # only POST: never called
    routes = {r["route"]: r for r in report["routes"]}  # type: ignore[attr-defined]
    assert set(routes["/api/items/{item_id:int}"]["methods"]) == {"GET", "HEAD", "DELETE"}
    assert routes["/api/items/{item_id:int}"]["path"] == "/api/items/1"
    assert routes["/raw"]["methods"] is None  # a raw ASGI endpoint: unknown, so nothing unsafe is sent
    unserved = [p["method"] for p in routes["/raw"]["probes"] if p["kind"] == "unserved"]
    assert unserved == []

    sg_safety_star.CALLS.clear()
    audit(capsys, "sg_safety_star:app", "--unsafe")
    sent = set(sg_safety_star.CALLS)
    assert {("things", m) for m in UNSAFE_METHODS} <= sent
    assert ("item", "DELETE") in sent
    assert ("post_only", "POST") in sent
    assert not any(name == "raw" and method in UNSAFE_METHODS for name, method in sent)  # unknown: never


def test_fastapi_default_audit_sends_no_unsafe_method(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app_dir / "sg_safety_fast.py").write_text(textwrap.dedent(FASTAPI_APP))
    _, report = audit(capsys, "sg_safety_fast:app")
    import sg_safety_fast  # type: ignore[import-not-found]

    assert set(sg_safety_fast.CALLS) <= {"things", "orders GET"}
    assert "orders GET" in sg_safety_fast.CALLS  # the included router's route, order_id sampled as an int
    routes = {r["route"]: r for r in report["routes"]}  # type: ignore[attr-defined]
    assert set(routes["/v1/orders/{order_id}"]["methods"]) == {"GET", "DELETE", "PUT"}  # FastAPI: no HEAD
    assert routes["/v1/orders/{order_id}"]["path"] == "/v1/orders/1"
    methods = {p["method"] for r in routes.values() for p in r["probes"]}
    assert methods & UNSAFE_METHODS <= {"DELETE", "PATCH", "PUT", "POST"}  # only where no handler serves them
    for entry in routes.values():
        for probe in entry["probes"]:
            if probe["method"] in UNSAFE_METHODS:
                assert probe["kind"] == "unserved"
                assert probe["method"] not in (entry["methods"] or ())

    sg_safety_fast.CALLS.clear()
    audit(capsys, "sg_safety_fast:app", "--unsafe")
    assert {"things", "orders POST", "orders DELETE", "orders PUT"} <= set(sg_safety_fast.CALLS)


def test_raw_asgi_app_without_router_gets_only_safe_methods(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app_dir / "sg_safety_raw.py").write_text(textwrap.dedent("""
        CALLS = []

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            CALLS.append(scope["method"])
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"ok"})
    """))
    code, report = audit(capsys, "sg_safety_raw:app", "--unsafe")
    import sg_safety_raw  # type: ignore[import-not-found]

    assert set(sg_safety_raw.CALLS) <= SAFE  # even with --unsafe: nothing says what the app serves
    assert report["notes"]  # and the report says why
    assert code == 0


def test_plan_never_holds_an_unsafe_method_for_a_route_that_serves_it() -> None:
    routes = [
        Route("/a", "/a", frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})),
        Route("/b", "/b", frozenset({"DELETE"})),
        Route("/c", "/c", None),
        Route("/d", "/d", frozenset()),
    ]
    target = Target("test", "wsgi", routes=routes)
    for probe in plan_probes(target):
        served = probe.route.methods
        if probe.method in UNSAFE_METHODS:
            assert served is not None, probe
            assert probe.method not in served, probe
            assert probe.kind == "unserved"
        assert probe.headers in ((), (("Range", "bytes=999999999-"),))  # no Authorization, no Cookie
    unserved = {p.route.path: p.method for p in plan_probes(target) if p.kind == "unserved"}
    assert unserved == {"/a": "TRACE", "/b": "PUT", "/d": "DELETE"}  # /c: unknown, no guess
    unsafe = {(p.route.path, p.method) for p in plan_probes(target, unsafe=True) if p.kind == "unsafe"}
    assert unsafe == {("/a", m) for m in UNSAFE_METHODS} | {("/b", "DELETE")}


# -- Django: nested includes, converters, DRF routers (in a subprocess: settings are process-wide)

DJANGO_SETTINGS = """
SECRET_KEY = "test"
DEBUG = False
ALLOWED_HOSTS = ["api.example"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = ["statusguard.contrib.django.StatusGuardMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "sgproj.urls"
DATABASES = {}
USE_TZ = True
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [], "DEFAULT_PERMISSION_CLASSES": [], "UNAUTHENTICATED_USER": None}
"""

DJANGO_URLS = """
import os

from django.http import HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views import View
from django.views.decorators.http import require_http_methods
from rest_framework import routers, viewsets
from rest_framework.response import Response


def record(request, name):
    with open(os.environ["SG_CALLS"], "a") as handle:
        handle.write(f"{name} {request.method} {request.get_host()}\\n")


@require_http_methods(["GET", "POST", "DELETE"])
def item(request, pk):
    record(request, "item")
    return JsonResponse({"pk": pk})


def legacy(request, slug):
    record(request, "legacy")
    return HttpResponse("legacy " + slug, content_type="text/plain")


class Things(View):
    def get(self, request):
        record(request, "things")
        return JsonResponse({"things": []})

    def put(self, request):
        record(request, "things")
        return JsonResponse({}, status=200)


class Notes(viewsets.ViewSet):
    def list(self, request):
        record(request, "notes")
        return Response([])

    def create(self, request):
        record(request, "notes")
        return Response({"id": 1}, status=201)

    def retrieve(self, request, pk=None):
        record(request, "notes")
        return Response({"id": pk})

    def destroy(self, request, pk=None):
        record(request, "notes")
        return Response(status=204)


router = routers.DefaultRouter()
router.register("notes", Notes, basename="note")

v1 = [
    path("items/<int:pk>/", item),
    re_path(r"^legacy/(?P<slug>[-\\w]+)/$", legacy),
    path("things/", Things.as_view()),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("api/", include(router.urls)),
]
"""


@pytest.fixture
def django_project(tmp_path: Path) -> Path:
    package = tmp_path / "sgproj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(DJANGO_SETTINGS)
    (package / "urls.py").write_text(DJANGO_URLS)
    return tmp_path


def run_django_audit(project: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    calls = project / "calls.txt"
    calls.write_text("")
    environment = {k: v for k, v in os.environ.items() if k not in ("STATUSGUARD_MODE", "DJANGO_SETTINGS_MODULE")}
    environment["PYTHONPATH"] = os.pathsep.join([str(SRC), environment.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    environment["SG_CALLS"] = str(calls)
    result = subprocess.run(
        [sys.executable, "-m", "statusguard", "audit", "--django-settings", "sgproj.settings", "--format", "json",
         *argv], cwd=project, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )
    return result, calls.read_text().splitlines()


def test_django_discovery_and_no_unsafe_method(django_project: Path) -> None:
    result, calls = run_django_audit(django_project)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    routes = {r["route"]: r for r in report["routes"]}
    # Nested includes, a path converter, a re_path regex, a class-based view, a DRF router's regexes.
    assert routes["/v1/items/<int:pk>/"]["path"] == "/v1/items/1/"
    assert set(routes["/v1/items/<int:pk>/"]["methods"]) == {"GET", "POST", "DELETE"}  # require_http_methods
    assert routes["/v1/legacy/<slug>/"]["path"] == "/v1/legacy/1/"
    assert set(routes["/v1/things/"]["methods"]) == {"GET", "HEAD", "PUT", "OPTIONS"}  # View: HEAD with GET
    assert routes["/api/notes/"]["path"] == "/api/notes/"
    assert {"GET", "POST"} <= set(routes["/api/notes/"]["methods"])
    assert routes["/api/notes/<pk>/"]["path"] == "/api/notes/1/"
    assert {"GET", "DELETE"} <= set(routes["/api/notes/<pk>/"]["methods"])
    assert "/api/" in routes  # DRF's API root
    assert not any("format" in template for template in routes)  # format suffixes: the same views
    # Every probe reached a view with a safe method, and with a Host from ALLOWED_HOSTS.
    assert calls, result.stderr
    for line in calls:
        _, method, host = line.split()
        assert method in SAFE, line
        assert host == "api.example"
    assert {line.split()[0] for line in calls} >= {"item", "legacy", "things", "notes"}

    result, calls = run_django_audit(django_project, "--unsafe")
    sent = {tuple(line.split()[:2]) for line in calls}
    assert {("item", "POST"), ("item", "DELETE"), ("things", "PUT"), ("notes", "POST"), ("notes", "DELETE")} <= sent
