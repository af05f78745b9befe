"""WSGIMiddleware over raw WSGI callables and a recording server (PEP 3333 semantics).

Expected values come from PEP 3333, RFC 9110 and docs/spec/RULES.md, never from running the code:
a correct response passes untouched, a HEAD keeps its Content-Length and loses its body, an empty
error gets an RFC 9457 body, strict mode raises before the server's start_response, close() is
called exactly once whatever happens, and a streamed body is never buffered.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.util import FileWrapper, setup_testing_defaults
from wsgiref.validate import validator

import pytest

from statusguard import ConfigurationError, StatusViolationError, WSGIMiddleware
from statusguard.runtime.session import Inspection

Headers = list[tuple[str, str]]
App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PROBLEM_404 = {"type": "about:blank", "title": "Not Found", "status": 404}


# -- a small PEP 3333 server ----------------------------------------------------------------------


class Server:
    """Records what a real server would see: start_response calls, bytes written, close() calls.

    Like wsgiref, it sends the head with the first non-empty body bytes, re-raises exc_info once
    the head is on the wire, refuses a second start_response without exc_info, and closes the
    iterable it was given (once) whatever happened.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, Headers, Any]] = []
        self.status: str | None = None
        self.headers: Headers | None = None
        self.headers_sent = False
        self.chunks: list[bytes] = []
        self.on_chunk: Callable[[bytes], None] | None = None

    def start_response(self, status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        self.calls.append((status, headers, exc_info))
        if exc_info is not None:
            if self.headers_sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status is not None:
            raise AssertionError("start_response called twice without exc_info")
        self.status, self.headers = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        assert self.status is not None, "write() before start_response()"
        assert isinstance(data, bytes)
        if data:
            self.headers_sent = True
        self.chunks.append(data)
        if self.on_chunk is not None:
            self.on_chunk(data)

    def run(self, app: App, environ: dict[str, Any]) -> bytes:
        result = app(environ, self.start_response)
        try:
            for data in result:
                self.write(data)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return self.body

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def header(self, name: str) -> list[str]:
        assert self.headers is not None
        return [value for key, value in self.headers if key.lower() == name.lower()]


class Body:
    """An app's iterable that counts how far it was pulled and how often it was closed."""

    def __init__(self, chunks: Iterable[bytes], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.pulled = 0
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.fail_after is not None and self.pulled == self.fail_after:
                raise RuntimeError("the app failed mid-body")
            self.pulled += 1
            yield chunk

    def close(self) -> None:
        self.closed += 1


def make_environ(method: str = "GET", path: str = "/thing", **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": ""}
    setup_testing_defaults(environ)
    environ.update(extra)
    return environ


def simple_app(status: str, headers: Headers, body: Iterable[bytes]) -> App:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, headers)
        return body

    return app


def rules_of(environ: dict[str, Any]) -> list[str]:
    return [v.rule for v in environ.get("statusguard.violations", [])]


# -- pass-through ---------------------------------------------------------------------------------

CORRECT = [
    pytest.param(
        "GET", {}, "200 OK", [("Content-Type", "application/json"), ("Content-Length", "11")], [b'{"ok":true}'],
        id="200-json",
    ),
    pytest.param("GET", {}, "302 Found", [("Location", "/elsewhere"), ("Content-Length", "0")], [], id="302-relative"),
    pytest.param(
        "GET", {}, "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")], [b"not", b" found"],
        id="404-with-body",
    ),
    pytest.param(
        "GET", {"HTTP_RANGE": "bytes=0-3"}, "206 Partial Content",
        [("Content-Type", "text/plain"), ("Content-Range", "bytes 0-3/10"), ("Content-Length", "4")], [b"0123"],
        id="206-range",
    ),
    pytest.param(
        "HEAD", {}, "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")], [], id="head-no-body",
    ),
    pytest.param(
        "GET", {}, "200 OK", [("Content-Type", "text/plain")], (b"chunk%d" % i for i in range(3)), id="200-streamed",
    ),
]


