"""Faults around a response: clients that leave, apps that fail, streams that never end, slow consumers.

Each test shows what the client receives (a recording server, or the exact bytes wsgiref's own
handler writes) and that nothing is left behind: the app's iterable is closed exactly once, its
generator's ``finally`` ran, no asyncio task is pending, statusguard's per-request objects are
gone after a garbage collection, and memory traced in statusguard's own files does not grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import sys
import tracemalloc
import types
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any
from wsgiref.handlers import SimpleHandler

import pytest

import statusguard
from statusguard import ASGIMiddleware, StatusViolationError, WSGIMiddleware
from statusguard import asgi as sg_asgi
from statusguard import wsgi as sg_wsgi
from statusguard.runtime import session as sg_session

Message = MutableMapping[str, Any]
Headers = list[tuple[str, str]]
SRC = str(Path(statusguard.__file__).resolve().parent)
PROBLEM_404 = {"type": "about:blank", "title": "Not Found", "status": 404}
PROBLEM_500 = {"type": "about:blank", "title": "Internal Server Error", "status": 500}
TEXT = [("Content-Type", "text/plain")]


class AppError(Exception):
    pass


@pytest.fixture
def no_leaks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No per-request statusguard object (responder, guarded iterable, inspection) outlives its test.

    The adapters' classes are replaced by subclasses that only add a weak reference slot and record
    each instance; after the test (which drops its own references) and one collection, all are gone.
    """
    refs: list[weakref.ref[Any]] = []

    def tracked(cls: type) -> type:
        slots = ("__weakref__",) if "__slots__" in cls.__dict__ else ()

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            cls.__init__(self, *args, **kwargs)  # type: ignore[misc]
            refs.append(weakref.ref(self))

        return type(cls.__name__, (cls,), {"__slots__": slots, "__init__": __init__})

    # Each adapter makes one _Response (its response session) per request; the session makes an
    # Inspection when a head is judged in full.
    for module, name in [(sg_wsgi, "_Response"), (sg_asgi, "_Response"), (sg_session, "Inspection")]:
        monkeypatch.setattr(module, name, tracked(getattr(module, name)))
    yield
    gc.collect()
    alive = [type(ref()).__name__ for ref in refs if ref() is not None]
    assert alive == [], f"per-request objects still alive: {alive}"
    # A request on the remembered-head path keeps its state in closures instead: none may outlive it.
    closures = [
        f.__qualname__ for f in gc.get_objects()
        if type(f) is types.FunctionType and f.__module__ in ("statusguard.wsgi", "statusguard.asgi")
        and "<locals>" in f.__qualname__
    ]
    assert closures == [], f"per-request closures still alive: {closures}"


def traced_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> int:
    """Bytes still allocated from statusguard's own source files, after minus before."""
    ours = [tracemalloc.Filter(True, SRC + "/*")]
    return sum(stat.size_diff for stat in after.filter_traces(ours).compare_to(before.filter_traces(ours), "lineno"))


# -- WSGI helpers ---------------------------------------------------------------------------------


