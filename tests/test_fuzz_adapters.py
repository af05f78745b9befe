"""Hostile apps through both adapters, in every mode: generated responses, generated failures.

Each example is one generated app (a random status from 0 to 999, a random header list with
duplicates, empty values, CR/LF/NUL, non-Latin-1 text, ~10 KB values and names with spaces, a
body split into random chunks, and an exception at a random point) run through WSGIMiddleware and
ASGIMiddleware in each of the four modes (with, now and then, per-rule selectors on top: 'log'
for syntax rules, classes off, every opt-in rule on 'fix', 'raise' in any mode) against a
recording server that also checks the server side of the protocol. The oracle is
``statusguard.check`` on what the app sent, with the request's facts and the same selectors.
Invariants:

- off, log, fix: the only exception that ever comes out is the app's own; strict (or a 'raise'
  selector): the app's own or StatusViolationError. statusguard never logs an internal error.
- WSGI: close() of the app's iterable is called exactly once whenever the app returned one.
- A response that breaks no rule arrives byte for byte (the app's own status and header objects,
  the same bytes), the one allowed difference being the configured Retry-After fix and strict
  modes add to a 429/503 without one; in off mode, and in log mode without 'fix'/'raise'
  selectors, every completed response does.
- When the delivered head carries one valid Content-Length (not HEAD, a status that allows
  content) and statusguard wrote it or the app's own was true, the bytes delivered match it.
- The rules statusguard reports as fixed do not fire on a re-check of the delivered response, and
  the request's recorded violations (environ / scope state) are all rules the oracle finds in what
  the app sent or in what was delivered (unless the app's own Content-Length lied, which is
  believed until the bytes are counted).

Two engine/fixer bugs the fuzzer found are left out of these invariants (events say how often)
and have regression tests at the end of this file; a third (wsgi.py) and a fourth
(asgi.py) were fixed and have regression tests there.
- ASGI: at most one start; once started, a completed app's response ends with exactly one final
  body message; trailers only after it and only when the delivered start announced them; the
  app's own messages are never mutated.

Profiles (tests/conftest.py): HYPOTHESIS_PROFILE=ci (default, 200 examples, derandomized) or dev.
``pytest --hypothesis-show-statistics`` shows the outcome events of each test.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import COUNTS
from hypothesis import event, given
from hypothesis import strategies as st

from statusguard import ASGIMiddleware, StatusViolationError, WSGIMiddleware, check
from statusguard._phrases import reason_phrase

MODES = ("off", "log", "fix", "strict")
FIX_OPTIONS: dict[str, Any] = {
    "www_authenticate": 'Bearer realm="api"',
    "retry_after": 120,
    "blocked_by": "https://isp.example/",
    "login_url": "https://login.example/",
}
ROUTER_METHODS = ("GET", "POST")
NO_CONTENT = frozenset({204, 205, 304})


class AppError(Exception):
    """The app's own failure: the only exception allowed out of the middleware in off/log/fix mode."""


