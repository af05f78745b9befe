"""ASGIMiddleware over raw ASGI apps and a recording send (plain asyncio.run, no plugin).

Expected values come from the ASGI HTTP spec (asgiref www.rst and extensions), RFC 9110 and
docs/spec/RULES.md: a start message is held only when a decision needs the first body message,
never longer; a correct response is forwarded as the very same message objects; HEAD ends with
exactly one empty body message; trailers, pathsend, zerocopysend and early hints keep working.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest

from statusguard import ASGIMiddleware, StatusViolationError
from statusguard.runtime.session import Inspection

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

PROBLEM_404 = {"type": "about:blank", "title": "Not Found", "status": 404}


class Recorder:
    """The server side: records every message sent, in order, optionally failing on one of them."""

    def __init__(self, fail_on: int | None = None, error: BaseException | None = None) -> None:
        self.messages: list[Message] = []
        self.attempts = 0
        self.fail_on = fail_on
        self.error = error or OSError("client went away")

    async def send(self, message: Message) -> None:
        self.attempts += 1
        if self.fail_on is not None and self.attempts >= self.fail_on:
            raise self.error
        self.messages.append(message)

    async def receive(self) -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    def of_type(self, kind: str) -> list[Message]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def start(self) -> Message:
        (start,) = self.of_type("http.response.start")
        return start

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.of_type("http.response.body"))

    def header(self, name: str) -> list[bytes]:
        wanted = name.lower().encode("latin-1")
        return [value for key, value in self.start["headers"] if key.lower() == wanted]


def http_scope(method: str = "GET", path: str = "/thing", http_version: str = "1.1", **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(extra)
    return scope


def run(app: App, scope: Scope | None = None, recorder: Recorder | None = None, **options: Any) -> Recorder:
    recorder = recorder or Recorder()
    scope = scope if scope is not None else http_scope()
    asyncio.run(ASGIMiddleware(app, **options)(scope, recorder.receive, recorder.send))
    return recorder


def start(status: int, headers: list[tuple[bytes, bytes]], **extra: Any) -> Message:
    return {"type": "http.response.start", "status": status, "headers": headers, **extra}


def body(data: bytes = b"", more: bool = False) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


def messages_app(*messages: Message) -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    return app


def violations_of(scope: Scope) -> list[str]:
    return [v.rule for v in scope["state"]["statusguard.violations"]]


OK_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"5")]


# -- pass-through and when the start is held ------------------------------------------------------


@pytest.mark.parametrize("mode", ["off", "log", "fix", "strict"])
@pytest.mark.parametrize(
    "messages",
    [
        pytest.param([start(200, OK_HEADERS), body(b"hello")], id="200"),
        pytest.param([start(200, [(b"content-type", b"text/plain")]), body(b"he", True), body(b"llo")],
                     id="200-streamed"),
        pytest.param([start(302, [(b"location", b"/elsewhere"), (b"content-length", b"0")]), body()], id="302"),
        pytest.param([start(404, [(b"content-type", b"text/plain")]), body(b"not found")], id="404-with-body"),
        pytest.param([start(404, [(b"content-type", b"text/plain")]), body(b"not ", True), body(b"found")],
                     id="404-streamed-held"),
    ],
)
def test_correct_response_forwards_the_same_message_objects(mode: str, messages: list[Message]) -> None:
    scope = http_scope()
    recorder = run(messages_app(*messages), scope, mode=mode)
    assert len(recorder.messages) == len(messages)
    assert all(sent is original for sent, original in zip(recorder.messages, messages, strict=True))
    if mode != "off":
        assert violations_of(scope) == []


def test_start_with_content_length_is_forwarded_before_the_first_body() -> None:
    recorder = Recorder()
    first = start(200, OK_HEADERS)
    observed: list[list[Message]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(first)
        observed.append(list(recorder.messages))  # what the server had before any body was sent
        await send(body(b"hello"))

    run(app, recorder=recorder)
    assert len(observed[0]) == 1
    assert observed[0][0] is first
    assert recorder.body == b"hello"


def test_empty_404_without_content_length_is_held_then_becomes_problem_json() -> None:
    recorder = Recorder()
    observed: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start(404, [(b"content-type", b"text/html")]))
        observed.append(len(recorder.messages))
        await send(body(b""))

    scope = http_scope()
    run(app, scope, recorder)
    assert observed == [0]  # held: nothing reached the server until the body said there is none
    assert recorder.start["status"] == 404
    assert json.loads(recorder.body) == PROBLEM_404
    assert recorder.header("content-type") == [b"application/problem+json"]
    assert recorder.header("content-length") == [str(len(recorder.body)).encode()]
    bodies = recorder.of_type("http.response.body")
    assert len(bodies) == 1
    assert not bodies[0].get("more_body", False)
    assert violations_of(scope) == ["4xx-explain"]


def test_empty_404_with_content_length_0_is_not_held_and_still_fixed() -> None:
    recorder = run(messages_app(start(404, [(b"content-length", b"0")]), body()))
    assert json.loads(recorder.body) == PROBLEM_404
    assert recorder.header("content-length") == [str(len(recorder.body)).encode()]


def test_at_most_one_body_message_is_held() -> None:
    recorder = Recorder()
    sent_by_app = 0
    lag: list[int] = []
    chunks = [body(b"x" * 10, more=True) for _ in range(999)] + [body(b"x" * 10)]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal sent_by_app
        await send(start(404, [(b"content-type", b"text/plain")]))
        for chunk in chunks:
            await send(chunk)
            sent_by_app += 1
            lag.append(sent_by_app - len(recorder.of_type("http.response.body")))

    run(app, recorder=recorder)
    assert max(lag) <= 1
    forwarded = recorder.of_type("http.response.body")
    assert len(forwarded) == 1000
    assert all(sent is original for sent, original in zip(forwarded, chunks, strict=True))
    assert len(recorder.body) == 10_000


# -- HEAD -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fix", "strict"])
@pytest.mark.parametrize(
    "bodies",
    [
        pytest.param([body(b"hello")], id="one-message"),
        pytest.param([body(b"he", True), body(b"ll", True), body(b"o")], id="streamed"),
        pytest.param([body(b"", True), body(b"hello")], id="empty-first"),
    ],
)
def test_head_sends_one_empty_final_body_and_keeps_content_length(mode: str, bodies: list[Message]) -> None:
    scope = http_scope("HEAD")
    recorder = run(messages_app(start(200, OK_HEADERS), *bodies), scope, mode=mode)
    assert recorder.start["status"] == 200
    assert recorder.header("content-length") == [b"5"]  # never rewritten to 0 (RULES.md §3.2)
    assert recorder.header("content-type") == [b"text/plain"]
    (final,) = recorder.of_type("http.response.body")
    assert final["body"] == b""
    assert final.get("more_body", False) is False
    assert violations_of(scope) == ["head-no-content"]


# -- trailers, pathsend, zerocopysend, early hints ------------------------------------------------


def test_trailers_are_forwarded_and_the_flag_preserved() -> None:
    first = start(200, [(b"content-type", b"text/plain"), (b"trailer", b"x-checksum")], trailers=True)
    trailers = {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")], "more_trailers": False}
    messages = [first, body(b"he", True), body(b"llo"), trailers]
    recorder = run(messages_app(*messages))
    assert all(sent is original for sent, original in zip(recorder.messages, messages, strict=True))
    assert recorder.start["trailers"] is True


def test_trailers_flag_kept_when_the_head_is_rewritten() -> None:
    first = start(429, [(b"content-type", b"text/plain"), (b"content-length", b"4")], trailers=True)
    trailers = {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")], "more_trailers": False}
    recorder = run(messages_app(first, body(b"slow"), trailers))
    assert recorder.start["trailers"] is True
    assert recorder.header("cache-control") == [b"no-store"]
    assert recorder.of_type("http.response.trailers") == [trailers]
    assert first["headers"] == [(b"content-type", b"text/plain"), (b"content-length", b"4")]  # not mutated


def test_no_trailers_after_a_body_we_dropped() -> None:
    # RULES.md §3.20: no trailers on HEAD; the server was told "no trailers", so none may follow.
    first = start(200, OK_HEADERS, trailers=True)
    trailers = {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")], "more_trailers": False}
    recorder = run(messages_app(first, body(b"hello"), trailers), http_scope("HEAD"))
    assert recorder.start.get("trailers", False) is False
    assert recorder.of_type("http.response.trailers") == []
    assert [m["type"] for m in recorder.messages] == ["http.response.start", "http.response.body"]


@pytest.mark.parametrize(
    "file_message",
    [
        pytest.param({"type": "http.response.pathsend", "path": "/srv/files/report.pdf"}, id="pathsend"),
        pytest.param({"type": "http.response.zerocopysend", "file": 7, "count": 5, "more_body": False},
                     id="zerocopysend"),
    ],
)
def test_file_sends_are_forwarded(file_message: Message) -> None:
    first = start(200, [(b"content-type", b"application/pdf"), (b"content-length", b"5")])
    recorder = run(messages_app(first, file_message))
    assert recorder.messages == [first, file_message]
    assert recorder.messages[0] is first
    assert recorder.messages[1] is file_message


def test_file_send_to_head_becomes_one_empty_body() -> None:
    parts = [
        {"type": "http.response.zerocopysend", "file": 7, "count": 2, "more_body": True},
        {"type": "http.response.zerocopysend", "file": 7, "count": 3, "more_body": False},
    ]
    recorder = run(messages_app(start(200, OK_HEADERS), *parts), http_scope("HEAD"))
    assert recorder.header("content-length") == [b"5"]
    assert [m["type"] for m in recorder.messages] == ["http.response.start", "http.response.body"]
    (final,) = recorder.of_type("http.response.body")
    assert final["body"] == b""
    assert final.get("more_body", False) is False


@pytest.mark.parametrize(("version", "forwarded"), [("1.1", True), ("2", True), ("1.0", False)])
def test_early_hint_forwarded_except_to_http10(version: str, forwarded: bool) -> None:
    hint = {"type": "http.response.early_hint", "links": ["</style.css>; rel=preload; as=style"]}
    first = start(200, OK_HEADERS)
    scope = http_scope(http_version=version, extensions={"http.response.early_hint": {}})
    recorder = run(messages_app(hint, first, body(b"hello")), scope)
    expected = [hint, first] if forwarded else [first]
    assert recorder.messages[: len(expected)] == expected
    assert (recorder.messages[0] is hint) is forwarded
    assert recorder.body == b"hello"


# -- other scopes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
@pytest.mark.parametrize(
    "scope",
    [
        {"type": "websocket", "path": "/ws", "headers": [], "asgi": {"version": "3.0"}},
        {"type": "lifespan", "asgi": {"version": "3.0"}},
    ],
    ids=["websocket", "lifespan"],
)
def test_non_http_scopes_pass_through_untouched(mode: str, scope: dict[str, Any]) -> None:
    seen: list[tuple[Any, Any, Any]] = []
    before = dict(scope)

    async def app(app_scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((app_scope, receive, send))
        kind = "websocket.accept" if scope["type"] == "websocket" else "lifespan.startup.complete"
        await send({"type": kind})

    recorder = Recorder()
    asyncio.run(ASGIMiddleware(app, mode=mode)(scope, recorder.receive, recorder.send))
    (app_scope, receive, send), = seen
    assert app_scope is scope
    assert receive == recorder.receive
    assert send == recorder.send
    assert scope == before  # no state key added
    assert len(recorder.messages) == 1


def test_mode_off_passes_the_same_send() -> None:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(send)

    recorder = Recorder()
    asyncio.run(ASGIMiddleware(app, mode="off")(http_scope(), recorder.receive, recorder.send))
    assert seen == [recorder.send]


# -- failures -------------------------------------------------------------------------------------


def test_client_disconnect_propagates_and_nothing_else_happens(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(fail_on=2)
    after: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start(200, OK_HEADERS))
        await send(body(b"hel", True))
        after.append("the app went on")

    scope = http_scope()
    with caplog.at_level(logging.DEBUG, "statusguard"), pytest.raises(OSError, match="client went away"):
        asyncio.run(ASGIMiddleware(app)(scope, recorder.receive, recorder.send))
    assert recorder.attempts == 2
    assert [m["type"] for m in recorder.messages] == ["http.response.start"]
    assert after == []
    assert caplog.records == []
    assert violations_of(scope) == []


def test_client_disconnect_while_flushing_a_held_start_sends_nothing_more(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(fail_on=1)
    caught: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start(404, [(b"content-type", b"text/plain")]))
        try:
            await send(body(b"gone"))
        except OSError as exc:  # Starlette turns this into ClientDisconnect and returns
            caught.append(exc)

    with caplog.at_level(logging.DEBUG, "statusguard"):
        asyncio.run(ASGIMiddleware(app)(http_scope(), recorder.receive, recorder.send))
    assert len(caught) == 1
    assert recorder.attempts == 1  # the held start is not re-sent when the app returns
    assert recorder.messages == []
    assert caplog.records == []


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param([start(200, OK_HEADERS), body(b"hello")], id="forwarded-start"),
        pytest.param([start(404, [(b"content-type", b"text/plain")]), body(b"", True), body(b"")], id="held-start"),
    ],
)
@pytest.mark.parametrize("broken", ["begin", "decide"])
def test_internal_error_in_log_mode_passes_through(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, broken: str, messages: list[Message]
) -> None:
    def fail(self: Inspection, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected statusguard bug")

    monkeypatch.setattr(Inspection, broken, fail)
    with caplog.at_level(logging.DEBUG, "statusguard"):
        recorder = run(messages_app(*messages), mode="log")
    assert recorder.messages[0] is messages[0]
    assert recorder.start["headers"] == messages[0]["headers"]
    assert recorder.body == b"".join(m["body"] for m in messages[1:])
    assert recorder.messages[-1] is messages[-1]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert errors[0].exc_info[0] is RuntimeError


def test_internal_error_in_strict_mode_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: Inspection, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected statusguard bug")

    monkeypatch.setattr(Inspection, "decide", fail)
    with pytest.raises(RuntimeError, match="injected"):
        run(messages_app(start(200, OK_HEADERS), body(b"hello")), mode="strict")


@pytest.mark.parametrize(
    ("messages", "raised_on", "rule"),
    [
        pytest.param([start(401, OK_HEADERS), body(b"hello")], 0, "401-www-authenticate", id="head-phase"),
        pytest.param([start(401, [(b"content-type", b"text/plain")]), body(b"hello")], 0, "401-www-authenticate",
                     id="head-phase-held"),
        pytest.param([start(404, []), body(b"")], 1, "4xx-explain", id="body-phase"),
        pytest.param([start(204, []), body(b"null")], 1, "204-no-content", id="204-body"),
    ],
)
def test_strict_raises_inside_the_apps_send_before_the_start_is_sent(
    messages: list[Message], raised_on: int, rule: str
) -> None:
    raised: list[tuple[int, StatusViolationError]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for index, message in enumerate(messages):
            try:
                await send(message)
            except StatusViolationError as exc:
                raised.append((index, exc))
                return

    scope = http_scope("GET", "/api/x")
    recorder = run(app, scope, mode="strict")
    assert recorder.messages == []
    (index, error), = raised
    assert index == raised_on
    assert [v.rule for v in error.violations] == [rule]
    assert f"[{rule}]" in str(error)
    assert "GET /api/x" in str(error)
    assert violations_of(scope) == [rule]


def test_strict_length_mismatch_raises_after_the_last_body() -> None:
    scope = http_scope()
    with pytest.raises(StatusViolationError) as caught:
        run(messages_app(start(200, [(b"content-type", b"text/plain"), (b"content-length", b"9")]),
                         body(b"hel", True), body(b"lo")), scope, mode="strict")
    assert [v.rule for v in caught.value.violations] == ["content-length-accurate"]


# -- scope["state"] -------------------------------------------------------------------------------


def test_violations_are_left_in_the_existing_state() -> None:
    state = {"db": "connection"}
    scope = http_scope(state=state)
    run(messages_app(start(429, [(b"content-type", b"text/plain"), (b"content-length", b"4")]), body(b"slow")), scope)
    assert scope["state"] is state
    assert state["db"] == "connection"
    assert violations_of(scope) == ["429-not-storable"]


def test_violations_get_a_state_when_the_server_gave_none() -> None:
    scope = http_scope()
    assert "state" not in scope
    recorder = run(messages_app(start(429, [(b"content-type", b"text/plain")]), body(b"slow")), scope)
    assert recorder.header("cache-control") == [b"no-store"]
    assert violations_of(scope) == ["429-not-storable"]


def test_allowed_methods_gets_the_scope_and_feeds_allow() -> None:
    seen: list[Any] = []

    def allowed(scope: Any) -> list[str]:
        seen.append(scope)
        return ["GET"]

    scope = http_scope("POST")
    recorder = run(messages_app(start(405, OK_HEADERS), body(b"nope!")), scope, allowed_methods=allowed)
    assert recorder.header("allow") == [b"GET"]  # what the router reported: no HEAD implied
    assert seen == [scope]
    assert seen[0] is scope


@pytest.mark.parametrize(
    ("method", "status", "headers", "content", "held"),
    [
        pytest.param("GET", 200, OK_HEADERS, b"hello", False, id="200-with-length"),
        pytest.param("GET", 200, [(b"content-type", b"text/plain")], b"hello", False, id="200-without-length"),
        pytest.param("GET", 302, [(b"location", b"/x")], b"", False, id="302-without-length"),
        pytest.param("GET", 404, [(b"content-type", b"text/plain"), (b"content-length", b"4")], b"gone", False,
                     id="404-with-length"),
        pytest.param("GET", 404, [(b"content-type", b"text/plain")], b"gone", True, id="404-without-length"),
        pytest.param("GET", 503, [(b"content-type", b"text/plain")], b"later", True, id="503-without-length"),
        pytest.param("HEAD", 200, OK_HEADERS, b"", True, id="head"),
        pytest.param("GET", 204, [], b"", True, id="204"),
        pytest.param("GET", 205, [], b"", True, id="205-without-length"),
        pytest.param("GET", 205, [(b"content-length", b"0")], b"", False, id="205-with-length-0"),
        pytest.param("GET", 304, [(b"etag", b'"a"')], b"", True, id="304"),
    ],
)
def test_start_is_held_only_when_a_decision_needs_the_first_body(
    method: str, status: int, headers: list[tuple[bytes, bytes]], content: bytes, held: bool
) -> None:
    recorder = Recorder()
    forwarded_before_body: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start(status, headers))
        forwarded_before_body.append(len(recorder.messages))
        await send(body(content))

    run(app, http_scope(method, headers=[(b"if-none-match", b'"a"')]), recorder)
    assert forwarded_before_body == [0 if held else 1]
    assert recorder.start["status"] == status