class Server:
    """A recording PEP 3333 server that may stop iterating early (a client that went away)."""

    def __init__(self, stop_after: int | None = None, fail_write_after: int | None = None) -> None:
        self.calls: list[tuple[str, Headers, Any]] = []
        self.chunks: list[bytes] = []
        self.headers_sent = False
        self.stop_after = stop_after
        self.fail_write_after = fail_write_after

    def start_response(self, status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None and self.headers_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.calls.append((status, headers, exc_info))
        return self.write

    def write(self, data: bytes) -> None:
        if self.fail_write_after is not None and len(self.chunks) >= self.fail_write_after:
            raise BrokenPipeError("the client went away")
        self.headers_sent = self.headers_sent or bool(data)
        self.chunks.append(data)

    def run(self, app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> None:
        result = app(environ, self.start_response)
        try:
            for data in result:
                self.write(data)
                if self.stop_after is not None and len(self.chunks) >= self.stop_after:
                    break  # the client disconnected: stop pulling, close below
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def environ_for(method: str = "GET", path: str = "/stream") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
    }


def wsgiref_wire(app: Callable[..., Iterable[bytes]], method: str = "GET") -> tuple[bytes, str]:
    """The exact bytes wsgiref's own handler writes to the client for one request, and its error log."""
    stdout, stderr = io.BytesIO(), io.StringIO()
    base = {k: v for k, v in environ_for(method).items() if not k.startswith("wsgi.")}
    handler = SimpleHandler(io.BytesIO(), stdout, stderr, base, multithread=False)
    handler.run(app)
    return stdout.getvalue(), stderr.getvalue()


def split(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return lines[0], fields, body


class Stream:
    """An app body: ``count`` chunks (None: endless); counts what was pulled and close() calls."""

    def __init__(self, count: int | None, chunk: bytes = b"0123456789", fail_at: int | None = None) -> None:
        self.count, self.chunk, self.fail_at = count, chunk, fail_at
        self.pulled = 0
        self.closed = 0
        self.finalized = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            while self.count is None or self.pulled < self.count:
                if self.pulled == self.fail_at:
                    raise AppError("the app failed mid-body")
                self.pulled += 1
                yield self.chunk
        finally:
            self.finalized = True

    def close(self) -> None:
        self.closed += 1


def app_of(status: str, headers: Headers, body: Any) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response(status, headers)
        return body

    return app


def generator_app(status: str, headers: Headers, state: dict[str, Any], count: int | None = None) -> Callable[..., Any]:
    """An app that is itself a generator (the common Flask/Django streaming shape): close() finalizes it."""
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response(status, headers)
        try:
            index = 0
            while count is None or index < count:
                state["produced"] = index = index + 1
                yield b"chunk %06d\n" % index
        finally:
            state["finalized"] = True

    return app


# -- WSGI: the client goes away -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        pytest.param("200 OK", TEXT, id="forwarded-head"),
        pytest.param("404 Not Found", TEXT, id="held-head"),
        pytest.param("200 OK", [*TEXT, ("Content-Length", "1000000")], id="declared-length"),
    ],
)
@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
@pytest.mark.usefixtures("no_leaks")
def test_wsgi_client_disconnect_mid_stream_closes_once_and_reports_nothing_false(
    mode: str, status: str, headers: Headers
) -> None:
    body = Stream(None)  # endless: only the server's stopping ends it
    server = Server(stop_after=3)
    environ = environ_for()
    server.run(WSGIMiddleware(app_of(status, headers, body), mode=mode), environ)
    # The client got exactly what the app produced before it left, under the app's own head.
    assert server.calls == [(status, headers, None)]
    assert server.body == b"0123456789" * 3
    assert body.pulled == 3  # nothing pulled ahead of the consumer
    assert body.closed == 1
    # A response cut short by the client is not the app's fault: no "Content-Length inaccurate".
    assert environ["statusguard.violations"] == []


@pytest.mark.usefixtures("no_leaks")
def test_wsgi_client_disconnect_finalizes_a_generator_app() -> None:
    state: dict[str, Any] = {}
    server = Server(stop_after=5)
    server.run(WSGIMiddleware(generator_app("200 OK", TEXT, state)), environ_for())
    assert state == {"produced": 5, "finalized": True}
    assert server.body.count(b"\n") == 5


@pytest.mark.usefixtures("no_leaks")
def test_wsgi_client_disconnect_during_write_propagates_and_the_app_cleans_up() -> None:
    cleaned = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        write = start_response("200 OK", TEXT)
        try:
            for index in range(100):
                write(b"%d," % index)
        finally:
            cleaned.append(True)
        return []

    server = Server(fail_write_after=4)
    environ = environ_for()
    with pytest.raises(BrokenPipeError):
        server.run(WSGIMiddleware(app), environ)
    assert server.body == b"0,1,2,3,"
    assert cleaned == [True]
    assert environ["statusguard.violations"] == []


def test_wsgi_disconnects_do_not_grow_statusguard_memory() -> None:
    middleware = WSGIMiddleware(app_of("404 Not Found", TEXT, None), mode="fix")

    def one() -> None:
        middleware.app = app_of("404 Not Found", TEXT, Stream(None))
        Server(stop_after=2).run(middleware, environ_for())

    for _ in range(50):  # warm every cache (policy, dispatcher, dedup) first
        one()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(500):
            one()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert traced_growth(before, after) < 16 * 1024, "statusguard's traced memory grew over 500 disconnects"