class InternalErrors(logging.Handler):
    """Collects statusguard's 'internal error' records (an attached handler: no caplog in @given)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "internal error" in record.getMessage() or "hook raised" in record.getMessage():
            self.records.append(record)


@pytest.fixture(autouse=True)
def internal_errors() -> Iterator[InternalErrors]:
    handler = InternalErrors()
    logger = logging.getLogger("statusguard")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
    assert handler.records == [], [r.getMessage() for r in handler.records]


# -- strategies -----------------------------------------------------------------------------------

_CODES = st.one_of(
    st.integers(0, 999),
    st.sampled_from([200, 201, 204, 205, 206, 301, 302, 304, 400, 401, 403, 404, 405, 407, 412, 413, 416, 418,
                     426, 429, 451, 500, 501, 503, 511, 101, 103]),
)
_NAMES = [
    "Content-Type", "content-type", "Content-Length", "Cache-Control", "Expires", "ETag", "Location", "Allow",
    "WWW-Authenticate", "Proxy-Authenticate", "Retry-After", "Link", "Content-Range", "Transfer-Encoding",
    "Connection", "Set-Cookie", "Vary", "Date", "Last-Modified", "Status", "X-Trace", "Accept-Ranges",
    "X Spaced Name", " Leading", "", "Bad:Colon", "Tab\tName", "caf\u00e9", "Nul\x00",
]
_VALUES = [
    "", " ", "text/plain", "application/json", "application/problem+json", "no-store", "max-age=60",
    "public, max-age=60", "no-cache", 'Bearer realm="api"', "Basic", "GET, HEAD", "GET, , POST", "120", "-1",
    "soon", "Sun, 06 Nov 1994 08:49:37 GMT", "bytes 0-1/10", "bytes */10", "bytes 5-1/3", "/next", "https://x/",
    "chunked", "close", "a\r\nb", "a\nInjected: yes", "nul\x00byte", "caf\u00e9", "snow \u2603", "\x7f\x01",
    '"v1"', 'W/"v1"', "sid=abc; HttpOnly", '</a>; rel="blocked-by"', "0", "5", "10, 10",
]
# Pathological values up to ~10 KB: long runs of the characters parsers choke on.
_HUGE = st.builds(
    lambda unit, count: (unit * count)[:10_240],
    st.sampled_from([",", '"', "\\", "=", "a", " ", "a=b, ", "<", ";", "9", 'x="', "\r", "\xff"]),
    st.integers(0, 10_240),
)
_NAME = st.one_of(st.sampled_from(_NAMES), st.text(max_size=8))
_VALUE = st.one_of(st.sampled_from(_VALUES), st.text(max_size=16), _HUGE)
_CHUNKS = st.lists(
    st.one_of(st.just(b""), st.binary(min_size=1, max_size=40), st.builds(lambda n: b"x" * n, st.integers(0, 5000))),
    max_size=6,
)
# How the app frames its body: no Content-Length, a true one, a wrong one, 0, junk, a duplicate.
_LENGTH = st.sampled_from(["none", "true", "true", "true", "wrong", "zero", "junk", "dup"])
_REQUEST_HEADERS = st.dictionaries(
    st.sampled_from(["Range", "If-None-Match", "If-Match", "If-Modified-Since", "Authorization", "Cookie",
                     "Upgrade", "Expect", "Accept", "Origin"]),
    st.sampled_from(["bytes=0-1", "bytes=0-1, 4-5", '"a"', "*", "Sun, 06 Nov 1994 08:49:37 GMT", "Bearer t0k3n",
                     "sid=c00k13", "websocket", "100-continue", "*/*", "https://o.example"]),
    max_size=3,
)
_REQUEST = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "GET", "GET", "HEAD", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT",
                               "get"]),
    "request_headers": _REQUEST_HEADERS.map(lambda d: list(d.items())),
    "http_version": st.sampled_from(["1.0", "1.1", "1.1", "2"]),
})
# Per-rule selectors on top of the mode (None most of the time): turning logging-only rules on, classes off,
# every opt-in rule to fix, and 'raise' in any mode.
_RULESETS = st.sampled_from([
    None, None, None, None,
    {"field-value-syntax": "log", "field-name-syntax": "log"},
    {"4xx": "log", "429-not-storable": "fix", "5xx": "off"},
    {"*": "fix"},
    {"405-allow": "raise", "4xx-explain": "raise", "field-value-syntax": "log"},
])
# Where the app raises: nowhere, before start, after start, after n chunks, at close() (WSGI) / after the end (ASGI).
_FAIL = st.one_of(
    st.just(None), st.just(None), st.just(None),
    st.sampled_from(["before_start", "after_start", "in_close"]),
    st.integers(0, 6).map(lambda n: f"mid_body:{n}"),
)


@st.composite
def tame_responses(draw: st.DrawFn) -> tuple[int, list[tuple[str, str]], list[bytes], str, dict[str, Any]]:
    """Responses most of which break no rule: the byte-for-byte promise needs many clean examples."""
    code = draw(st.sampled_from([200, 200, 201, 202, 203, 204, 301, 302, 303, 307, 400, 403, 404, 409, 410, 422,
                                 500, 502]))
    chunks = [] if code == 204 else draw(st.lists(st.binary(min_size=0, max_size=30), min_size=1, max_size=5))
    headers = [("Content-Type", "text/plain")] if code != 204 else []
    if code in (301, 302, 303, 307):
        headers.append(("Location", "/next"))
    headers += draw(st.lists(st.sampled_from([("X-Trace", "1"), ("Cache-Control", "no-cache"), ("ETag", '"v1"'),
                                              ("Vary", "Accept"), ("Set-Cookie", "a=1")]), max_size=2, unique=True))
    length = draw(st.sampled_from(["none", "true"])) if code != 204 else "none"
    request = {"method": draw(st.sampled_from(["GET", "POST", "DELETE"])), "request_headers": [],
               "http_version": draw(st.sampled_from(["1.1", "2"]))}
    return code, headers, chunks, length, request


def _framed(headers: list[Any], chunks: list[bytes], length: str, encode: Callable[[str], Any]) -> list[Any]:
    total = sum(len(c) for c in chunks)
    extra = {
        "none": [], "true": [str(total)], "wrong": [str(total + 3)], "zero": ["0"], "junk": ["12abc"],
        "dup": [str(total), str(total)],
    }[length]
    return [*headers, *((encode("Content-Length"), encode(value)) for value in extra)]


def _app_length_true(headers: list[tuple[str, str]], chunks: list[bytes]) -> bool:
    """The app declared no Content-Length, or only the true one (so statusguard must keep it true)."""
    declared = [value for name, value in headers if name.lower() == "content-length"]
    return all(value == str(sum(len(c) for c in chunks)) for value in declared)


def _content_length_true(
    method: str, status: object, headers: list[tuple[str, str]], body: bytes, app_headers: list[tuple[str, str]],
    app_chunks: list[bytes],
) -> None:
    """The delivered Content-Length, when there is exactly one and it is a number, counts the delivered bytes,
    unless it is the app's own untrue declaration passed through unchanged (nothing can mend a streamed lie)."""
    lengths = [value for name, value in headers if name.lower() == "content-length"]
    if method == "HEAD" or len(lengths) != 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
        return
    if not isinstance(status, int) or 100 <= status < 200 or status in NO_CONTENT:
        return
    app_lengths = [value for name, value in app_headers if name.lower() == "content-length"]
    if not _app_length_true(app_headers, app_chunks) and lengths == app_lengths:
        event("an untrue Content-Length of the app's passed through")
        return
    assert int(lengths[0]) == len(body), (lengths, len(body))


