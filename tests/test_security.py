"""Security promises against hostile apps and hostile clients, through both adapters.

- No value of Authorization, Proxy-Authorization, Cookie or Set-Cookie (from the request or the
  response) in any log record, on_violation argument, StatusViolationError text or stored violation.
- CR/LF and other control characters in anything a client or an app controls (path, method, status
  line, header values quoted by rules) cannot forge log lines or exception lines: one record per
  violation, no raw line break in a formatted message.
- The problem+json bodies statusguard writes never echo request data (path, query, headers, body,
  method), for every status from 400 to 599.
- Header parsers stay linear on 1 MB hostile values (a complexity guard, generous on time).
- The log dedup memory stays bounded under a million distinct paths.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from statusguard import (
    ASGIMiddleware,
    StatusViolationError,
    Violation,
    ViolationContext,
    WSGIMiddleware,
    check,
)
from statusguard.runtime.report import Reporter

TOKEN = "Q7x9LmZp2Vb8Nc4RtK1s"
PROXY_TOKEN = "Hj3kWq8Ez5Ty1Ui7Op0a"
COOKIE = "Mn4bVc6Xz8Lk2Jh5Gf3d"
SET_COOKIE = "Ws2Ed4Rf6Tg8Yh0Uj1Ik"
SECRETS = (TOKEN, PROXY_TOKEN, COOKIE, SET_COOKIE)

REQUEST_CREDENTIALS = [
    ("Authorization", f"Bearer {TOKEN}"),
    ("Proxy-Authorization", f"Basic {PROXY_TOKEN}"),
    ("Cookie", f"sid={COOKIE}; theme=dark"),
]


# -- two tiny servers -----------------------------------------------------------------------------


@dataclass
class Served:
    status: Any = None
    headers: Any = None
    body: bytes = b""
    error: BaseException | None = None
    stored: list[Violation] = field(default_factory=list)
    hooked: list[tuple[Violation, ViolationContext]] = field(default_factory=list)


def serve_wsgi(
    status: str, headers: list[Any], body: Iterable[bytes], *, mode: str = "fix", method: str = "GET",
    path: str = "/x", query: str = "", request_headers: Iterable[tuple[str, str]] = (), request_body: bytes = b"",
    **options: Any,
) -> Served:
    served = Served()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"].read()
        start_response(status, headers)
        return body

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request_body), "CONTENT_LENGTH": str(len(request_body)),
    }
    for name, value in request_headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Callable[[bytes], None]:
        served.status, served.headers = status, headers
        return lambda data: None

    middleware = WSGIMiddleware(app, mode=mode, on_violation=lambda v, c: served.hooked.append((v, c)), **options)
    try:
        result = middleware(environ, start_response)
        try:
            served.body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    except StatusViolationError as exc:
        served.error = exc
    served.stored = list(environ["statusguard.violations"])
    return served


def to_asgi_headers(headers: list[Any]) -> list[Any]:
    def encode(item: Any) -> Any:
        if isinstance(item, str):
            try:
                return item.encode("latin-1")
            except UnicodeEncodeError:
                return item.encode("utf-8")
        return item

    converted = []
    for entry in headers:
        if isinstance(entry, tuple) and len(entry) == 2:
            converted.append((encode(entry[0]).lower(), encode(entry[1])))
        elif isinstance(entry, tuple):
            converted.append(tuple(encode(item) for item in entry))
        else:
            converted.append(encode(entry))
    return converted


def serve_asgi(
    status: int | str, headers: list[Any], body: Iterable[bytes], *, mode: str = "fix", method: str = "GET",
    path: str = "/x", query: str = "", request_headers: Iterable[tuple[str, str]] = (), request_body: bytes = b"",
    **options: Any,
) -> Served:
    served = Served()
    chunks = list(body)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": int(str(status)[:3]), "headers": to_asgi_headers(headers)})
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})
        if not chunks:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": query.encode(), "root_path": "",
        "headers": [(name.lower().encode(), value.encode("utf-8")) for name, value in request_headers],
    }
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": request_body, "more_body": False}

    middleware = ASGIMiddleware(app, mode=mode, on_violation=lambda v, c: served.hooked.append((v, c)), **options)
    try:
        asyncio.run(middleware(scope, receive, send))
    except StatusViolationError as exc:
        served.error = exc
    for message in messages:
        if message["type"] == "http.response.start":
            served.status, served.headers = message["status"], message["headers"]
        else:
            served.body += message.get("body", b"")
    served.stored = list(scope["state"]["statusguard.violations"])
    return served


SERVE = {"wsgi": serve_wsgi, "asgi": serve_asgi}


def texts_of(served: Served, records: list[logging.LogRecord]) -> list[str]:
    """Everything statusguard let out as text: log records (message and every attribute), the hook's
    arguments, the exception, the stored violations."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    texts = []
    for record in records:
        texts.append(formatter.format(record))  # includes a formatted traceback, if any
        texts.extend(str(value) for value in vars(record).values())
    texts.extend(repr(pair) for pair in served.hooked)
    if served.error is not None:
        texts.extend([str(served.error), repr(served.error.violations)])
    texts.append(repr(served.stored))
    return texts