# -- WSGI: the app fails --------------------------------------------------------------------------


def test_wsgi_app_raising_before_start_response_reaches_the_server_untouched() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise AppError("before the response")

    raw, log = wsgiref_wire(WSGIMiddleware(app, mode="fix"))
    line, _, body = split(raw)
    assert line == "HTTP/1.0 500 Internal Server Error"  # wsgiref's own error page, as without statusguard
    assert body == b"A server error occurred.  Please contact the administrator."
    assert "AppError: before the response" in log


@pytest.mark.parametrize(
    ("status", "headers", "held"),
    [
        pytest.param("200 OK", [*TEXT, ("Content-Length", "5")], False, id="forwarded-head"),
        pytest.param("404 Not Found", TEXT, True, id="held-head"),
    ],
)
@pytest.mark.usefixtures("no_leaks")
def test_wsgi_app_raising_after_start_response_before_its_body(status: str, headers: Headers, held: bool) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, headers)
        raise AppError("after start_response")

    server = Server()
    environ = environ_for()
    with pytest.raises(AppError):
        server.run(WSGIMiddleware(app), environ)
    # A forwarded head reached the server (which has sent no byte and answers 500 itself); a held one never did.
    assert server.calls == ([] if held else [(status, headers, None)])
    assert server.chunks == []
    raw, _ = wsgiref_wire(WSGIMiddleware(app))
    assert split(raw)[0] == "HTTP/1.0 500 Internal Server Error"


@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
@pytest.mark.usefixtures("no_leaks")
def test_wsgi_app_raising_mid_body_closes_once_and_cuts_the_response(mode: str) -> None:
    body = Stream(10, fail_at=3)
    app = app_of("200 OK", [*TEXT, ("Content-Length", "100")], body)
    server = Server()
    environ = environ_for()
    with pytest.raises(AppError):
        server.run(WSGIMiddleware(app, mode=mode), environ)
    assert server.body == b"0123456789" * 3
    assert body.closed == 1
    assert body.finalized
    assert environ["statusguard.violations"] == []  # the body never ended: no length verdict on it
    # On the wire (wsgiref): the head and the three chunks, then the connection ends short of 100 bytes.
    raw, log = wsgiref_wire(WSGIMiddleware(app_of("200 OK", [*TEXT, ("Content-Length", "100")], Stream(10, fail_at=3)),
                                           mode=mode))
    line, fields, wire_body = split(raw)
    assert (line, fields["content-length"], wire_body) == ("HTTP/1.0 200 OK", "100", b"0123456789" * 3)
    assert "AppError" in log


def test_wsgi_app_raising_in_close_after_a_complete_response() -> None:
    class FailingClose(Stream):
        def close(self) -> None:
            super().close()
            raise AppError("close failed")

    body = FailingClose(2)
    server = Server()
    environ = environ_for()
    with pytest.raises(AppError, match="close failed"):
        server.run(WSGIMiddleware(app_of("404 Not Found", TEXT, body)), environ)
    assert server.body == b"0123456789" * 2
    assert body.closed == 1
    assert environ["statusguard.violations"] == []


# -- WSGI: start_response re-called with exc_info -------------------------------------------------


def exc_info_app(first_bytes: bytes) -> Callable[..., Any]:
    """Starts a 200, optionally sends some bytes, fails, and re-calls start_response with exc_info (PEP 3333)."""
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [*TEXT, ("Content-Length", "11")])
        try:
            if first_bytes:
                yield first_bytes
            raise AppError("failed while rendering")
        except AppError:
            start_response("500 Internal Server Error", [], sys.exc_info())
            yield b""

    return app


def test_wsgi_exc_info_before_any_byte_replaces_the_response_on_the_wire() -> None:
    raw, log = wsgiref_wire(WSGIMiddleware(exc_info_app(b""), mode="fix"))
    line, fields, body = split(raw)
    assert line == "HTTP/1.0 500 Internal Server Error"
    assert fields["content-type"] == "application/problem+json"
    assert fields["content-length"] == str(len(body))
    assert json.loads(body) == PROBLEM_500
    assert log == ""  # handled by the app: the server logged nothing