@pytest.mark.parametrize("mode", ["off", "log", "fix", "strict"])
@pytest.mark.parametrize(("method", "extra", "status", "headers", "body"), CORRECT)
def test_correct_response_passes_byte_for_byte(
    mode: str, method: str, extra: dict[str, str], status: str, headers: Headers, body: Iterable[bytes]
) -> None:
    chunks = list(body)
    expected_headers = list(headers)
    server = Server()
    app = simple_app(status, headers, iter(chunks) if not isinstance(body, list) else chunks)
    environ = make_environ(method, **extra)

    wire = server.run(WSGIMiddleware(app, mode=mode), environ)

    assert len(server.calls) == 1
    sent_status, sent_headers, exc_info = server.calls[0]
    assert sent_status is status  # the app's own objects, not equal copies
    assert sent_headers is headers
    assert sent_headers == expected_headers
    assert exc_info is None
    assert wire == b"".join(chunks)
    assert rules_of(environ) == []


def test_mode_off_returns_the_apps_iterable_itself() -> None:
    body = Body([b"x"])
    app = simple_app("200 OK", [("Content-Type", "text/plain")], body)
    result = WSGIMiddleware(app, mode="off")(make_environ(), Server().start_response)
    assert result is body


def test_log_mode_changes_nothing_even_on_a_bad_response(caplog: pytest.LogCaptureFixture) -> None:
    status, headers = "404 Not Found", [("Content-Type", "text/plain")]
    server = Server()
    environ = make_environ()
    with caplog.at_level(logging.INFO, "statusguard"):
        wire = server.run(WSGIMiddleware(simple_app(status, headers, []), mode="log"), environ)
    assert server.calls == [(status, headers, None)]
    assert server.calls[0][0] is status
    assert server.calls[0][1] is headers
    assert wire == b""
    assert rules_of(environ) == ["4xx-explain"]
    assert [r.action for r in caplog.records] == ["logged"]  # type: ignore[attr-defined]


def test_log_mode_keeps_an_invalid_status_line_as_sent() -> None:
    # PEP 3333 wants "200 OK"; log mode reports "200" but must not rewrite it (only fix mode does).
    status, headers = "200", [("Content-Type", "text/plain"), ("Content-Length", "2")]
    server = Server()
    environ = make_environ()
    server.run(WSGIMiddleware(simple_app(status, headers, [b"ok"]), mode="log"), environ)
    assert server.calls == [(status, headers, None)]
    assert rules_of(environ) == ["wsgi-status-string"]

    fixed = Server()
    fixed.run(WSGIMiddleware(simple_app(status, headers, [b"ok"]), mode="fix"), make_environ())
    assert fixed.status == "200 OK"


def test_a_fix_keeps_the_apps_own_reason_phrase() -> None:
    # Dropping a HEAD body changes nothing in the head: the app's status line stays as written.
    server = Server()
    app = simple_app("200 Fine Thanks", [("Content-Type", "text/plain"), ("Content-Length", "5")], [b"hello"])
    assert server.run(WSGIMiddleware(app), make_environ("HEAD")) == b""
    assert server.status == "200 Fine Thanks"


# -- start_response re-called with exc_info -------------------------------------------------------


@pytest.mark.parametrize(
    ("first_status", "first_headers"),
    [
        pytest.param("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")], id="first-head-forwarded"),
        pytest.param("404 Not Found", [], id="first-head-held"),
    ],
)
def test_exc_info_before_headers_sent_replaces_and_checks_the_new_head(
    first_status: str, first_headers: Headers
) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(first_status, first_headers)
        try:
            raise ValueError("the app failed before its body")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return []

    server = Server()
    environ = make_environ()
    wire = server.run(WSGIMiddleware(app, mode="fix"), environ)

    # The replacement is the response: PEP 3333 passes exc_info on, and the server took the new head.
    assert server.status == "500 Internal Server Error"
    assert server.calls[-1][2] is not None
    assert server.calls[-1][2][0] is ValueError
    assert json.loads(wire) == {"type": "about:blank", "title": "Internal Server Error", "status": 500}
    assert server.header("Content-Type") == ["application/problem+json"]
    assert server.header("Content-Length") == [str(len(wire))]
    # Only the response that went out is judged: the abandoned 200's Content-Length is not "inaccurate".
    assert rules_of(environ) == ["5xx-explain"]


def test_exc_info_in_a_generator_before_any_byte_replaces_the_head() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        yield b""
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
        yield b"try later"

    server = Server()
    environ = make_environ()
    wire = server.run(WSGIMiddleware(app, mode="fix"), environ)
    assert server.status == "503 Service Unavailable"
    assert wire == b"try later"
    assert rules_of(environ) == []


