"""End to end over real servers on 127.0.0.1 (ephemeral ports), checking the bytes on the wire.

- uvicorn (in a subprocess, so that its peak RSS can be read from /proc) serving a Starlette app
  wrapped in ASGIMiddleware(mode="fix");
- waitress (threaded) and wsgiref.simple_server (in a thread) serving a raw WSGI app wrapped in
  WSGIMiddleware(mode="fix"). wsgiref does not strip a HEAD body: there the fix is what keeps the
  wire correct, which the raw socket bytes prove.

Run this file as a script (``python tests/test_e2e_servers.py uvicorn``) to start the uvicorn
server the tests use; it prints its port on the first line of stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from statusguard import ASGIMiddleware, WSGIMiddleware

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SRC = Path(__file__).resolve().parent.parent / "src"
CHUNK = 64 * 1024
STREAM_MB = 100
STREAM_BYTES = STREAM_MB * 1024 * 1024
RSS_ALLOWANCE_KB = 30 * 1024
PROBLEM_404 = {"type": "about:blank", "title": "Not Found", "status": 404}


def chunk_number(index: int) -> bytes:
    """The deterministic content of stream chunk ``index`` (checked by hash on the client)."""
    return bytes([index % 251]) * CHUNK


def expected_stream_digest(total: int) -> str:
    digest = hashlib.sha256()
    for index in range(total // CHUNK):
        digest.update(chunk_number(index))
    return digest.hexdigest()


# -- the apps -------------------------------------------------------------------------------------


def build_asgi_app() -> ASGIMiddleware:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Route

    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello world")

    async def missing(request: Request) -> Response:
        return Response(status_code=404)  # empty; Starlette frames it with Content-Length: 0

    async def missing_streamed(request: Request) -> Response:
        async def nothing() -> Any:
            for _ in ():
                yield b""

        return StreamingResponse(nothing(), status_code=404)  # empty, and no Content-Length at all

    async def limited(request: Request) -> Response:
        return PlainTextResponse("slow down", status_code=429, headers={"Cache-Control": "max-age=60"})

    async def stream(request: Request) -> Response:
        total = int(request.query_params.get("mb", "1")) * 1024 * 1024

        async def chunks() -> Any:
            for index in range(total // CHUNK):
                yield chunk_number(index)

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    routes = [
        Route("/hello", hello),
        Route("/missing", missing),
        Route("/missing-streamed", missing_streamed),
        Route("/limited", limited),
        Route("/stream", stream),
    ]
    return ASGIMiddleware(Starlette(routes=routes), mode="fix")


def bare_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    if path.endswith("/hello"):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "11")])
        return [b"hello world"]  # also on HEAD, as many frameworks do
    if path.endswith("/limited"):
        start_response("429 Too Many Requests", [("Content-Type", "text/plain"), ("Content-Length", "9"),
                                                 ("Cache-Control", "max-age=60")])
        return [b"slow down"]
    start_response("404 Not Found", [])
    return []


guarded_wsgi_app = WSGIMiddleware(bare_wsgi_app, mode="fix")


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Paths under /bare/ reach the app without statusguard: the control group."""
    if environ.get("PATH_INFO", "").startswith("/bare/"):
        return bare_wsgi_app(environ, start_response)
    return guarded_wsgi_app(environ, start_response)


# -- servers --------------------------------------------------------------------------------------


def serve_uvicorn() -> None:
    """The subprocess: bind an ephemeral port, print it, serve until terminated."""
    import uvicorn

    app = build_asgi_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, http="h11", lifespan="off", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def wait_until_listening(port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class UvicornProcess:
    def __init__(self, tmp: Path) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
        env.pop("STATUSGUARD_MODE", None)
        self.stderr_path = tmp / "uvicorn.stderr"
        self.stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "uvicorn"], stdout=subprocess.PIPE, stderr=self.stderr, env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"uvicorn did not start: {self.stderr_path.read_text(errors='replace')}")
        self.port = int(line)
        wait_until_listening(self.port, time.monotonic() + 15)
        self.url = f"http://127.0.0.1:{self.port}"

    def peak_rss_kb(self) -> int | None:
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()