@pytest.mark.usefixtures("no_leaks")
def test_wsgi_exc_info_after_bytes_went_out_reraises_and_the_wire_keeps_the_first_head() -> None:
    raw, log = wsgiref_wire(WSGIMiddleware(exc_info_app(b"hello"), mode="fix"))
    line, fields, body = split(raw)
    # Cut short: the client sees fewer bytes than announced.
    assert (line, fields["content-length"], body) == ("HTTP/1.0 200 OK", "11", b"hello")
    assert "AppError: failed while rendering" in log


# -- ASGI helpers ---------------------------------------------------------------------------------


class Client:
    """The server side of ASGI: records messages; may fail (disconnect) or be slow."""

    def __init__(self, fail_after: int | None = None, delay: float | None = None) -> None:
        self.messages: list[Message] = []
        self.fail_after = fail_after
        self.delay = delay
        self.received = asyncio.Event()

    async def send(self, message: Message) -> None:
        if self.delay is not None:
            await asyncio.sleep(self.delay)
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            raise OSError("the client went away")
        self.messages.append(message)
        self.received.set()

    async def receive(self) -> Message:
        await asyncio.Event().wait()  # no disconnect message: the send failure is how the app learns
        raise AssertionError("unreachable")

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")

    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]


class Scope(dict[str, Any]):
    """A scope that can be weakly referenced (a plain dict cannot)."""


def http_scope(method: str = "GET", path: str = "/stream") -> Scope:
    return Scope(
        type="http", asgi={"version": "3.0", "spec_version": "2.4"}, http_version="1.1", method=method, scheme="http",
        path=path, raw_path=path.encode(), query_string=b"", root_path="", headers=[(b"host", b"testserver")],
    )


def streaming_app(
    status: int, headers: list[tuple[bytes, bytes]], state: dict[str, Any], count: int | None = None,
    fail_at: int | None = None,
) -> Callable[..., Awaitable[None]]:
    """A raw ASGI app streaming from an async generator it closes (``aclosing``), like a careful framework."""
    async def chunks() -> AsyncIterator[bytes]:
        try:
            index = 0
            while count is None or index < count:
                if index == fail_at:
                    raise AppError("the app failed mid-body")
                state["produced"] = index = index + 1
                yield b"chunk %06d\n" % index
                await asyncio.sleep(0)
        finally:
            state["finalized"] = True

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        async with contextlib.aclosing(chunks()) as stream:
            async for chunk in stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


def other_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


TEXT_B = [(b"content-type", b"text/plain")]