def test_exc_info_after_headers_sent_reraises_and_keeps_the_sent_head() -> None:
    body_closed = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        try:
            yield b"hel"
            raise ValueError("failed mid-body")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            yield b"error"
        finally:
            body_closed.append(True)

    server = Server()
    with pytest.raises(ValueError, match="failed mid-body"):
        server.run(WSGIMiddleware(app, mode="fix"), make_environ())
    assert server.status == "200 OK"
    assert server.body == b"hel"
    assert server.calls[-1][0] == "500 Internal Server Error"
    assert server.calls[-1][2] is not None
    assert body_closed == [True]


# -- the legacy write() callable ------------------------------------------------------------------


def write_app(status: str, headers: Headers, writes: list[bytes], returned: Iterable[bytes] = ()) -> App:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        write = start_response(status, headers)
        for data in writes:
            write(data)
        return returned

    return app


def test_write_app_streams_through_and_is_counted() -> None:
    server = Server()
    environ = make_environ()
    headers = [("Content-Type", "text/plain"), ("Content-Length", "10")]
    wire = server.run(WSGIMiddleware(write_app("200 OK", headers, [b"hello", b"world"])), environ)
    assert wire == b"helloworld"
    assert server.calls == [("200 OK", headers, None)]
    assert rules_of(environ) == []


def test_write_app_content_length_mismatch_is_reported() -> None:
    server = Server()
    environ = make_environ()
    headers = [("Content-Type", "text/plain"), ("Content-Length", "12")]
    wire = server.run(WSGIMiddleware(write_app("200 OK", headers, [b"hello", b"world"]), mode="log"), environ)
    assert wire == b"helloworld"
    assert rules_of(environ) == ["content-length-accurate"]


def test_write_app_head_drops_body_and_keeps_content_length() -> None:
    server = Server()
    environ = make_environ("HEAD")
    headers = [("Content-Type", "text/plain"), ("Content-Length", "5")]
    wire = server.run(WSGIMiddleware(write_app("200 OK", headers, [b"hello"])), environ)
    assert wire == b""
    assert server.status == "200 OK"
    assert server.header("Content-Length") == ["5"]  # never rewritten to 0 (RULES.md §3.2)
    assert rules_of(environ) == ["head-no-content"]


def test_write_app_empty_404_becomes_problem_json() -> None:
    server = Server()
    environ = make_environ()
    wire = server.run(WSGIMiddleware(write_app("404 Not Found", [], [b""])), environ)
    assert json.loads(wire) == PROBLEM_404
    assert server.status == "404 Not Found"
    assert server.header("Content-Type") == ["application/problem+json"]
    assert server.header("Content-Length") == [str(len(wire))]
    assert rules_of(environ) == ["4xx-explain"]


def test_write_app_strict_raises_before_the_server_starts() -> None:
    server = Server()
    app = write_app("204 No Content", [], [b"null"])
    with pytest.raises(StatusViolationError) as caught:
        server.run(WSGIMiddleware(app, mode="strict"), make_environ())
    assert [v.rule for v in caught.value.violations] == ["204-no-content"]
    assert server.calls == []


# -- close() exactly once -------------------------------------------------------------------------


def consume(server: Server, result: Iterable[bytes], stop_after: int | None = None) -> None:
    """Iterate like a server that may give up early; always close, once."""
    try:
        for index, data in enumerate(result):
            server.write(data)
            if stop_after is not None and index + 1 >= stop_after:
                break
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def test_close_once_on_normal_end() -> None:
    body = Body([b"a", b"b"])
    server = Server()
    server.run(WSGIMiddleware(simple_app("200 OK", [("Content-Type", "text/plain")], body)), make_environ())
    assert body.closed == 1
    assert server.body == b"ab"


@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
def test_close_once_when_the_app_raises_mid_iteration(mode: str) -> None:
    body = Body([b"a", b"b", b"c"], fail_after=1)
    server = Server()
    with pytest.raises(RuntimeError, match="mid-body"):
        server.run(WSGIMiddleware(simple_app("200 OK", [("Content-Type", "text/plain")], body), mode=mode),
                   make_environ())
    assert body.closed == 1
    assert server.body == b"a"