def _only_a_configured_hint(mode: str, code: object, app: list[tuple[str, str]], sent: list[tuple[str, str]]) -> bool:
    """Is the one difference the configured Retry-After that fix and strict modes add to a 429/503 without one
    (fixer.wants_hints: a MAY of RULES.md, applied though the response breaks no rule)?"""
    if mode not in ("fix", "strict") or code not in (429, 503):
        return False
    if any(name.lower() == "retry-after" for name, _ in app):
        return False
    return [(n.lower(), v) for n, v in sent] == [(n.lower(), v) for n, v in app] + [("retry-after", "120")]


def _pairs(headers: Any) -> list[tuple[str, str]]:
    """Decode a header list the way a reader would, skipping what is not a (name, value) pair."""
    pairs = []
    for entry in headers if isinstance(headers, list) else ():
        if isinstance(entry, tuple) and len(entry) == 2:
            name, value = (item.decode("latin-1") if isinstance(item, bytes) else item for item in entry)
            if isinstance(name, str) and isinstance(value, str):
                pairs.append((name, value))
    return pairs


# -- WSGI -----------------------------------------------------------------------------------------

_WSGI_STATUS = st.one_of(
    st.builds(lambda code, reason: f"{code:03d} {reason}", _CODES,
              st.sampled_from(["OK", "Not Found", "Whatever", "", " ", "Bad\r\nX: y", "caf\u00e9"])),
    st.builds(str, _CODES),
    st.sampled_from(["", "abc", "2000 Big", "200OK", " 200 OK"]),
)
_WSGI_ENTRY = st.one_of(
    st.tuples(_NAME, _VALUE), st.tuples(_NAME, _VALUE), st.tuples(_NAME, _VALUE), st.tuples(_NAME, _VALUE),
    st.tuples(st.sampled_from([b"X-Bytes", b"Content-Type"]), st.sampled_from([b"\xff\x00", b"text/plain"])),
    st.sampled_from([None, "Content-Type: text/plain", ("Set-Cookie", "a=1", "HttpOnly"), ("X",), (1, 2)]),
)


@dataclass
class WsgiPlan:
    status: str
    headers: list[Any]
    chunks: list[bytes]
    container: str  # "list" (with close()), "plainlist" (a bare list), "iter" or "write"
    fail: str | None
    method: str
    request_headers: list[tuple[str, str]]
    http_version: str
    rules: dict[str, str] | None = None

    @property
    def fail_at(self) -> int | None:
        return int(self.fail.split(":")[1]) if self.fail and self.fail.startswith("mid_body:") else None


@st.composite
def wsgi_plans(draw: st.DrawFn) -> WsgiPlan:
    if draw(st.booleans()):
        code, entries, chunks, length, request = draw(tame_responses())
        status = f"{code} {reason_phrase(code)}"
    else:
        chunks = draw(_CHUNKS)
        entries = draw(st.lists(_WSGI_ENTRY, max_size=8))
        # Duplicates: repeat some of the app's own entries.
        entries += draw(st.lists(st.sampled_from(entries), max_size=2)) if entries else []
        length, request, status = draw(_LENGTH), draw(_REQUEST), draw(_WSGI_STATUS)
    container = draw(st.sampled_from(["list", "plainlist", "iter", "write"]))
    fail = draw(_FAIL)
    if container == "plainlist" and fail not in ("before_start", "after_start"):
        fail = None  # a plain list can neither fail mid-body nor have a close() that fails
    return WsgiPlan(
        status, _framed(entries, chunks, length, str), chunks, container, fail, request["method"],
        request["request_headers"], request["http_version"], draw(_RULESETS),
    )


@dataclass
class Probe:
    returned: bool = False
    closed: int = 0