def assert_no_credential(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            # Case-insensitive: ASGI lower-cases names, and a name may be where a buggy app put a whole line.
            assert secret[:8].lower() not in text.lower(), f"a credential leaked: {text[:300]!r}"


# -- credentials never leave ----------------------------------------------------------------------

SET_COOKIE_HEADER = ("Set-Cookie", f"sid={SET_COOKIE}; Path=/; HttpOnly")
RULE_BREAKERS = [
    pytest.param("GET", "404 Not Found", [SET_COOKIE_HEADER], [], id="empty-404"),
    pytest.param("GET", "401 Unauthorized", [("Content-Type", "text/plain"), SET_COOKIE_HEADER], [b"no"],
                 id="401-no-challenge"),
    pytest.param("GET", "429 Too Many Requests", [("Content-Type", "text/plain"), ("Cache-Control", "max-age=60"),
                                                  SET_COOKIE_HEADER], [b"slow"], id="429-storable"),
    pytest.param("HEAD", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5"), SET_COOKIE_HEADER],
                 [b"hello"], id="head-with-body"),
    pytest.param("GET", "204 No Content", [("Content-Length", "4"), SET_COOKIE_HEADER], [b"null"], id="204-body"),
    pytest.param("GET", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "9"), SET_COOKIE_HEADER],
                 [b"short"], id="length-lie"),
    pytest.param("GET", "200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", f"sid={SET_COOKIE}\r\nX-Y: z")],
                 [b"ok"], id="set-cookie-crlf"),
    pytest.param("GET", "404 Not Found", [("Set-Cookie", f"sid={SET_COOKIE}\u2603")], [],
                 id="set-cookie-not-latin1"),
    pytest.param("GET", "200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", f"sid={SET_COOKIE}", "HttpOnly")],
                 [b"ok"], id="set-cookie-triple"),
    pytest.param("GET", "200 OK", [("Content-Type", "text/plain"), f"Set-Cookie: sid={SET_COOKIE}"], [b"ok"],
                 id="set-cookie-as-one-string"),
    pytest.param("GET", "200 OK", [("Content-Type", "text/plain"), ("Set-Cookie ", f"sid={SET_COOKIE}")], [b"ok"],
                 id="set-cookie-name-with-space"),
    pytest.param("GET", "404 Not Found", [("Authorization", f"Bearer {TOKEN}"), ("Cookie", f"sid={COOKIE}"),
                                          ("Proxy-Authorization", f"Basic {PROXY_TOKEN}")],
                 [], id="request-fields-echoed-in-response"),
    pytest.param("GET", "304 Not Modified", [("Content-Length", "2"), SET_COOKIE_HEADER], [b"ok"], id="304-body"),
    pytest.param("POST", "405 Method Not Allowed", [("Content-Type", "text/plain"), SET_COOKIE_HEADER], [b"no"],
                 id="405-no-allow"),
]