@pytest.mark.parametrize(
    ("status", "headers", "chunks", "rule"),
    [
        pytest.param("404 Not Found", [], [b""], "4xx-explain", id="held-head"),
        pytest.param("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")], [b"short"],
                     "content-length-accurate", id="at-the-end"),
    ],
)
def test_close_once_when_strict_mode_raises(status: str, headers: Headers, chunks: list[bytes], rule: str) -> None:
    body = Body(iter(chunks))
    server = Server()
    with pytest.raises(StatusViolationError) as caught:
        server.run(WSGIMiddleware(simple_app(status, headers, body), mode="strict"), make_environ())
    assert [v.rule for v in caught.value.violations] == [rule]
    assert body.closed == 1


def test_close_once_when_the_consumer_stops_early() -> None:
    body = Body(b"%d" % i for i in range(100))
    server = Server()
    result = WSGIMiddleware(simple_app("200 OK", [("Content-Type", "text/plain")], body))(
        make_environ(), server.start_response
    )
    consume(server, result, stop_after=3)
    result.close()  # type: ignore[attr-defined]  # a second close() from a sloppy server: not forwarded
    assert body.closed == 1
    assert body.pulled == 3
    assert server.body == b"012"


def test_close_once_when_the_app_is_a_closing_generator() -> None:
    finalized = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            yield b"a"
            yield b"b"
        finally:
            finalized.append(True)

    server = Server()
    result = WSGIMiddleware(app)(make_environ(), server.start_response)
    consume(server, result, stop_after=1)
    assert finalized == [True]