class ClosingList(list[bytes]):
    """A list body (checked whole by the middleware) with a close() that is counted, and may fail."""

    def __init__(self, chunks: list[bytes], probe: Probe, fail_close: bool, fail_at: int | None = None) -> None:
        super().__init__(chunks)
        self.probe, self.fail_close, self.fail_at = probe, fail_close, fail_at

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(list.__iter__(self)):
            if index == self.fail_at:
                raise AppError("the list body failed")
            yield chunk
        if self.fail_at is not None:
            raise AppError("the list body failed at its end")

    def close(self) -> None:
        self.probe.closed += 1
        if self.fail_close:
            raise AppError("close() failed")


class AppIterable:
    """A streamed body: yields its chunks, may fail after ``fail_at`` of them; counts close()."""

    def __init__(self, chunks: list[bytes], probe: Probe, fail_close: bool, fail_at: int | None) -> None:
        self.chunks, self.probe, self.fail_close, self.fail_at = chunks, probe, fail_close, fail_at

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise AppError("the body failed mid-stream")
            yield chunk
        if self.fail_at is not None:
            raise AppError("the body failed at its end")

    def close(self) -> None:
        self.probe.closed += 1
        if self.fail_close:
            raise AppError("close() failed")


def make_wsgi_app(plan: WsgiPlan, probe: Probe) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if plan.fail == "before_start":
            raise AppError("failed before start_response")
        write = start_response(plan.status, plan.headers)
        if plan.fail == "after_start":
            raise AppError("failed after start_response")
        fail_close = plan.fail == "in_close"
        if plan.container == "write":
            for index, chunk in enumerate(plan.chunks):
                if index == plan.fail_at:
                    raise AppError("failed between two write() calls")
                write(chunk)
            if plan.fail_at is not None:
                raise AppError("failed after its write() calls")
            result: Any = ClosingList([], probe, fail_close)
        elif plan.container == "plainlist":
            return list(plan.chunks)  # nothing to close: probe.returned stays False
        elif plan.container == "list":
            result = ClosingList(plan.chunks, probe, fail_close, plan.fail_at)
        else:
            result = AppIterable(plan.chunks, probe, fail_close, plan.fail_at)
        probe.returned = True
        return result

    return app


class ProtocolBreach(AssertionError):
    """The middleware broke PEP 3333 towards the server (never the app's fault: statusguard's)."""


