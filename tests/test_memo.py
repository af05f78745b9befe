"""Remembered verdicts (src/statusguard/_memo.py): a head judged once is not judged again, and nothing
a full judgement would see is lost by that.

Each test serves responses through ONE middleware, so that the later ones go through the memo, and
checks them against what the spec says of each response on its own (the first one of a kind is
judged in full): the same head with another body length, another request, a router, credentials.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusguard import ASGIMiddleware, WSGIMiddleware
from statusguard.runtime.session import Inspection

Headers = list[tuple[str, str]]


# -- WSGI plumbing --------------------------------------------------------------------------------


def environ(method: str = "GET", path: str = "/thing", **headers: str) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper()] = value
    return env


def serve(middleware: Any, env: dict[str, Any]) -> tuple[str, Headers, bytes]:
    """Like a WSGI server: start_response, iterate, close; the head and the bytes it would send."""
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        seen["status"], seen["headers"] = status, list(headers)
        headers.append(("Date", "Thu, 26 Nov 2026 10:00:00 GMT"))  # as wsgiref does, in the list it is given
        return lambda data: None

    result = middleware(env, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return seen["status"], seen["headers"], body


def wsgi_app(status: str, headers: Headers, chunks: Iterable[bytes] | Callable[[], Iterator[bytes]]) -> Any:
    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, list(headers))
        return chunks() if callable(chunks) else list(chunks)
    return app


def rules_of(env: dict[str, Any]) -> list[str]:
    return [v.rule for v in env["statusguard.violations"]]


@pytest.fixture
def inspections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every full judgement of a head (Inspection.begin), so that a test can see the memo at work."""
    made: list[object] = []
    begin = Inspection.begin

    def counting(self: Inspection, status: object, headers: Iterable[object]) -> bool:
        made.append(status)
        return begin(self, status, headers)

    monkeypatch.setattr(Inspection, "begin", counting)
    return made


# -- the memo is used --------------------------------------------------------------------------------


def test_a_clean_head_is_judged_once_and_its_repeats_pass_untouched(inspections: list[object]) -> None:
    body = b'{"id": 1}'
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    middleware = WSGIMiddleware(wsgi_app("200 OK", headers, [body]), mode="fix")
    for _ in range(5):
        env = environ()
        assert serve(middleware, env) == ("200 OK", headers, body)
        assert rules_of(env) == []
    assert len(inspections) == 1


def test_a_fixed_empty_error_is_repaired_the_same_each_time(inspections: list[object]) -> None:
    middleware = WSGIMiddleware(wsgi_app("404 Not Found", [("Content-Type", "text/plain")], [b""]), mode="fix")
    outcomes = []
    for _ in range(3):
        env = environ()
        outcomes.append((serve(middleware, env), rules_of(env)))
    status, headers, body = outcomes[0][0]
    assert status == "404 Not Found"
    assert ("Content-Type", "application/problem+json") in headers
    assert ("Content-Length", str(len(body))) in headers
    assert b'"status":404' in body.replace(b" ", b"")
    assert outcomes[0][1]  # the empty error is reported (and fixed) every time, below
    assert all(outcome == outcomes[0] for outcome in outcomes)  # the server's Date never leaks into the memo
    assert len(inspections) == 1


def test_a_body_replaced_at_start_response_is_replaced_every_time() -> None:
    # Content-Length: 0 on an empty 404 is decided as the app calls start_response (not held); the fix
    # (RFC 9457 problem details) replaces the app's empty list, also when the head is remembered.
    middleware = WSGIMiddleware(
        wsgi_app("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")], [b""]), mode="fix"
    )
    bodies = [serve(middleware, environ())[2] for _ in range(3)]
    assert bodies[0].startswith(b"{")
    assert b"404" in bodies[0]
    assert bodies == [bodies[0]] * 3