@pytest.mark.parametrize("gateway", ["wsgi", "asgi"])
@pytest.mark.parametrize("mode", ["log", "fix", "strict"])
@pytest.mark.parametrize(("method", "status", "headers", "body"), RULE_BREAKERS)
def test_no_credential_in_any_output(
    caplog: pytest.LogCaptureFixture, gateway: str, mode: str, method: str, status: str, headers: list[Any],
    body: list[bytes],
) -> None:
    with caplog.at_level(logging.DEBUG, "statusguard"):
        served = SERVE[gateway](status, headers, body, mode=mode, method=method, request_headers=REQUEST_CREDENTIALS,
                                log_interval=0)
    assert served.stored, "the response was meant to break a rule"
    assert caplog.records, "and to be logged"
    assert_no_credential(texts_of(served, caplog.records))


@pytest.mark.parametrize("gateway", ["wsgi", "asgi"])
def test_a_credential_in_a_malformed_header_name_is_not_logged(caplog: pytest.LogCaptureFixture, gateway: str) -> None:
    # A buggy app that put the whole field line in the name: the name is quoted by field-name-syntax.
    headers = [("Content-Type", "text/plain"), (f"Set-Cookie: sid={SET_COOKIE}", "")]
    with caplog.at_level(logging.DEBUG, "statusguard"):
        served = SERVE[gateway]("200 OK", headers, [b"ok"], mode="log", log_interval=0)
    assert "field-name-syntax" in [v.rule for v in served.stored]
    assert_no_credential(texts_of(served, caplog.records))


@pytest.mark.parametrize("gateway", ["wsgi", "asgi"])
def test_credentials_in_an_internal_error_are_not_logged(caplog: pytest.LogCaptureFixture, gateway: str) -> None:
    # The router callable is the app's code and sees the raw environ/scope; its exception is logged with the
    # traceback (statusguard carries on without router knowledge). Its text must be masked like any message.
    def router(request: Any) -> list[str]:
        raise LookupError(f"no route for {request!r}")

    with caplog.at_level(logging.DEBUG, "statusguard"):
        served = SERVE[gateway]("405 Method Not Allowed", [("Content-Type", "text/plain")], [b"no"], mode="fix",
                                method="DELETE", request_headers=REQUEST_CREDENTIALS, allowed_methods=router)
    # Logged with its traceback: as exc_info when nothing needs masking, else as masked text.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the router's failure is logged"
    assert "LookupError" in errors[0].getMessage(), "the traceback is in the masked record"
    assert_no_credential(texts_of(served, caplog.records))


# -- log injection --------------------------------------------------------------------------------

FORGED = "\r\nstatusguard: [forged-rule] MUST GET / -> 200: all good\u2028\x85\x1b[2J"
INJECTIONS = [
    pytest.param("GET", "/a" + FORGED, "404 Not Found", [], [], id="path"),
    pytest.param("GET\r\nX", "/a", "404 Not Found", [], [], id="method"),
    pytest.param("GET", "/a", "503 Service Unavailable" + FORGED, [("Content-Type", "text/plain")], [b"later"],
                 id="status-line"),
    pytest.param("GET", "/a", "503 Service Unavailable",
                 [("Content-Type", "text/plain"), ("Retry-After", "1" + FORGED)], [b"later"], id="retry-after"),
    pytest.param("GET", "/a", "201 Created", [("Content-Type", "text/plain"), ("Location", "/n#f" + FORGED)], [b"ok"],
                 id="location"),
    pytest.param("GET", "/a", "416 Range Not Satisfiable",
                 [("Content-Type", "text/plain"), ("Content-Range", "bytes 0-1/9" + FORGED)], [b"no"],
                 id="content-range"),
    pytest.param("POST", "/a", "405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET" + FORGED)],
                 [b"no"], id="allow"),
    pytest.param("GET", "/a", "200 OK", [("Content-Type", "text/plain"), ("Cache-Control", "max-age=1" + FORGED)],
                 [b"ok"], id="cache-control"),
    pytest.param("GET", "/a", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2" + FORGED)], [b"ok"],
                 id="content-length"),
    pytest.param("GET", "/a", "200 OK", [("Content-Type", "text/plain"), ("X Forged" + FORGED, "v")], [b"ok"],
                 id="header-name"),
    pytest.param("GET", "/a", "401 Unauthorized",
                 [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Basic realm="' + FORGED)], [b"no"],
                 id="www-authenticate"),
]
_LINE_BREAKS = ("\r", "\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")