@pytest.mark.parametrize(
    ("status", "headers", "chunks"),
    [
        pytest.param("404 Not Found", [], [b""], id="held-empty-404"),
        pytest.param("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")], [b"abc"], id="forwarded"),
        pytest.param("404 Not Found", [("Content-Type", "text/plain")], iter([b"", b"gone"]), id="held-generator"),
    ],
)
def test_internal_error_in_log_mode_passes_the_response_through(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    status: str, headers: Headers, chunks: Iterable[bytes],
) -> None:
    def broken_decide(self: Inspection, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected statusguard bug")

    monkeypatch.setattr(Inspection, "decide", broken_decide)
    expected = b"".join(list(chunks)) if isinstance(chunks, list) else b"gone"
    body = Body(chunks)
    server = Server()
    with caplog.at_level(logging.DEBUG, "statusguard"):
        wire = server.run(WSGIMiddleware(simple_app(status, headers, body), mode="log"), make_environ())
    assert server.calls == [(status, headers, None)]
    assert server.calls[0][0] is status
    assert server.calls[0][1] is headers
    assert wire == expected
    assert body.closed == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert errors[0].exc_info[0] is RuntimeError
    assert "injected statusguard bug" in caplog.text  # the traceback is in the log


def test_internal_error_in_strict_mode_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_decide(self: Inspection, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected statusguard bug")

    monkeypatch.setattr(Inspection, "decide", broken_decide)
    app = simple_app("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"ok"])
    with pytest.raises(RuntimeError, match="injected"):
        Server().run(WSGIMiddleware(app, mode="strict"), make_environ())


# -- streaming: counted, never buffered ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        pytest.param("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100000")], id="200-forwarded"),
        pytest.param("404 Not Found", [("Content-Type", "text/plain")], id="404-held-head"),
        pytest.param("500 Internal Server Error", [("Content-Type", "text/plain")], id="500-held-head"),
    ],
)
def test_ten_thousand_chunks_are_never_buffered(status: str, headers: Headers) -> None:
    pulled = 0

    def chunks() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(10_000):
            pulled += 1
            yield b"0123456789"

    received = 0

    def on_chunk(data: bytes) -> None:
        nonlocal received
        received += 1
        # When the server gets chunk n, the app has produced exactly n: nothing was held back.
        assert pulled == received

    server = Server()
    server.on_chunk = on_chunk
    environ = make_environ()
    wire = server.run(WSGIMiddleware(simple_app(status, headers, chunks())), environ)
    assert received == 10_000
    assert len(wire) == 100_000
    assert rules_of(environ) == []


def test_streamed_content_length_mismatch_is_reported_at_the_end() -> None:
    environ = make_environ()
    headers = [("Content-Type", "text/plain"), ("Content-Length", "20")]
    body = Body(iter([b"aaaaa", b"bbbbb", b"ccccc"]))
    server = Server()
    result = iter(WSGIMiddleware(simple_app("200 OK", headers, body), mode="log")(environ, server.start_response))
    assert next(result) == b"aaaaa"
    assert next(result) == b"bbbbb"
    assert next(result) == b"ccccc"
    assert rules_of(environ) == []  # not known before the end
    with pytest.raises(StopIteration):
        next(result)
    assert rules_of(environ) == ["content-length-accurate"]
    message = environ["statusguard.violations"][0].message
    assert "20" in message
    assert "15" in message


# -- HEAD, 204, empty errors ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fix", "strict"])
@pytest.mark.parametrize(
    "make_body",
    [
        pytest.param(lambda: [b"hello"], id="list"),
        pytest.param(lambda: iter([b"he", b"llo"]), id="generator"),
        pytest.param(lambda: Body([b"hello"]), id="iterable-with-close"),
    ],
)
def test_head_body_dropped_content_length_kept(mode: str, make_body: Callable[[], Iterable[bytes]]) -> None:
    # head-no-content is fixed quietly, even in strict mode (RULES.md: routinely done by the stack).
    server = Server()
    environ = make_environ("HEAD")
    headers = [("Content-Type", "text/plain"), ("Content-Length", "5")]
    wire = server.run(WSGIMiddleware(simple_app("200 OK", headers, make_body()), mode=mode), environ)
    assert wire == b""
    assert server.status == "200 OK"
    assert server.header("Content-Length") == ["5"]
    assert server.header("Content-Type") == ["text/plain"]
    assert rules_of(environ) == ["head-no-content"]


def test_head_to_an_empty_error_gets_no_synthesized_body() -> None:
    server = Server()
    environ = make_environ("HEAD")
    wire = server.run(WSGIMiddleware(simple_app("404 Not Found", [("Content-Type", "text/plain")], [])), environ)
    assert wire == b""
    assert server.header("Content-Type") == ["text/plain"]
    assert rules_of(environ) == []  # RULES.md §3.28: under HEAD it is required to be empty


@pytest.mark.parametrize("body", [[b"null"], iter([b"nu", b"ll"])], ids=["list", "generator"])
def test_204_with_body_is_emptied_and_loses_content_length(body: Iterable[bytes]) -> None:
    server = Server()
    environ = make_environ()
    app = simple_app("204 No Content", [("Content-Length", "4"), ("X-Trace", "1")], body)
    wire = server.run(WSGIMiddleware(app), environ)
    assert wire == b""
    assert server.status == "204 No Content"
    assert server.header("Content-Length") == []  # RFC 9110 §8.6: not even 0
    assert server.header("X-Trace") == ["1"]
    assert sorted(rules_of(environ)) == ["204-no-content", "204-no-content-length"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param([("Content-Type", "text/html")], [], id="empty-list"),
        pytest.param([], iter([]), id="empty-generator"),
        pytest.param([], iter([b"", b""]), id="empty-chunks"),
        pytest.param([("Content-Length", "0")], [], id="content-length-0"),
        pytest.param([("Content-Length", "0")], iter([]), id="content-length-0-generator"),
    ],
)
def test_empty_404_becomes_problem_json(headers: Headers, body: Iterable[bytes]) -> None:
    server = Server()
    environ = make_environ()
    wire = server.run(WSGIMiddleware(simple_app("404 Not Found", headers, body)), environ)
    assert server.status == "404 Not Found"
    assert json.loads(wire) == PROBLEM_404
    assert server.header("Content-Type") == ["application/problem+json"]
    assert server.header("Content-Length") == [str(len(wire))]
    assert rules_of(environ) == ["4xx-explain"]


def test_429_gets_no_store() -> None:
    server = Server()
    environ = make_environ()
    headers = [("Content-Type", "text/plain"), ("Cache-Control", "max-age=60"), ("Content-Length", "9")]
    wire = server.run(WSGIMiddleware(simple_app("429 Too Many Requests", headers, [b"slow down"])), environ)
    assert wire == b"slow down"
    assert server.header("Cache-Control") == ["no-store"]
    assert server.header("Content-Length") == ["9"]
    assert rules_of(environ) == ["429-not-storable"]