def test_reports_are_repeated_for_every_remembered_response(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[str, str, str]] = []
    middleware = WSGIMiddleware(
        wsgi_app("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"no"]),
        mode="log", log_interval=0, on_violation=lambda v, c: seen.append((v.rule, c.path, c.action)),
    )
    with caplog.at_level(logging.INFO, logger="statusguard"):
        for path in ("/a", "/b", "/c"):
            env = environ(path=path)
            serve(middleware, env)
            assert rules_of(env) == ["405-allow"]
    assert seen == [("405-allow", "/a", "logged"), ("405-allow", "/b", "logged"), ("405-allow", "/c", "logged")]
    assert [r.path for r in caplog.records if getattr(r, "rule", None) == "405-allow"] == ["/a", "/b", "/c"]


@pytest.mark.parametrize("held", [False, True], ids=["sent-at-once", "held-for-its-body"])
def test_remembered_reports_are_logged_once_per_path_in_the_interval(
    caplog: pytest.LogCaptureFixture, held: bool
) -> None:
    # The dedup key is the escaped path, as for a first judgement: a path with a line break counts
    # as itself, and a long path as its capped text.
    head = [("Content-Type", "text/plain")] + ([] if held else [("Content-Length", "2")])
    middleware = WSGIMiddleware(wsgi_app("401 Unauthorized", head, [b"no"]), mode="log", log_interval=3600)
    long_path = "/" + "x" * 300
    paths = ["/a\nforged", "/a\nforged", "/b", long_path, long_path + "y", "/b"]
    with caplog.at_level(logging.INFO, logger="statusguard"):
        for path in paths:
            env = environ(path=path)
            serve(middleware, env)
            assert "401-www-authenticate" in rules_of(env)  # recorded every time, logged once
    logged = [r.path for r in caplog.records if getattr(r, "rule", None) == "401-www-authenticate"]
    # Both long paths share their first 200 characters: one line for the two.
    assert logged == ["/a\\nforged", "/b", long_path[:200] + "..."]


# -- what the memo must not hide ---------------------------------------------------------------------


def test_the_same_head_with_a_body_shorter_than_declared_is_still_caught() -> None:
    headers = [("Content-Type", "text/plain"), ("Content-Length", "5")]
    bodies = iter([[b"hello"], [b"hello"], [b"hel"], [b"hello"]])
    middleware = WSGIMiddleware(lambda env, sr: (sr("200 OK", list(headers)), next(bodies))[1], mode="log")
    found = []
    for _ in range(4):
        env = environ()
        serve(middleware, env)
        found.append(rules_of(env))
    assert found == [[], [], ["content-length-accurate"], []]


def test_the_same_head_over_a_generator_body_is_counted() -> None:
    def chunks(n: int) -> Callable[[], Iterator[bytes]]:
        return lambda: iter([b"ab"] * n)

    bodies = iter([chunks(2), chunks(2), chunks(3)])
    middleware = WSGIMiddleware(
        lambda env, sr: (sr("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")]), next(bodies)())[1],
        mode="log",
    )
    found = []
    for _ in range(3):
        env = environ()
        serve(middleware, env)
        found.append(rules_of(env))
    assert found == [[], [], ["content-length-accurate"]]


def test_a_verdict_that_read_the_request_is_not_reused() -> None:
    # RFC 9110 §15.4.5: a 304 answers a conditional request. The head is the same both times; only
    # the second request is unconditional, so only its 304 is wrong.
    middleware = WSGIMiddleware(wsgi_app("304 Not Modified", [("ETag", '"v1"')], [b""]), mode="log")
    conditional = environ(if_none_match='"v1"')
    serve(middleware, conditional)
    plain = environ()
    serve(middleware, plain)
    assert "304-only-for-conditional-get-head" not in rules_of(conditional)
    assert "304-only-for-conditional-get-head" in rules_of(plain)


def test_the_router_is_asked_for_every_405() -> None:
    answers = iter([["GET", "HEAD"], ["GET", "HEAD", "PUT"]])
    middleware = WSGIMiddleware(
        wsgi_app("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Type", "text/plain"),
                                            ("Content-Length", "2")], [b"no"]),
        mode="log", allowed_methods=lambda env: next(answers),
    )
    first, second = environ(method="POST"), environ(method="POST")
    serve(middleware, first)
    serve(middleware, second)
    assert rules_of(first) == []
    assert rules_of(second) != []  # Allow: GET, HEAD no longer lists what the router serves


def test_a_request_with_credentials_gets_its_own_masked_report(inspections: list[object]) -> None:
    # Report messages are masked with the request's own credentials, so a remembered report (masked
    # for another request) is never replayed to a request that carries some: it is judged in full.
    middleware = WSGIMiddleware(
        wsgi_app("401 Unauthorized", [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"no"]),
        mode="log",
    )
    anonymous = environ()
    serve(middleware, anonymous)
    serve(middleware, environ())
    assert len(inspections) == 1
    with_cookie = environ(cookie="session=s3cr3t-value-123")
    serve(middleware, with_cookie)
    assert len(inspections) == 2
    assert rules_of(anonymous) == rules_of(with_cookie) == ["401-www-authenticate"]