# An ASGI status is an int: the cases that forge a status line apply to WSGI only.
GATEWAY_INJECTIONS = [
    pytest.param(gateway, *case.values, id=f"{gateway}-{case.id}")
    for case in INJECTIONS
    for gateway in ("wsgi", "asgi")
    if gateway == "wsgi" or "\r" not in case.values[2]
]


@pytest.mark.parametrize(("gateway", "method", "path", "status", "headers", "body"), GATEWAY_INJECTIONS)
def test_log_injection_is_escaped_one_record_per_violation(
    caplog: pytest.LogCaptureFixture, gateway: str, method: str, path: str, status: str, headers: list[Any],
    body: list[bytes],
) -> None:
    with caplog.at_level(logging.DEBUG, "statusguard"):
        served = SERVE[gateway](status, headers, body, mode="log", method=method, path=path, log_interval=0)
    assert served.stored, "the response was meant to break a rule"
    records = [r for r in caplog.records if hasattr(r, "rule")]
    assert len(records) == len(served.stored)  # one record per violation, no more
    assert [r.rule for r in records] == [v.rule for v in served.stored]  # type: ignore[attr-defined]
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s %(method)s %(path)s")
    for record in records:
        line = formatter.format(record)
        assert not any(char in line for char in _LINE_BREAKS), repr(line)
        assert "\x1b" not in line
    for violation in served.stored:
        assert not any(char in violation.message for char in _LINE_BREAKS)
    assert "forged-rule" not in [getattr(r, "rule", None) for r in caplog.records]


@pytest.mark.parametrize(("gateway", "method", "path", "status", "headers", "body"), GATEWAY_INJECTIONS)
def test_strict_error_lines_cannot_be_forged(
    gateway: str, method: str, path: str, status: str, headers: list[Any], body: list[bytes]
) -> None:
    served = SERVE[gateway](status, headers, body, mode="strict", method=method, path=path)
    if served.error is None:
        # Strict raised nothing: then nothing it found may be a MUST or SHOULD (which would raise).
        assert all(v.level in ("ADVISORY", "DEPRECATED") for v in served.stored), served.stored
        return
    lines = str(served.error).split("\n")
    allowed = ("  [", "      fix: ", "  (statusguard strict mode")
    assert lines[0].startswith(tuple(f"{n} status-code violation" for n in range(1, 50)))
    assert all(line.startswith(allowed) for line in lines[1:]), lines
    assert not any(char in str(served.error) for char in _LINE_BREAKS if char != "\n")


# -- fix bodies never echo the request ------------------------------------------------------------

MARKERS = ("MRKpath", "MRKquery", "MRKheader", "MRKaccept", "MRKagent", "MRKreferer", "MRKbody", "MRKcookie",
           "MRKMETHOD")
