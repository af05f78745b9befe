"""The fix safety contract (docs/rules.md, "Fix safety"), as a property over generated responses.

Every response hypothesis generates is fixed with every default fix on (and a few configured values),
and the result is held to the five promises:

1. no claim the app did not make: every header line out is the app's, a configured value, or one of
   the framing/cache fields a rule requires;
2. no header the app sent is lost unless a rule that fired says it removes that field;
3. an expired response stays expired: an invalid or past Expires never becomes a future one;
4. no bytes the client cannot decode: a changed body has no content coding, its own Content-Length,
   and is strict JSON when it is problem+json;
5. "fixed" only when the rule passes on the fixed response, checked again with the same facts.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from statusguard import check, fix
from statusguard.core.headers import parse_cache_control, parse_http_date

_CONFIGURED = {
    "www_authenticate": 'Bearer realm="api"', "proxy_authenticate": 'Basic realm="proxy"',
    "retry_after": {503: 120, 429: 30, 413: 60}, "upgrade": "TLS/1.3", "blocked_by": "https://isp.example/",
    "login_url": "https://login.example/",
}
_CONFIGURED_VALUES = {
    ("www-authenticate", 'Bearer realm="api"'), ("proxy-authenticate", 'Basic realm="proxy"'),
    ("retry-after", "120"), ("retry-after", "30"), ("retry-after", "60"), ("upgrade", "TLS/1.3"),
    ("link", '<https://isp.example/>; rel="blocked-by"'),
}
# Fields a fix may add from the rules' own requirements (their values are checked below).
_REQUIRED_ADDITIONS = {"content-length", "content-type", "cache-control", "allow", "connection", "expires",
                       "retry-after", "content-range"}
# What each rule's fix may remove (its fix summary in docs/rules.md says so); body descriptors go when
# the body was replaced.
_MAY_REMOVE: dict[str, set[str]] = {
    "wsgi-status-string": {"status"},
    "hop-by-hop-forbidden-wsgi": {"connection", "keep-alive", "te", "trailers", "upgrade", "proxy-authenticate",
                                  "proxy-authorization"},
    "connection-specific-h2": {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
                               "*connection-named"},
    "singleton-field-once": {"content-length"},
    "content-length-syntax": {"content-length"},
    "content-length-accurate": {"content-length"},
    "transfer-encoding-app-forbidden": {"transfer-encoding"},
    "connect-2xx-no-framing": {"content-length", "transfer-encoding"},
    "1xx-headers-only": {"content-length", "transfer-encoding"},
    "204-no-content-length": {"content-length"},
    "206-content-length-matches": {"content-length"},
    "206-multipart-shape": {"content-range"},
    "415-accept-encoding-iff-coding": {"accept-encoding"},
    "425-early-data-not-in-response": {"early-data"},
    "511-no-challenge": {"www-authenticate"},
    "retry-after-syntax": {"retry-after"},
    "pragma-warning-obsolete": {"warning"},
    "428-not-storable": {"expires"}, "429-not-storable": {"expires"}, "431-not-storable": {"expires"},
    "511-not-storable": {"expires"},
    "401-www-authenticate": {"www-authenticate"},  # an empty line, replaced by the configured challenge
    "407-proxy-authenticate": {"proxy-authenticate"},
    "field-name-syntax": {"*bad-name", "*not-latin-1"}, "field-value-syntax": {"*bad-name", "*not-latin-1"},
}
_BODY_DESCRIPTORS = {"content-encoding", "content-digest", "repr-digest", "etag", "last-modified", "content-md5",
                     "content-range", "content-language"}
_FRAMING = {"content-length"}  # recomputed after any body change (RULES.md §3.21)
_REPLACED_FRAMING = {"transfer-encoding"}  # a new body is framed by its own Content-Length

_NAMES = [
    "Content-Type", "Content-Length", "Content-Encoding", "Content-Range", "Content-Digest", "ETag",
    "Last-Modified", "Cache-Control", "Expires", "Allow", "WWW-Authenticate", "Retry-After", "Location",
    "Connection", "Upgrade", "Keep-Alive", "Trailer", "Transfer-Encoding", "Set-Cookie",
    "Content-Security-Policy", "X-Custom", "Vary", "Warning", "Accept-Encoding", "Link",
]
_VALUES = [
    "text/plain", "application/json", "application/problem+json", "application/xml", "gzip", "deflate", "br",
    "0", "00", "5", "2, 2", "-1", "abc", "bytes 0-1/10", "items 0-1/10", "bytes */10", '"v1"',
    "Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 31 Dec 2036 23:59:60 GMT", "Tue, 19 Jan 2038 03:14:07 +0100",
    "Sunday, 06-Nov-94 08:49:37 GMT", "0", "soon", "public, max-age=60", "no-store", 'max-age="60"',
    "no-cache=Set-Cookie", "GET, POST", "", 'Basic realm="x"', "120", "close", "keep-alive", "upgrade",
    "websocket", "X-Checksum", "chunked", "a=1; Path=/", "default-src 'self';\r\n script-src 'none'",
    "a\r\nb", "a\nb", "a\x00b", "caf\u00e9", "snow \u2603", " 120 ", "/next",
]
_BODIES = [
    None, b"", b"ok", gzip.compress(b""), gzip.compress(b"<d:multistatus xmlns:d='DAV:'/>"), b"\x1f\x8b garbage",
    b'{"type":"about:blank","title":"Not Found","status":500}', b'{"status": 404.0, "title": 5, "n": 1e400}',
    b'{"status": 500, "n": 0.1000000000000000055511, "title": "x"}', b'{"status":"404","detail":"x"}',
    b"<D:multistatus xmlns:D='DAV:'/>",
]
_STATUSES = [100, 101, 103, 200, 204, 205, 206, 207, 304, 400, 401, 404, 405, 406, 407, 408, 409, 412, 413, 415,
             416, 423, 426, 428, 429, 431, 451, 500, 501, 503, 505, 511]

_HEADERS = st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=7)
_FACTS = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "FROB"]),
    "request_headers": st.one_of(st.none(), st.lists(st.tuples(
        st.sampled_from(["Range", "If-None-Match", "Content-Encoding", "Upgrade"]),
        st.sampled_from(["bytes=0-1", "items=0-1", '"v1"', "gzip", "websocket"])), max_size=3)),
    "http_version": st.sampled_from([None, "1.0", "1.1", "2"]),
    "allowed_methods": st.sampled_from([None, ["GET"], ["GET", "POST"]]),
    "gateway": st.sampled_from([None, "wsgi", "asgi"]),
})


def _lower(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name.lower(), value) for name, value in headers]


def _fold_repaired(value: str) -> str:
    import re

    return re.sub(r"[\r\n\x00]", " ", re.sub(r"\r?\n[ \t]+", " ", value))


def _directives(values: list[str]) -> set[tuple[str, str | None]]:
    found: set[tuple[str, str | None]] = set()
    for value in values:  # each line on its own: one malformed line must not hide the others' directives
        found |= {(d.name, d.argument) for d in parse_cache_control([value]) or []}
    return found


def _is_past(value: str, now: datetime) -> bool:
    moment = parse_http_date(value.strip(" \t"))
    return moment is None or moment <= now  # an invalid Expires is already expired (RFC 9111 §5.3)


@given(status=st.sampled_from(_STATUSES), headers=_HEADERS, body=st.sampled_from(_BODIES), facts=_FACTS,
       configured=st.booleans())
def test_every_fix_keeps_the_contract(
    status: int, headers: list[tuple[str, str]], body: bytes | None, facts: dict[str, Any], configured: bool
) -> None:
    options = _CONFIGURED if configured else {}
    found = {v.rule for v in check(status, headers, body, **facts)}
    result = fix(status, headers, body, **facts, **options)
    before, after = _lower(headers), _lower(result.headers)
    body_replaced = result.body not in (body, b"", None)

    # 1. No claim the app did not make.
    app_lines = set(before) | {(name, _fold_repaired(value)) for name, value in before}
    app_values = {name: [v.strip(" \t") for n, v in before if n == name] for name, _ in before}
    for line in after:
        if line in app_lines or (line in _CONFIGURED_VALUES and options):
            continue
        name, value = line
        assert name in _REQUIRED_ADDITIONS, f"the fix added {line!r}, which nothing asked for"
        if name == "content-type":
            assert value == "application/problem+json"
            assert body_replaced
        elif name == "allow":
            members = {m.strip() for m in value.split(",")}
            assert members <= {m for v in app_values.get("allow", []) for m in (x.strip() for x in v.split(","))} \
                | {"HEAD"} | set(facts["allowed_methods"] or ()), line
        elif name == "cache-control":
            assert _directives([value]) <= _directives(app_values.get("cache-control", [])) | {("no-store", None)}, line
        elif name == "connection":
            assert "upgrade" in value.lower(), line
            assert options, line
        elif name == "content-range":
            assert value.startswith("bytes */"), line
            assert any(v.endswith(value[8:]) for v in app_values["content-range"]), line
        elif name == "retry-after":
            assert value in app_values.get("retry-after", []) or parse_http_date(value) is not None, line

    # 2. Nothing the app sent is lost unless a rule that fired removes it.
    removable = set().union(*(_MAY_REMOVE.get(rule, set()) for rule in found)) | _FRAMING
    if body_replaced:
        removable |= _BODY_DESCRIPTORS | _REPLACED_FRAMING
    if "*connection-named" in removable:
        removable |= {m.strip().lower() for n, v in before if n == "connection" for m in v.split(",")}
    if "304-minimal-metadata" in found:
        removable |= {"content-type", "content-encoding", "content-language", "content-md5"}
    kept_names = {name for name, _ in after}
    # A 416's "bytes */N" states the representation's length, not the replaced bytes': it is kept.
    for name, value in before:
        if name in removable or name in kept_names:
            continue
        if "*not-latin-1" in removable and any(ord(c) > 0xFF for c in value):
            continue
        raise AssertionError(f"the fix lost {name}: {value!r} (fired: {sorted(found)})")

    # 3. An expired response stays expired.
    now = datetime.now(UTC)
    if any(_is_past(v, now) for n, v in before if n == "expires"):
        assert all(_is_past(v, now) for n, v in after if n == "expires"), after
    assert _directives([v for n, v in after if n == "cache-control"]) <= \
        _directives([v for n, v in before if n == "cache-control"]) | {("no-store", None)}

    # 4. Bytes the client can decode.
    if result.body and result.body != body:  # new content (a dropped body is empty: nothing to decode)
        assert not any(n == "content-encoding" and v.strip().lower() not in ("", "identity") for n, v in after)
        if facts["method"] != "HEAD":
            assert [v for n, v in after if n == "content-length"] == [str(len(result.body))]
        if ("content-type", "application/problem+json") in after and result.body:
            json.loads(result.body, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))

    # 5. "Fixed" only when the rule passes afterwards.
    if result.fixed:
        again = {v.rule for v in check(result.status, result.headers, result.body, **facts,
                                       known_methods=None)}
        assert not again & set(result.fixed), (result.fixed, again)