def test_heads_carrying_credentials_are_never_kept() -> None:
    middleware = WSGIMiddleware(
        wsgi_app("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2"), ("Set-Cookie", "sid=abcdef12")],
                 [b"ok"]),
        mode="fix",
    )
    serve(middleware, environ())
    assert len(middleware.memo) == 0


def test_the_memo_stays_bounded_under_a_million_kinds_of_heads() -> None:
    counter = iter(range(10**9))
    middleware = WSGIMiddleware(
        lambda env, sr: (sr("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2"),
                                       ("X-Request", str(next(counter)))]), [b"ok"])[1],
        mode="fix",
    )
    largest = 0
    for _ in range(5000):
        serve(middleware, environ())
        largest = max(largest, len(middleware.memo))
    assert 0 < largest <= 1024


def test_new_hints_empty_the_memo(inspections: list[object]) -> None:
    middleware = WSGIMiddleware(wsgi_app("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")],
                                         [b"ok"]), mode="fix")
    serve(middleware, environ())
    serve(middleware, environ())
    assert len(inspections) == 1
    middleware.policy.use_hints(lambda rule, x: None)  # the verdicts were made without these hints
    serve(middleware, environ())
    serve(middleware, environ())
    assert len(inspections) == 2  # judged once more under the new dispatcher, then remembered again


def test_a_verdict_judged_under_a_replaced_dispatcher_is_not_stored(inspections: list[object]) -> None:
    # A request judged while the hints were being replaced (another thread) must not leave its
    # verdict, made without them, in the memo of the new dispatcher.
    middleware = WSGIMiddleware(wsgi_app("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")],
                                         [b"ok"]), mode="fix")
    old = middleware.policy.dispatcher
    env = environ()
    serve(middleware, env)
    verdict = next(iter(middleware.memo.entries.values()))
    middleware.policy.dispatcher = type(old)(middleware.policy.enabled_rules)  # as use_hints does
    assert len(middleware.memo) == 0
    middleware.memo.put(("200 OK", (), "GET", "HTTP/1.1"), verdict, old)
    assert len(middleware.memo) == 0
    serve(middleware, environ())
    serve(middleware, environ())
    assert len(inspections) == 2  # judged again under the new dispatcher, once


def test_hints_installed_before_the_first_request_do_not_disable_the_memo(inspections: list[object]) -> None:
    middleware = WSGIMiddleware(wsgi_app("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")],
                                         [b"ok"]), mode="fix")
    middleware.policy.use_hints(lambda rule, x: None)  # as the framework integrations do at setup
    for _ in range(3):
        serve(middleware, environ())
    assert len(inspections) == 1


def test_exc_info_replacing_the_head_mid_stream_is_judged_in_full() -> None:
    """PEP 3333: before any byte is sent, start_response(..., exc_info) replaces the head."""
    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        if env.get("fail"):
            try:
                raise RuntimeError("late")
            except RuntimeError:
                import sys
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            yield b""
            return
        yield b"fine"

    middleware = WSGIMiddleware(app, mode="fix")
    assert serve(middleware, environ())[2] == b"fine"
    assert serve(middleware, environ())[2] == b"fine"  # this head is remembered now
    env = environ()
    env["fail"] = True
    status, headers, body = serve(middleware, env)
    assert status.startswith("500")
    assert ("Content-Type", "application/problem+json") in headers
    assert b"500" in body


@pytest.mark.parametrize(
    ("replacement", "expected_status", "expected_body"),
    [
        # Held for its body (an error without Content-Length): decided on the chunk that follows.
        pytest.param(("503 Service Unavailable", [("Content-Type", "text/plain")]), "503", b"try later", id="held"),
        # Decided at once (Content-Length: 0 on an error): fix writes the problem details in its place.
        pytest.param(("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")]), "404",
                     b'{"type":"about:blank","title":"Not Found","status":404}', id="body-replaced-at-once"),
    ],
)
def test_exc_info_after_an_empty_chunk_of_a_remembered_stream_replaces_the_head(
    replacement: tuple[str, Headers], expected_status: str, expected_body: bytes
) -> None:
    """The remembered head went out; no byte of its body has: PEP 3333 lets the app replace it."""
    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # at once: the body is a generator

        def body() -> Iterator[bytes]:
            yield b""
            if env.get("fail"):
                try:
                    raise RuntimeError("late")
                except RuntimeError:
                    import sys
                    start_response(*replacement, sys.exc_info())
            yield b"try later"

        return body()

    middleware = WSGIMiddleware(app, mode="fix")
    for _ in range(2):  # judged, then remembered
        assert serve(middleware, environ()) == ("200 OK", [("Content-Type", "text/plain")], b"try later")
    for _ in range(2):
        env = environ()
        env["fail"] = True
        status, _, body = serve(middleware, env)
        assert status.startswith(expected_status)
        if expected_body.startswith(b"{"):  # problem details: compared as JSON, whatever its spacing
            assert json.loads(body) == json.loads(expected_body)
        else:
            assert body == expected_body


