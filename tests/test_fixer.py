"""The fixes RULES.md's auto-fix column names, with the exact response each must produce."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from statusguard import FixResult, check, fix
from statusguard.core.headers import is_imf_fixdate, parse_http_date, split_list

TEXT = ("Content-Type", "text/plain")
HTML = ("Content-Type", "text/html")


def _allow_members(result: FixResult) -> list[str]:
    values = [value for name, value in result.headers if name.lower() == "allow"]
    assert len(values) == 1, values
    members = split_list(values[0])
    assert members is not None
    return members


def _problem(result: FixResult) -> dict[str, Any]:
    assert result.body is not None
    value = json.loads(result.body)
    assert isinstance(value, dict)
    return value


def _header(result: FixResult, name: str) -> list[str]:
    return [value for key, value in result.headers if key.lower() == name.lower()]


# 428, 429, 431, 511: Cache-Control: no-store (RULES.md §1.6 note, §3.9) ----------------------------------------


@pytest.mark.parametrize("status", [428, 429, 431, 511])
@pytest.mark.parametrize(
    ("headers", "expected_cache_control"),
    [
        pytest.param([], "no-store", id="absent"),
        pytest.param([("Cache-Control", "public, max-age=60")], "no-store", id="public-max-age"),
        pytest.param([("Cache-Control", "s-maxage=600, private")], "no-store, private", id="keeps-private"),
        pytest.param([("Cache-Control", "private, no-cache, max-age=0")], "no-store, private, no-cache",
                     id="keeps-no-cache"),
        pytest.param([("Cache-Control", "public"), ("Cache-Control", "max-age=5, private")], "no-store, private",
                     id="two-lines-become-one"),
        pytest.param([("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")], "no-store", id="expires-dropped"),
        pytest.param([("Cache-Control", 'private="Set-Cookie", max-age=9')], 'no-store, private="Set-Cookie"',
                     id="keeps-quoted-argument"),
    ],
)
def test_not_storable_statuses_get_no_store(status: int, headers: list[tuple[str, str]],
                                            expected_cache_control: str) -> None:
    body = b"<a href='https://login.example/'>log in</a>"
    result = fix(status, [*headers, HTML], body)
    assert _header(result, "cache-control") == [expected_cache_control]
    assert _header(result, "expires") == []
    assert f"{status}-not-storable" in result.fixed
    assert result.body == body


def test_no_store_already_present_is_left_alone() -> None:
    headers = [("Cache-Control", "no-store, private"), TEXT]
    result = fix(429, headers, b"slow down")
    assert result.headers == headers
    assert result.fixed == ()


# Bodies that must not be sent (RULES.md §1.2, §1.4, §1.5, §3.2-§3.4) ---------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected_headers", "expected_fixed"),
    [
        pytest.param(200, [TEXT, ("Content-Length", "5")], b"hello", [TEXT, ("Content-Length", "5")],
                     {"head-no-content"}, id="keeps-content-length"),
        pytest.param(200, [TEXT], b"hello", [TEXT], {"head-no-content"}, id="never-adds-content-length"),
        pytest.param(404, [TEXT, ("Content-Length", "9")], b"not found", [TEXT, ("Content-Length", "9")],
                     {"head-no-content"}, id="error-keeps-fields"),
        pytest.param(405, [("Allow", "GET, HEAD"), TEXT], b"no", [("Allow", "GET, HEAD"), TEXT],
                     {"head-no-content"}, id="405-keeps-allow"),
        pytest.param(401, [("WWW-Authenticate", 'Basic realm="x"'), TEXT], b"who?",
                     [("WWW-Authenticate", 'Basic realm="x"'), TEXT], {"head-no-content"}, id="401-keeps-challenge"),
    ],
)
def test_head_body_is_dropped_and_content_length_kept(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    expected_headers: list[tuple[str, str]],
    expected_fixed: set[str],
) -> None:
    # RULES.md §3.2: never rewrite Content-Length to 0 on HEAD; it must equal GET's length or be absent.
    result = fix(status, headers, body, method="HEAD")
    assert (result.status, result.headers, result.body) == (status, expected_headers, b"")
    assert set(result.fixed) == expected_fixed


def test_head_body_not_observed_is_left_to_the_adapter() -> None:
    result = fix(200, [TEXT, ("Content-Length", "5")], None, method="HEAD")
    assert (result.headers, result.body, result.fixed) == ([TEXT, ("Content-Length", "5")], None, ())


@pytest.mark.parametrize(
    ("headers", "body", "expected_headers", "expected_fixed"),
    [
        pytest.param([("Content-Length", "4"), ("Content-Type", "application/json")], b"null",
                     [("Content-Type", "application/json")], {"204-no-content", "204-no-content-length"},
                     id="body-and-length"),
        pytest.param([("Content-Length", "0")], b"", [], {"204-no-content-length"}, id="length-zero"),
        pytest.param([("Content-Length", "0")], None, [], {"204-no-content-length"}, id="length-body-not-observed"),
        pytest.param([], b"{}", [], {"204-no-content"}, id="body-only"),
    ],
)
def test_204_has_no_body_and_no_content_length(
    headers: list[tuple[str, str]], body: bytes | None, expected_headers: list[tuple[str, str]],
    expected_fixed: set[str],
) -> None:
    result = fix(204, headers, body)
    assert result.headers == expected_headers
    assert not result.body
    assert set(result.fixed) == expected_fixed


@pytest.mark.parametrize(
    ("headers", "body", "expected_headers"),
    [
        pytest.param([], b"", [("Content-Length", "0")], id="adds-zero-length"),
        pytest.param([TEXT], b"ok", [TEXT, ("Content-Length", "0")], id="drops-body"),
        pytest.param([("Content-Length", "2"), TEXT], b"ok", [("Content-Length", "0"), TEXT], id="rewrites-length"),
    ],
)
def test_205_is_framed_as_zero_length(
    headers: list[tuple[str, str]], body: bytes, expected_headers: list[tuple[str, str]]
) -> None:
    # RULES.md §3.4: 205 is not 204; HTTP/1.1 framing needs an explicit Content-Length: 0.
    result = fix(205, headers, body, http_version="1.1")
    assert (result.headers, result.body) == (expected_headers, b"")


def test_304_body_and_its_length_are_dropped() -> None:
    result = fix(304, [("ETag", '"a"'), ("Content-Length", "6")], b"cached",
                 request_headers=[("If-None-Match", '"a"')])
    assert (result.status, result.headers, result.body) == (304, [("ETag", '"a"')], b"")
    assert "304-no-content" in result.fixed


def test_1xx_framing_fields_are_stripped() -> None:
    result = fix(103, [("Link", "</a.css>; rel=preload"), ("Content-Length", "0")], b"")
    assert result.headers == [("Link", "</a.css>; rel=preload")]


# Allow from router knowledge (RULES.md §1.6, §3.1, §3.6) ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "allowed", "expected"),
    [
        pytest.param("POST", ["GET"], {"GET"}, id="head-not-implied-by-get"),
        pytest.param("POST", ["GET", "HEAD"], {"GET", "HEAD"}, id="head-listed-when-served"),
        pytest.param("POST", ["GET", "POST"], {"GET"}, id="refused-method-never-listed"),
        pytest.param("DELETE", ["get", "put"], {"GET", "PUT"}, id="router-methods-uppercased"),
        pytest.param("POST", ["PUT", "PATCH"], {"PUT", "PATCH"}, id="no-head-without-get"),
        pytest.param("PUT", ["GET", "HEAD", "OPTIONS", "PROPFIND"], {"GET", "HEAD", "OPTIONS", "PROPFIND"},
                     id="extension-method"),
        pytest.param("POST", [], set(), id="nothing-allowed"),
    ],
)
def test_405_allow_from_the_router(method: str, allowed: list[str], expected: set[str]) -> None:
    result = fix(405, [TEXT], b"no", method=method, allowed_methods=allowed)
    members = _allow_members(result)
    assert set(members) - {""} == expected
    assert len(members) == len(set(members))
    assert "405-allow" in result.fixed
    assert result.status == 405


def test_405_allow_listing_the_refused_method_is_recomputed() -> None:
    result = fix(405, [("Allow", "GET, POST"), TEXT], b"no", method="POST", allowed_methods=["GET", "POST"])
    assert set(_allow_members(result)) == {"GET"}
    assert "405-allow-coherent" in result.fixed


def test_405_without_router_knowledge_is_reported_not_guessed() -> None:
    result = fix(405, [TEXT], b"no", method="POST")
    assert _header(result, "allow") == []
    assert "405-allow" in {v.rule for v in result.remaining}


def test_options_allow_from_the_router() -> None:
    result = fix(204, [], b"", method="OPTIONS", allowed_methods=["GET", "OPTIONS"], request_headers=[])
    assert set(_allow_members(result)) == {"GET", "OPTIONS"}  # nothing implied: the router said no HEAD


@pytest.mark.parametrize(
    ("allow", "expected"),
    [
        pytest.param("GET, POST", "GET, HEAD, POST", id="head-after-get"),
        pytest.param("POST, GET", "POST, GET, HEAD", id="order-kept"),
    ],
)
def test_allow_get_implies_head(allow: str, expected: str) -> None:
    result = fix(405, [("Allow", allow), TEXT], b"no", method="PUT", allowed_methods=["GET", "HEAD", "POST"])
    assert _header(result, "allow") == [expected]


@pytest.mark.parametrize(
    "allowed",
    [pytest.param(None, id="no-router-knowledge"), pytest.param(["GET", "POST"], id="route-refuses-head")],
)
def test_allow_get_implies_head_never_lists_an_unserved_head(allowed: list[str] | None) -> None:
    # A fix never advertises what the route does not answer (issue 16): the violation stays, logged.
    result = fix(405, [("Allow", "GET, POST"), TEXT], b"no", method="PUT", allowed_methods=allowed)
    assert _header(result, "allow") == ["GET, POST"]
    assert "allow-get-implies-head" in {v.rule for v in result.remaining}


def test_head_is_not_added_to_a_405_refusing_head() -> None:
    # Listing HEAD would contradict the 405 itself (RULES.md §3.1): report, do not paper over.
    result = fix(405, [("Allow", "GET"), TEXT], b"", method="HEAD")
    assert _header(result, "allow") == ["GET"]
    assert "allow-get-implies-head" in {v.rule for v in result.remaining}


def test_allow_empty_members_are_dropped() -> None:
    result = fix(405, [("Allow", "GET, , HEAD,"), TEXT], b"no", method="PUT")
    assert _header(result, "allow") == ["GET, HEAD"]


# Challenges from configuration (RULES.md §1.6, §3.5, §3.17) ------------------------------------------------


def test_401_gets_the_configured_challenges_one_per_line() -> None:
    result = fix(401, [TEXT], b"who?", www_authenticate=['Basic realm="site"', 'Bearer realm="api"'])
    assert result.status == 401
    assert result.headers == [TEXT, ("WWW-Authenticate", 'Basic realm="site"'),
                              ("WWW-Authenticate", 'Bearer realm="api"')]
    assert result.fixed == ("401-www-authenticate",)


def test_401_without_configuration_stays_401_and_is_reported() -> None:
    result = fix(401, [TEXT], b"who?")
    assert (result.status, result.headers) == (401, [TEXT])
    assert "401-www-authenticate" in {v.rule for v in result.remaining}


def test_401_with_a_challenge_is_not_given_another() -> None:
    headers = [("WWW-Authenticate", 'Bearer realm="a"'), TEXT]
    assert fix(401, headers, b"x", www_authenticate='Basic realm="b"').headers == headers


@pytest.mark.parametrize(
    ("gateway", "added"),
    [
        pytest.param("asgi", True, id="asgi"),
        pytest.param(None, True, id="unknown-interface"),
        pytest.param("wsgi", False, id="wsgi-hop-by-hop"),
    ],
)
def test_407_gets_the_configured_proxy_challenge_except_in_wsgi(gateway: Any, added: bool) -> None:
    result = fix(407, [TEXT], b"proxy auth", gateway=gateway, proxy_authenticate='Basic realm="proxy"')
    assert (_header(result, "proxy-authenticate") == ['Basic realm="proxy"']) is added
    assert ("407-proxy-authenticate" in {v.rule for v in result.remaining}) is not added


# problem+json for empty errors (RULES.md §1.6 4xx-explain, §1.7 5xx-explain, §3.22) --------------------------


@pytest.mark.parametrize(
    ("status", "title"),
    [
        pytest.param(400, "Bad Request", id="400"),
        pytest.param(404, "Not Found", id="404"),
        pytest.param(413, "Content Too Large", id="413-current-name"),
        pytest.param(416, "Range Not Satisfiable", id="416-current-name"),
        pytest.param(422, "Unprocessable Content", id="422-current-name"),
        pytest.param(500, "Internal Server Error", id="500"),
        pytest.param(503, "Service Unavailable", id="503"),
    ],
)
@pytest.mark.parametrize("headers", [[], [("Content-Length", "0")], [("Content-Type", "text/html")]],
                         ids=["no-headers", "length-zero", "html-type"])
def test_empty_error_gets_problem_details(status: int, title: str, headers: list[tuple[str, str]]) -> None:
    result = fix(status, headers, b"", method="POST")
    assert result.status == status
    assert _problem(result) == {"type": "about:blank", "title": title, "status": status}
    assert _header(result, "content-type") == ["application/problem+json"]
    assert result.body is not None
    assert _header(result, "content-length") == [str(len(result.body))]


@pytest.mark.parametrize(
    ("method", "body", "kwargs"),
    [
        pytest.param("HEAD", b"", {}, id="head"),
        pytest.param("GET", b"already explained", {}, id="existing-body"),
        pytest.param("GET", None, {}, id="body-not-observed"),
        pytest.param("GET", b"", {"problem_details": False}, id="disabled"),
    ],
)
def test_problem_details_never_over_head_a_body_or_the_unknown(
    method: str, body: bytes | None, kwargs: dict[str, Any]
) -> None:
    headers = [("Content-Length", "0")] if body == b"" else [TEXT]
    result = fix(404, headers, body, method=method, **kwargs)
    assert (result.headers, result.body) == (headers, body)


def test_problem_details_status_follows_a_remapped_status() -> None:
    result = fix(509, [], b"", rules={"unregistered-status": "fix"}, status_map={509: 503})
    assert result.status == 503
    assert _problem(result) == {"type": "about:blank", "title": "Service Unavailable", "status": 503}


# Problem details already in the body (RULES.md §1.10) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        pytest.param(503, {"title": "Service Unavailable", "status": 500},
                     {"title": "Service Unavailable", "status": 503}, id="status-rewritten"),
        pytest.param(503, {"title": "Internal Server Error", "status": 500},
                     {"title": "Service Unavailable", "status": 503}, id="status-and-title-together"),
        pytest.param(404, {"status": 404}, {"status": 404, "title": "Not Found"}, id="title-added"),
        pytest.param(400, {"title": "Bad Request", "status": 400, "detail": ["x"], "instance": 5},
                     {"title": "Bad Request", "status": 400}, id="mistyped-members-dropped"),
        pytest.param(404, {"type": "about:blank", "title": "Not Found", "status": "404"},
                     {"type": "about:blank", "title": "Not Found", "status": 404}, id="status-string"),
    ],
)
def test_problem_members_are_repaired(status: int, body: dict[str, Any], expected: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    result = fix(status, [("Content-Type", "application/problem+json"), ("Content-Length", str(len(raw)))], raw)
    assert _problem(result) == expected
    assert result.body is not None
    assert _header(result, "content-length") == [str(len(result.body))]
    assert result.remaining == ()


# Retry-After (RULES.md §1.8 retry-after-syntax, §3.8) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("120 ", ["120 "], id="trailing-space"),  # OWS is not part of the value: nothing to fix
        pytest.param("\t120", ["\t120"], id="leading-tab"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", ["Sun, 06 Nov 1994 08:49:37 GMT"], id="rfc850-date"),
        pytest.param("Sun Nov  6 08:49:37 1994", ["Sun, 06 Nov 1994 08:49:37 GMT"], id="asctime-date"),
        pytest.param("120s", [], id="unit-dropped"),
        pytest.param("-1", [], id="negative-dropped"),
        pytest.param("1.5", [], id="fraction-dropped"),
        pytest.param("soon", [], id="junk-dropped"),
        pytest.param("120", ["120"], id="valid-kept"),
    ],
)
def test_retry_after_is_normalised(value: str, expected: list[str]) -> None:
    result = fix(503, [("Retry-After", value), TEXT], b"down")
    assert _header(result, "retry-after") == expected
    assert all(v.strip(" \t").isdigit() or is_imf_fixdate(v.strip(" \t")) for v in _header(result, "retry-after"))


def test_retry_after_keeps_its_position() -> None:
    result = fix(503, [("X-A", "1"), ("Retry-After", "Sunday, 06-Nov-94 08:49:37 GMT"), TEXT], b"down")
    assert result.headers == [("X-A", "1"), ("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"), TEXT]


@pytest.mark.parametrize(
    ("status", "retry_after", "headers", "expected"),
    [
        pytest.param(503, 120, [], ["120"], id="503-added"),
        pytest.param(429, 60, [("Cache-Control", "no-store")], ["60"], id="429-added"),
        pytest.param(503, {503: "Wed, 21 Oct 2026 07:28:00 GMT"}, [], ["Wed, 21 Oct 2026 07:28:00 GMT"],
                     id="date-added"),
        pytest.param(503, {429: 60}, [], [], id="configured-for-another-status"),
        pytest.param(500, 120, [], [], id="not-on-500"),
        pytest.param(503, 120, [("Retry-After", "30")], ["30"], id="app-value-kept"),
        pytest.param(413, {413: 30}, [], [], id="413-never-blanket"),
    ],
)
def test_configured_retry_after(status: int, retry_after: Any, headers: list[tuple[str, str]],
                                expected: list[str]) -> None:
    result = fix(status, [*headers, TEXT], b"later", retry_after=retry_after)
    assert _header(result, "retry-after") == expected


def test_413_retry_after_only_when_the_app_opts_in() -> None:
    result = fix(413, [TEXT], b"too big", retry_after={413: 30}, rules={"413-retry-after-if-temporary": "fix"})
    assert _header(result, "retry-after") == ["30"]
    assert result.fixed == ("413-retry-after-if-temporary",)


# The other repairs the auto-fix column names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "body", "kwargs", "expected_headers"),
    [
        pytest.param(200, [TEXT, TEXT], b"x", {}, [TEXT], id="identical-duplicates-collapse"),
        pytest.param(200, [("Content-Length", "2, 2"), TEXT], b"ok", {}, [("Content-Length", "2"), TEXT],
                     id="content-length-list-collapses"),
        pytest.param(200, [("Content-Length", "10"), TEXT], b"short", {}, [("Content-Length", "5"), TEXT],
                     id="content-length-recomputed"),
        pytest.param(200, [("Transfer-Encoding", "chunked"), ("Content-Length", "2"), TEXT], b"ok",
                     {"gateway": "asgi"}, [("Content-Length", "2"), TEXT], id="transfer-encoding-stripped"),
        pytest.param(200, [("Content-Length", "0"), ("X-Tunnel", "1")], b"", {"method": "CONNECT"},
                     [("X-Tunnel", "1")], id="connect-framing-stripped"),
        pytest.param(200, [("Connection", "close"), ("Keep-Alive", "5"), TEXT], b"x", {"gateway": "wsgi"}, [TEXT],
                     id="hop-by-hop-stripped-in-wsgi"),
        pytest.param(200, [("Connection", "close"), ("Upgrade", "h2c"), TEXT], b"x", {"http_version": "2"}, [TEXT],
                     id="connection-specific-stripped-on-h2"),
        pytest.param(200, [("Cache-Control", 'max-age="60"'), TEXT], b"x", {}, [("Cache-Control", "max-age=60"), TEXT],
                     id="max-age-unquoted"),
        pytest.param(200, [("Cache-Control", "no-cache=Set-Cookie, private"), TEXT], b"x", {},
                     [("Cache-Control", 'no-cache="Set-Cookie", private'), TEXT], id="no-cache-list-quoted"),
        pytest.param(200, [("Cache-Control", "must-understand, max-age=60"), TEXT], b"x", {},
                     [("Cache-Control", "must-understand, max-age=60, no-store"), TEXT], id="must-understand"),
        pytest.param(200, [("Warning", '199 - "x"'), ("Pragma", "no-cache"), TEXT], b"x", {},
                     [("Pragma", "no-cache"), TEXT], id="warning-stripped-pragma-kept"),
        pytest.param(200, [("Early-Data", "1"), TEXT], b"x", {}, [TEXT], id="early-data-stripped"),
        # Repaired, not dropped: each CR and LF read as SP (RFC 9110 §5.5), so nothing is injected.
        pytest.param(200, [("X-A", "a\r\nSet-Cookie: x=1"), TEXT], b"x", {}, [("X-A", "a  Set-Cookie: x=1"), TEXT],
                     id="injected-header-neutralised"),
        pytest.param(200, [("X A", "1"), TEXT], b"x", {}, [TEXT], id="bad-name-dropped"),
        pytest.param("200 OK", [("Status", "200"), TEXT], b"x", {"gateway": "wsgi"}, [TEXT],
                     id="wsgi-status-header-dropped"),
        pytest.param(511, [("WWW-Authenticate", "Basic"), ("Cache-Control", "no-store"), HTML],
                     b"<a href='/login'>log in</a>", {}, [("Cache-Control", "no-store"), HTML],
                     id="511-challenge-stripped"),
        pytest.param(415, [("Accept-Encoding", "gzip"), TEXT], b"no", {"method": "POST", "request_headers": []}, [TEXT],
                     id="415-accept-encoding-stripped"),
        pytest.param(416, [("Content-Range", "bytes 0-0/500"), TEXT], b"no",
                     {"request_headers": [("Range", "bytes=900-")]}, [("Content-Range", "bytes */500"), TEXT],
                     id="416-unsatisfied-form"),
        pytest.param(206, [("Content-Type", "multipart/byteranges; boundary=B"), ("Content-Range", "bytes 0-1/9")],
                     b"--B--", {"request_headers": [("Range", "bytes=0-1,3-4")]},
                     [("Content-Type", "multipart/byteranges; boundary=B")], id="206-top-level-range-removed"),
        pytest.param(206, [("Content-Range", "bytes 0-1/10"), ("Content-Length", "10"), TEXT], b"ok",
                     {"request_headers": [("Range", "bytes=0-1")]},
                     [("Content-Range", "bytes 0-1/10"), ("Content-Length", "2"), TEXT], id="206-length-recomputed"),
        pytest.param(451, [TEXT], b"blocked", {"blocked_by": "https://isp.example/"},
                     [TEXT, ("Link", '<https://isp.example/>; rel="blocked-by"')], id="451-blocked-by"),
        pytest.param(426, [TEXT], b"upgrade", {"upgrade": "TLS/1.3", "gateway": "asgi", "http_version": "1.1"},
                     [TEXT, ("Upgrade", "TLS/1.3"), ("Connection", "upgrade")], id="426-upgrade-asgi"),
        pytest.param(426, [TEXT], b"upgrade", {"upgrade": "TLS/1.3", "gateway": "wsgi"}, [TEXT],
                     id="426-not-in-wsgi"),
        pytest.param(426, [TEXT], b"upgrade", {"upgrade": "TLS/1.3", "gateway": "asgi", "http_version": "2"},
                     [TEXT], id="426-not-on-h2"),
    ],
)
def test_named_repairs(status: Any, headers: list[tuple[str, str]], body: bytes, kwargs: dict[str, Any],
                       expected_headers: list[tuple[str, str]]) -> None:
    result = fix(status, headers, body, **kwargs)
    assert result.headers == expected_headers


def test_invalid_expires_becomes_a_past_imf_fixdate() -> None:
    # RULES.md §1.8: caches read "0" as already expired; the repair keeps that meaning in valid syntax.
    result = fix(200, [("Expires", "0"), TEXT], b"x")
    (value,) = _header(result, "expires")
    parsed = parse_http_date(value)
    assert is_imf_fixdate(value)
    assert parsed is not None
    assert parsed < datetime.now(UTC)


def test_parseable_expires_is_reformatted() -> None:
    result = fix(200, [("Expires", "Sunday, 06-Nov-94 08:49:37 GMT"), TEXT], b"x")
    assert _header(result, "expires") == ["Sun, 06 Nov 1994 08:49:37 GMT"]


@pytest.mark.parametrize(
    ("status", "kwargs", "expected_status"),
    [
        pytest.param(0, {}, 0, id="out-of-range-not-by-default"),
        pytest.param(0, {"rules": {"status-in-range": "fix"}}, 500, id="out-of-range-opt-in"),
        pytest.param(1000, {"rules": {"status-in-range": "fix"}, "status_map": {1000: 503}}, 503,
                     id="out-of-range-mapped"),
        pytest.param(509, {"status_map": {509: 503}}, 509, id="remap-not-by-default"),
        pytest.param(509, {"rules": {"unregistered-status": "fix"}, "status_map": {509: 503}}, 503, id="remap-opt-in"),
        pytest.param(418, {"rules": {"418-reserved": "fix"}, "status_map": {418: 400}}, 400, id="418-opt-in"),
        pytest.param(405, {"method": "FROB", "rules": {"405-vs-501": "fix"}, "known_methods": ["GET", "POST"]}, 501,
                     id="405-to-501-opt-in"),
        pytest.param(405, {"method": "FROB", "rules": {"405-vs-501": "fix"}}, 405, id="405-to-501-needs-known-methods"),
        pytest.param(405, {"method": "FROB"}, 405, id="405-to-501-not-by-default"),
        pytest.param(304, {"method": "POST", "rules": {"304-only-for-conditional-get-head": "fix"},
                           "request_headers": [("If-None-Match", '"a"')]}, 412, id="304-to-412-opt-in"),
    ],
)
def test_status_changes_are_opt_in(status: int, kwargs: dict[str, Any], expected_status: int) -> None:
    assert fix(status, [("Allow", "GET, HEAD"), ("Cache-Control", "no-store"), TEXT], b"x", **kwargs).status \
        == expected_status


def test_status_change_after_a_dropped_body_keeps_framing_true() -> None:
    result = fix(304, [], b"stale", method="POST", rules={"304-only-for-conditional-get-head": "fix"})
    assert result.status == 412
    assert _problem(result) == {"type": "about:blank", "title": "Precondition Failed", "status": 412}
    assert result.body is not None
    assert _header(result, "content-length") == [str(len(result.body))]


def test_opt_in_etag_hashes_the_final_bytes() -> None:
    result = fix(200, [TEXT], b"hello", rules={"200-validators": "fix"})
    (etag,) = _header(result, "etag")
    assert etag.startswith('"')  # strong: no W/ prefix (RULES.md §3.14: the hash is of the final bytes)
    assert etag.endswith('"')
    assert fix(200, [TEXT], b"hello", rules={"200-validators": "fix"}).headers == result.headers
    assert _header(fix(200, [TEXT], b"other", rules={"200-validators": "fix"}), "etag") != [etag]


# Fixing is idempotent, clean and leaves correct responses alone -------------------------------------------------

MESSY = [
    pytest.param(204, [("Content-Length", "4")], b"null", {}, id="204"),
    pytest.param(200, [("Content-Length", "5"), TEXT], b"hello", {"method": "HEAD"}, id="head"),
    pytest.param(413, [("Content-Length", "0")], b"", {}, id="empty-413"),
    pytest.param(429, [("Cache-Control", "public, max-age=60")], b"", {"retry_after": 60}, id="429"),
    pytest.param(503, [("Retry-After", "Sunday, 06-Nov-94 08:49:37 GMT")], b"", {}, id="503-rfc850"),
    pytest.param(405, [("Allow", "GET, POST, , PUT")], b"", {"method": "POST", "allowed_methods": ["GET", "POST"]},
                 id="405"),
    pytest.param(405, [("Allow", "GET")], b"x", {"method": "HEAD"}, id="405-to-head"),
    pytest.param(401, [("Content-Type", "text/plain"), ("Content-Type", "text/plain")], b"",
                 {"www_authenticate": 'Basic realm="x"'}, id="401"),
    pytest.param(503, [("Content-Type", "application/problem+json")], b'{"status":500,"title":"Internal Server Error"}',
                 {}, id="problem-status-and-title"),
    pytest.param(400, [("Content-Type", "application/problem+json")], b'{"status":"400","title":7}', {},
                 id="problem-mistyped"),
    pytest.param(200, [("Cache-Control", 'max-age="60", no-cache=a, must-understand'), ("Expires", "0"), TEXT], b"x",
                 {}, id="caching"),
    pytest.param(205, [TEXT], b"reset", {}, id="205"),
    pytest.param(304, [("Content-Length", "3"), ("Content-Type", "text/html")], b"abc",
                 {"request_headers": [("If-None-Match", '"a"')]}, id="304"),
    pytest.param("200", [("Status", "200"), ("Connection", "close"), ("Transfer-Encoding", "chunked")], b"",
                 {"gateway": "wsgi"}, id="wsgi"),
    pytest.param(0, [("X A", "1"), ("X-B", "a\nb")], b"", {"rules": {"status-in-range": "fix"}}, id="out-of-range"),
    # A 304 body is dropped, then the opt-in fix turns the 304 into a 412, which may (and should) explain itself.
    pytest.param(304, [], b"stale", {"method": "POST", "rules": {"304-only-for-conditional-get-head": "fix"}},
                 id="304-to-412-with-body"),
    pytest.param(304, [("Content-Length", "5")], None,
                 {"method": "POST", "rules": {"304-only-for-conditional-get-head": "fix"}}, id="304-to-412-streamed"),
]


@pytest.mark.parametrize(("status", "headers", "body", "kwargs"), MESSY)
def test_fix_is_idempotent(status: Any, headers: list[tuple[str, str]], body: bytes, kwargs: dict[str, Any]) -> None:
    first = fix(status, headers, body, **kwargs)
    assert first.fixed  # each of these responses breaks at least one fixable rule
    second = fix(first.status, first.headers, first.body, **kwargs)
    assert (second.status, second.headers, second.body) == (first.status, first.headers, first.body)
    assert second.fixed == ()


@pytest.mark.parametrize(("status", "headers", "body", "kwargs"), MESSY)
def test_fixed_rules_do_not_fire_on_the_result(
    status: Any, headers: list[tuple[str, str]], body: bytes, kwargs: dict[str, Any]
) -> None:
    result = fix(status, headers, body, **kwargs)
    check_kwargs = {k: v for k, v in kwargs.items() if k in ("method", "request_headers", "allowed_methods",
                                                                "gateway", "rules")}
    again = check(result.status, result.headers, result.body, **check_kwargs)
    assert not {v.rule for v in again} & set(result.fixed)
    assert {v.rule for v in result.remaining} == {v.rule for v in again}


CLEAN = [
    pytest.param(200, [("Content-Type", "application/json"), ("Content-Length", "2")], b"{}", {}, id="200"),
    pytest.param(204, [], b"", {"method": "DELETE"}, id="204"),
    pytest.param(205, [("Content-Length", "0")], b"", {}, id="205"),
    pytest.param(302, [("Location", "/next")], b"", {}, id="302"),
    pytest.param(304, [("ETag", '"a"')], b"", {"request_headers": [("If-None-Match", '"a"')]}, id="304"),
    pytest.param(404, [TEXT, ("Content-Length", "9")], b"not found", {}, id="404"),
    pytest.param(405, [("Allow", "GET, HEAD"), TEXT], b"no", {"method": "POST", "allowed_methods": ["GET", "HEAD"]},
                 id="405"),
    pytest.param(429, [("Cache-Control", "no-store"), ("Retry-After", "10"), TEXT], b"slow", {"retry_after": 60},
                 id="429"),
    pytest.param(500, [TEXT], None, {}, id="500-streamed"),
    pytest.param(200, [TEXT, ("Content-Length", "1000")], b"", {"method": "HEAD"}, id="head"),
    pytest.param(401, [("WWW-Authenticate", 'Basic realm="x"'), TEXT], b"x", {"www_authenticate": 'Bearer realm="y"'},
                 id="401"),
]


@pytest.mark.parametrize(("status", "headers", "body", "kwargs"), CLEAN)
def test_a_correct_response_comes_back_identical(
    status: int, headers: list[tuple[str, str]], body: bytes | None, kwargs: dict[str, Any]
) -> None:
    result = fix(status, headers, body, **kwargs)
    assert (result.status, result.headers, result.body, result.fixed, result.remaining) \
        == (status, headers, body, (), ())