# -- ASGI: the client goes away -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers"),
    [pytest.param(200, TEXT_B, id="forwarded-start"), pytest.param(404, TEXT_B, id="held-start")],
)
@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
@pytest.mark.usefixtures("no_leaks")
def test_asgi_client_disconnect_after_n_messages(mode: str, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    state: dict[str, Any] = {}
    client = Client(fail_after=4)
    scope = http_scope()
    scope_ref = weakref.ref(scope)

    async def main(scope: Scope) -> None:
        app = ASGIMiddleware(streaming_app(status, headers, state), mode=mode)
        with pytest.raises(OSError, match="went away"):
            await app(scope, client.receive, client.send)
        assert other_tasks() == set()

    asyncio.run(main(scope))
    # Received: the start and three body messages, under the app's own head; then the disconnect.
    assert client.types() == ["http.response.start"] + ["http.response.body"] * 3
    assert client.messages[0]["status"] == status
    assert client.body == b"chunk 000001\nchunk 000002\nchunk 000003\n"
    assert state == {"produced": 4, "finalized": True}  # the 4th chunk's send failed; the generator was closed
    assert scope["state"]["statusguard.violations"] == []  # nothing judged on a body that never ended
    del scope
    gc.collect()
    assert scope_ref() is None


@pytest.mark.usefixtures("no_leaks")
def test_asgi_disconnect_inside_starlette_streaming_response() -> None:
    from starlette.requests import ClientDisconnect
    from starlette.responses import StreamingResponse

    finalized = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"data\n"
                await asyncio.sleep(0)
        finally:
            finalized.append(True)

    client = Client(fail_after=6)

    async def main() -> None:
        app = ASGIMiddleware(StreamingResponse(endless(), media_type="text/plain"), mode="fix")
        # Starlette turns the OSError of a spec 2.4 server into ClientDisconnect, through statusguard as without it.
        with pytest.raises(ClientDisconnect):
            await app(http_scope(), client.receive, client.send)
        assert other_tasks() == set()

    asyncio.run(main())  # asyncio.run finalizes the abandoned async generator before returning
    assert client.types() == ["http.response.start"] + ["http.response.body"] * 5
    assert client.body == b"data\n" * 5
    assert finalized == [True]


def test_asgi_disconnects_do_not_grow_statusguard_memory() -> None:
    state: dict[str, Any] = {}
    middleware = ASGIMiddleware(streaming_app(404, TEXT_B, state), mode="fix")

    async def one() -> None:
        client = Client(fail_after=2)
        with contextlib.suppress(OSError):
            await middleware(http_scope(), client.receive, client.send)

    async def many(count: int) -> None:
        for _ in range(count):
            await one()

    asyncio.run(many(50))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        asyncio.run(many(500))
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert traced_growth(before, after) < 16 * 1024, "statusguard's traced memory grew over 500 disconnects"


# -- ASGI: the app fails --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "status", "expected_types"),
    [
        pytest.param("before", 200, [], id="before-start"),
        pytest.param("after", 200, ["http.response.start"], id="after-forwarded-start"),
        pytest.param("after", 404, [], id="after-held-start"),
        pytest.param("mid", 200, ["http.response.start", "http.response.body", "http.response.body"],
                     id="mid-body"),
    ],
)
@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
@pytest.mark.usefixtures("no_leaks")
def test_asgi_app_raising_passes_through_and_sends_nothing_more(
    mode: str, where: str, status: int, expected_types: list[str]
) -> None:
    state: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if where == "before":
            raise AppError("before the start")
        inner = streaming_app(status, TEXT_B, state, count=10, fail_at=2 if where == "mid" else 0)
        await inner(scope, receive, send)

    client = Client()
    scope = http_scope()

    async def main() -> None:
        with pytest.raises(AppError):
            await ASGIMiddleware(app, mode=mode)(scope, client.receive, client.send)
        assert other_tasks() == set()

    asyncio.run(main())
    assert client.types() == expected_types
    if where != "before":
        assert state["finalized"] is True
    assert scope["state"]["statusguard.violations"] == []


def test_asgi_app_error_becomes_a_500_for_the_client_when_nothing_was_sent() -> None:
    import httpx

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": TEXT_B})  # held: nothing sent yet
        raise AppError("failed before the body")

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=ASGIMiddleware(app, mode="fix"), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get("/x")

    response = asyncio.run(main())
    assert response.status_code == 500  # the held 404 never went out; the server answers for the failure


# -- ASGI: an endless stream, cancelled -----------------------------------------------------------


@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
@pytest.mark.usefixtures("no_leaks")
def test_asgi_endless_stream_cancelled_leaves_no_task_and_finalizes_the_generator(mode: str) -> None:
    state: dict[str, Any] = {}
    client = Client()

    async def main() -> None:
        task = asyncio.create_task(ASGIMiddleware(streaming_app(200, TEXT_B, state), mode=mode)(
            http_scope(), client.receive, client.send))
        while len(client.messages) < 20:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.done()
        assert other_tasks() == set()
        assert state["finalized"] is True

    asyncio.run(main())
    assert client.messages[0]["type"] == "http.response.start"
    assert all(m.get("more_body") is True for m in client.messages[1:])  # cut short: no final message was faked


@pytest.mark.usefixtures("no_leaks")
def test_asgi_cancelled_while_the_start_is_held_sends_nothing() -> None:
    client = Client()
    started = asyncio.Event

    async def main() -> None:
        waiting = started()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 404, "headers": TEXT_B})
            waiting.set()
            await asyncio.Event().wait()  # the body never comes

        task = asyncio.create_task(ASGIMiddleware(app)(http_scope(), client.receive, client.send))
        await waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert other_tasks() == set()

    asyncio.run(main())
    assert client.messages == []  # the held start died with the request