class WsgiServer:
    """A strict recording server: one start_response unless exc_info, writes only after it, bytes only."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any, Any]] = []
        self.headers_sent = False
        self.chunks: list[bytes] = []

    def start_response(self, status: Any, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.headers_sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.calls:
            raise ProtocolBreach("start_response called twice without exc_info")
        self.calls.append((status, headers, exc_info))
        return self.write

    def write(self, data: bytes) -> None:
        if not self.calls:
            raise ProtocolBreach("a body byte before start_response")
        if not isinstance(data, bytes):
            raise ProtocolBreach(f"a body chunk of type {type(data).__name__}")
        self.headers_sent = self.headers_sent or bool(data)
        self.chunks.append(data)

    def run(self, app: Callable[..., Any], environ: dict[str, Any]) -> None:
        result = app(environ, self.start_response)
        try:
            for data in result:
                self.write(data)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def wsgi_environ(plan: WsgiPlan) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": plan.method, "SCRIPT_NAME": "", "PATH_INFO": "/fuzz", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": f"HTTP/{plan.http_version}",
        "wsgi.url_scheme": "http",
    }
    for name, value in plan.request_headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


@dataclass
class Outcome:
    mode: str
    error: BaseException | None
    rules: dict[str, str] | None = None
    hooked: list[tuple[str, str]] = field(default_factory=list)  # (rule, action) from on_violation
    recorded: list[str] = field(default_factory=list)  # the rules left in the environ / scope state

    @property
    def may_raise(self) -> bool:
        return self.mode == "strict" or (self.mode != "off" and "raise" in (self.rules or {}).values())

    @property
    def may_change(self) -> bool:
        """May statusguard change the response (else it must arrive byte for byte, broken or not)?"""
        actions = set((self.rules or {}).values())
        return self.mode in ("fix", "strict") or (self.mode == "log" and bool(actions & {"fix", "raise"}))


def recorder_of(outcome: Outcome) -> Callable[[Any, Any], None]:
    def hook(violation: Any, context: Any) -> None:
        outcome.hooked.append((violation.rule, context.action))

    return hook


def run_wsgi(plan: WsgiPlan, mode: str) -> tuple[Outcome, WsgiServer, Probe]:
    probe = Probe()
    outcome = Outcome(mode, None, plan.rules)
    middleware = WSGIMiddleware(
        make_wsgi_app(plan, probe), mode=mode, rules=plan.rules, on_violation=recorder_of(outcome),
        allowed_methods=lambda environ: ROUTER_METHODS, **FIX_OPTIONS,
    )
    environ = wsgi_environ(plan)
    server = WsgiServer()
    try:
        server.run(middleware, environ)
    except Exception as exc:
        outcome.error = exc
    outcome.recorded = [v.rule for v in environ.get("statusguard.violations", ())]
    return outcome, server, probe


def assert_allowed_error(outcome: Outcome) -> None:
    error = outcome.error
    if error is None:
        return
    allowed: tuple[type[BaseException], ...] = (AppError, StatusViolationError) if outcome.may_raise else (AppError,)
    assert isinstance(error, allowed), f"{outcome.mode}: statusguard raised {error!r}"
    event(f"{outcome.mode}: {type(error).__name__}")


def guard_raised(outcome: Outcome) -> bool:
    """Did statusguard raise (strict mode or a 'raise' selector)? Possibly replaced by the app's failing close(),
    which the server called next."""
    error = outcome.error
    return isinstance(error, StatusViolationError) or (
        isinstance(error, AppError) and isinstance(error.__context__, StatusViolationError)
    )


def assert_fixed_rules_recheck_clean(outcome: Outcome, rechecked: set[str], headers_passed_through: bool) -> None:
    fixed = {rule for rule, action in outcome.hooked if action in ("fixed", "quiet")}
    if headers_passed_through and "field-name-syntax" in fixed:
        # KNOWN BUG (engine.py/fixer.py, see test_malformed_header_entries_dropped_when_that_is_the_only_fix):
        # dropping entries that are not (name, value) pairs is the only change, and it is not seen as one.
        event("KNOWN BUG: malformed header entries reported fixed but passed through")
        fixed.discard("field-name-syntax")
    assert not fixed & rechecked, f"{outcome.mode}: fixed {sorted(fixed)}, still breaks {sorted(fixed & rechecked)}"


@given(plan=wsgi_plans())
def test_wsgi_hostile_apps_in_every_mode(plan: WsgiPlan) -> None:
    COUNTS["fuzz examples: generated WSGI apps (each run in every mode)"] += 1
    request = {"method": plan.method, "request_headers": plan.request_headers, "http_version": plan.http_version}
    expected = check(plan.status, plan.headers, b"".join(plan.chunks), gateway="wsgi",
                     allowed_methods=ROUTER_METHODS, rules=plan.rules, **request)
    expected_rules = {v.rule for v in expected}
    event("clean" if not expected else "breaks a rule")
    completed = plan.fail in (None, "in_close")
    for mode in MODES:
        outcome, server, probe = run_wsgi(plan, mode)
        assert_allowed_error(outcome)
        if probe.returned:
            assert probe.closed == 1, f"{mode}: close() called {probe.closed} times"
        if not completed:
            # The app's failure propagates, unless statusguard owned the body (dropped or replaced it) and
            # so never pulled the app's iterator as far as the failing chunk.
            event(f"{mode}: a failing app {'failed' if outcome.error is not None else 'was not pulled that far'}")
            continue
        if plan.fail is None:
            assert outcome.error is None or isinstance(outcome.error, StatusViolationError), outcome.error
        else:
            assert outcome.error is not None  # the failing close(), after a complete response (or strict's error)
        if guard_raised(outcome):
            assert expected, f"{mode}: raised on a clean response: {outcome.error}"
            continue
        assert len(server.calls) == 1, f"{mode}: {len(server.calls)} start_response calls"
        status, headers, exc_info = server.calls[0]
        assert exc_info is None
        if not expected or not outcome.may_change:
            if _app_length_true(_pairs(plan.headers), plan.chunks):
                # (An app's untrue Content-Length is believed until the end: a 404 declaring 0 bytes is judged
                # empty, and the lie itself is reported once the bytes are counted.)
                assert set(outcome.recorded) <= expected_rules, (mode, outcome.recorded, expected)
            # Byte for byte: the app's own objects, the same bytes.
            assert server.body == b"".join(plan.chunks)
            code = int(plan.status[:3]) if plan.status[:3].isdigit() else None
            if headers is not plan.headers and _only_a_configured_hint(mode, code, _pairs(plan.headers),
                                                                        _pairs(headers)):
                event("a configured Retry-After added to a clean 429/503")
                continue
            assert status is plan.status, f"{mode}: status {status!r} for {plan.status!r}"
            assert headers is plan.headers, f"{mode}: headers rewritten"
            if not expected:
                assert outcome.recorded == []
            continue
        delivered = _pairs(headers)
        _content_length_true(plan.method, int(status[:3]) if status[:3].isdigit() else status, delivered,
                             server.body, _pairs(plan.headers), plan.chunks)
        rechecked = {v.rule for v in check(status, headers, server.body, gateway="wsgi",
                                           allowed_methods=ROUTER_METHODS, rules=plan.rules, **request)}
        # Every recorded violation is in what the app sent or in what was delivered (the length phase
        # judges the bytes that went out, e.g. content left without a type once a NUL-bearing
        # Content-Type was dropped).
        if _app_length_true(_pairs(plan.headers), plan.chunks):
            assert set(outcome.recorded) <= expected_rules | rechecked, (mode, outcome.recorded, expected, rechecked)
        if isinstance(status, str) and not (status[:3].isdigit() and len(status) > 3 and status[3] == " "):
            # KNOWN BUG (engine.py, see test_wsgi_status_line_rebuilt_for_a_code_under_100_is_three_digits):
            # a code under 100 is rebuilt as "0 Unknown", which still breaks wsgi-status-string.
            event("KNOWN BUG: a rebuilt status line that is not three digits")
            outcome.hooked = [(rule, action) for rule, action in outcome.hooked if rule != "wsgi-status-string"]
        assert_fixed_rules_recheck_clean(outcome, rechecked, headers is plan.headers)


# -- ASGI -----------------------------------------------------------------------------------------

_ASGI_STATUS = st.one_of(_CODES, _CODES, _CODES, st.sampled_from(["404", None, 200.0]))
_BYTES_NAME = st.one_of(st.sampled_from(_NAMES).map(lambda n: n.encode("utf-8")), st.binary(max_size=8))
_BYTES_VALUE = st.one_of(
    st.sampled_from(_VALUES).map(lambda v: v.encode("utf-8")), st.binary(max_size=16),
    _HUGE.map(lambda v: v.encode("latin-1")),
)
_ASGI_ENTRY = st.one_of(
    st.tuples(_BYTES_NAME, _BYTES_VALUE), st.tuples(_BYTES_NAME, _BYTES_VALUE), st.tuples(_BYTES_NAME, _BYTES_VALUE),
    st.tuples(_BYTES_NAME.map(bytes.lower), _BYTES_VALUE),
    st.tuples(st.sampled_from(["content-type", "x-str"]), st.sampled_from(["text/plain", "snow \u2603"])),
    st.sampled_from([None, b"content-type: text/plain", (b"set-cookie", b"a=1", b"httponly"), (b"x",)]),
)


@dataclass
class AsgiPlan:
    status: Any
    headers: list[Any]
    chunks: list[bytes]
    final_empty: bool  # end with an extra empty body message
    sparse_keys: bool  # leave out "more_body": False and empty "body" keys where the spec allows
    trailers: bool
    fail: str | None
    method: str
    request_headers: list[tuple[str, str]]
    http_version: str
    rules: dict[str, str] | None = None

    @property
    def fail_at(self) -> int | None:
        return int(self.fail.split(":")[1]) if self.fail and self.fail.startswith("mid_body:") else None

    def messages(self) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
        start: dict[str, Any] = {"type": "http.response.start", "status": self.status, "headers": self.headers}
        if self.trailers:
            start["trailers"] = True
        pieces = [*self.chunks, b""] if self.final_empty or not self.chunks else list(self.chunks)
        bodies = []
        for index, piece in enumerate(pieces):
            message: dict[str, Any] = {"type": "http.response.body"}
            if piece or not self.sparse_keys:
                message["body"] = piece
            last = index == len(pieces) - 1
            if not last or not self.sparse_keys:
                message["more_body"] = not last
            bodies.append(message)
        trailers = {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")], "more_trailers": False}
        return start, bodies, trailers if self.trailers else None


@st.composite
def asgi_plans(draw: st.DrawFn) -> AsgiPlan:
    status: Any
    if draw(st.booleans()):
        status, pairs, chunks, length, request = draw(tame_responses())
        entries: list[Any] = [(name.lower().encode(), value.encode()) for name, value in pairs]
    else:
        chunks = draw(_CHUNKS)
        entries = draw(st.lists(_ASGI_ENTRY, max_size=8))
        entries += draw(st.lists(st.sampled_from(entries), max_size=2)) if entries else []
        status, length, request = draw(_ASGI_STATUS), draw(_LENGTH), draw(_REQUEST)
    headers = _framed(entries, chunks, length, lambda text: text.lower().encode("latin-1"))
    fail = draw(_FAIL)
    return AsgiPlan(
        status, headers, chunks, draw(st.booleans()), draw(st.booleans()), draw(st.booleans()),
        "after_end" if fail == "in_close" else fail,
        request["method"], request["request_headers"], request["http_version"], draw(_RULESETS),
    )


class AsgiServer:
    """Records what reaches the server and every breach of the ASGI HTTP message order."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.breaches: list[str] = []
        self.start: dict[str, Any] | None = None
        self.finals = 0

    async def send(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "http.response.start":
            if self.start is not None:
                self.breaches.append("a second http.response.start")
            self.start = message
        elif kind == "http.response.body":
            if self.start is None:
                self.breaches.append("a body message before the start")
            if self.finals:
                self.breaches.append("a body message after the final one")
            if not isinstance(message.get("body", b""), bytes):
                self.breaches.append("a body that is not bytes")
            if not message.get("more_body", False):
                self.finals += 1
        elif kind == "http.response.trailers":
            if not self.finals:
                self.breaches.append("trailers before the final body message")
            if self.start is None or not self.start.get("trailers", False):
                self.breaches.append("trailers the start did not announce")
        else:
            self.breaches.append(f"an unexpected {kind!r} message")
        self.messages.append(message)

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


def make_asgi_app(plan: AsgiPlan) -> tuple[Callable[..., Any], list[dict[str, Any]]]:
    start, bodies, trailers = plan.messages()
    sent: list[dict[str, Any]] = [start, *bodies, *([trailers] if trailers else [])]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if plan.fail == "before_start":
            raise AppError("failed before the start")
        await send(start)
        if plan.fail == "after_start":
            raise AppError("failed after the start")
        for index, message in enumerate(bodies):
            if index == plan.fail_at:
                raise AppError("failed mid-body")
            await send(message)
        if plan.fail_at is not None:
            raise AppError("failed after its last body message")
        if trailers is not None:
            await send(trailers)
        if plan.fail == "after_end":
            raise AppError("failed after the response ended")

    return app, sent


def asgi_scope(plan: AsgiPlan) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": plan.http_version,
        "method": plan.method, "scheme": "http", "path": "/fuzz", "raw_path": b"/fuzz", "query_string": b"",
        "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in plan.request_headers],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }


async def run_asgi_modes(plan: AsgiPlan) -> list[tuple[Outcome, AsgiServer, list[dict[str, Any]], Any]]:
    runs = []
    for mode in MODES:
        app, sent = make_asgi_app(plan)
        snapshot = copy.deepcopy(sent)
        outcome = Outcome(mode, None, plan.rules)
        middleware = ASGIMiddleware(
            app, mode=mode, rules=plan.rules, on_violation=recorder_of(outcome),
            allowed_methods=lambda scope: ROUTER_METHODS, **FIX_OPTIONS,
        )
        scope = asgi_scope(plan)
        server = AsgiServer()
        try:
            await middleware(scope, server.receive, server.send)
        except Exception as exc:
            outcome.error = exc
        if mode != "off":
            outcome.recorded = [v.rule for v in scope["state"]["statusguard.violations"]]
        assert sent == snapshot, f"{mode}: the app's messages were mutated"
        runs.append((outcome, server, sent, scope))
    return runs


@given(plan=asgi_plans())
def test_asgi_hostile_apps_in_every_mode(plan: AsgiPlan) -> None:
    COUNTS["fuzz examples: generated ASGI apps (each run in every mode)"] += 1
    request = {"method": plan.method, "request_headers": plan.request_headers, "http_version": plan.http_version}
    expected = check(plan.status, plan.headers, b"".join(plan.chunks), gateway="asgi",
                     allowed_methods=ROUTER_METHODS, rules=plan.rules, **request)
    expected_rules = {v.rule for v in expected}
    event("clean" if not expected else "breaks a rule")
    completed = plan.fail in (None, "after_end")
    for outcome, server, sent, _scope in asyncio.run(run_asgi_modes(plan)):
        mode = outcome.mode
        assert_allowed_error(outcome)
        assert server.breaches == [], f"{mode}: {server.breaches}"
        if not completed:
            assert outcome.error is not None
            continue
        if plan.fail is None:
            assert outcome.error is None or isinstance(outcome.error, StatusViolationError), outcome.error
        if guard_raised(outcome):
            assert expected, f"{mode}: raised on a clean response: {outcome.error}"
            continue
        assert server.start is not None, f"{mode}: no start reached the server"
        assert server.finals == 1, f"{mode}: {server.finals} final body messages"
        app_start = sent[0]
        if not expected or not outcome.may_change:
            if _app_length_true(_pairs(plan.headers), plan.chunks):
                # (An app's untrue Content-Length is believed until the end: a 404 declaring 0 bytes is judged
                # empty, and the lie itself is reported once the bytes are counted.)
                assert set(outcome.recorded) <= expected_rules, (mode, outcome.recorded, expected)
            assert server.body == b"".join(plan.chunks)
            if server.start is not app_start and _only_a_configured_hint(
                mode, server.start["status"], _pairs(plan.headers), _pairs(server.start["headers"])
            ):
                event("a configured Retry-After added to a clean 429/503")
                continue
            assert server.start is app_start, f"{mode}: the start was rewritten"
            assert all(any(m is s for s in sent) for m in server.messages), f"{mode}: a message was rewritten"
            if plan.trailers:
                assert server.messages[-1] is sent[-1]
            if not expected:
                assert outcome.recorded == []
            continue
        status, headers = server.start["status"], server.start["headers"]
        delivered = _pairs(headers)
        _content_length_true(plan.method, status, delivered, server.body, _pairs(plan.headers), plan.chunks)
        rechecked = {v.rule for v in check(status, headers, server.body, gateway="asgi",
                                           allowed_methods=ROUTER_METHODS, rules=plan.rules, **request)}
        if _app_length_true(_pairs(plan.headers), plan.chunks):
            assert set(outcome.recorded) <= expected_rules | rechecked, (mode, outcome.recorded, expected, rechecked)
        assert_fixed_rules_recheck_clean(outcome, rechecked, headers is plan.headers)


# -- regressions the fuzzer found -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["0", "42", "7 Seven", "00"])
def test_wsgi_status_line_rebuilt_for_a_code_under_100_is_three_digits(status: str) -> None:
    hooked: list[tuple[str, str]] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain"), ("Status", "200")])
        return [b"ok"]

    server = WsgiServer()
    middleware = WSGIMiddleware(app, mode="fix", on_violation=lambda v, c: hooked.append((v.rule, c.action)))
    server.run(middleware, {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_PROTOCOL": "HTTP/1.1"})
    assert ("wsgi-status-string", "fixed") in hooked
    sent = server.calls[0][0]
    # PEP 3333: three digits, a space, a reason phrase; what statusguard calls fixed must re-check clean.
    assert sent[:3].isdigit(), sent
    assert sent[3:4] == " ", sent
    assert "wsgi-status-string" not in {v.rule for v in check(sent, server.calls[0][1], b"ok", gateway="wsgi")}


@pytest.mark.parametrize("gateway", ["wsgi", "asgi"])
@pytest.mark.parametrize("entry", [None, "Content-Type: text/plain", ("X-A", "1", "2")], ids=["none", "str", "triple"])
def test_malformed_header_entries_dropped_when_that_is_the_only_fix(gateway: str, entry: Any) -> None:
    hooked: list[tuple[str, str]] = []

    def hook(v: Any, c: Any) -> None:
        hooked.append((v.rule, c.action))

    if gateway == "wsgi":
        headers: list[Any] = [("Content-Type", "text/plain"), ("Content-Length", "2"), entry]

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            start_response("200 OK", headers)
            return [b"ok"]

        server = WsgiServer()
        server.run(WSGIMiddleware(app, mode="fix", on_violation=hook),
                   {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_PROTOCOL": "HTTP/1.1"})
        delivered = server.calls[0][1]
    else:
        raw = entry.encode() if isinstance(entry, str) else entry
        asgi_headers: list[Any] = [(b"content-type", b"text/plain"), (b"content-length", b"2"), raw]

        async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": asgi_headers})
            await send({"type": "http.response.body", "body": b"ok"})

        asgi_server = AsgiServer()
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "http_version": "1.1"}
        asyncio.run(ASGIMiddleware(asgi_app, mode="fix", on_violation=hook)(scope, asgi_server.receive,
                                                                            asgi_server.send))
        assert asgi_server.start is not None
        delivered = asgi_server.start["headers"]
    assert hooked == [("field-name-syntax", "fixed")]
    assert all(isinstance(item, tuple) and len(item) == 2 for item in delivered), delivered


@pytest.mark.parametrize("mode", ["log", "fix"])
@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_wsgi_empty_status_string_with_a_held_head_is_not_mistaken_for_no_start_response(
    mode: str, method: str
) -> None:
    # Found by the fuzzer (fixed in wsgi.py): start_response("", ...) was taken for "never called" once
    # the head was held, and statusguard raised its own AssertionError from the server's iteration.
    probe = Probe()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("", [("Content-Type", "text/plain")])
        return ClosingList([b"x"] if method == "GET" else [], probe, fail_close=False)

    server = WsgiServer()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/", "SERVER_PROTOCOL": "HTTP/1.1"}
    server.run(WSGIMiddleware(app, mode=mode), environ)
    assert probe.closed == 1
    assert len(server.calls) == 1
    assert "wsgi-status-string" in [v.rule for v in environ["statusguard.violations"]]


@pytest.mark.parametrize("mode", ["fix", "strict"])
@pytest.mark.parametrize("value", ["snow \u2603", "lone \ud800 surrogate"])
def test_asgi_str_header_outside_latin1_that_is_only_logged_does_not_cost_the_other_fixes(
    mode: str, value: str
) -> None:
    # Found by the fuzzer (fixed in asgi.py): rewriting the start encoded every header as Latin-1, so an app's
    # (invalid) str header outside it, which the policy only logs, raised inside statusguard: the response
    # passed through unfixed with an internal error logged (strict mode raised UnicodeEncodeError).
    headers = [(b"content-type", b"text/plain"), ("x-str", value), (b"content-length", b"4")]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": b"slow"})

    server = AsgiServer()
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "http_version": "1.1"}
    rules = {"field-value-syntax": "log", "429-not-storable": "fix"}
    asyncio.run(ASGIMiddleware(app, mode=mode, rules=rules)(scope, server.receive, server.send))
    assert server.start is not None
    delivered = dict(server.start["headers"])
    assert delivered[b"cache-control"] == b"no-store"
    assert delivered[b"x-str"] == value.encode("utf-8", "surrogatepass")
    assert server.body == b"slow"
    recorded = sorted(v.rule for v in scope["state"]["statusguard.violations"])
    assert recorded == ["429-not-storable", "field-value-syntax"]
