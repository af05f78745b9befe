"""The checker on the trickier cases RULES.md §2-§3 call out, beyond each rule's own examples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from statusguard import RULES, Rule, check
from statusguard.core.checker import DEFAULT_DISPATCHER, build_exchange
from statusguard.core.dispatch import Dispatcher, parse_status
from statusguard.core.model import Exchange
from statusguard.core.rule import Reads

TEXT = ("Content-Type", "text/plain")
PROBLEM = ("Content-Type", "application/problem+json")


def fired(*args: Any, **kwargs: Any) -> set[str]:
    return {violation.rule for violation in check(*args, **kwargs)}


def messages(*args: Any, **kwargs: Any) -> dict[str, str]:
    return {violation.rule: violation.message for violation in check(*args, **kwargs)}


# Allow (RULES.md §2 "Allow", §3.1, §3.6) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "allow", "method", "expected", "silent"),
    [
        pytest.param(405, "", "POST", set(), {"405-allow", "allow-syntax", "405-allow-coherent"},
                     id="empty-allow-is-valid"),
        pytest.param(405, "GET, HEAD", "POST", set(), {"405-allow-coherent", "allow-get-implies-head"},
                     id="coherent"),
        pytest.param(405, "GET, HEAD, POST", "POST", {"405-allow-coherent"}, set(), id="lists-the-refused-method"),
        pytest.param(405, "GET,HEAD", "DELETE", set(), {"allow-syntax"}, id="no-space-after-comma"),
        pytest.param(405, "GET, , HEAD", "DELETE", {"allow-syntax"}, set(), id="empty-member"),
        pytest.param(405, "GET HEAD", "DELETE", {"allow-syntax"}, set(), id="space-separated"),
        pytest.param(405, '"GET"', "DELETE", {"allow-syntax"}, set(), id="quoted-method"),
        pytest.param(405, "GET, POST", "PUT", {"allow-get-implies-head"}, {"405-allow-coherent"},
                     id="get-without-head"),
        pytest.param(200, "GET, POST", "OPTIONS", {"allow-get-implies-head"}, {"options-allow"},
                     id="get-without-head-on-options"),
        # Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET, and "post" is not POST.
        pytest.param(405, "get", "DELETE", set(), {"allow-get-implies-head", "allow-syntax"}, id="lowercase-get"),
        pytest.param(405, "GET, HEAD, POST", "post", set(), {"405-allow-coherent"}, id="lowercase-request-method"),
    ],
)
def test_allow(status: int, allow: str, method: str, expected: set[str], silent: set[str]) -> None:
    found = fired(status, [("Allow", allow), TEXT], b"no", method=method)
    assert expected <= found
    assert not silent & found


def test_405_without_allow_names_the_router_methods() -> None:
    found = messages(405, [TEXT], b"no", method="POST", allowed_methods=["GET", "PUT"])
    assert "405-allow" in found
    assert "POST" in found["405-allow"]
    assert "GET, PUT" in found["405-allow"]


def test_405_to_unknown_method_suggests_501() -> None:
    known = ["GET", "HEAD", "PATCH"]
    assert "405-vs-501" in fired(405, [("Allow", "GET, HEAD"), TEXT], b"no", method="FROB", known_methods=known)
    assert "405-vs-501" not in fired(405, [("Allow", "GET, HEAD"), TEXT], b"no", method="PATCH", known_methods=known)


def test_options_preflight_is_exempt_from_options_allow() -> None:
    preflight = [("Origin", "https://a.example"), ("Access-Control-Request-Method", "PUT")]
    assert "options-allow" not in fired(204, [], b"", method="OPTIONS", request_headers=preflight)
    assert "options-allow" in fired(204, [], b"", method="OPTIONS", request_headers=[])


# WWW-Authenticate (RULES.md §2, §3.5) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([("WWW-Authenticate", 'Basic realm="a"'), ("WWW-Authenticate", 'Bearer realm="b"')], set(),
                     id="two-lines"),
        pytest.param([("WWW-Authenticate", 'Basic realm="a", charset="UTF-8", Bearer realm="b", error="x"')], set(),
                     id="two-challenges-one-line"),
        pytest.param([("WWW-Authenticate", "Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgEC==")],
                     set(), id="token68"),
        pytest.param([("WWW-Authenticate", "Bearer")], set(), id="bare-scheme"),
        pytest.param([("WWW-Authenticate", "Basic realm=site")], {"www-authenticate-syntax"}, id="unquoted-realm"),
        pytest.param([("WWW-Authenticate", 'Basic realm="a", REALM="b"')], {"www-authenticate-syntax"},
                     id="duplicate-parameter-case-insensitive"),
        pytest.param([("WWW-Authenticate", 'Basic realm="unterminated')], {"www-authenticate-syntax"},
                     id="unterminated-quote"),
        # #challenge admits an empty list (RFC 9110 §5.6.1, §11.6.1), but a 401 needs one challenge.
        pytest.param([("WWW-Authenticate", "")], {"401-www-authenticate"}, id="empty-value"),
        pytest.param([("Proxy-Authenticate", 'Basic realm="p"')], {"401-www-authenticate"}, id="wrong-field"),
        pytest.param([], {"401-www-authenticate"}, id="no-challenge"),
    ],
)
def test_401_challenges(headers: list[tuple[str, str]], expected: set[str]) -> None:
    found = fired(401, [*headers, TEXT], b"denied")
    assert found & {"401-www-authenticate", "www-authenticate-syntax"} == expected


def test_challenge_syntax_applies_to_any_status() -> None:
    assert "www-authenticate-syntax" in fired(200, [("WWW-Authenticate", "Basic realm=x"), TEXT], b"ok")


def test_407_reports_that_wsgi_cannot_send_proxy_authenticate() -> None:
    found = messages(407, [TEXT], b"x", gateway="wsgi")
    assert "hop-by-hop" in found["407-proxy-authenticate"]


# Ranges (RULES.md §2 "Content-Range", §3.11-§3.13) ----------------------------------------------------

RANGE_ONE = [("Range", "bytes=0-1")]
RANGE_TWO = [("Range", "bytes=0-1, 4-5")]
MULTIPART = ("Content-Type", "multipart/byteranges; boundary=THIS_STRING_SEPARATES")


@pytest.mark.parametrize(
    ("status", "headers", "method", "request_headers", "expected", "silent"),
    [
        pytest.param(416, [TEXT], "GET", [("Range", "items=0-5")], set(), {"416-content-range"},
                     id="416-non-bytes-range-silent"),
        pytest.param(416, [TEXT], "GET", [("Range", "bytes=500-")], {"416-content-range"}, set(),
                     id="416-without-content-range"),
        pytest.param(416, [("Content-Range", "bytes */500"), TEXT], "GET", [("Range", "bytes=500-")], set(),
                     {"416-content-range", "content-range-syntax"}, id="416-unsatisfied-form"),
        pytest.param(416, [("Content-Range", "bytes 0-0/500"), TEXT], "GET", [("Range", "bytes=500-")],
                     {"416-content-range"}, {"content-range-syntax"}, id="416-satisfied-form"),
        pytest.param(416, [("Content-Range", "bytes */*"), TEXT], "GET", [("Range", "bytes=500-")],
                     {"content-range-syntax", "416-content-range"}, set(), id="416-star-star"),
        pytest.param(206, [MULTIPART], "GET", RANGE_TWO, set(),
                     {"206-multipart-shape", "206-no-multipart-for-single-range", "206-single-part-content-range"},
                     id="206-multipart-two-ranges"),
        pytest.param(206, [MULTIPART], "GET", RANGE_ONE, {"206-no-multipart-for-single-range"}, set(),
                     id="206-multipart-single-range"),
        pytest.param(206, [("Content-Type", "multipart/byteranges")], "GET", RANGE_TWO, {"206-multipart-shape"},
                     set(), id="206-multipart-no-boundary"),
        pytest.param(206, [MULTIPART, ("Content-Range", "bytes 0-1/10")], "GET", RANGE_TWO,
                     {"206-multipart-shape"}, set(), id="206-multipart-top-level-content-range"),
        pytest.param(206, [("Content-Range", "bytes 0-1/10"), TEXT], "HEAD", RANGE_ONE, {"206-needs-get-range"},
                     set(), id="206-to-head"),
        pytest.param(206, [("Content-Range", "bytes 0-1/10"), TEXT], "POST", RANGE_ONE, {"206-needs-get-range"},
                     set(), id="206-to-post"),
        pytest.param(206, [("Content-Range", "bytes 0-1/*"), TEXT], "GET", RANGE_ONE, set(),
                     {"content-range-syntax", "206-single-part-content-range"}, id="206-unknown-length"),
        pytest.param(206, [("Content-Range", "bytes */10"), TEXT], "GET", RANGE_ONE,
                     {"206-single-part-content-range"}, {"content-range-syntax"}, id="206-unsatisfied-form"),
        pytest.param(206, [("Content-Range", "bytes 0-1/10"), ("Content-Length", "10"), TEXT], "GET", RANGE_ONE,
                     {"206-content-length-matches"}, set(), id="206-full-length"),
        pytest.param(206, [("Content-Range", "bytes 0-1/1"), TEXT], "GET", RANGE_ONE, {"content-range-syntax"},
                     set(), id="206-length-not-above-last"),
        pytest.param(200, [("Content-Range", "bytes 0-1/2"), TEXT], "GET", [], {"content-range-scope"}, set(),
                     id="content-range-on-200"),
    ],
)
def test_ranges(
    status: int,
    headers: list[tuple[str, str]],
    method: str,
    request_headers: list[tuple[str, str]],
    expected: set[str],
    silent: set[str],
) -> None:
    body = b"" if method == "HEAD" else b"ok"
    found = fired(status, headers, body, method=method, request_headers=request_headers)
    assert expected <= found
    assert not silent & found


def test_huge_content_range_numbers_are_compared_exactly() -> None:
    # RULES.md §2: digits can be huge, so arbitrary precision. The part is 10**30 bytes long.
    first, last = 10**30, 2 * 10**30 - 1
    headers = [("Content-Range", f"bytes {first}-{last}/{10**40}"), ("Content-Length", str(10**30)), TEXT]
    found = fired(206, headers, None, request_headers=[("Range", f"bytes={first}-{last}")])
    assert not found & {"content-range-syntax", "206-content-length-matches"}
    headers[1] = ("Content-Length", str(10**30 + 1))
    assert "206-content-length-matches" in fired(206, headers, None, request_headers=[("Range", "bytes=0-")])


# Retry-After (RULES.md §2, §3.8) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("120", True, id="seconds"),
        pytest.param("0", True, id="zero"),
        pytest.param("Wed, 21 Oct 2026 07:28:00 GMT", True, id="imf-fixdate"),
        pytest.param("120s", False, id="unit"),
        pytest.param("-1", False, id="negative"),
        pytest.param("1.5", False, id="fraction"),
        pytest.param("+120", False, id="sign"),
        pytest.param(" 120", True, id="leading-space"),  # OWS is not part of the value (RFC 9110 §5.5)
        pytest.param("", False, id="empty"),
        pytest.param("\u0661\u0662\u0660", False, id="non-ascii-digits"),
        pytest.param("Wednesday, 21-Oct-26 07:28:00 GMT", False, id="rfc850-form"),
        pytest.param("Wed Oct 21 07:28:00 2026", False, id="asctime-form"),
        pytest.param("Wed, 21 Oct 2026 07:28:00 UTC", False, id="not-gmt"),
        pytest.param("Thu, 21 Oct 2026 07:28:00 GMT", False, id="wrong-weekday"),
        pytest.param("wed, 21 Oct 2026 07:28:00 GMT", False, id="case-sensitive"),
    ],
)
@pytest.mark.parametrize("status", [503, 429, 301, 200])
def test_retry_after_forms(value: str, valid: bool, status: int) -> None:
    headers = [("Retry-After", value), ("Cache-Control", "no-store"), ("Location", "/x"), TEXT]
    assert ("retry-after-syntax" in fired(status, headers, b"x")) is not valid


# Cache-Control (RULES.md §2, §3.9) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("max-age=60", True, id="max-age-token"),
        pytest.param("public, max-age=60, s-maxage=30", True, id="public-shared"),
        pytest.param('max-age="60"', False, id="max-age-quoted"),
        pytest.param('s-maxage="60"', False, id="s-maxage-quoted"),
        pytest.param("max-age", False, id="max-age-without-value"),
        pytest.param("max-age=1h", False, id="max-age-unit"),
        pytest.param("max-age=-1", False, id="max-age-negative"),
        pytest.param('no-cache="Set-Cookie, Authorization"', True, id="no-cache-quoted-list"),
        pytest.param("no-cache=Set-Cookie", False, id="no-cache-token-list"),
        pytest.param('private="Set-Cookie"', True, id="private-quoted"),
        pytest.param("private=Set-Cookie", False, id="private-token"),
        pytest.param("no-cache", True, id="no-cache-bare"),
        pytest.param("immutable, stale-while-revalidate=60", True, id="unknown-extensions"),
        pytest.param("MAX-AGE=60", True, id="names-case-insensitive"),
        pytest.param('no-cache="unterminated', False, id="unterminated-quote"),
        pytest.param("max-age=60 s", False, id="junk-after-value"),
        pytest.param("max-age=60,,no-transform", True, id="empty-member-skipped"),
    ],
)
def test_cache_control_argument_forms(value: str, valid: bool) -> None:
    assert ("cache-control-arg-forms" in fired(200, [("Cache-Control", value), TEXT], b"x")) is not valid


@pytest.mark.parametrize(
    ("cache_control", "expires", "storable_named"),
    [
        pytest.param(None, None, "", id="nothing"),
        pytest.param("private", None, "", id="private-is-not-enough"),
        pytest.param("no-cache", None, "", id="no-cache-still-stores"),
        pytest.param("public, max-age=60", None, "public, max-age", id="marked-storable"),
        pytest.param(None, "Thu, 01 Jan 2099 00:00:00 GMT", "Expires", id="expires"),
    ],
)
@pytest.mark.parametrize("status", [428, 429, 431, 511])
def test_not_storable_statuses(
    status: int, cache_control: str | None, expires: str | None, storable_named: str
) -> None:
    headers = [TEXT]
    if cache_control is not None:
        headers.append(("Cache-Control", cache_control))
    if expires is not None:
        headers.append(("Expires", expires))
    found = messages(status, headers, b"x")
    message = found[f"{status}-not-storable"]
    assert ("storable" in message) is bool(storable_named)
    assert storable_named in message


@pytest.mark.parametrize("status", [428, 429, 431, 511])
def test_no_store_satisfies_not_storable(status: int) -> None:
    assert f"{status}-not-storable" not in fired(status, [("Cache-Control", "private, no-store"), TEXT], b"x")


def test_must_understand_without_no_store() -> None:
    assert "must-understand-with-no-store" in fired(200, [("Cache-Control", "must-understand, max-age=1"), TEXT], b"x")


# Problem details (RULES.md §1.10) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [
        pytest.param(404, PROBLEM[1], b'{"type":"about:blank","title":"Not Found","status":404}', set(),
                     id="correct"),
        pytest.param(503, PROBLEM[1], b'{"title":"Internal Server Error","status":500}',
                     {"problem-status-match", "problem-about-blank-title"}, id="rewritten-status"),
        pytest.param(404, PROBLEM[1], b'{"title":"Not Found","status":"404"}',
                     {"problem-status-match", "problem-member-types"}, id="status-as-string"),
        pytest.param(404, PROBLEM[1], b'{"title":"Not Found","status":true}',
                     {"problem-status-match", "problem-member-types"}, id="status-as-bool"),
        pytest.param(404, PROBLEM[1], b'{"title":"Not Found"}', set(), id="status-absent"),
        pytest.param(404, PROBLEM[1], b'{"status":404}', {"problem-about-blank-title"}, id="title-absent"),
        pytest.param(404, PROBLEM[1], b'{"title":"Nicht gefunden","status":404}', set(), id="localized-title"),
        pytest.param(404, PROBLEM[1], b'{"type":"https://example.com/probs/x","title":"Gone","status":404}', set(),
                     id="own-type-any-title"),
        pytest.param(403, PROBLEM[1], b'{"type":"probs/credit","title":"x","status":403}', {"problem-uri-absolute"},
                     id="relative-type"),
        pytest.param(403, PROBLEM[1], b'{"type":"/probs/credit","title":"x","status":403}', set(),
                     id="full-path-type"),
        pytest.param(400, PROBLEM[1], b'{"title":["a"],"detail":7,"status":400}', {"problem-member-types"},
                     id="mistyped-members"),
        pytest.param(400, PROBLEM[1], b'{"title":"Bad Request","status":600}',
                     {"problem-member-types", "problem-status-match"},
                     id="status-out-of-range"),
        pytest.param(404, "application/problem+json; charset=utf-8", b'{"title":"Not Found","status":500}',
                     {"problem-status-match"}, id="media-type-parameters"),
        pytest.param(404, "Application/Problem+JSON", b'{"title":"Not Found","status":500}',
                     {"problem-status-match"}, id="media-type-case-insensitive"),
        pytest.param(404, "application/json", b'{"type":"about:blank","title":"Not Found","status":404}',
                     {"problem-media-type"}, id="served-as-json"),
        pytest.param(404, "application/json", b'{"error":"not found","status":404}', set(), id="plain-json-error"),
        pytest.param(404, PROBLEM[1], b"[1, 2]", set(), id="array-body"),
        pytest.param(404, PROBLEM[1], b"{not json", set(), id="invalid-json"),
        pytest.param(404, PROBLEM[1], b"\xff\xfe", set(), id="invalid-utf8"),
        pytest.param(404, PROBLEM[1], b"[" * 100_000, set(), id="deep-nesting"),
        pytest.param(404, PROBLEM[1], None, set(), id="body-not-observed"),
    ],
)
def test_problem_details(status: int, content_type: str, body: bytes | None, expected: set[str]) -> None:
    found = {rule for rule in fired(status, [("Content-Type", content_type)], body) if rule.startswith("problem-")}
    assert found == expected


# Header lists (RULES.md §2; RFC 9110 §5; PEP 3333) ---------------------------------------------------


class _BrokenIterable:
    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield ("Content-Type", "text/plain")
        raise RuntimeError("the app's header iterable broke")


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([("X-A", "a\r\nSet-Cookie: x=1"), TEXT], {"field-value-syntax"}, id="crlf-in-value"),
        pytest.param([("X-A", "a\nb"), TEXT], {"field-value-syntax"}, id="lf-in-value"),
        pytest.param([("X-A", "a\x00b"), TEXT], {"field-value-syntax"}, id="nul-in-value"),
        pytest.param([("X-A\r\n", "a"), TEXT], {"field-name-syntax"}, id="crlf-in-name"),
        pytest.param([("X A", "a"), TEXT], {"field-name-syntax"}, id="space-in-name"),
        pytest.param([("X-A:", "a"), TEXT], {"field-name-syntax"}, id="colon-in-name"),
        pytest.param([("", "a"), TEXT], {"field-name-syntax"}, id="empty-name"),
        pytest.param([("X-A", "snow \u2603"), TEXT], {"field-value-syntax"}, id="non-latin-1-value"),
        pytest.param([("X-\u00e9", "a"), TEXT], {"field-name-syntax"}, id="non-ascii-name"),
        pytest.param([("X-A", "caf\u00e9"), TEXT], set(), id="latin-1-value"),
        pytest.param([("X-A", "a\tb"), TEXT], set(), id="tab-in-value"),
        pytest.param([("X-A", ""), TEXT], set(), id="empty-value"),
        pytest.param([(b"Content-Type", b"text/plain"), (b"X-A", b"\xff")], set(), id="bytes-with-obs-text"),
        pytest.param([(b"X-A", b"a\r\nb"), TEXT], {"field-value-syntax"}, id="bytes-with-crlf"),
        pytest.param([(bytearray(b"X-A"), memoryview(b"a")), TEXT], set(), id="bytearray-and-memoryview"),
        pytest.param([TEXT, ("a", "b", "c")], {"field-name-syntax"}, id="three-tuple"),
        pytest.param([TEXT, ("a",)], {"field-name-syntax"}, id="one-tuple"),
        pytest.param([TEXT, None], {"field-name-syntax"}, id="none-entry"),
        pytest.param([TEXT, (1, 2)], {"field-name-syntax"}, id="int-pair"),
        pytest.param([TEXT, ("X-A", None)], {"field-name-syntax"}, id="none-value"),
        pytest.param([TEXT, "ab"], {"field-name-syntax"}, id="two-char-string-entry"),
        pytest.param([TEXT, _BadRepr()], {"field-name-syntax"}, id="entry-with-broken-repr"),
        pytest.param(_BrokenIterable(), {"field-name-syntax"}, id="iterable-that-raises"),
        pytest.param(42, {"field-name-syntax"}, id="not-iterable"),
        pytest.param(None, {"field-name-syntax"}, id="none"),
        pytest.param("Content-Type: text/plain", {"field-name-syntax"}, id="a-string"),
        pytest.param(b"Content-Type: text/plain", {"field-name-syntax"}, id="bytes"),
        pytest.param({"Content-Type": "text/plain"}, set(), id="a-dict"),  # check() takes a mapping
        pytest.param(iter([TEXT]), set(), id="an-iterator"),
        pytest.param((TEXT,), set(), id="a-tuple"),
    ],
)
def test_header_entries(headers: Any, expected: set[str]) -> None:
    found = fired(200, headers, b"")
    assert found & {"field-name-syntax", "field-value-syntax"} == expected


def test_bad_entries_are_left_out_and_good_ones_kept() -> None:
    x = build_exchange(200, [("X-A", "1"), ("a", "b", "c"), "ab", None, ("X-B", "2")], b"")
    assert x.headers == [("X-A", "1"), ("X-B", "2")]
    assert len(x.header_problems) == 3


def test_a_dict_is_not_read_as_pairs() -> None:
    # Iterating {"ab": "x"} yields "ab", which would otherwise unpack as the header ("a", "b"): a
    # mapping is read as its items.
    x = build_exchange(200, {"ab": "x"}, b"")
    assert x.headers == [("ab", "x")]


def test_many_malformed_entries_give_a_bounded_message() -> None:
    message = messages(200, [None] * 10_000 + [TEXT], b"x")["field-name-syntax"]
    assert len(message) < 5_000
    assert "9980 more" in message


def test_header_injection_message_escapes_the_value() -> None:
    message = messages(200, [("X-A", "a\r\nSet-Cookie: x=1"), TEXT], b"")["field-value-syntax"]
    assert "\r" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("status", "kwargs"),
    [
        pytest.param(400, {"method": "GET\r\nX-Injected: 1"}, id="method-with-crlf"),
        pytest.param("200 OK\x1b[31m", {"gateway": "wsgi"}, id="status-line-with-escape"),
        pytest.param(400, {"method": "G" * 100_000}, id="huge-method"),
    ],
)
def test_messages_are_one_bounded_line(status: Any, kwargs: dict[str, Any]) -> None:
    violations = check(status, [], b"", **kwargs)
    assert violations
    for violation in violations:
        assert violation.message.isprintable()
        assert len(violation.message) < 3000


def test_header_lookup_is_case_insensitive_and_keeps_duplicates() -> None:
    x = build_exchange(200, [("SET-COOKIE", "a=1"), ("set-cookie", "b=2"), ("Vary", "Accept")], b"")
    assert x.get_all("set-cookie") == ["a=1", "b=2"]
    assert x.get("vary") == "Accept"
    assert x.get("etag") is None


def test_request_headers_may_be_a_mapping() -> None:
    assert "304-only-for-conditional-get-head" not in fired(
        304, [("ETag", '"a"')], b"", request_headers={"If-None-Match": '"a"'}
    )


# Status (RFC 9110 §15; PEP 3333) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "gateway", "expected_rules", "expected_status"),
    [
        pytest.param(0, None, {"status-in-range"}, 0, id="zero"),
        pytest.param(99, None, {"status-in-range"}, 99, id="99"),
        pytest.param(600, None, {"status-in-range"}, 600, id="600"),
        pytest.param(1000, None, {"status-in-range"}, 1000, id="1000"),
        pytest.param(-5, None, {"status-in-range"}, -5, id="negative"),
        pytest.param(10**30, None, {"status-in-range"}, 10**30, id="huge"),
        pytest.param(True, None, {"status-in-range"}, 0, id="bool"),
        pytest.param(200.0, None, {"status-in-range"}, 0, id="float"),
        pytest.param(None, None, {"status-in-range"}, 0, id="none"),
        pytest.param("200", "wsgi", {"wsgi-status-string"}, 200, id="wsgi-no-reason"),
        pytest.param("200OK", "wsgi", {"wsgi-status-string"}, 200, id="wsgi-no-space"),
        pytest.param("200 ", "wsgi", {"wsgi-status-string"}, 200, id="wsgi-empty-reason"),
        pytest.param("200 OK\r\nX: y", "wsgi", {"wsgi-status-string"}, 200, id="wsgi-crlf-in-reason"),
        pytest.param("2000 OK", "wsgi", {"wsgi-status-string"}, 200, id="wsgi-four-digits"),
        pytest.param("abc", "wsgi", {"wsgi-status-string", "status-in-range"}, 0, id="wsgi-junk"),
        pytest.param("\u0662\u0660\u0660 OK", "wsgi", {"wsgi-status-string", "status-in-range"}, 0,
                     id="wsgi-non-ascii-digits"),
        pytest.param("200 OK", "wsgi", set(), 200, id="wsgi-correct"),
        pytest.param("200 Everything Is Fine", "wsgi", set(), 200, id="wsgi-custom-reason"),
        pytest.param(b"200 OK", "wsgi", set(), 200, id="wsgi-bytes"),
        pytest.param("200", None, set(), 200, id="string-without-gateway"),
        pytest.param("200", "asgi", set(), 200, id="string-under-asgi"),
    ],
)
def test_status_values(status: Any, gateway: Any, expected_rules: set[str], expected_status: int) -> None:
    violations = check(status, [TEXT], b"ok", gateway=gateway)
    found = {v.rule for v in violations} & {"status-in-range", "wsgi-status-string"}
    assert found == expected_rules
    assert all(v.status == expected_status for v in violations)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(404, (404, None), id="int"),
        pytest.param("404 Not Found", (404, "404 Not Found"), id="line"),
        pytest.param(b"404 Not Found", (404, "404 Not Found"), id="bytes"),
        pytest.param("xyz", (0, "xyz"), id="junk"),
        pytest.param(False, (0, None), id="bool"),
        pytest.param(object(), (0, None), id="object"),
    ],
)
def test_parse_status(status: object, expected: tuple[int, str | None]) -> None:
    assert parse_status(status) == expected


def test_unregistered_status_says_how_it_is_read() -> None:
    message = messages(509, [TEXT], b"x")["unregistered-status"]
    assert "500 Internal Server Error" in message


def test_unregistered_444_and_499_are_never_for_the_wire() -> None:
    assert "never meant for the wire" in messages(499, [TEXT], b"x")["unregistered-status"]
    assert "never" not in messages(420, [TEXT], b"x")["unregistered-status"]


# Bodies and methods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "method", "silent"),
    [
        pytest.param(500, "GET", "5xx-explain", id="5xx-explain"),
        pytest.param(404, "GET", "4xx-explain", id="4xx-explain"),
        pytest.param(204, "GET", "204-no-content", id="204-no-content"),
        pytest.param(304, "GET", "304-no-content", id="304-no-content"),
        pytest.param(200, "HEAD", "head-no-content", id="head-no-content"),
        pytest.param(200, "GET", "content-type-with-content", id="content-type-with-content"),
        pytest.param(300, "GET", "300-choices", id="300-choices"),
        pytest.param(423, "GET", "423-error-element", id="423-error-element"),
    ],
)
def test_body_none_keeps_body_rules_silent(status: int, method: str, silent: str) -> None:
    # body=None: the content was not observed (streamed). Silence, not a guess (catalogue Rule 2).
    assert silent not in fired(status, [("Content-Length", "5")], None, method=method,
                               request_headers=[("If-None-Match", '"a"')])


@pytest.mark.parametrize(
    ("status", "body", "method", "expected"),
    [
        pytest.param(500, b"", "GET", {"5xx-explain"}, id="empty-500"),
        pytest.param(500, b"", "HEAD", set(), id="empty-500-to-head"),
        pytest.param(404, b"", "GET", {"4xx-explain"}, id="empty-404"),
        pytest.param(429, b"", "GET", {"429-explain"}, id="empty-429-own-rule"),
        pytest.param(404, b"x", "GET", set(), id="404-with-body"),
        pytest.param(200, b"x", "HEAD", {"head-no-content"}, id="head-with-body"),
        # "head" is not HEAD (RFC 9110 §9.1): a server treats it as an unknown method and sends the body.
        pytest.param(200, b"x", "head", set(), id="lowercase-head-is-another-method"),
        pytest.param(204, b"x", "GET", {"204-no-content"}, id="204-with-body"),
        pytest.param(205, b"x", "GET", {"205-no-content"}, id="205-with-body"),
    ],
)
def test_empty_and_non_empty_bodies(status: int, body: bytes, method: str, expected: set[str]) -> None:
    relevant = {"5xx-explain", "4xx-explain", "429-explain", "head-no-content", "204-no-content", "205-no-content"}
    assert fired(status, [("Cache-Control", "no-store"), TEXT], body, method=method) & relevant == expected


@pytest.mark.parametrize(
    ("status", "headers", "kwargs", "rule"),
    [
        pytest.param(200, [("Connection", "close"), TEXT], {"gateway": "wsgi"}, "hop-by-hop-forbidden-wsgi",
                     id="hop-by-hop-wsgi"),
        pytest.param(200, [("Connection", "keep-alive"), TEXT], {"http_version": "HTTP/2"}, "connection-specific-h2",
                     id="connection-on-h2"),
        pytest.param(200, [("Transfer-Encoding", "chunked"), ("Content-Length", "1"), TEXT], {"gateway": "asgi"},
                     "transfer-encoding-app-forbidden", id="te-with-content-length"),
        pytest.param(204, [("Transfer-Encoding", "chunked")], {"gateway": "asgi"},
                     "transfer-encoding-app-forbidden", id="te-on-204"),
        pytest.param(200, [("Content-Length", "0")], {"method": "CONNECT"}, "connect-2xx-no-framing",
                     id="connect-with-length"),
        pytest.param(103, [("Link", "</a.css>; rel=preload")], {"http_version": "HTTP/1.0"}, "1xx-not-to-http10",
                     id="1xx-to-http10"),
        pytest.param(200, [("Content-Length", "2, 2"), TEXT], {}, "content-length-syntax", id="cl-list"),
        pytest.param(200, [("Content-Length", "+1"), TEXT], {}, "content-length-syntax", id="cl-sign"),
        pytest.param(200, [("Content-Length", "\u0661"), TEXT], {}, "content-length-syntax", id="cl-non-ascii"),
        pytest.param(200, [("Content-Length", "3"), TEXT], {}, "content-length-accurate", id="cl-wrong"),
        pytest.param(200, [("Content-Length", "9" * 5000), TEXT], {}, "content-length-accurate", id="cl-huge"),
        pytest.param(200, [TEXT, ("Content-Type", "text/html")], {}, "singleton-field-once", id="two-types"),
        pytest.param(302, [("Location", "/a"), ("Location", "/b")], {}, "location-single-uri-ref",
                     id="two-locations"),
        pytest.param(302, [("Location", "/a b")], {}, "location-single-uri-ref", id="space-in-location"),
        pytest.param(302, [("Location", "https://\u00e9.example/")], {}, "location-single-uri-ref",
                     id="non-ascii-location"),
        pytest.param(201, [("Location", "/orders/1#top"), TEXT], {"method": "POST"}, "201-location-on-post",
                     id="201-location-fragment"),
        pytest.param(200, [("Early-Data", "1"), TEXT], {}, "425-early-data-not-in-response", id="early-data"),
        pytest.param(200, [("Expires", "0"), TEXT], {}, "expires-syntax", id="expires-zero"),
        pytest.param(200, [("Warning", '199 - "x"'), TEXT], {}, "pragma-warning-obsolete", id="warning"),
        pytest.param(415, [("Accept-Encoding", "gzip"), TEXT], {"method": "POST", "request_headers": []},
                     "415-accept-encoding-iff-coding", id="415-accept-encoding-for-media-type"),
        pytest.param(304, [("ETag", '"a"')], {"method": "POST", "request_headers": [("If-None-Match", '"a"')]},
                     "304-only-for-conditional-get-head", id="304-to-post"),
        pytest.param(412, [TEXT], {"method": "PUT", "request_headers": []}, "412-needs-precondition",
                     id="412-unconditional"),
    ],
)
def test_rule_fires(status: int, headers: list[tuple[str, str]], kwargs: dict[str, Any], rule: str) -> None:
    body = b"" if status in (103, 204, 304) or kwargs.get("method") == "CONNECT" else b"ok"
    assert rule in fired(status, headers, body, **kwargs)


@pytest.mark.parametrize(
    ("status", "headers", "kwargs", "rule"),
    [
        pytest.param(200, [("Connection", "close"), TEXT], {"gateway": "asgi"}, "hop-by-hop-forbidden-wsgi",
                     id="hop-by-hop-asgi"),
        pytest.param(200, [("Connection", "close"), TEXT], {}, "hop-by-hop-forbidden-wsgi", id="hop-by-hop-unknown"),
        pytest.param(200, [("Transfer-Encoding", "chunked"), TEXT], {"gateway": "asgi"},
                     "transfer-encoding-app-forbidden", id="te-alone-asgi"),
        pytest.param(200, [TEXT, ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], {}, "singleton-field-once",
                     id="set-cookie-twice"),
        pytest.param(200, [("Content-Length", "10"), TEXT], {"method": "HEAD"}, "content-length-accurate",
                     id="head-keeps-get-length"),
        pytest.param(304, [("ETag", '"a"'), ("Content-Length", "10")],
                     {"request_headers": [("If-None-Match", '"a"')]}, "content-length-accurate",
                     id="304-length-is-the-200s"),
        pytest.param(302, [("Location", "/a%20b?x=1#frag")], {}, "location-single-uri-ref", id="encoded-location"),
        pytest.param(415, [("Accept-Encoding", "identity"), TEXT],
                     {"method": "POST", "request_headers": [("Content-Encoding", "gzip")]},
                     "415-accept-encoding-iff-coding", id="415-for-coding"),
        pytest.param(412, [TEXT], {"method": "PUT", "request_headers": [("If", "(<urn:x>)")]},
                     "412-needs-precondition", id="412-webdav-if"),
        pytest.param(103, [("Link", "</a.css>; rel=preload")], {"http_version": "HTTP/1.1"}, "1xx-not-to-http10",
                     id="1xx-to-http11"),
    ],
)
def test_rule_silent(status: int, headers: list[tuple[str, str]], kwargs: dict[str, Any], rule: str) -> None:
    body = b"" if status in (103, 304) or kwargs.get("method") == "HEAD" else b"ok"
    assert rule not in fired(status, headers, body, **kwargs)


# Selectors on check() ---------------------------------------------------------------------------------

EMPTY_500: tuple[int, list[tuple[str, str]], bytes] = (500, [("Content-Length", "0")], b"")


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(None, True, id="default-on"),
        pytest.param({"5xx-explain": "off"}, False, id="id-off"),
        pytest.param({"5xx-*": "off"}, False, id="glob-off"),
        pytest.param({"500": "off"}, False, id="status-off"),
        pytest.param({"5xx": "off"}, False, id="class-off"),
        pytest.param({"4xx": "off"}, True, id="other-class-off"),
        pytest.param({"5xx": "off", "5xx-explain": "log"}, True, id="id-beats-class"),
        pytest.param({"500": "off", "5xx-*": "raise"}, True, id="glob-beats-status"),
        pytest.param({"5xx": "log", "500": "off"}, False, id="status-beats-class"),
    ],
)
def test_rules_selectors_turn_rules_off_and_on(rules: dict[str, str] | None, expected: bool) -> None:
    status, headers, body = EMPTY_500
    assert ("5xx-explain" in fired(status, headers, body, rules=rules)) is expected


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(None, False, id="off-by-default"),
        pytest.param({"200-validators": "log"}, True, id="named-by-id"),
        pytest.param({"200-*": "log"}, True, id="named-by-glob"),
        pytest.param({"200": "log"}, False, id="status-does-not-enable"),
        pytest.param({"2xx": "raise"}, False, id="class-does-not-enable"),
        pytest.param({"200-*": "log", "200-validators": "off"}, False, id="id-off-beats-glob"),
    ],
)
def test_opt_in_rules_are_enabled_only_by_name(rules: dict[str, str] | None, expected: bool) -> None:
    assert ("200-validators" in fired(200, [TEXT], b"ok", rules=rules)) is expected


# Totality and dispatch --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"method": None}, id="method-none"),
        pytest.param({"method": b"GET"}, id="method-bytes"),
        pytest.param({"method": "G\u00c9T\r\n"}, id="method-garbage"),
        pytest.param({"request_headers": 42}, id="request-headers-int"),
        pytest.param({"request_headers": [None, ("a",)]}, id="request-headers-malformed"),
        pytest.param({"http_version": None}, id="version-none"),
        pytest.param({"allowed_methods": 5}, id="allowed-methods-int"),
        pytest.param({"allowed_methods": "GET, POST"}, id="allowed-methods-string"),
        pytest.param({"allowed_methods": [None, 1]}, id="allowed-methods-junk"),
        pytest.param({"gateway": "cgi"}, id="gateway-unknown"),
    ],
)
@pytest.mark.parametrize("status", [100, 200, 204, 304, 401, 405, 416, 429, 503, 0])
def test_check_never_raises_on_odd_arguments(kwargs: dict[str, Any], status: int) -> None:
    violations = check(status, [TEXT, ("Allow", "GET")], b"x", **kwargs)
    assert all(v.status == status for v in violations)


def test_body_of_other_types() -> None:
    assert "content-type-with-content" in fired(200, [], bytearray(b"x"))
    assert "content-type-with-content" in fired(200, [], memoryview(b"x"))
    assert "content-type-with-content" not in fired(200, [], "text")  # type: ignore[arg-type]


def test_allowed_methods_string_is_one_list() -> None:
    found = messages(405, [TEXT], b"no", method="DELETE", allowed_methods="GET, POST")
    assert "GET, POST" in found["405-allow"]


def _recording_rule(rule_id: str, calls: list[str], **kwargs: Any) -> Rule:
    def check_rule(x: Exchange) -> str | None:
        calls.append(rule_id)
        return f"{rule_id} saw {x.status}"

    return Rule(id=rule_id, level="MUST", summary="s", reference="r", hint="h", check=check_rule, **kwargs)


def test_dispatch_calls_only_the_rules_that_can_concern_the_response() -> None:
    calls: list[str] = []
    dispatcher = Dispatcher([
        _recording_rule("for-405", calls, statuses=frozenset({405})),
        _recording_rule("for-200", calls, statuses=frozenset({200})),
        _recording_rule("for-head", calls, methods=frozenset({"HEAD"})),
        _recording_rule("for-allow", calls, fields=frozenset({"allow"})),
        _recording_rule("for-allow-on-405", calls, fields=frozenset({"allow"}), statuses=frozenset({405})),
        _recording_rule("for-wsgi", calls, gateways=frozenset({"wsgi"})),
        _recording_rule("for-json", calls, fields=frozenset({"content-type"}),
                        content_types=frozenset({"application/json"})),
        _recording_rule("always", calls),
    ])
    plain = build_exchange(200, [TEXT], b"ok")
    violations = dispatcher.run(plain)
    assert calls == ["for-200", "always"]
    assert [v.rule for v in violations] == ["for-200", "always"]

    calls.clear()
    dispatcher.run(build_exchange(405, [("Allow", "GET"), ("Content-Type", "application/json")], b"{}",
                                  method="HEAD", gateway="wsgi"))
    assert sorted(calls) == sorted(["for-405", "for-head", "for-allow", "for-allow-on-405", "for-wsgi",
                                    "for-json", "always"])


def test_a_failing_rule_is_skipped_not_raised() -> None:
    def broken(x: Exchange) -> str | None:
        raise ZeroDivisionError

    calls: list[str] = []
    dispatcher = Dispatcher([
        Rule(id="broken", level="MUST", summary="s", reference="r", hint="h", check=broken),
        _recording_rule("after", calls),
    ])
    assert [v.rule for v in dispatcher.run(build_exchange(200, [], b""))] == ["after"]


def test_phases_select_rules() -> None:
    calls: list[str] = []
    dispatcher = Dispatcher([
        _recording_rule("head-phase", calls),
        _recording_rule("body-phase", calls, reads=Reads(body="presence")),
        _recording_rule("length-phase", calls, reads=Reads(body="length")),
    ])
    dispatcher.run(build_exchange(200, [], b""), phases=("head",))
    assert calls == ["head-phase"]


def test_default_dispatch_for_a_plain_200_skips_other_statuses() -> None:
    selected = {rule.id for rule in DEFAULT_DISPATCHER.select(build_exchange(200, [TEXT], b"ok"))}
    assert not any(RULES[rule_id].statuses is not None and 200 not in RULES[rule_id].statuses for rule_id in selected)
    assert "405-allow" not in selected
    assert "content-type-with-content" in selected
