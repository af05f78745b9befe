"""Verdicts at the edges (issue 15): each principle and each line of the fix safety contract.

Every expected value here comes from the RFC text cited next to it, not from running the code.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest
from recording import example_exchange, random_exchange

from statusguard import WSGIMiddleware, check, fix
from statusguard.cli import main
from statusguard.core.model import Exchange
from statusguard.core.rules import RULE_LIST

TEXT = ("Content-Type", "text/plain")


def fired(*args: Any, **kwargs: Any) -> set[str]:
    return {v.rule for v in check(*args, **kwargs)}


# -- Unknown is not absent ---------------------------------------------------------------------------


def test_a_304_is_not_judged_on_request_headers_nobody_gave() -> None:
    # RFC 9110 §15.4.5: a 304 answers a conditional GET; without the request nobody knows it was not one.
    assert "304-only-for-conditional-get-head" not in fired(304, [("ETag", '"a"')])
    assert "304-only-for-conditional-get-head" in fired(304, [("ETag", '"a"')], request_headers=[])
    assert "304-only-for-conditional-get-head" not in fired(
        304, [("ETag", '"a"')], request_headers={"If-None-Match": '"a"'})


def test_a_verdict_that_needs_no_unknown_fact_still_reports() -> None:
    # A 304 to POST is wrong whatever the request's headers (RFC 9110 §15.4.5: only GET/HEAD).
    assert "304-only-for-conditional-get-head" in fired(304, [], method="POST")
    # A 206 to HEAD is wrong whatever its Range (RFC 9110 §14.2: range handling is defined for GET only).
    assert "206-needs-get-range" in fired(206, [("Content-Range", "bytes 0-1/10"), TEXT], b"ok", method="HEAD")


def test_405_vs_501_needs_the_servers_known_methods() -> None:
    headers = [("Allow", "GET, HEAD"), TEXT]
    assert "405-vs-501" not in fired(405, headers, b"no", method="PURGE")  # PURGE may be served elsewhere
    assert "405-vs-501" in fired(405, headers, b"no", method="PURGE", known_methods=["GET", "HEAD", "POST"])
    assert "405-vs-501" not in fired(405, headers, b"no", method="PURGE", known_methods="GET, PURGE")
    assert fix(405, headers, b"no", method="PURGE", rules={"405-vs-501": "fix"}).status == 405
    assert fix(405, headers, b"no", method="PURGE", rules={"405-vs-501": "fix"}, known_methods=["GET"]).status == 501


def test_statusguard_check_on_a_capture_without_its_request(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "304.txt"
    path.write_bytes(b'HTTP/1.1 304 Not Modified\r\nETag: "a"\r\n\r\n')
    assert main(["check", str(path)]) == 0, capsys.readouterr().out
    with_request = tmp_path / "304-with-request.txt"
    with_request.write_bytes(b'GET / HTTP/1.1\r\nHost: a\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: "a"\r\n\r\n')
    assert main(["check", str(with_request)]) == 1  # its request had no If-None-Match: now it is known
    capsys.readouterr()


def _unknown(x: Exchange, fact: str) -> Exchange:
    copy = object.__new__(Exchange)
    for slot in Exchange.__slots__:
        with contextlib.suppress(AttributeError):
            object.__setattr__(copy, slot, object.__getattribute__(x, slot))
    copy.unknown = x.unknown | {fact}
    return copy


def _message(rule: Any, x: Exchange) -> str | None:
    try:
        return rule.check(x)  # type: ignore[no-any-return]
    except Exception:
        return None


@pytest.mark.parametrize("rule", [r for r in RULE_LIST if getattr(r.reads, "unknowable", ())], ids=lambda r: r.id)
def test_an_unknown_fact_never_makes_a_rule_say_something_else(rule: Any) -> None:
    """Marking any declared fact unknown leaves the rule silent or saying exactly what it says when the
    fact is known: it never invents a verdict from the absence."""
    rng = random.Random(rule.id)
    pool = [example_exchange(e) for e in (*rule.examples_bad, *rule.examples_good)]
    pool += [random_exchange(rng, sorted(rule.statuses) if rule.statuses and min(rule.statuses) >= 100 else None)
             for _ in range(300)]
    for x in pool:
        for fact in rule.reads.unknowable:
            unknown = _message(rule, _unknown(x, fact))
            assert unknown is None or unknown == _message(rule, x), (rule.id, fact, unknown)


# -- The HTTP version matters ------------------------------------------------------------------------


def test_205_framing_is_an_http11_rule() -> None:
    # RFC 9112 §6.3 frames a 205 with Content-Length: 0; HTTP/2 frames every message itself (RFC 9113 §8.1).
    assert "205-zero-length-framing" in fired(205, [], http_version="1.1")
    assert "205-zero-length-framing" not in fired(205, [], http_version="2")
    assert "205-zero-length-framing" not in fired(205, [], http_version=b"HTTP/3")
    assert "205-zero-length-framing" not in fired(205, [])  # version unknown
    assert "205-zero-length-framing" not in fired(205, [("Content-Length", "00")], http_version="1.1")  # 1*DIGIT
    # RFC 9110 §15.3.6: a zero-length chunked body is the other way to say "no content".
    assert "205-zero-length-framing" not in fired(205, [("Transfer-Encoding", "chunked")], http_version="1.1",
                                                   gateway="asgi")


def test_http2_strips_connection_specific_fields_and_what_connection_names() -> None:
    # RFC 9113 §8.2.2: Connection, the RFC 9110 §7.6.1 fields, TE; fields named by Connection too.
    headers = [("Connection", "X-Hop"), ("X-Hop", "1"), ("TE", "trailers"), ("Set-Cookie", "a=1"), TEXT]
    result = fix(200, headers, b"ok", http_version="2")
    assert result.headers == [("Set-Cookie", "a=1"), TEXT]


def test_426_over_http2_asks_for_no_upgrade() -> None:
    # RFC 9113 §8.2.2: no Upgrade in HTTP/2, so a 426 there cannot carry one.
    assert "426-upgrade-field" not in fired(426, [TEXT], b"x", http_version="2")
    assert "426-upgrade-field" in fired(426, [TEXT], b"x", http_version="1.1")
    unknown = fix(426, [TEXT], b"x", gateway="asgi", upgrade="TLS/1.3")
    assert not any(name.lower() == "upgrade" for name, _ in unknown.headers)


# -- Grammar is the RFC's ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "body", "kwargs", "rule"),
    [
        # RFC 9110 §5.5: a field value excludes leading and trailing OWS.
        pytest.param(302, [("Location", " /next ")], b"", {}, "location-single-uri-ref", id="ows-location"),
        pytest.param(503, [("Retry-After", "120 "), TEXT], b"x", {}, "retry-after-syntax", id="ows-retry-after"),
        # RFC 9110 §5.3: lines of a list-based field are one comma-joined value.
        pytest.param(401, [("WWW-Authenticate", 'Newauth realm="apps", type=1,'), ("WWW-Authenticate", 'title="x"'),
                           TEXT], b"x", {}, "www-authenticate-syntax", id="challenge-across-lines"),
        # RFC 9110 §5.6.7: time-of-day runs to 23:59:60.
        pytest.param(503, [("Retry-After", "Wed, 31 Dec 2036 23:59:60 GMT"), TEXT], b"x", {}, "retry-after-syntax",
                     id="leap-second-retry-after"),
        pytest.param(200, [("Expires", "Wed, 31 Dec 2036 23:59:60 GMT"), TEXT], b"x", {}, "expires-syntax",
                     id="leap-second-expires"),
        # RFC 9110 §8.6: Content-Length = 1*DIGIT, leading zeros included.
        pytest.param(200, [("Content-Length", "007"), TEXT], b"1234567", {}, "content-length-accurate",
                     id="leading-zeros"),
        pytest.param(200, [("Content-Length", "007"), TEXT], b"1234567", {}, "content-length-syntax",
                     id="leading-zeros-syntax"),
        # RFC 8259 §6: 404.0 is the number 404.
        pytest.param(404, [("Content-Type", "application/problem+json")], b'{"status":404.0,"title":"Not Found"}', {},
                     "problem-status-match", id="json-404.0"),
        pytest.param(404, [("Content-Type", "application/problem+json")], b'{"status":4.04e2,"title":"Not Found"}',
                     {}, "problem-member-types", id="json-exponent"),
    ],
)
def test_the_rfc_grammar_is_not_made_stricter(
    status: int, headers: list[tuple[str, str]], body: bytes, kwargs: dict[str, Any], rule: str
) -> None:
    assert rule not in fired(status, headers, body, **kwargs)


def test_an_empty_challenge_list_is_no_challenge() -> None:
    # #challenge allows an empty list (RFC 9110 §5.6.1), but a 401 carries at least one (§15.5.2).
    assert fired(401, [("WWW-Authenticate", ""), TEXT], b"x") & {"401-www-authenticate", "www-authenticate-syntax"} \
        == {"401-www-authenticate"}


# -- A body is judged as the client sees it ----------------------------------------------------------


def test_a_json_207_is_not_malformed_xml() -> None:
    # RFC 4918 §13: XML is the default 207 body, not the only one.
    assert "207-multistatus-xml" not in fired(207, [("Content-Type", "application/json")], b'{"r": []}')


@pytest.mark.parametrize(
    ("status", "media", "content", "rule", "fires"),
    [
        pytest.param(207, "application/xml", b"<d:multistatus xmlns:d='DAV:'/>", "207-multistatus-xml", False,
                     id="207-gzip-ok"),
        pytest.param(207, "application/xml", b"<d:response/>", "207-multistatus-xml", True, id="207-gzip-bad"),
        pytest.param(423, "application/xml", b"<d:error><d:lock-token-submitted/></d:error>", "423-error-element",
                     False, id="423-gzip-ok"),
        pytest.param(404, "application/problem+json", b'{"status":500,"title":"x"}', "problem-status-match", True,
                     id="problem-gzip-bad"),
        pytest.param(511, "text/html", b"<a href='https://login.example/'>log in</a>", "511-link-to-login", False,
                     id="511-gzip-ok"),
    ],
)
def test_content_is_decoded_before_it_is_judged(
    status: int, media: str, content: bytes, rule: str, fires: bool
) -> None:
    headers = [("Content-Type", media), ("Content-Encoding", "gzip"), ("Cache-Control", "no-store")]
    assert (rule in fired(status, headers, gzip.compress(content), request_headers=[])) is fires


def test_a_coding_the_stdlib_cannot_undo_keeps_content_rules_silent() -> None:
    headers = [("Content-Type", "application/xml"), ("Content-Encoding", "br")]
    assert "207-multistatus-xml" not in fired(207, headers, b"\x8b\x02\x80opaque")


# -- Ranges are not only bytes -----------------------------------------------------------------------


def test_another_range_unit_keeps_its_content_length() -> None:
    # RFC 9110 §14.1: range units other than bytes are legal; their positions do not count octets.
    headers = [("Content-Range", "items 0-1/10"), ("Content-Length", "5"), TEXT]
    request = {"Range": "items=0-1"}
    assert "206-content-length-matches" not in fired(206, headers, b"ab,cd", request_headers=request)
    assert fix(206, headers, b"ab,cd", request_headers=request).headers == headers


# -- Interim and connection responses ----------------------------------------------------------------


@pytest.mark.parametrize("gateway", [None, "wsgi", "asgi"])
def test_a_103_or_101_sent_by_the_server_is_interim(gateway: str | None) -> None:
    # RFC 8297 §2, RFC 9110 §15.2.2: interim responses; only an app handing one over as final breaks §15.
    assert fired(103, [("Link", "</a.css>; rel=preload")], http_version="1.1", gateway=gateway) & {
        "one-final-response"} == set()
    switch = [("Upgrade", "websocket"), ("Connection", "upgrade")]
    found = fired(101, switch, http_version="1.1", request_headers={"Upgrade": "websocket"}, gateway=gateway)
    # (Under WSGI, Upgrade and Connection are PEP 3333's hop-by-hop fields: that finding is right.)
    assert found - {"hop-by-hop-forbidden-wsgi"} == set()


def test_a_1xx_an_app_hands_to_start_response_is_still_reported() -> None:
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("103 Early Hints", [("Link", "</a.css>; rel=preload")])
        return [b""]

    middleware = WSGIMiddleware(app, mode="log", on_violation=lambda v, c: seen.append(v.rule))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": None}
    list(middleware(environ, lambda status, headers, exc_info=None: None))
    assert "one-final-response" in seen


# -- Hop-by-hop, and 408 -----------------------------------------------------------------------------


def test_trailer_is_not_hop_by_hop() -> None:
    # RFC 9110 §6.6.2: Trailer is end-to-end; PEP 3333 forbids "Trailers" (RFC 2616's list), not it.
    assert "hop-by-hop-forbidden-wsgi" not in fired(200, [("Trailer", "X-Checksum"), TEXT], b"x", gateway="wsgi")


def test_a_408_that_closes_the_connection_breaks_nothing() -> None:
    # RFC 9110 §15.5.9 (a new connection will be used); RFC 9112 §9.6 (say "close" when closing).
    assert "408-close-guidance" not in fired(408, [("Connection", "close"), TEXT], b"slow", gateway="asgi")


# -- Inputs in the forms real stacks use -------------------------------------------------------------


def test_a_bytes_method_is_read_as_that_method() -> None:
    assert "head-no-content" in fired(200, [TEXT], b"ok", method=b"HEAD")
    assert fix(200, [TEXT], b"ok", method=b"HEAD").body == b""


def test_headers_as_a_mapping() -> None:
    assert fired(200, {"Content-Type": "text/plain"}, b"ok") == set()
    result = fix(200, {"Set-Cookie": ["a=1", "b=2"], "content-type": "text/plain"}, b"ok")
    assert [v for n, v in result.headers if n == "Set-Cookie"] == ["a=1", "b=2"]
    assert "304-only-for-conditional-get-head" not in fired(304, [], request_headers={"if-none-match": '"a"'})
    assert "304-only-for-conditional-get-head" not in fired(304, [], request_headers=[(b"IF-NONE-MATCH", b'"a"')])


def test_a_method_of_another_type_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="method"):
        check(200, [TEXT], b"ok", method=5)  # type: ignore[arg-type]


# -- Levels follow the RFC words ---------------------------------------------------------------------


def test_cache_control_arg_forms_reports_the_level_of_what_it_found() -> None:
    # RFC 9111 §5.2.2.4/§5.2.2.7: a sender SHOULD NOT use the token form of no-cache/private;
    # §5.2.2.1/§5.2.2.10: a sender MUST NOT quote max-age/s-maxage.
    def level(value: str) -> str:
        return next(v.level for v in check(200, [("Cache-Control", value), TEXT], b"x")
                    if v.rule == "cache-control-arg-forms")

    assert level("no-cache=Set-Cookie") == "SHOULD"
    assert level("private=Set-Cookie") == "SHOULD"
    assert level('max-age="60"') == "MUST"
    assert level('max-age="60", no-cache=Set-Cookie') == "MUST"


# -- The fix safety contract, line by line -----------------------------------------------------------


def test_a_replaced_body_drops_what_described_the_old_one() -> None:
    headers = [("Content-Encoding", "gzip"), ("ETag", '"e"'), ("Content-Digest", "sha-256=:x:"),
               ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"), ("Content-Length", "0")]
    result = fix(404, headers, b"")
    names = {name.lower() for name, _ in result.headers}
    assert names == {"content-type", "content-length"}
    assert result.body is not None
    assert json.loads(result.body)["status"] == 404
    assert ("Content-Length", str(len(result.body))) in result.headers


def test_a_header_with_a_line_break_is_repaired_not_dropped() -> None:
    csp = "default-src 'self';\r\n script-src 'none'"  # obs-fold: RFC 9112 §5.2, unfold to one SP
    cookie = "a=1;\n\tPath=/"
    result = fix(200, [("Content-Security-Policy", csp), ("Set-Cookie", cookie), TEXT], b"x")
    assert ("Content-Security-Policy", "default-src 'self'; script-src 'none'") in result.headers
    assert ("Set-Cookie", "a=1; Path=/") in result.headers
    nul = fix(200, [("X-A", "a\x00b"), TEXT], b"x")  # RFC 9110 §5.5: NUL replaced by SP
    assert ("X-A", "a b") in nul.headers


@pytest.mark.parametrize(
    "value", ["Tue, 19 Jan 2038 03:14:07 +0100", "2038-01-19", "0", "Mon, 32 Jan 2038 00:00:00 GMT"]
)
def test_an_invalid_expires_stays_in_the_past(value: str) -> None:
    # RFC 9111 §5.3: a cache reads an invalid Expires as already expired.
    result = fix(200, [("Expires", value), TEXT], b"x")
    assert [v for n, v in result.headers if n == "Expires"] == ["Thu, 01 Jan 1970 00:00:00 GMT"]


def test_what_the_rule_explains_stays() -> None:
    ae = [("Accept-Encoding", "gzip"), TEXT]
    assert fix(415, ae, b"no", method="POST").headers == ae  # the request (its coding) is unknown
    assert fix(415, ae, b"no", method="POST", request_headers={"Content-Encoding": "GZIP"}).headers == ae
    leap = [("Retry-After", "Wed, 31 Dec 2036 23:59:60 GMT"), TEXT]
    assert fix(503, leap, b"down").headers == leap


@pytest.mark.parametrize(
    "body",
    [b'{"status":500,"title":"x","n":1e400}', b'{"status":500,"title":"x","n":0.1000000000000000055511}'],
    ids=["huge-number", "many-digits"],
)
def test_the_apps_json_keeps_its_meaning(body: bytes) -> None:
    headers = [("Content-Type", "application/problem+json")]
    result = fix(404, headers, body)
    assert result.body == body  # re-serialising would write Infinity or round the digits
    assert "problem-status-match" in {v.rule for v in result.remaining}


def test_a_generic_body_does_not_satisfy_a_specific_rule() -> None:
    for status, rule in ((406, "406-alternatives"), (431, "431-name-field"), (451, "451-explain")):
        result = fix(status, [("Cache-Control", "no-store")], b"", blocked_by="https://isp.example/")
        assert rule not in result.fixed
        assert rule in {v.rule for v in result.remaining}
    blocked = fix(451, [], b"", blocked_by="https://isp.example/")
    assert "451-blocked-by-link" in blocked.fixed  # what can be fixed is


def test_a_416s_unsatisfied_range_survives_a_synthesized_body() -> None:
    # RFC 9110 §15.5.17: "bytes */N" gives the current length; it describes no bytes of the body.
    result = fix(416, [("Content-Range", "bytes */11")], b"", request_headers={"Range": "bytes=100-"})
    assert ("Content-Range", "bytes */11") in result.headers
