"""statusguard.contrib.starlette on Starlette: router knowledge through Route, Mount, Host, endpoints."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from statusguard import ASGIMiddleware, StatusViolationError

from .conftest import Recorder, asgi_call, starlette_test_client

pytest.importorskip("starlette")
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Host, Mount, Route
from starlette.staticfiles import StaticFiles

from statusguard.contrib.starlette import StatusGuardMiddleware, allowed_methods

TestClient = starlette_test_client()


async def list_items(request: Request) -> Response:
    return PlainTextResponse("items")


async def create_item(request: Request) -> Response:
    return PlainTextResponse("created", status_code=201)


async def refuse(request: Request) -> Response:
    raise HTTPException(status_code=405)  # the handler refuses after all, with no Allow


class Thing(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return PlainTextResponse("thing")

    async def put(self, request: Request) -> Response:
        return PlainTextResponse("stored")


async def raw_asgi(scope: Any, receive: Any, send: Any) -> None:
    await PlainTextResponse("raw")(scope, receive, send)


def make_app(static_dir: Path, file_path: Path, **options: Any) -> Starlette:
    async def download(request: Request) -> Response:
        return FileResponse(file_path)

    app = Starlette(
        routes=[
            # One route per method on one path: Starlette's own 405 lists only the first route's methods.
            Route("/items", list_items, methods=["GET"]),
            Route("/items", create_item, methods=["POST"]),
            Route("/refuse", refuse, methods=["GET", "POST"]),
            Route("/thing", Thing),
            Route("/file", download),
            Mount("/api", routes=[
                Route("/widgets", list_items, methods=["GET"]),
                Route("/widgets", create_item, methods=["PUT"]),
            ]),
            Mount("/static", StaticFiles(directory=static_dir)),
            Mount("/raw", raw_asgi),
            Host("admin.example", Starlette(routes=[Route("/panel", list_items, methods=["GET"])])),
        ]
    )
    app.add_middleware(StatusGuardMiddleware, **options)
    return app


@pytest.fixture
def app_factory(tmp_path: Path, sample_file: Path) -> Any:
    static = tmp_path / "static"
    static.mkdir()
    (static / "a.txt").write_text("a")

    def factory(**options: Any) -> Starlette:
        return make_app(static, sample_file, **options)

    return factory


# -- one route per method -----------------------------------------------------------------------


def test_partial_allow_is_reported_in_log_mode(app_factory: Any, recorder: Recorder) -> None:
    response = TestClient(app_factory(mode="log", on_violation=recorder)).delete("/items")
    assert response.status_code == 405
    assert sorted(response.headers["allow"].split(", ")) == ["GET", "HEAD"]  # Starlette's: POST is missing
    violation = recorder.get("405-allow-coherent")
    assert "omits POST" in violation.message
    assert "first matching route" in violation.hint


def test_partial_allow_lists_every_route_in_fix_mode(app_factory: Any, recorder: Recorder) -> None:
    response = TestClient(app_factory(mode="fix", on_violation=recorder)).delete("/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.text == "Method Not Allowed"
    assert recorder.actions() == {"405-allow-coherent": "fixed"}


def test_partial_allow_is_advisory_so_strict_mode_logs_it(app_factory: Any, recorder: Recorder) -> None:
    # 405-allow-coherent is ADVISORY: strict mode raises on MUST and SHOULD only, and logs the rest.
    response = TestClient(app_factory(mode="strict", on_violation=recorder)).delete("/items")
    assert response.status_code == 405
    assert recorder.actions() == {"405-allow-coherent": "logged"}
    # Asking for it makes strict mode raise.
    with pytest.raises(StatusViolationError) as caught:
        TestClient(app_factory(mode="strict", rules={"405-allow-coherent": "raise"})).delete("/items")
    assert [v.rule for v in caught.value.violations] == ["405-allow-coherent"]


def test_through_a_mount(app_factory: Any) -> None:
    response = TestClient(app_factory(mode="fix")).delete("/api/widgets")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PUT"


def test_handler_405_without_allow(app_factory: Any, recorder: Recorder) -> None:
    client = TestClient(app_factory(mode="fix", on_violation=recorder))
    response = client.post("/refuse")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"  # the route's methods, less the refused one
    assert recorder.actions() == {"405-allow": "fixed"}
    assert "HTTPException(405, headers=" in recorder.get("405-allow").hint
    with pytest.raises(StatusViolationError) as caught:
        TestClient(app_factory(mode="strict")).post("/refuse")
    assert [v.rule for v in caught.value.violations] == ["405-allow"]


# -- the allowed_methods factory ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/items", (), {"GET", "HEAD", "POST"}),
        ("/api/widgets", (), {"GET", "HEAD", "PUT"}),
        ("/thing", (), {"GET", "HEAD", "PUT"}),  # an HTTPEndpoint: its handlers, HEAD with GET
        ("/static/a.txt", (), {"GET", "HEAD"}),  # StaticFiles serves GET and HEAD
        ("/raw/anything", (), None),  # a mounted plain ASGI app: unknowable, no guess
        ("/nowhere", (), None),  # no route: no knowledge
        ("/panel", (("host", "admin.example"),), {"GET", "HEAD"}),  # through a Host
    ],
)
def test_allowed_methods_factory(app_factory: Any, path: str, headers: Any, expected: set[str] | None) -> None:
    app = app_factory(mode="off")
    scope = {
        "type": "http", "method": "DELETE", "path": path, "root_path": "", "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
    }
    found = allowed_methods(app)(scope)
    assert (set(found) if found is not None else None) == expected


def test_wrapping_the_app_from_outside(app_factory: Any) -> None:
    inner = app_factory(mode="off")
    response = TestClient(StatusGuardMiddleware(inner, mode="fix")).delete("/items")
    assert response.headers["allow"] == "GET, HEAD, POST"
    # The factory does the same for the core middleware.
    response = TestClient(ASGIMiddleware(inner, mode="fix", allowed_methods=allowed_methods(inner))).delete("/items")
    assert response.status_code == 405


# -- HEAD ----------------------------------------------------------------------------------------


def test_head_body_is_dropped_quietly(app_factory: Any, recorder: Recorder) -> None:
    before = asgi_call(app_factory(mode="off"), "HEAD", "/items")
    assert before.body == b"items"  # Starlette sends the GET body; it relies on the server to drop it
    after = asgi_call(app_factory(mode="strict", on_violation=recorder), "HEAD", "/items")
    assert (after.status, after.body) == (200, b"")
    assert after.header("content-length") == ["5"]  # the GET's length, kept (RFC 9110 §9.3.2)
    assert recorder.actions() == {"head-no-content": "quiet"}


# -- FileResponse and an unsatisfiable Range -----------------------------------------------------


def test_unsatisfiable_range_is_reported_in_log_mode(
    app_factory: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="statusguard"):
        response = TestClient(app_factory(mode="log", on_violation=recorder)).get(
            "/file", headers={"Range": "bytes=100-200"}
        )
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */11"  # Starlette gets this right
    assert response.content == b""
    assert recorder.rules == ["4xx-explain"]
    assert "FileResponse" in recorder.get("4xx-explain").hint
    assert any(getattr(r, "rule", None) == "4xx-explain" for r in caplog.records)


def test_unsatisfiable_range_gets_an_explanation_in_fix_mode(app_factory: Any) -> None:
    response = TestClient(app_factory(mode="fix")).get("/file", headers={"Range": "bytes=100-200"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */11"
    assert response.headers["content-type"] == "application/problem+json"
    assert json.loads(response.content) == {"type": "about:blank", "title": "Range Not Satisfiable", "status": 416}
    assert response.headers["content-length"] == str(len(response.content))


def test_unsatisfiable_range_raises_in_strict_mode(app_factory: Any) -> None:
    with pytest.raises(StatusViolationError) as caught:
        TestClient(app_factory(mode="strict")).get("/file", headers={"Range": "bytes=100-200"})
    assert [v.rule for v in caught.value.violations] == ["4xx-explain"]


def test_a_correct_response_passes_untouched(app_factory: Any, recorder: Recorder) -> None:
    client = TestClient(app_factory(mode="strict", on_violation=recorder))
    response = client.get("/file", headers={"Range": "bytes=0-4"})
    assert response.status_code == 206
    assert response.content == b"hello"
    assert recorder.seen == []
