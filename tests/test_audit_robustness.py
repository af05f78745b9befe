"""`statusguard audit` against apps that misbehave: it reports, times out, caps, and goes on."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statusguard.cli import main
from statusguard.cli.audit import MAX_BODY, Route, Target, load_target, run_audit


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("STATUSGUARD_MODE", raising=False)
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("sg_robust_")]:
        del sys.modules[name]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def probes(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [probe | {"route": route["route"]} for route in report["routes"] for probe in route["probes"]]


# -- an app that raises ------------------------------------------------------------------------


def test_wsgi_app_raising_on_one_probe_is_reported_and_the_audit_goes_on(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app_dir / "sg_robust_raise.py").write_text(textwrap.dedent("""
        def app(environ, start_response):
            if environ["REQUEST_METHOD"] == "HEAD":
                raise ZeroDivisionError("no HEAD <here> & \\"there\\"")
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
    """))
    code, out, _ = run(capsys, "audit", "sg_robust_raise:app", "--format", "json")
    report = json.loads(out)
    results = probes(report)
    head = [r for r in results if r["method"] == "HEAD"]
    assert "ZeroDivisionError: no HEAD" in head[0]["error"]
    assert "sg_robust_raise.py" in head[0]["error"]  # where it raised
    assert [r["status"] for r in results if r["method"] == "GET"] == [200, 200]  # the others still ran
    assert report["summary"]["errors"] == 1
    assert code == 1  # a crash fails the audit
    code, out, _ = run(capsys, "audit", "sg_robust_raise:app")
    assert "HEAD -> no response" in out
    assert "ZeroDivisionError" in out
    code, _, _ = run(capsys, "audit", "sg_robust_raise:app", "--fail-on", "never")
    assert code == 0


def test_flask_and_starlette_500s_carry_the_exception(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app_dir / "sg_robust_fw.py").write_text(textwrap.dedent("""
        from flask import Flask
        from starlette.applications import Starlette
        from starlette.routing import Route

        flask_app = Flask(__name__)

        @flask_app.get("/boom")
        def boom():
            return 1 / 0

        @flask_app.get("/fine")
        def fine():
            return "fine"

        async def star_boom(request):
            raise KeyError("missing")

        star_app = Starlette(routes=[Route("/boom", star_boom)])
    """))
    _, out, _ = run(capsys, "audit", "sg_robust_fw:flask_app", "--format", "json")
    results = probes(json.loads(out))
    boom = next(r for r in results if r["route"] == "/boom" and r["kind"] == "get")
    assert boom["status"] == 500  # Flask turned it into its 500 page...
    assert "ZeroDivisionError" in boom["error"]  # ...and logged the exception, which the report carries
    assert all(r["status"] == 200 for r in results if r["route"] == "/fine" and r["kind"] == "get")
    _, out, _ = run(capsys, "audit", "sg_robust_fw:star_app", "--format", "json")
    boom = next(r for r in probes(json.loads(out)) if r["kind"] == "get")
    assert boom["status"] == 500  # Starlette's ServerErrorMiddleware sends a 500, then re-raises
    assert "KeyError" in boom["error"]


# -- import failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("raise RuntimeError('the database is down')\n", "RuntimeError: the database is down",
                     id="raises"),
        pytest.param("def app(:\n", "SyntaxError", id="syntax error"),
        pytest.param("import sg_robust_no_such_dependency\n", "No module named 'sg_robust_no_such_dependency'",
                     id="missing dependency"),
        pytest.param("import sys\nsys.exit(3)\n", "SystemExit", id="exits"),
    ],
)
def test_import_failure_exits_2_with_the_error(
    app_dir: Path, capsys: pytest.CaptureFixture[str], source: str, expected: str
) -> None:
    (app_dir / "sg_robust_broken.py").write_text(source)
    code, out, err = run(capsys, "audit", "sg_robust_broken:app")
    assert code == 2
    assert out == ""
    assert "cannot load the target" in err
    assert expected in err


def test_factory_that_raises_exits_2(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app_dir / "sg_robust_factory.py").write_text("def create_app():\n    raise ValueError('no config')\n")
    code, _, err = run(capsys, "audit", "sg_robust_factory:create_app")
    assert code == 2
    assert "ValueError: no config" in err


# -- timeouts ----------------------------------------------------------------------------------


def test_asgi_app_that_never_answers_times_out_per_probe(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app_dir / "sg_robust_silent.py").write_text(textwrap.dedent("""
        import asyncio

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            if scope["method"] == "OPTIONS":
                await send({"type": "http.response.start", "status": 200, "headers": [(b"allow", b"GET, HEAD")]})
                await send({"type": "http.response.body", "body": b""})
                return
            if scope["method"] == "HEAD":  # starts, then never finishes the body
                await send({"type": "http.response.start", "status": 200, "headers": []})
            await asyncio.sleep(3600)
    """))
    started = time.monotonic()
    code, out, _ = run(capsys, "audit", "sg_robust_silent:app", "--timeout", "0.3", "--format", "json")
    assert time.monotonic() - started < 10
    results = probes(json.loads(out))
    by_method = {(r["method"], r["kind"]): r for r in results}
    assert "within 0.3 s" in by_method[("GET", "get")]["error"]
    assert "within 0.3 s" in by_method[("HEAD", "head")]["error"]
    assert by_method[("OPTIONS", "options")]["status"] == 200  # the audit went on
    assert code == 1


def test_wsgi_app_that_hangs_times_out(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app_dir / "sg_robust_hang.py").write_text(textwrap.dedent("""
        import threading

        RELEASE = threading.Event()

        def app(environ, start_response):
            if environ["REQUEST_METHOD"] == "GET":
                RELEASE.wait(5)
            start_response("204 No Content", [])
            return []
    """))
    started = time.monotonic()
    code, out, _ = run(capsys, "audit", "sg_robust_hang:app", "--timeout", "0.3", "--format", "json")
    import sg_robust_hang  # type: ignore[import-not-found]

    sg_robust_hang.RELEASE.set()
    assert time.monotonic() - started < 4
    results = probes(json.loads(out))
    assert all("within 0.3 s" in r["error"] for r in results if r["method"] == "GET")
    assert [r["status"] for r in results if r["method"] == "HEAD"] == [204]
    assert code == 1


# -- bodies beyond the cap ---------------------------------------------------------------------


def _endless_wsgi(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    chunk = b"x" * 65536
    while True:
        yield chunk


async def _endless_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    chunk = b"y" * 65536
    while True:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


@pytest.mark.parametrize(("app", "kind"), [(_endless_wsgi, "wsgi"), (_endless_asgi, "asgi")])
def test_an_endless_body_is_not_held_beyond_the_cap(app: Any, kind: str) -> None:
    target = Target("endless", kind, app, routes=[Route("/", "/", frozenset({"GET", "HEAD"}))])
    started = time.monotonic()
    report = run_audit(target, timeout=5)
    assert time.monotonic() - started < 5  # stopped reading at the cap, not at the timeout
    get = next(r for r in report.results if r.probe.kind == "get")
    assert get.error is None
    assert get.status == 200
    assert get.body is None  # not observed: rules that need the body stay silent
    assert MAX_BODY < get.body_size <= MAX_BODY + 65536


# -- lifespan ----------------------------------------------------------------------------------


def test_asgi_lifespan_runs_around_the_probes(app_dir: Path) -> None:
    (app_dir / "sg_robust_life.py").write_text(textwrap.dedent("""
        import contextlib

        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        EVENTS = []

        @contextlib.asynccontextmanager
        async def lifespan(app):
            EVENTS.append("startup")
            yield {"greeting": "hello"}
            EVENTS.append("shutdown")

        async def hello(request):
            return JSONResponse({"greeting": request.state.greeting})

        app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
    """))
    target = load_target("sg_robust_life:app")
    report = run_audit(target)
    import sg_robust_life  # type: ignore[import-not-found]

    assert sg_robust_life.EVENTS == ["startup", "shutdown"]
    get = next(r for r in report.results if r.probe.kind == "get")
    assert get.status == 200
    assert get.body == b'{"greeting":"hello"}'


def test_asgi_lifespan_startup_failure_is_a_note(app_dir: Path) -> None:
    (app_dir / "sg_robust_lifefail.py").write_text(textwrap.dedent("""
        import contextlib

        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        @contextlib.asynccontextmanager
        async def lifespan(app):
            raise RuntimeError("no database")
            yield

        async def hello(request):
            return PlainTextResponse("hello")

        app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
    """))
    report = run_audit(load_target("sg_robust_lifefail:app"))
    assert any("lifespan startup failed" in note and "no database" in note for note in report.notes)
    assert next(r for r in report.results if r.probe.kind == "get").status == 200  # probed all the same