# -- strict mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "headers", "body", "rule", "level", "reference"),
    [
        pytest.param("GET", "401 Unauthorized", [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"no"],
                     "401-www-authenticate", "MUST", "RFC 9110 §15.5.2", id="head-phase-forwarded"),
        pytest.param("POST", "401 Unauthorized", [("Content-Type", "text/plain")], [b"no"],
                     "401-www-authenticate", "MUST", "RFC 9110 §15.5.2", id="head-phase-held"),
        pytest.param("GET", "404 Not Found", [], [], "4xx-explain", "SHOULD", "RFC 9110 §15.5", id="body-phase"),
    ],
)
def test_strict_raises_before_the_server_start_response(
    method: str, status: str, headers: Headers, body: list[bytes], rule: str, level: str, reference: str
) -> None:
    server = Server()
    environ = make_environ(method, "/api/items")
    with pytest.raises(StatusViolationError) as caught:
        server.run(WSGIMiddleware(simple_app(status, headers, body), mode="strict"), environ)
    assert server.calls == []
    error = caught.value
    assert [v.rule for v in error.violations] == [rule]
    text = str(error)
    assert f"[{rule}]" in text
    assert level in text
    assert reference in text
    assert f"{method} /api/items" in text
    assert error.violations[0].hint in text
    assert rules_of(environ) == [rule]


def test_head_phase_violation_raises_inside_start_response_even_when_the_head_is_held() -> None:
    # An error with no Content-Length is held for the body phase; its head-phase rules are still
    # decided at start_response, so the app's own call raises (PEP 3333 lets the app see it).
    seen: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
        except StatusViolationError as exc:
            seen.append(exc)
            raise
        return [b"no"]

    server = Server()
    with pytest.raises(StatusViolationError):
        server.run(WSGIMiddleware(app, mode="strict"), make_environ())
    assert len(seen) == 1
    assert server.calls == []


def test_strict_fixes_quiet_rules_instead_of_raising() -> None:
    server = Server()
    environ = make_environ()
    app = simple_app("204 No Content", [("Content-Length", "0")], [])
    assert server.run(WSGIMiddleware(app, mode="strict"), environ) == b""
    assert server.header("Content-Length") == []
    assert rules_of(environ) == ["204-no-content-length"]


def test_rule_set_to_raise_raises_in_fix_mode_too() -> None:
    server = Server()
    app = simple_app("401 Unauthorized", [("Content-Type", "text/plain")], [b"no"])
    with pytest.raises(StatusViolationError):
        server.run(WSGIMiddleware(app, mode="fix", rules={"401-www-authenticate": "raise"}), make_environ())
    assert server.calls == []


# -- wsgi.file_wrapper ----------------------------------------------------------------------------


def file_app(status: str, headers: Headers, data: bytes) -> tuple[App, list[Any]]:
    made: list[Any] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, headers)
        wrapper = environ["wsgi.file_wrapper"](io.BytesIO(data), 4)
        made.append(wrapper)
        return wrapper  # type: ignore[no-any-return]

    return app, made


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", "10")]),
        ("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")]),
    ],
)
def test_file_wrapper_passes_through_as_the_same_object(status: str, headers: Headers) -> None:
    app, made = file_app(status, headers, b"0123456789")
    environ = make_environ()
    environ["wsgi.file_wrapper"] = FileWrapper
    server = Server()
    result = WSGIMiddleware(app)(environ, server.start_response)
    assert result is made[0]
    assert server.calls == [(status, headers, None)]
    consume(server, result)
    assert server.body == b"0123456789"


def test_file_wrapper_to_head_is_dropped_and_closed() -> None:
    app, made = file_app("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")], b"0123456789")
    environ = make_environ("HEAD")
    environ["wsgi.file_wrapper"] = FileWrapper
    server = Server()
    result = WSGIMiddleware(app)(environ, server.start_response)
    assert result is not made[0]
    consume(server, result)
    assert server.body == b""
    assert server.header("Content-Length") == ["10"]
    assert made[0].filelike.closed


# -- wsgiref.validate around the middleware -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "headers", "body"),
    [
        pytest.param("HEAD", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")], [b"hello"],
                     id="head"),
        pytest.param("GET", "404 Not Found", [], [], id="empty-404"),
        pytest.param("GET", "500 Internal Server Error", [("Content-Length", "0")], iter([]), id="empty-500"),
        pytest.param("GET", "429 Too Many Requests", [("Content-Type", "text/plain"), ("Content-Length", "4")],
                     [b"slow"], id="429"),
        pytest.param("GET", "405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET")], [b"no"],
                     id="405-allow-head"),
        pytest.param("GET", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"ok"],
                     id="correct"),
    ],
)
def test_fixed_responses_satisfy_wsgiref_validate(method: str, status: str, headers: Headers, body: Any) -> None:
    app = validator(WSGIMiddleware(simple_app(status, headers, body)))
    server = Server()
    environ = make_environ(method)
    server.run(app, environ)  # the validator raises AssertionError on any PEP 3333 breach
    assert server.status is not None
    assert server.status[:3] == status[:3]