@pytest.mark.usefixtures("no_leaks")
def test_starlette_streaming_response_cancelled_leaves_no_task() -> None:
    from starlette.responses import StreamingResponse

    finalized = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick\n"
                await asyncio.sleep(0)
        finally:
            finalized.append(True)

    client = Client()

    async def main() -> None:
        app = ASGIMiddleware(StreamingResponse(endless(), status_code=200, media_type="text/plain"), mode="fix")
        task = asyncio.create_task(app(http_scope(), client.receive, client.send))
        while len(client.messages) < 10:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert other_tasks() == set()

    asyncio.run(main())
    assert finalized == [True]
    assert client.body.startswith(b"tick\n" * 9)


# -- slow consumers -------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "headers"), [(200, TEXT_B), (404, TEXT_B), (500, [])])
@pytest.mark.usefixtures("no_leaks")
def test_asgi_slow_consumer_gets_backpressure_not_a_buffer(status: int, headers: list[tuple[bytes, bytes]]) -> None:
    state: dict[str, Any] = {"produced": 0}
    client = Client(delay=0.001)
    lag: list[int] = []
    original_send = client.send

    async def watching_send(message: Message) -> None:
        await original_send(message)
        bodies = sum(1 for m in client.messages if m["type"] == "http.response.body" and m.get("body"))
        lag.append(state["produced"] - bodies)

    client.send = watching_send  # type: ignore[method-assign]

    async def main() -> None:
        await ASGIMiddleware(streaming_app(status, headers, state, count=40), mode="fix")(
            http_scope(), client.receive, client.send)

    asyncio.run(main())
    # When the slow client has received n chunks the app has produced n (or n+1: the one being held).
    assert max(lag) <= 1
    assert client.body == b"".join(b"chunk %06d\n" % i for i in range(1, 41))
    assert [m.get("more_body", False) for m in client.messages if m["type"] == "http.response.body"][-1] is False


def test_asgi_slow_consumer_of_a_large_stream_holds_at_most_one_message() -> None:
    chunk_size, count = 64 * 1024, 400  # 25 MB through a consumer that yields to the loop on every message

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": TEXT_B})  # a held start
        for _ in range(count):
            await send({"type": "http.response.body", "body": bytes(chunk_size), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    received = 0

    async def send(message: Message) -> None:
        nonlocal received
        await asyncio.sleep(0)
        received += len(message.get("body", b""))

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    tracemalloc.start()
    try:
        asyncio.run(ASGIMiddleware(app, mode="fix")(http_scope(), receive, send))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == chunk_size * count
    assert peak < 8 * chunk_size, f"peak traced memory {peak} bytes: the stream was buffered"


@pytest.mark.usefixtures("no_leaks")
def test_wsgi_slow_consumer_pulls_one_chunk_at_a_time() -> None:
    import time

    body = Stream(30)
    observed: list[int] = []

    class SlowServer(Server):
        def write(self, data: bytes) -> None:
            time.sleep(0.001)
            super().write(data)
            observed.append(body.pulled - len(self.chunks))

    server = SlowServer()
    server.run(WSGIMiddleware(app_of("404 Not Found", TEXT, body)), environ_for())
    assert observed == [0] * 30  # the app produced exactly what the server had taken, never ahead
    assert server.body == b"0123456789" * 30
    assert body.closed == 1


# -- strict mode's own error is also a fault: nothing leaks -----------------------------------------


@pytest.mark.usefixtures("no_leaks")
def test_strict_errors_leave_nothing_behind() -> None:
    body = Stream(0)
    server = Server()
    with pytest.raises(StatusViolationError) as caught:
        server.run(WSGIMiddleware(app_of("404 Not Found", TEXT, body), mode="strict"), environ_for())
    assert body.closed == 1
    assert server.calls == []
    del caught  # the traceback holds the frames (and statusguard's objects) until it goes

    client = Client()

    async def main() -> None:
        app = streaming_app(404, TEXT_B, {}, count=0)
        with pytest.raises(StatusViolationError):
            await ASGIMiddleware(app, mode="strict")(http_scope(), client.receive, client.send)
        assert other_tasks() == set()

    asyncio.run(main())
    assert client.messages == []
