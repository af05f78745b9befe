"""Reporting: redaction, log-injection escaping, dedup with a bounded memory, the hook, structured records.

The promises come from the adapters' contract: credential values (Authorization,
Proxy-Authorization, Cookie, Set-Cookie) never reach a log or an exception message, CR/LF and
control characters in logged values are escaped, the same (rule, method, path) is logged once per
interval with bounded memory, on_violation sees every violation and its failures never reach the app.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from statusguard import RULES, StatusViolationError, Violation, ViolationContext, WSGIMiddleware
from statusguard.core.dispatch import Dispatcher
from statusguard.core.model import escape
from statusguard.runtime.report import Reporter, redact

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.Zm9vYmFyYmF6"
COOKIE_VALUE = "s3ss10n-1d-9f8e7d6c5b4a"
SET_COOKIE_VALUE = "n3w-s3ss10n-0a1b2c3d4e5f"
SECRETS = (TOKEN, COOKIE_VALUE, SET_COOKIE_VALUE)


def violation(
    rule: str = "4xx-explain", message: str = "a message", level: str = "SHOULD", status: int = 404
) -> Violation:
    return Violation(rule, level, status, message, "RFC 9110 §15.5", "a hint")  # type: ignore[arg-type]


def context(path: str = "/x", method: str = "GET", action: str = "logged") -> ViolationContext:
    return ViolationContext(method, path, 404, action, "wsgi")


def make_environ(method: str = "GET", path: str = "/x", **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": ""}
    setup_testing_defaults(environ)
    environ.update(extra)
    return environ


def serve(middleware: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[str, bytes]:
    got: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        got.append(status)
        return lambda data: None

    result = middleware(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return got[-1], data


def app_of(status: str, headers: list[Any], body: list[bytes]) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, headers)
        return body

    return app


def credentials_environ(**extra: Any) -> dict[str, Any]:
    return make_environ(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_COOKIE=f"sid={COOKIE_VALUE}; theme=dark", **extra)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[:8] not in text  # not even a cut-off prefix


# -- redact() -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        pytest.param(f"Bearer {TOKEN}", f"the request said Authorization: Bearer {TOKEN}", id="verbatim"),
        pytest.param(f"Bearer {TOKEN}", f"token {TOKEN} seen", id="credential-part"),
        pytest.param(f"sid={COOKIE_VALUE}; theme=dark", f"cookie value {COOKIE_VALUE}", id="cookie-value"),
        pytest.param(f"sid={SET_COOKIE_VALUE}; Path=/; HttpOnly", f"Set-Cookie {f'sid={SET_COOKIE_VALUE}'!r}",
                     id="set-cookie-quoted"),
        pytest.param(f"sid={COOKIE_VALUE}\x01x", f"value {escape(f'sid={COOKIE_VALUE}' + chr(1) + 'x')!r}",
                     id="escaped-control-char"),
        pytest.param(f"sid={COOKIE_VALUE}{TOKEN}", f"value {escape(f'sid={COOKIE_VALUE}{TOKEN}', 30)!r} is odd",
                     id="cut-short-by-escape"),
        pytest.param(f"sid={TOKEN}", f"header #1 is {repr(('Set-Cookie', f'sid={TOKEN}', 'x'))[:37]}...",
                     id="cut-short-repr"),
        pytest.param(f"sid={COOKIE_VALUE}", f"ends with sid={COOKIE_VALUE[:10]}", id="cut-at-the-end"),
    ],
)
def test_redact_masks_credentials_in_every_printed_form(secret: str, message: str) -> None:
    masked = redact(message, [secret])
    assert_no_secret(masked)
    assert "[redacted]" in masked


def test_redact_leaves_unrelated_text_alone() -> None:
    text = "404 to GET with an empty body; say what went wrong"
    assert redact(text, [f"Bearer {TOKEN}", f"sid={COOKIE_VALUE}"]) == text


def test_redact_masks_each_cookie_in_a_list() -> None:
    other = "pr3f3r3nc3-v4lu3-xyz"
    masked = redact(f"a={COOKIE_VALUE} b={other}", [f"a={COOKIE_VALUE}; b={other}"])
    assert COOKIE_VALUE not in masked
    assert other not in masked


# -- redaction end to end -------------------------------------------------------------------------


def quoting_rule(monkeypatch: pytest.MonkeyPatch, middleware: WSGIMiddleware) -> None:
    """Make a rule quote every credential it can see (as a careless rule might)."""
    rule = RULES["402-reserved"]

    def check(x: Any) -> str:
        return (f"saw Authorization {x.request_get('authorization')}, Cookie {x.request_get('cookie')}, "
                f"Set-Cookie {x.get('set-cookie')} and {escape(x.get('set-cookie') or '', 20)!r}")

    fake = dataclasses.replace(rule, level="MUST", check=check)
    monkeypatch.setitem(RULES, "402-reserved", fake)
    middleware.policy.dispatcher = Dispatcher([fake])


@pytest.mark.parametrize("mode", ["log", "strict"])
def test_a_rule_quoting_credentials_leaks_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    hooked: list[Violation] = []
    headers = [("Content-Type", "text/plain"), ("Content-Length", "3"), ("Set-Cookie", f"sid={SET_COOKIE_VALUE}")]
    middleware = WSGIMiddleware(app_of("402 Payment Required", headers, [b"pay"]), mode=mode,
                                on_violation=lambda v, c: hooked.append(v))
    quoting_rule(monkeypatch, middleware)
    environ = credentials_environ()
    with caplog.at_level(logging.DEBUG, "statusguard"):
        if mode == "strict":
            with pytest.raises(StatusViolationError) as caught:
                serve(middleware, environ)
            assert_no_secret(str(caught.value))
            assert_no_secret(repr(caught.value.violations))
        else:
            serve(middleware, environ)
    assert [v.rule for v in hooked] == ["402-reserved"]
    assert "[redacted]" in hooked[0].message
    assert_no_secret(caplog.text)
    assert_no_secret(repr(environ["statusguard.violations"]))
    assert_no_secret(repr(hooked))


@pytest.mark.parametrize(
    "bad_entry",
    [
        pytest.param(("Set-Cookie", f"sid={SET_COOKIE_VALUE}{TOKEN}", "HttpOnly"), id="three-tuple"),
        pytest.param(f"Set-Cookie: sid={SET_COOKIE_VALUE}", id="string-entry"),
        pytest.param(["Cookie", f"sid={COOKIE_VALUE}", None], id="list-entry"),
    ],
)
def test_malformed_header_entries_do_not_leak_their_credentials(
    caplog: pytest.LogCaptureFixture, bad_entry: Any
) -> None:
    headers = [("Content-Type", "text/plain"), bad_entry, ("Content-Length", "2")]
    environ = make_environ()
    with caplog.at_level(logging.DEBUG, "statusguard"):
        serve(WSGIMiddleware(app_of("200 OK", headers, [b"ok"]), mode="log"), environ)
    assert "field-name-syntax" in [v.rule for v in environ["statusguard.violations"]]
    assert_no_secret(caplog.text)
    assert_no_secret(repr(environ["statusguard.violations"]))


# -- escaping -------------------------------------------------------------------------------------


def test_crlf_in_the_path_cannot_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    forged = "/a\r\nstatusguard: [forged-rule] MUST GET / -> 200: all good\x1b[2J"
    environ = make_environ(path=forged)
    with caplog.at_level(logging.DEBUG, "statusguard"):
        serve(WSGIMiddleware(app_of("404 Not Found", [], []), mode="log"), environ)
    (record,) = caplog.records
    line = record.getMessage()
    assert "\r" not in line
    assert "\n" not in line
    assert "\x1b" not in line
    assert "\\r\\n" in line
    assert "\r" not in record.path  # type: ignore[attr-defined]
    assert "\n" not in record.path  # type: ignore[attr-defined]
    assert len(caplog.text.strip().splitlines()) == 1


def test_crlf_in_the_path_cannot_forge_lines_of_the_exception() -> None:
    environ = make_environ(path="/a\r\nFORGED line")
    with pytest.raises(StatusViolationError) as caught:
        serve(WSGIMiddleware(app_of("404 Not Found", [], []), mode="strict"), environ)
    text = str(caught.value)
    assert "\r" not in text
    assert not any(line.startswith("FORGED") for line in text.splitlines())


def test_reporter_escapes_control_characters_in_method_path_and_message(caplog: pytest.LogCaptureFixture) -> None:
    reporter = Reporter()
    with caplog.at_level(logging.DEBUG, "statusguard"):
        reporter.report(violation(message="bad\nvalue"), context(path="/p\x00\n", method="G\rET"))
    line = caplog.records[0].getMessage()
    assert not any(char in line for char in "\r\n\x00")


# -- dedup ----------------------------------------------------------------------------------------


def test_the_same_rule_method_and_path_is_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    hooked: list[tuple[str, str]] = []
    reporter = Reporter(interval=60, clock=lambda: now[0], on_violation=lambda v, c: hooked.append((v.rule, c.path)))
    with caplog.at_level(logging.DEBUG, "statusguard"):
        reporter.report(violation(), context("/a"))
        now[0] += 30
        reporter.report(violation(), context("/a"))  # same key within the interval: suppressed
        reporter.report(violation(), context("/b"))  # another path
        reporter.report(violation(), context("/a", method="POST"))  # another method
        reporter.report(violation("405-allow"), context("/a"))  # another rule
        now[0] += 31
        reporter.report(violation(), context("/a"))  # the interval since the first line has passed
    logged = [(r.rule, r.method, r.path) for r in caplog.records]  # type: ignore[attr-defined]
    assert logged == [
        ("4xx-explain", "GET", "/a"),
        ("4xx-explain", "GET", "/b"),
        ("4xx-explain", "POST", "/a"),
        ("405-allow", "GET", "/a"),
        ("4xx-explain", "GET", "/a"),
    ]
    assert len(hooked) == 6  # the hook sees every violation, no dedup


def test_middleware_dedups_across_requests_and_log_interval_zero_disables_it(caplog: pytest.LogCaptureFixture) -> None:
    app = app_of("404 Not Found", [], [])
    deduped, every = WSGIMiddleware(app, mode="log"), WSGIMiddleware(app, mode="log", log_interval=0)
    environs = [make_environ() for _ in range(3)]
    with caplog.at_level(logging.DEBUG, "statusguard"):
        for environ in environs:
            serve(deduped, environ)
        assert len(caplog.records) == 1
        for _ in range(3):
            serve(every, make_environ())
        assert len(caplog.records) == 4
    assert all(len(environ["statusguard.violations"]) == 1 for environ in environs)


def test_dedup_memory_is_bounded_however_many_paths() -> None:
    quiet = logging.getLogger("statusguard-test-quiet")
    quiet.propagate = False
    quiet.setLevel(logging.CRITICAL)
    reporter = Reporter(log=quiet, max_keys=1000)
    v = violation()
    for index in range(100_000):
        reporter.report(v, context(f"/items/{index}"))
    assert len(reporter._seen) <= 1000
    assert ("4xx-explain", "GET", "/items/99999") in reporter._seen  # the most recent are the ones kept


def test_dedup_keys_are_capped_in_size() -> None:
    reporter = Reporter(max_keys=10)
    quiet = logging.getLogger("statusguard-test-quiet2")
    quiet.propagate = False
    reporter.log = quiet
    for index in range(10):
        reporter.report(violation(), context(f"/{index}" + "a" * 1_000_000))
    assert max(len(path) for _, _, path in reporter._seen) <= 1000


# -- the hook -------------------------------------------------------------------------------------


def test_hook_exceptions_are_logged_once_and_never_reach_the_app(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def hook(v: Violation, c: ViolationContext) -> None:
        calls.append(v.rule)
        raise ValueError("the hook is broken")

    middleware = WSGIMiddleware(app_of("404 Not Found", [], []), mode="fix", on_violation=hook)
    with caplog.at_level(logging.DEBUG, "statusguard"):
        results = [serve(middleware, make_environ()) for _ in range(3)]
    assert [status for status, _ in results] == ["404 Not Found"] * 3
    assert all(data.startswith(b"{") for _, data in results)  # the fix still happened
    assert calls == ["4xx-explain"] * 3
    failures = [r for r in caplog.records if r.exc_info is not None]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert failures[0].exc_info[0] is ValueError
    assert "on_violation" in failures[0].getMessage()


def test_hook_gets_the_context() -> None:
    seen: list[ViolationContext] = []
    environ = make_environ("DELETE", "/items/7")
    serve(WSGIMiddleware(app_of("404 Not Found", [], []), mode="fix", on_violation=lambda v, c: seen.append(c)),
          environ)
    (ctx,) = seen
    assert (ctx.method, ctx.path, ctx.status, ctx.action, ctx.gateway) == ("DELETE", "/items/7", 404, "fixed", "wsgi")


# -- structured records ---------------------------------------------------------------------------


def test_records_carry_structured_extra(caplog: pytest.LogCaptureFixture) -> None:
    environ = make_environ("POST", "/orders")
    with caplog.at_level(logging.DEBUG, "statusguard"):
        serve(WSGIMiddleware(app_of("429 Too Many Requests", [("Content-Type", "text/plain")], [b"slow"])), environ)
    (record,) = caplog.records
    assert record.name == "statusguard"
    fields = {name: getattr(record, name) for name in ("rule", "level", "status", "method", "path", "action")}
    assert fields == {
        "rule": "429-not-storable", "level": "MUST", "status": 429, "method": "POST", "path": "/orders",
        "action": "fixed",
    }
    assert "429-not-storable" in record.getMessage()
    assert "/orders" in record.getMessage()


@pytest.mark.parametrize(
    ("level", "action", "expected"),
    [
        ("MUST", "logged", logging.ERROR),
        ("MUST", "raised", logging.ERROR),
        ("SHOULD", "logged", logging.WARNING),
        ("ADVISORY", "logged", logging.INFO),
        ("DEPRECATED", "logged", logging.INFO),
    ],
)
def test_log_level_follows_the_rule_level(
    caplog: pytest.LogCaptureFixture, level: str, action: str, expected: int
) -> None:
    with caplog.at_level(logging.DEBUG, "statusguard"):
        Reporter().report(violation(level=level), context(action=action))
    assert [r.levelno for r in caplog.records] == [expected]


def test_internal_errors_are_logged_once_per_place_with_traceback(caplog: pytest.LogCaptureFixture) -> None:
    reporter = Reporter()

    def fail() -> None:
        raise KeyError("inner")

    with caplog.at_level(logging.DEBUG, "statusguard"):
        for _ in range(3):
            try:
                fail()
            except KeyError as exc:
                reporter.internal_error("somewhere", exc)
        try:
            fail()
        except KeyError as exc:
            reporter.internal_error("elsewhere", exc)
    assert len(caplog.records) == 2
    assert all(r.exc_info is not None and r.exc_info[0] is KeyError for r in caplog.records)
    assert "in fail" in caplog.text  # the traceback itself
