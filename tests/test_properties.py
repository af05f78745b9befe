"""Properties over arbitrary responses: check and fix are total, fix is idempotent and its result re-checks clean.

Profiles (tests/conftest.py): HYPOTHESIS_PROFILE=ci (default, 200 examples, derandomized) or dev (1000).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from statusguard import check, fix

# Names the rules look at, in the spellings apps use, plus arbitrary text and bytes.
_NAMES = [
    "Content-Type", "content-length", "Content-Length", "Content-Range", "Cache-Control", "Expires", "ETag",
    "Last-Modified", "Location", "Allow", "WWW-Authenticate", "Proxy-Authenticate", "Retry-After", "Link",
    "Transfer-Encoding", "Connection", "Upgrade", "Keep-Alive", "Status", "Date", "Vary", "Set-Cookie", "Pragma",
    "Warning", "Early-Data", "Accept-Encoding", "Content-Encoding", "IM", "X-Custom", "Age", "Trailer",
]
_VALUES = [
    "", "0", "2", "2, 2", "-1", "120", "120 ", "1.5", "text/plain", "application/json", "application/problem+json",
    "multipart/byteranges; boundary=B", "multipart/byteranges", "bytes 0-1/10", "bytes */10", "bytes */*",
    "bytes 5-1/10", "bytes 0-1/*", "no-store", "public, max-age=60", 'max-age="60"', "no-cache=Set-Cookie",
    "must-understand", "private", 'Basic realm="x"', "Basic realm=x", 'Basic realm="a", realm="b"', "Negotiate a==",
    "GET, HEAD", "GET, POST", "GET, , POST", "get", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
    "Wed Oct 21 07:28:00 2026", "Fri, 31 Dec 9999 23:59:59 -0800", "soon", '<https://isp.example/>; rel="blocked-by"',
    "</a>; rel=preload", "chunked", "close", "upgrade", "websocket", "/a b", "/next", "/a#frag", "https://\u00e9/",
    '"v1"', "W/\"v1\"", "a\r\nb", "a\x00b", "caf\u00e9", "snow \u2603", '199 - "x"', "1", "gzip", "identity",
]
_HUGE = st.builds(
    lambda chunk, count: chunk * count,
    st.sampled_from([",", '"', "\\", '"\\', "a", " ", "=", "0", "a=b, ", "<", ";", "9"]),
    st.integers(0, 10_000),
)
_TEXT_VALUE = st.one_of(st.sampled_from(_VALUES), st.text(max_size=30), _HUGE)
_NAME = st.one_of(st.sampled_from(_NAMES), st.text(max_size=12))
_PAIR = st.one_of(
    st.tuples(_NAME, _TEXT_VALUE),
    st.tuples(st.one_of(st.sampled_from(_NAMES).map(str.encode), st.binary(max_size=12)),
              st.one_of(st.sampled_from(_VALUES).map(lambda v: v.encode("utf-8")), st.binary(max_size=30))),
)
_MALFORMED_ENTRY = st.one_of(
    st.none(), st.integers(), st.text(max_size=3), st.tuples(_NAME, _TEXT_VALUE, _TEXT_VALUE), st.tuples(_NAME),
    st.tuples(st.integers(), st.integers()),
)
_HEADERS = st.one_of(
    st.lists(_PAIR, max_size=10),
    st.lists(st.one_of(_PAIR, _MALFORMED_ENTRY), max_size=10),
    st.sampled_from([None, 42, "Content-Type: text/plain", {"Content-Type": "text/plain"}]),
)
# Only str pairs: the shape a response that passes through unchanged keeps.
_STR_HEADERS = st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=8)

_STATUS = st.one_of(
    st.integers(0, 999),
    st.integers(100, 599),
    st.sampled_from([-1, -5, 1000, 10**30, True, False]),
    st.builds(lambda code, reason: f"{code} {reason}", st.integers(0, 999), st.text(max_size=12)),
    st.text(max_size=12),
    st.binary(max_size=12),
)
_PROBLEM = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["about:blank", "https://e.example/p", "probs/x", "", 5]),
        "title": st.one_of(st.sampled_from(["Not Found", "Internal Server Error", "Nicht gefunden"]), st.integers()),
        "status": st.one_of(st.integers(0, 700), st.sampled_from(["404", None, True, 404.0])),
        "detail": st.one_of(st.text(max_size=10), st.lists(st.integers(), max_size=2)),
    },
).map(lambda d: json.dumps(d).encode())
_BODY = st.one_of(st.none(), st.just(b""), st.binary(max_size=60), _PROBLEM)
_METHOD = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "get", "head", "FROB"]),
    st.text(max_size=8),
)
_REQUEST_HEADERS = st.lists(
    st.tuples(
        st.sampled_from(["Range", "If-None-Match", "If-Match", "If-Range", "If", "Authorization", "Cookie",
                         "Content-Encoding", "Upgrade", "Expect", "A-IM", "Early-Data", "Depth",
                         "Access-Control-Request-Method"]),
        st.sampled_from(["bytes=0-1", "bytes=0-1, 4-5", "items=0-1", '"a"', "W/\"a\"", "gzip", "identity",
                         "websocket", "100-continue", "1", "infinity", "Bearer t", "GET", ""]),
    ),
    max_size=4,
)
_REQUEST = st.fixed_dictionaries({
    "method": _METHOD,
    "request_headers": _REQUEST_HEADERS,
    "http_version": st.sampled_from(["1.0", "1.1", "2", "3", "HTTP/1.0", "HTTP/2"]),
    "allowed_methods": st.one_of(st.none(), st.lists(st.sampled_from(["GET", "HEAD", "POST", "PUT", "get"]))),
    "gateway": st.sampled_from([None, "wsgi", "asgi"]),
    "rules": st.one_of(
        st.none(),
        st.just({"status-in-range": "fix", "unregistered-status": "fix", "200-validators": "fix",
                 "304-only-for-conditional-get-head": "fix", "405-vs-501": "fix", "content-range-scope": "fix",
                 "304-minimal-metadata": "fix", "heuristic-cacheable": "fix", "304-content-length": "fix"}),
        st.just({"4xx": "off", "date-present": "log", "200-empty-consider-204": "log"}),
    ),
})
_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "www_authenticate": st.just(['Basic realm="site"', 'Bearer realm="api"']),
        "proxy_authenticate": st.just('Basic realm="proxy"'),
        "retry_after": st.sampled_from([120, {503: "Wed, 21 Oct 2026 07:28:00 GMT", 413: 30}]),
        "upgrade": st.just("TLS/1.3"),
        "blocked_by": st.just("https://isp.example/"),
        "login_url": st.just("https://login.example/"),
        "status_map": st.just({509: 503, 0: 500, 418: 400}),
        "cache_control": st.just({404: "max-age=60", 200: "no-cache"}),
        "problem_details": st.booleans(),
    },
)

_CHECK_KEYS = ("method", "request_headers", "http_version", "allowed_methods", "gateway", "rules")


def _check_kwargs(request: dict[str, Any]) -> dict[str, Any]:
    return {key: request[key] for key in _CHECK_KEYS}


@given(status=_STATUS, headers=_HEADERS, body=_BODY, request=_REQUEST)
def test_check_never_raises(status: Any, headers: Any, body: bytes | None, request: dict[str, Any]) -> None:
    violations = check(status, headers, body, **request)
    assert all(isinstance(v.message, str) and v.message for v in violations)
    assert all("\r" not in v.message and "\n" not in v.message for v in violations)


@given(status=_STATUS, headers=_HEADERS, body=_BODY, request=_REQUEST, options=_OPTIONS)
def test_fix_is_total_idempotent_and_rechecks_clean(
    status: Any, headers: Any, body: bytes | None, request: dict[str, Any], options: dict[str, Any]
) -> None:
    first = fix(status, headers, body, **request, **options)
    assert isinstance(first.status, int)
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in first.headers)

    # Idempotent: fixing the fixed response changes nothing and fixes nothing new.
    second = fix(first.status, first.headers, first.body, **request, **options)
    assert (second.status, second.headers, second.body) == (first.status, first.headers, first.body)
    assert second.fixed == ()

    # The rules that were fixed do not fire on what is sent.
    again = {v.rule for v in check(first.status, first.headers, first.body, **_check_kwargs(request))}
    assert not again & set(first.fixed)

    # Content-Length, when the fixer changed the body, counts the bytes sent (RFC 9110 §8.6).
    if first.body and first.body != body and request["method"] != "HEAD":
        lengths = [value for name, value in first.headers if name.lower() == "content-length"]
        assert lengths in ([], [str(len(first.body))])


@given(status=st.integers(100, 599), headers=_STR_HEADERS, body=_BODY, request=_REQUEST)
def test_a_response_breaking_no_rule_passes_through_unchanged(
    status: int, headers: list[tuple[str, str]], body: bytes | None, request: dict[str, Any]
) -> None:
    if check(status, headers, body, **request):
        return
    result = fix(status, headers, body, **request)
    assert (result.status, result.headers, result.body, result.fixed) == (status, headers, body, ())