@pytest.fixture(scope="module")
def uvicorn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornProcess]:
    server = UvicornProcess(tmp_path_factory.mktemp("uvicorn"))
    try:
        yield server
    finally:
        server.stop()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def wsgiref_server() -> Iterator[str]:
    server: WSGIServer = make_server("127.0.0.1", 0, wsgi_app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.fixture(scope="module")
def waitress_server() -> Iterator[str]:
    import waitress

    server: Any = waitress.create_server(wsgi_app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)
        assert not thread.is_alive()


def raw_request(url: str, request: bytes) -> bytes:
    """Send raw bytes and read the whole answer until the server closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


# -- the checks, shared by every server -----------------------------------------------------------


def check_head_keeps_length_without_body(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        got = client.head("/hello")
    assert got.status_code == 200
    assert got.content == b""
    assert got.headers["content-length"] == "11"  # GET's length, never rewritten to 0


def check_empty_404_is_problem_json(url: str, path: str = "/missing") -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        got = client.get(path)
    assert got.status_code == 404
    assert got.headers["content-type"] == "application/problem+json"
    assert got.headers["content-length"] == str(len(got.content))
    assert json.loads(got.content) == PROBLEM_404


def check_429_not_storable(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        got = client.get("/limited")
    assert got.status_code == 429
    assert got.headers.get_list("cache-control") == ["no-store"]
    assert got.content == b"slow down"


# -- uvicorn + Starlette --------------------------------------------------------------------------


def test_uvicorn_head_has_no_body_and_the_original_length(uvicorn_server: UvicornProcess) -> None:
    check_head_keeps_length_without_body(uvicorn_server.url)


@pytest.mark.parametrize("path", ["/missing", "/missing-streamed"])
def test_uvicorn_empty_404_arrives_as_problem_json(uvicorn_server: UvicornProcess, path: str) -> None:
    check_empty_404_is_problem_json(uvicorn_server.url, path)


def test_uvicorn_429_arrives_not_storable(uvicorn_server: UvicornProcess) -> None:
    check_429_not_storable(uvicorn_server.url)


def test_uvicorn_streams_100_mb_intact_with_flat_memory(uvicorn_server: UvicornProcess) -> None:
    with httpx.Client(base_url=uvicorn_server.url, timeout=30) as client:
        # Warm up the same code path so that the baseline includes every import and first-use cost.
        warm = client.get("/stream", params={"mb": 2})
        assert len(warm.content) == 2 * 1024 * 1024
        baseline = uvicorn_server.peak_rss_kb()
        digest = hashlib.sha256()
        received = 0
        with client.stream("GET", "/stream", params={"mb": STREAM_MB}) as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers  # streamed, not buffered into one body
            for data in response.iter_raw():
                received += len(data)
                digest.update(data)
    assert received == STREAM_BYTES
    assert digest.hexdigest() == expected_stream_digest(STREAM_BYTES)
    peak = uvicorn_server.peak_rss_kb()
    if baseline is None or peak is None:
        pytest.skip("no /proc/<pid>/status on this platform: the memory half of the check cannot run")
    assert peak - baseline < RSS_ALLOWANCE_KB, f"the server's peak RSS grew by {(peak - baseline) // 1024} MB"


# -- WSGI servers ---------------------------------------------------------------------------------


@pytest.fixture(params=["wsgiref", "waitress"])
def wsgi_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_server"))


def test_wsgi_head_has_no_body_and_the_original_length(wsgi_url: str) -> None:
    check_head_keeps_length_without_body(wsgi_url)


def test_wsgi_empty_404_arrives_as_problem_json(wsgi_url: str) -> None:
    check_empty_404_is_problem_json(wsgi_url)


def test_wsgi_429_arrives_not_storable(wsgi_url: str) -> None:
    check_429_not_storable(wsgi_url)


def split_response(raw: bytes) -> tuple[list[bytes], bytes]:
    head, separator, rest = raw.partition(b"\r\n\r\n")
    assert separator, raw[:200]
    return head.split(b"\r\n"), rest


def test_wsgiref_head_wire_has_no_body_bytes(wsgiref_server: str) -> None:
    request = b"HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    lines, rest = split_response(raw_request(wsgiref_server, request % b"/hello"))
    assert lines[0].split(b" ", 2)[1] == b"200"
    assert b"content-length: 11" in [line.lower() for line in lines]
    assert rest == b""  # nothing follows the header section
    # The control group: the same app without statusguard puts its body on the wire after a HEAD.
    _, bare_rest = split_response(raw_request(wsgiref_server, request % b"/bare/hello"))
    assert bare_rest == b"hello world"


if __name__ == "__main__":
    if sys.argv[1:] == ["uvicorn"]:
        serve_uvicorn()
    else:
        sys.exit("usage: python tests/test_e2e_servers.py uvicorn")