# -- allowed_methods ------------------------------------------------------------------------------


def test_allowed_methods_feeds_the_405_allow_fix() -> None:
    seen: list[Any] = []

    def allowed(environ: dict[str, Any]) -> list[str]:
        seen.append(environ)
        return ["GET", "POST"]

    server = Server()
    environ = make_environ("DELETE")
    app = simple_app("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"no"])
    wire = server.run(WSGIMiddleware(app, allowed_methods=allowed), environ)
    assert wire == b"no"
    # Exactly what the router reported (nothing implied); the refused DELETE is not listed.
    assert server.header("Allow") == ["GET, POST"]
    assert seen == [environ]
    assert seen[0] is environ
    assert rules_of(environ) == ["405-allow"]


def test_allowed_methods_given_as_one_string_is_split() -> None:
    server = Server()
    app = simple_app("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"no"])
    server.run(WSGIMiddleware(app, allowed_methods=lambda environ: "GET, PUT"), make_environ("DELETE"))
    assert server.header("Allow") == ["GET, PUT"]


def test_allowed_methods_that_raises_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def allowed(environ: dict[str, Any]) -> list[str]:
        raise LookupError("router exploded")

    headers = [("Content-Type", "text/plain"), ("Content-Length", "2")]
    server = Server()
    environ = make_environ("DELETE")
    with caplog.at_level(logging.DEBUG, "statusguard"):
        wire = server.run(WSGIMiddleware(simple_app("405 Method Not Allowed", headers, [b"no"]),
                                         allowed_methods=allowed), environ)
    assert wire == b"no"
    assert server.status == "405 Method Not Allowed"
    assert server.header("Allow") == []  # never guessed (RULES.md: Allow only from the router)
    assert rules_of(environ) == ["405-allow"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert errors[0].exc_info[0] is LookupError
    actions = [getattr(r, "action", None) for r in caplog.records if getattr(r, "rule", None) == "405-allow"]
    assert actions == ["unfixed"]


def test_allowed_methods_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="allowed_methods"):
        WSGIMiddleware(simple_app("200 OK", [], []), allowed_methods=["GET"])  # type: ignore[arg-type]


# -- violations in the environ --------------------------------------------------------------------


def test_violations_are_left_in_the_environ_per_request() -> None:
    middleware = WSGIMiddleware(simple_app("404 Not Found", [], []), mode="log")
    first, second = make_environ(), make_environ()
    Server().run(middleware, first)
    Server().run(middleware, second)
    assert rules_of(first) == ["4xx-explain"]
    assert rules_of(second) == ["4xx-explain"]
    assert first["statusguard.violations"] is not second["statusguard.violations"]
    violation = first["statusguard.violations"][0]
    assert violation.status == 404
    assert violation.level == "SHOULD"


@pytest.mark.parametrize(
    ("method", "status", "headers", "held"),
    [
        pytest.param("GET", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")], False,
                     id="200-with-length"),
        pytest.param("GET", "200 OK", [("Content-Type", "text/plain")], False, id="200-without-length"),
        pytest.param("GET", "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "2")], False,
                     id="404-with-length"),
        pytest.param("GET", "404 Not Found", [("Content-Type", "text/plain")], True, id="404-without-length"),
        pytest.param("HEAD", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")], True, id="head"),
        pytest.param("GET", "204 No Content", [], True, id="204"),
        pytest.param("GET", "304 Not Modified", [("ETag", '"a"')], True, id="304"),
    ],
)
def test_server_start_response_is_deferred_only_when_a_decision_needs_the_body(
    method: str, status: str, headers: Headers, held: bool
) -> None:
    server = Server()
    started_in_app: list[bool] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, headers)
        started_in_app.append(bool(server.calls))
        return [b"ok"] if status[:3] not in ("204", "304") and method != "HEAD" else []

    server.run(WSGIMiddleware(app), make_environ(method, HTTP_IF_NONE_MATCH='"a"'))
    assert started_in_app == [not held]
    assert server.status is not None
    assert server.status[:3] == status[:3]