class Body:
    """An app iterable that counts its close() calls (PEP 3333: the server calls it exactly once)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.closed = chunks, 0

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize("taken", [0, 1, 3], ids=["never-iterated", "left-half-way", "exhausted"])
def test_a_remembered_stream_closes_the_apps_iterable_exactly_once(taken: int) -> None:
    bodies: list[Body] = []

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
        bodies.append(Body([b"ab", b"cd", b"ef"]))
        return bodies[-1]

    middleware = WSGIMiddleware(app, mode="strict")
    for _ in range(3):  # the first is judged in full, the others go out on the remembered verdict
        result = middleware(environ(), lambda status, headers, exc_info=None: (lambda data: None))
        iterator = iter(result)
        taken_chunks = [next(iterator) for _ in range(taken)]
        assert b"".join(taken_chunks) == b"abcdef"[: 2 * taken]
        result.close()  # type: ignore[attr-defined]
        result.close()  # type: ignore[attr-defined]  # a second close from a careless server is not forwarded
    assert [body.closed for body in bodies] == [1, 1, 1]


def test_a_remembered_held_head_is_decided_on_its_body_each_time(inspections: list[object]) -> None:
    # HEAD: the server must send no content (RFC 9110 §9.3.2); the body the app made is dropped, quietly.
    body = b'{"id": 1}'
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    middleware = WSGIMiddleware(wsgi_app("200 OK", headers, [body]), mode="fix")
    for _ in range(3):
        env = environ(method="HEAD")
        assert serve(middleware, env) == ("200 OK", headers, b"")
        assert rules_of(env) == ["head-no-content"]
    assert len(inspections) == 1
    # The same head over a body of two chunks is not looked up whole: judged in full, to the same end.
    two = WSGIMiddleware(wsgi_app("200 OK", headers, [body[:3], body[3:]]), mode="fix")
    for _ in range(2):
        env = environ(method="HEAD")
        assert serve(two, env) == ("200 OK", headers, b"")
        assert rules_of(env) == ["head-no-content"]


# -- ASGI -----------------------------------------------------------------------------------------


def asgi_serve(middleware: ASGIMiddleware, headers: list[tuple[bytes, bytes]] | None = None,
               method: str = "GET") -> tuple[list[dict[str, Any]], list[str]]:
    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/thing", "http_version": "1.1",
                             "headers": headers or [], "root_path": ""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.start":
            message["headers"].append((b"date", b"Thu, 26 Nov 2026 10:00:00 GMT"))  # as a server might

    asyncio.run(middleware(scope, receive, send))
    return sent, [v.rule for v in scope["state"]["statusguard.violations"]]


def asgi_app(status: int, headers: list[tuple[bytes, bytes]], bodies: Callable[[], list[bytes]]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        chunks = bodies()
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})
    return app


def test_asgi_remembered_heads_keep_counting_the_body() -> None:
    lengths = iter([[b"hello"], [b"hello"], [b"he", b"l"], [b"hel", b"lo"]])
    middleware = ASGIMiddleware(
        asgi_app(200, [(b"content-type", b"text/plain"), (b"content-length", b"5")], lambda: next(lengths)),
        mode="log",
    )
    found = [asgi_serve(middleware)[1] for _ in range(4)]
    assert found == [[], [], ["content-length-accurate"], []]


def test_asgi_fixed_empty_error_is_the_same_each_time_and_the_servers_list_is_not_shared() -> None:
    middleware = ASGIMiddleware(asgi_app(404, [(b"content-type", b"text/plain")], lambda: [b""]), mode="fix")
    outcomes = [asgi_serve(middleware) for _ in range(3)]
    starts = [next(m for m in sent if m["type"] == "http.response.start") for sent, _ in outcomes]
    assert all(s["headers"].count((b"date", b"Thu, 26 Nov 2026 10:00:00 GMT")) == 1 for s in starts)
    assert all((b"content-type", b"application/problem+json") in s["headers"] for s in starts)
    bodies = [b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body") for sent, _ in outcomes]
    assert bodies[0]
    assert bodies.count(bodies[0]) == 3
    assert outcomes[0][1]
    assert all(rules == outcomes[0][1] for _, rules in outcomes)


@pytest.mark.parametrize(
    "credential",
    [(b"authorization", b"Bearer abcdefgh12345"), (b"Cookie", b"sid=abcdefgh12345"),
     (bytearray(b"PROXY-AUTHORIZATION"), b"Basic abcdefgh12345")],
    ids=["lower-case", "a server that keeps the client's case", "bytearray"],
)
@pytest.mark.parametrize("held", [False, True], ids=["sent-at-once", "held-for-its-body"])
def test_asgi_a_request_with_credentials_is_judged_in_full(
    inspections: list[object], credential: tuple[bytes, bytes], held: bool
) -> None:
    # A 401 without a challenge (and, held, without Content-Length: decided with its body).
    head = [(b"content-type", b"text/plain")] + ([] if held else [(b"content-length", b"2")])
    middleware = ASGIMiddleware(asgi_app(401, head, lambda: [b"no"]), mode="log")
    asgi_serve(middleware)
    asgi_serve(middleware)
    assert len(inspections) == 1
    _, rules = asgi_serve(middleware, headers=[credential])  # type: ignore[list-item]
    assert rules == ["401-www-authenticate"]
    assert len(inspections) == 2


# -- differential: a remembered verdict is the verdict a fresh middleware gives ----------------------

# Fields whose rules read other fields (Content-Range with 206/416, framing, validators, redirects,
# challenges, caching): the places where a Content-Length value could matter if anything did.
FIELD_POOL = [
    ("Content-Type", "application/json"), ("Content-Type", "multipart/byteranges; boundary=x"),
    ("Content-Range", "bytes 0-4/10"), ("Content-Range", "bytes */10"), ("Transfer-Encoding", "chunked"),
    ("Allow", "GET, HEAD"), ("Retry-After", "5"), ("Retry-After", "soon"), ("Cache-Control", "no-store"),
    ("Cache-Control", "max-age=60"), ("Location", "/elsewhere"), ("WWW-Authenticate", 'Basic realm="x"'),
    ("Vary", "*"), ("ETag", '"v1"'), ("Content-Encoding", "gzip"), ("Accept-Ranges", "bytes"),
    ("Expires", "0"), ("Date", "Thu, 26 Nov 2026 10:00:00 GMT"), ("Content-Length", "7"),
]
STATUSES = [200, 201, 202, 203, 206, 300, 301, 304, 400, 401, 403, 404, 405, 407, 413, 416, 429, 500, 503]


@given(
    status=st.sampled_from(STATUSES),
    fields=st.lists(st.sampled_from(FIELD_POOL), max_size=5),
    lengths=st.lists(st.sampled_from([0, 1, 5, 7, 10, 60]), min_size=2, max_size=4),
    short_by=st.sampled_from([0, 0, 0, 1]),
    method=st.sampled_from(["GET", "GET", "HEAD", "POST"]),
    mode=st.sampled_from(["log", "fix"]),
)
def test_remembered_verdicts_equal_fresh_ones(
    status: int, fields: Headers, lengths: list[int], short_by: int, method: str, mode: str
) -> None:
    """The same head with other Content-Length values (and sometimes a body one byte short), served by
    one middleware, is treated exactly as a fresh middleware treats each response on its own."""
    from statusguard.core.phrases import reason_phrase

    line = f"{status} {reason_phrase(status)}"
    current: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(line, list(current["headers"]))
        return [current["body"]]

    remembered = WSGIMiddleware(app, mode=mode, log_interval=0)
    for length in lengths:
        headers = [*fields, ("Content-Length", str(length))]
        body = b"x" * max(0, length - short_by)
        current.update(headers=headers, body=body)
        env = environ(method=method)
        got = serve(remembered, env), sorted((v.rule, v.message) for v in env["statusguard.violations"])
        fresh_env = environ(method=method)
        want = serve(WSGIMiddleware(app, mode=mode, log_interval=0), fresh_env), sorted(
            (v.rule, v.message) for v in fresh_env["statusguard.violations"]
        )
        assert got == want