MARKED_REQUEST: dict[str, Any] = {
    "path": "/items/MRKpath/<script>",
    "query": "q=MRKquery&x=%3Cb%3E",
    "request_headers": [("X-Marker", "MRKheader"), ("Accept", "application/MRKaccept"), ("User-Agent", "MRKagent"),
                        ("Referer", "https://MRKreferer/"), ("Cookie", "MRKcookie=1")],
    "request_body": b'{"MRKbody": true}',
}
FIX_EVERYTHING: dict[str, Any] = {
    "rules": {"*": "fix"}, "www_authenticate": 'Bearer realm="api"', "retry_after": 120,
    "blocked_by": "https://isp.example/", "login_url": "https://login.example/", "known_methods": ["GET", "POST"],
    "allowed_methods": lambda request: ["GET", "POST"], "log_interval": 0,
}


@pytest.mark.parametrize("gateway", ["wsgi", "asgi"])
@pytest.mark.parametrize("method", ["GET", "MRKMETHOD"])
def test_problem_bodies_never_echo_request_data(caplog: pytest.LogCaptureFixture, gateway: str, method: str) -> None:
    written = 0
    with caplog.at_level(logging.CRITICAL, "statusguard"):
        for code in range(400, 600):
            served = SERVE[gateway](f"{code} Error", [], [], method=method, **MARKED_REQUEST, **FIX_EVERYTHING)
            if served.body.startswith(b"{"):
                written += 1
                assert json.loads(served.body)["status"] == served_status(served)
            wire = served.body.decode("latin-1") + repr(served.headers) + str(served.status)
            leaked = [marker for marker in MARKERS if marker.lower() in wire.lower()]
            assert leaked == [], f"{code}: the response echoes {leaked}: {wire[:400]!r}"
    assert written > 150  # most empty errors got a problem body: the check above had something to look at


def served_status(served: Served) -> int:
    return int(str(served.status)[:3])


# -- header parsers are linear --------------------------------------------------------------------

MB = 1 << 20


def hostile(unit: str, prefix: str = "") -> str:
    return (prefix + unit * (MB // len(unit) + 1))[:MB]


_PATTERNS = {
    "commas": hostile(","),
    "quotes": hostile('"'),
    "escaped-quotes": hostile('\\"', '"'),
    "equals": hostile("="),
    "pairs": hostile("a=b, "),
    "quoted-pairs": hostile('a="\\"", '),
    "unterminated": hostile("\\", 'Basic realm="'),
    "links": hostile('<a>;rel="x",'),
    "digits": hostile("9", "bytes 0-"),
    "spaces": hostile(" \t"),
}
_FIELDS = {  # the field, a status (and method) whose rules parse it, and the patterns that stress its parser
    "Cache-Control": (200, "GET", ["commas", "quotes", "escaped-quotes", "equals", "pairs", "quoted-pairs",
                                   "unterminated", "spaces"]),
    "WWW-Authenticate": (401, "GET", ["commas", "quotes", "escaped-quotes", "equals", "pairs", "quoted-pairs",
                                      "unterminated"]),
    "Link": (451, "GET", ["links", "quotes", "commas", "unterminated", "equals"]),
    "Allow": (405, "POST", ["commas", "quotes", "spaces", "pairs", "quoted-pairs"]),
    "Retry-After": (503, "GET", ["digits", "spaces", "quotes", "commas"]),
    "Content-Range": (206, "GET", ["digits", "commas", "spaces", "equals"]),
}
# KNOWN SLOW (not superlinear): a megabyte of 130 000 quoted pairs is 130 000 directives, each built once (the
# value is parsed once per response: test_cache_control_is_parsed_once_per_check); about 1 s on a loaded 2-core
# machine, so only its shape is asserted.
_SHAPE_ONLY = {("Cache-Control", "quoted-pairs")}
PATHOLOGICAL = [
    pytest.param(name, status, method, _PATTERNS[label], (name, label) not in _SHAPE_ONLY, id=f"{name}-{label}")
    for name, (status, method, labels) in _FIELDS.items()
    for label in labels
]


def timed_check(name: str, status: int, method: str, value: str) -> float:
    """CPU seconds of this process for one check() of a response carrying ``name: value``, the collector paused:
    what is timed is the parsing, not a collection of the whole test session's heap that the allocations happen
    to trigger, nor the other processes of a busy machine (wall-clock time would count them)."""
    headers = [(name, value), ("Content-Type", "text/plain")]
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        check(status, headers, b"x", method=method, request_headers=[("Range", "bytes=0-0")])
        return time.process_time() - started
    finally:
        gc.enable()


@pytest.mark.parametrize(("name", "status", "method", "value", "budgeted"), PATHOLOGICAL)
def test_header_parsers_are_linear_on_a_megabyte_of_hostile_input(
    name: str, status: int, method: str, value: str, budgeted: bool
) -> None:
    whole = timed_check(name, status, method, value)
    if whole >= 0.4:  # worth a second look: the best of two is what the machine can do
        whole = min(whole, timed_check(name, status, method, value))
    if budgeted:
        # Generous on a loaded 2-core machine; a quadratic parser takes minutes on a megabyte.
        assert whole < 2.0, f"check() took {whole:.2f}s of CPU on a 1 MB {name}"
    if whole >= 0.4:
        # The shape: four times the input costs about four times the time (16 would be quadratic).
        quarter = min(timed_check(name, status, method, value[: MB // 4]) for _ in range(2))
        assert whole < 8 * quarter, f"{name}: 256 KB in {quarter:.3f}s but 1 MB in {whole:.3f}s"


def test_cache_control_is_parsed_once_per_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from statusguard.core import headers

    calls = []
    original = headers.parse_cache_control

    def counting(values: list[str]) -> Any:
        calls.append(len(values))
        return original(values)

    # Every catalogue module that took the parser by name (each section imports what it uses).
    users = [
        module for name, module in sys.modules.items()
        if name.startswith("statusguard.core.rules") and getattr(module, "parse_cache_control", None) is original
    ]
    assert users, "no catalogue module uses parse_cache_control: the test would prove nothing"
    for module in users:
        monkeypatch.setattr(module, "parse_cache_control", counting)
    check(200, [("Cache-Control", "max-age=60, must-understand"), ("Content-Type", "text/plain")], b"x")
    assert len(calls) <= 1, f"Cache-Control parsed {len(calls)} times for one response"


# -- bounded dedup memory -------------------------------------------------------------------------


def test_dedup_memory_bounded_under_a_million_distinct_paths() -> None:
    quiet = logging.getLogger("statusguard-test-million")
    quiet.propagate = False
    quiet.setLevel(logging.CRITICAL)
    now = [0.0]
    reporter = Reporter(log=quiet, max_keys=4096, interval=60, clock=lambda: now[0])
    violation = Violation("4xx-explain", "SHOULD", 404, "m", "RFC 9110 §15.5", "h")
    started = time.process_time()
    # The whole reporting path for the first 50 000 (escape, dedup key, level), then the dedup itself for a
    # million distinct keys of the shape report() builds (a million full report() calls would take ~10 s).
    for index in range(50_000):
        now[0] += 0.001
        reporter.report(violation, ViolationContext("GET", f"/items/{index}" + "x" * (index % 300), 404, "logged",
                                                    "wsgi"))
        assert len(reporter._seen) <= reporter.max_keys
    should_log = reporter._should_log
    sizes = []
    for index in range(1_000_000):
        now[0] += 0.001
        assert should_log(("4xx-explain", "GET", f"/p/{index}"))  # every path is new: each is logged once
        if index % 100_000 == 0:
            sizes.append(len(reporter._seen))
    elapsed = time.process_time() - started
    assert max(sizes) <= 4096
    assert len(reporter._seen) == 4096
    assert ("4xx-explain", "GET", "/p/999999") in reporter._seen  # the most recent keys are kept
    assert elapsed < 60, f"{elapsed:.1f}s for a million paths"
    print(f"dedup: 1 050 000 distinct paths, {len(reporter._seen)} keys kept, {elapsed:.1f}s")
