"""1.6 4xx"""

from __future__ import annotations

from collections.abc import Callable

from ..headers import (
    parse_byte_ranges,
    parse_content_range,
    parse_links,
    split_list,
)
from ..model import Draft, Exchange, escape
from ..options import FixOptions
from ..rule import ALL_FIELDS, Reads
from ._base import (
    _2XX,
    _4XX,
    _EXPLAINED_ELSEWHERE_4XX,
    _addition,
    _allow_from_router,
    _ex,
    _explain_rule,
    _is_multipart_byteranges,
    _methods_in,
    _not_storable_rule,
    _rule,
    decoded_content,
    open_section,
)

open_section(__name__, '1.6 4xx')




_explain_rule(
    "4xx-explain", _4XX - _EXPLAINED_ELSEWHERE_4XX,
    "Except for HEAD, a 4xx includes a representation explaining the error.",
    "RFC 9110 §15.5",
    "Return a body (RFC 9457 problem+json is ideal) saying what went wrong and whether to retry.",
    "Clients and people debugging get no explanation. Codes with their own explain rule (406, 409, 423, "
    "428, 429, 431, 451) are reported under that rule instead.",
    "say what went wrong and whether it is temporary",
    generic=True,
)


def _check_401_challenge(x: Exchange) -> str | None:
    value = x.get("www-authenticate")  # every line: one list of challenges (RFC 9110 §5.3)
    if value is not None and value.strip(" \t,"):
        return None
    what = "without WWW-Authenticate" if value is None else "with an empty WWW-Authenticate (no challenge)"
    return f"401 {what}; the client is told to authenticate but not how"


def _fix_add_challenge(field_name: str, attr: str) -> Callable[[Draft, Exchange, FixOptions], bool]:
    def fix(draft: Draft, x: Exchange, options: FixOptions) -> bool:
        challenges: tuple[str, ...] = getattr(options, attr)
        present = draft.get_all(field_name.lower())
        if not challenges or any(value.strip(" \t,") for value in present):
            return False
        if field_name == "Proxy-Authenticate" and x.gateway == "wsgi":
            return False  # hop-by-hop: a WSGI app cannot send it (RULES.md §3.17)
        draft.remove(field_name.lower())  # empty lines carry no challenge
        for challenge in challenges:  # one challenge per field line (RFC 9110 §11.6.1)
            draft.add(field_name, challenge)
        return True

    return fix


_rule(
    "401-www-authenticate", "MUST", {401},
    "A 401 carries WWW-Authenticate with at least one challenge.",
    "RFC 9110 §15.5.2, §11.6.1, §11.3",
    "Send a challenge, e.g. WWW-Authenticate: Bearer realm=\"api\". If credentials were valid but "
    "insufficient, answer 403 instead.",
    _check_401_challenge,
    why="401 means 'authenticate with one of these schemes'; without a challenge clients cannot, and "
    "some treat the response as malformed.",
    fix=_fix_add_challenge("WWW-Authenticate", "www_authenticate"),
    fix_summary="add the configured www_authenticate challenge(s); never remove a 401",
    bad=(_ex(401, (("Content-Type", "application/json"),), b'{"detail":"no"}'),),
    good=(_ex(401, (("WWW-Authenticate", 'Bearer realm="api"'), ("Content-Type", "application/json")),
              b'{"detail":"no"}'),),
    reads=Reads(fields={"www-authenticate"}),
)


def _check_401_vs_403(x: Exchange) -> str | None:
    # An empty Cookie (Django's test client always sends one) carries no credential.
    if x.request_get("authorization") is not None or (x.request_get("cookie") or "").strip(" \t;"):
        return None
    return "403 to a request without credentials; 401 with a challenge invites the client to authenticate"


_rule(
    "401-vs-403", "SHOULD", {403},
    "Missing credentials get 401 with a challenge; valid credentials lacking rights get 403.",
    "RFC 9110 §11.4, §15.5.4",
    "Answer 401 (with WWW-Authenticate) when no credentials were sent; 403 when they were valid but insufficient.",
    _check_401_vs_403,
    enabled_by_default=False, needs="S,Q(Authorization),R",
    why="Off by default: whether credentials were valid is app knowledge, and 403 is also right for "
    "resources no credentials unlock. The partial check flags a 403 to a request with neither "
    "Authorization nor Cookie.",
    bad=(_ex(403, (("Content-Type", "text/plain"),), b"no"),),
    good=(_ex(403, (("Content-Type", "text/plain"),), b"no", req=(("Authorization", "Bearer t"),)),),
    reads=Reads(request_fields={"authorization", "cookie"}),
)

_rule(
    "402-reserved", "ADVISORY", {402},
    "402 Payment Required is reserved; it has no standard semantics.",
    "RFC 9110 §15.5.3",
    "Use 403 or a problem+json type describing the payment condition.",
    lambda x: "402 is reserved for future use and has no standard semantics",
    why="Clients have no defined behaviour for it.",
    bad=(_ex(402, (("Content-Type", "text/plain"),), b"pay"),),
    good=(_ex(403, (("Content-Type", "text/plain"),), b"no"),),
    reads=Reads(),
)


def _check_405_allow(x: Exchange) -> str | None:
    if x.has("allow"):
        return None
    known = f" (the router serves {', '.join(sorted(x.allowed_methods))})" if x.allowed_methods else ""
    return f"405 to {x.method} without Allow{known}"


def _fix_allow(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    allow = _allow_from_router(x)
    if allow is None or draft.get_all("allow") == [allow]:
        return False
    draft.set("Allow", allow)
    return True


_rule(
    "405-allow", "MUST", {405},
    "A 405 carries Allow with the resource's supported methods.",
    "RFC 9110 §15.5.6, §10.2.1",
    "Send Allow listing the methods the route serves, e.g. Allow: GET, HEAD, POST.",
    _check_405_allow,
    needs="S,R",
    why="The client needs Allow to know which method would work; it is the whole content of a 405.",
    fix=_fix_allow, fix_summary="Allow from the router: the methods it serves, never the refused one",
    bad=(_ex(405, (("Content-Type", "text/plain"),), b"no", method="POST"),),
    good=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="POST"),
          _ex(405, (("Allow", ""), ("Content-Type", "text/plain")), b"disabled", method="POST")),
    reads=Reads(fields={"allow"}, method=True, router=True),
)


def _check_405_coherent(x: Exchange) -> str | None:
    allow = x.get("allow")
    if allow is None:
        return None
    listed = set(_methods_in(allow))
    if x.method in listed:
        return f"405 to {x.method}, but Allow lists {x.method}"
    if x.allowed_methods is None or not listed:
        return None  # no router knowledge, or an empty Allow (the resource is disabled: legal)
    # The refused method cannot be served, whatever the router says. A HEAD left out is
    # allow-get-implies-head's business; a HEAD listed that no route answers is a lie like any other.
    served = set(x.allowed_methods) - {x.method}
    missing = sorted(served - listed - {"HEAD"})
    extra = sorted(listed - served)
    if not missing and not extra:
        return None
    parts = [f"omits {', '.join(missing)}"] if missing else []
    if extra:
        parts.append(f"lists {', '.join(extra)}, which no route at this path serves")
    return f"405 to {x.method}: Allow ({escape(allow)}) {' and '.join(parts)}"


_rule(
    "405-allow-coherent", "ADVISORY", {405},
    "A 405's Allow does not list the rejected method, and matches the methods the router serves.",
    "RFC 9110 §10.2.1",
    "Build Allow from the route's methods; the method you refused is not one of them.",
    _check_405_coherent,
    needs="S,M,R",
    why="Retrying with a listed method that is not served fails again, and a served method left out is "
    "never tried. Routers that keep one route per method (Starlette, FastAPI) list only the first "
    "route's methods. A HEAD listed for a route that does not answer it (FastAPI's @app.get) sends "
    "clients to a second 405. An empty Allow is legal: the resource is temporarily disabled.",
    fix=_fix_allow, fix_summary="recompute Allow from the router when known: exactly the methods it serves",
    bad=(_ex(405, (("Allow", "GET, POST"), ("Content-Type", "text/plain")), b"no", method="POST"),
         _ex(405, (("Allow", "GET"), ("Content-Type", "text/plain")), b"no", method="POST",
             allowed_methods=frozenset({"GET", "HEAD", "PUT"})),
         _ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="POST",
             allowed_methods=frozenset({"GET"}))),
    good=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="POST"),
          _ex(405, (("Allow", "GET, HEAD, PUT"), ("Content-Type", "text/plain")), b"no", method="POST",
              allowed_methods=frozenset({"GET", "HEAD", "PUT"}))),
    reads=Reads(fields={"allow"}, method=True, router=True),
)


def _check_get_implies_head(x: Exchange) -> str | None:
    methods = _methods_in(x.get("allow") or "")
    if "GET" not in methods or "HEAD" in methods:
        return None
    message = f"Allow lists GET but not HEAD ({escape(x.get('allow') or '')!r})"
    if x.allowed_methods is not None and "GET" in x.allowed_methods and "HEAD" not in x.allowed_methods:
        message += "; the route does not answer HEAD either: serve it wherever GET is served"
    return message


def _fix_get_implies_head(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    # Allow lists what is served (RFC 9110 §10.2.1): HEAD goes in only when the router says a
    # route answers it. A route that serves GET but not HEAD is the app's bug; writing HEAD into
    # its Allow would send the client to a 405. So without that knowledge this rule is only logged.
    if x.allowed_methods is None or "HEAD" not in x.allowed_methods:
        return False
    if draft.status == 405 and x.method == "HEAD":
        return False  # listing the refused method would break 405-allow-coherent; the 405 itself is the bug
    values = draft.get_all("allow")
    members = [m for value in values for m in _methods_in(value)]
    if "HEAD" in members:
        return False
    members.insert(members.index("GET") + 1 if "GET" in members else len(members), "HEAD")
    draft.set("Allow", ", ".join(members))
    return True


_rule(
    "allow-get-implies-head", "SHOULD", None,
    "Wherever Allow advertises GET, it advertises HEAD too.",
    "RFC 9110 §9.1, §9.3.2",
    "Serve HEAD wherever GET is served (servers must support both), then list it in Allow.",
    _check_get_implies_head,
    fields=frozenset({"allow"}),
    why="HEAD mirrors GET; an Allow without it tells clients (and caches checking freshness) it fails. "
    "Often Allow is right and the route itself refuses HEAD (FastAPI's @app.get, DRF's "
    "@api_view([\"GET\"]), Django's require_GET): the remedy is then to serve HEAD, not to list it.",
    fix=_fix_get_implies_head,
    fix_summary="add HEAD after GET, only when the router reports that HEAD is served (otherwise only logged)",
    bad=(_ex(405, (("Allow", "GET, POST"), ("Content-Type", "text/plain")), b"no", method="PUT"),
         _ex(405, (("Allow", "GET, POST"), ("Content-Type", "text/plain")), b"no", method="PUT",
             allowed_methods=frozenset({"GET", "POST"}),
             note="as FastAPI's @app.get: the route refuses HEAD, so the fix leaves Allow alone"),
         _ex(405, (("Allow", "GET, POST"), ("Content-Type", "text/plain")), b"no", method="PUT",
             allowed_methods=frozenset({"GET", "HEAD", "POST"}),
             note="the route answers HEAD, so the fix lists it")),
    good=(_ex(405, (("Allow", "GET, HEAD, POST"), ("Content-Type", "text/plain")), b"no", method="PUT"),),
    reads=Reads(fields={"allow"}, method=True, router=True),
)


def _check_options_allow(x: Exchange) -> str | None:
    if x.has("allow") or x.request_get("access-control-request-method") is not None:
        return None  # a CORS preflight answers with Access-Control-Allow-Methods instead
    return f"{x.status} to OPTIONS without Allow"


_rule(
    "options-allow", "SHOULD", _2XX,
    "A 2xx to OPTIONS advertises the resource's methods in Allow.",
    "RFC 9110 §9.3.7",
    "Answer OPTIONS with Allow listing the route's methods.",
    _check_options_allow,
    methods=frozenset({"OPTIONS"}), needs="S,M,R",
    why="OPTIONS exists to discover what a resource supports. CORS preflights are exempt.",
    fix=_fix_allow, fix_summary="Allow from the router",
    bad=(_ex(204, (), b"", method="OPTIONS"),),
    good=(_ex(204, (("Allow", "GET, HEAD, OPTIONS"),), b"", method="OPTIONS"),
          _ex(200, (("Access-Control-Allow-Methods", "GET"),), b"", method="OPTIONS",
              req=(("Origin", "https://a.example"), ("Access-Control-Request-Method", "GET")))),
    reads=Reads(fields={"allow"}, method=True, router=True, request_fields={"access-control-request-method"}),
)


def _check_405_vs_501(x: Exchange) -> str | None:
    # Which methods the server implements is its own knowledge (configured known_methods): without it
    # the rule cannot tell an unknown method from one served elsewhere, so it stays silent (UnknownFact).
    if x.method in x.known_methods:
        return None
    return f"405 to the unknown method {escape(x.method)!r}; 501 says the server does not implement it"


def _fix_405_to_501(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if x.method in x.known_methods:
        return False
    draft.status = 501
    return True


_EXAMPLE_KNOWN = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"})

_rule(
    "405-vs-501", "SHOULD", {405},
    "An unknown or unimplemented method gets 501; a known method not allowed here gets 405.",
    "RFC 9110 §9.1, §15.6.2",
    "Answer 501 Not Implemented to methods the server does not implement anywhere.",
    _check_405_vs_501,
    needs="S,M,R",
    why="405 claims the method exists on other resources; 501 tells the client not to try it anywhere.",
    fix=_fix_405_to_501, fix_by_default=False, fix_summary="(opt-in) 405 -> 501 for methods outside known_methods",
    bad=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="FROB",
             known_methods=_EXAMPLE_KNOWN),),
    good=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="POST",
              known_methods=_EXAMPLE_KNOWN),
          _ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="FROB",
              note="known_methods not configured: the server's methods are unknown, so the rule stays silent")),
    reads=Reads(method=True, known_methods=True),
)

_explain_rule(
    "406-alternatives", frozenset({406}),
    "Except for HEAD, a 406 lists the available representations.",
    "RFC 9110 §15.5.7",
    "Return a body listing the media types (and their URIs) the resource can produce.",
    "The client cannot adjust its Accept header without knowing what is available.",
    "list the available representations",
)


def _check_407_challenge(x: Exchange) -> str | None:
    value = x.get("proxy-authenticate")
    if value is not None and value.strip(" \t,"):
        return None
    extra = " (a WSGI app cannot send it at all: it is hop-by-hop)" if x.gateway == "wsgi" else ""
    return f"407 without Proxy-Authenticate{extra}"


_rule(
    "407-proxy-authenticate", "MUST", {407},
    "A 407 carries Proxy-Authenticate with a challenge for this proxy.",
    "RFC 9110 §15.5.8, §11.7.1",
    "Send Proxy-Authenticate (ASGI only); an origin app should answer 401 instead.",
    _check_407_challenge,
    why="The client cannot authenticate to the proxy without a challenge.",
    fix=_fix_add_challenge("Proxy-Authenticate", "proxy_authenticate"),
    fix_summary="ASGI: add the configured proxy_authenticate challenge; WSGI: report only (hop-by-hop)",
    bad=(_ex(407, (("Content-Type", "text/plain"),), b"auth", gateway="asgi"),),
    good=(_ex(407, (("Proxy-Authenticate", 'Basic realm="proxy"'), ("Content-Type", "text/plain")), b"auth",
              gateway="asgi"),),
    reads=Reads(fields={"proxy-authenticate"}, interface=True),
)

_rule(
    "407-proxy-only", "ADVISORY", {407},
    "Only a proxy answers 407; an origin app means 401.",
    "RFC 9110 §15.5.8",
    "Answer 401 with WWW-Authenticate from an origin server.",
    lambda x: "407 sent by the app; only proxies authenticate clients with 407",
    enabled_by_default=False, needs="S,X",
    why="Off by default (deployment context). Clients send Proxy-Authorization to the proxy, not to you.",
    bad=(_ex(407, (("Proxy-Authenticate", "Basic"), ("Content-Type", "text/plain")), b"x"),),
    good=(_ex(401, (("WWW-Authenticate", "Basic"), ("Content-Type", "text/plain")), b"x"),),
    reads=Reads(),
)

def _check_408(x: Exchange) -> str | None:
    # A 408 means the server stopped waiting: closing is what it does (RFC 9110 §15.5.9 sends the client
    # to a new connection; RFC 9112 §9.6: say "close" when closing). Connection: close is right; only a
    # Connection that promises to keep the connection contradicts the 408.
    options = [m.lower() for m in split_list(x.get("connection") or "") or [] if m]
    if not options or "close" in options:
        return None
    return f"408 with Connection: {escape(x.get('connection') or '')}; a server that timed out closes the connection"


_rule(
    "408-close-guidance", "DEPRECATED", {408},
    "A 408 does not promise to keep the connection; Connection: close, if any, is right.",
    "RFC 7231 §6.5.7; RFC 9110 §15.5.9; RFC 9112 §9.6",
    "Send Connection: close with a 408, or no Connection header and let the server close.",
    _check_408,
    why="A server that gave up waiting for the request closes the connection (RFC 9110 §15.5.9 sends the "
    "client to a new one; RFC 9112 §9.6 says to announce it with close). RFC 7231's SHOULD-close sentence "
    "is gone, but closing is still correct; a keep-alive on a 408 invites a reuse that will fail.",
    bad=(_ex(408, (("Connection", "keep-alive"), ("Content-Type", "text/plain")), b"slow"),),
    good=(_ex(408, (("Content-Type", "text/plain"),), b"slow"),
          _ex(408, (("Connection", "close"), ("Content-Type", "text/plain")), b"slow")),
    reads=Reads(fields={"connection"}),
)

_explain_rule(
    "409-explain", frozenset({409}),
    "A 409 gives enough information to identify the source of the conflict.",
    "RFC 9110 §15.5.10",
    "Return a body naming the conflicting state (e.g. the current version).",
    "The user cannot resolve a conflict they are not told about.",
    "identify the source of the conflict",
)


def _check_412(x: Exchange) -> str | None:
    # Any request field named If or If-* is a precondition (RFC 9110 §13.1; RFC 4918 §10.4).
    if any(name.lower() == "if" or name.lower().startswith("if-") for name, _ in x.request_headers):
        return None
    return "412 to a request that carried no precondition (If-Match, If-None-Match, If-Unmodified-Since...)"


_rule(
    "412-needs-precondition", "ADVISORY", {412},
    "412 means a precondition in the request evaluated false.",
    "RFC 9110 §15.5.13, §13.2.2",
    "Answer 412 only to conditional requests; use 409 or 428 otherwise.",
    _check_412,
    needs="S,Q(If-*)",
    why="Without a precondition the client cannot tell what failed.",
    bad=(_ex(412, (("Content-Type", "text/plain"),), b"no", method="PUT"),),
    good=(_ex(412, (("Content-Type", "text/plain"),), b"no", method="PUT", req=(("If-Match", '"a"'),)),),
    reads=Reads(request_fields={ALL_FIELDS}),
)


def _check_413_retry(x: Exchange) -> str | None:
    return None if x.has("retry-after") else "413 for a limit flagged temporary, without Retry-After"


def _fix_retry_after(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    value = options.retry_after.get(x.status)
    if value is None or draft.has("retry-after"):
        return False
    draft.add("Retry-After", value)
    return True


_rule(
    "413-retry-after-if-temporary", "SHOULD", {413},
    "If a 413's limit is temporary, it says when to retry with Retry-After.",
    "RFC 9110 §15.5.14",
    "Set Retry-After on 413 when the limit will lift; configure retry_after={413: N} to have it added.",
    _check_413_retry,
    enabled_by_default=False, needs="S,R",
    why="Off by default: only the app knows whether its limit is temporary. Turn it on (with "
    "retry_after={413: seconds}) for apps whose 413s are temporary.",
    fix=_fix_retry_after, fix_summary="add the configured retry_after for 413; never a blanket value",
    bad=(_ex(413, (("Content-Type", "text/plain"),), b"too big"),),
    good=(_ex(413, (("Retry-After", "60"), ("Content-Type", "text/plain")), b"too big"),),
    reads=Reads(fields={"retry-after"}),
)


def _check_415_accept_encoding(x: Exchange) -> str | None:
    if not x.has("accept-encoding"):
        return None
    codings = [m.lower() for m in split_list(x.request_get("content-encoding") or "") or [] if m]
    if any(coding != "identity" for coding in codings):
        return None
    return "415 carries Accept-Encoding, but the request had no content coding to reject"


_rule(
    "415-accept-encoding-iff-coding", "MUST", {415},
    "A 415 carries Accept-Encoding only when the cause is the request's content coding.",
    "RFC 9110 §12.5.3, §15.5.16; RFC 7694 §3",
    "Send Accept-Encoding on 415 only for an unsupported Content-Encoding; for media types use Accept.",
    _check_415_accept_encoding,
    needs="S,Q(Content-Encoding),R",
    why="Clients read Accept-Encoding on 415 as 'your compression was the problem' and retry wrongly.",
    fix=lambda d, x, o: d.remove("accept-encoding"), fix_summary="strip Accept-Encoding when the request had no coding",
    bad=(_ex(415, (("Accept-Encoding", "gzip"), ("Content-Type", "text/plain")), b"no", method="POST"),),
    good=(_ex(415, (("Accept-Encoding", "gzip"), ("Content-Type", "text/plain")), b"no", method="POST",
              req=(("Content-Encoding", "br"),)),
          _ex(415, (("Accept", "application/json"), ("Content-Type", "text/plain")), b"no", method="POST")),
    reads=Reads(fields={"accept-encoding"}, request_fields={"content-encoding"}),
)


def _check_416_content_range(x: Exchange) -> str | None:
    if parse_byte_ranges(x.request_get("range") or "") is None:
        return None
    value = x.get("content-range")
    if value is None:
        return "416 to a byte-range request without Content-Range: bytes */LENGTH"
    parsed = parse_content_range(value)
    if parsed is not None and parsed.unit == "bytes" and parsed.first is None:
        return None
    return f"416 Content-Range is {escape(value)!r}, not the unsatisfied form 'bytes */LENGTH'"


def _fix_416_content_range(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    values = draft.get_all("content-range")
    parsed = parse_content_range(values[0]) if len(values) == 1 else None
    if parsed is None or parsed.length is None or parsed.unit != "bytes":
        return False  # the length is unknown: never guess it
    draft.set("Content-Range", f"bytes */{parsed.length}")
    return True


_rule(
    "416-content-range", "SHOULD", {416},
    "A 416 to a byte-range request sends Content-Range: bytes */N with the current length.",
    "RFC 9110 §15.5.17, §14.4",
    "Send Content-Range: bytes */<current length> so the client can form a satisfiable range.",
    _check_416_content_range,
    needs="S,Q(Range),R",
    why="Without the current length the client cannot correct its Range.",
    fix=_fix_416_content_range, fix_summary="rewrite to bytes */N when the app's value states the length",
    bad=(_ex(416, (("Content-Type", "text/plain"),), b"no", req=(("Range", "bytes=100-"),)),
         _ex(416, (("Content-Range", "bytes 0-0/10"), ("Content-Type", "text/plain")), b"no",
             req=(("Range", "bytes=100-"),))),
    good=(_ex(416, (("Content-Range", "bytes */10"), ("Content-Type", "text/plain")), b"no",
              req=(("Range", "bytes=100-"),)),),
    reads=Reads(fields={"content-range"}, request_fields={"range"}),
)

_rule(
    "416-no-multipart", "ADVISORY", {416},
    "A 416 is never multipart/byteranges; that type is for 206.",
    "RFC 2616 §10.4.17; RFC 9110 §14.6",
    "Answer 416 with a plain error body and Content-Range: bytes */N.",
    lambda x: "416 with Content-Type multipart/byteranges" if _is_multipart_byteranges(x) else None,
    why="RFC 2616 forbade it outright; RFC 9110 defines multipart/byteranges for 206 only.",
    bad=(_ex(416, (("Content-Type", "multipart/byteranges; boundary=x"), ("Content-Range", "bytes */10")),
             b"--x--", req=(("Range", "bytes=100-"),)),),
    good=(_ex(416, (("Content-Type", "text/plain"), ("Content-Range", "bytes */10")), b"no",
              req=(("Range", "bytes=100-"),)),),
    reads=Reads(fields={"content-type"}),
)

_rule(
    "417-needs-expect", "ADVISORY", {417},
    "417 answers only a request whose Expect cannot be met.",
    "RFC 9110 §15.5.18, §10.1.1",
    "Answer 417 only when the request carried an Expect you cannot meet.",
    lambda x: None if x.request_get("expect") is not None else "417 to a request with no Expect header",
    needs="Q(Expect)",
    why="The client cannot tell what expectation failed.",
    bad=(_ex(417, (("Content-Type", "text/plain"),), b"no"),),
    good=(_ex(417, (("Content-Type", "text/plain"),), b"no", req=(("Expect", "100-continue"),)),),
    reads=Reads(request_fields={"expect"}),
)

_rule(
    "421-not-from-proxy", "MUST", {421},
    "A proxy never generates 421.",
    "RFC 9110 §15.5.20, §7.4",
    "Enable this rule only where the app runs as a proxy; an origin uses 421 for targets it does not serve.",
    lambda x: "421 generated in a proxy role",
    enabled_by_default=False, needs="S,X",
    why="Off by default (deployment context): turn it on for apps deployed as proxies.",
    bad=(_ex(421, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(400, (("Content-Type", "text/plain"),), b"x"),),
    reads=Reads(),
)


def _check_423(x: Exchange) -> str | None:
    if x.is_head:
        return None
    if x.has_body is False:
        return "423 Locked with an empty body; include a DAV:error element naming the lock condition"
    content = decoded_content(x)  # as the client sees it; unknown under a coding the stdlib cannot undo
    if content is not None and b"error" not in content[:4096]:
        return "423 Locked body has no DAV:error element (e.g. <D:lock-token-submitted/>)"
    return None


_rule(
    "423-error-element", "SHOULD", {423},
    "A 423 includes a DAV:error XML body with a precondition code such as lock-token-submitted.",
    "RFC 4918 §11.3",
    "Return <D:error xmlns:D='DAV:'><D:lock-token-submitted/></D:error>.",
    _check_423,
    needs="B",
    why="WebDAV clients use the error code to decide how to resolve the lock.",
    # No fix: a generic problem body cannot name the lock condition (RULES.md: log only).
    bad=(_ex(423, (("Content-Length", "0"),), b""),),
    good=(_ex(423, (("Content-Type", "application/xml"),),
              b"<D:error xmlns:D='DAV:'><D:lock-token-submitted/></D:error>"),),
    reads=Reads(fields={"content-encoding"}, body="content", method=True),
)

_rule(
    "425-only-for-early-data", "SHOULD", {425},
    "425 answers only requests sent in TLS early data (Early-Data: 1).",
    "RFC 8470 §5.2",
    "Answer 425 only when the request carried Early-Data: 1.",
    lambda x: None if (x.request_get("early-data") or "").strip() == "1"
    else "425 to a request without Early-Data: 1",
    enabled_by_default=False, needs="Q(Early-Data),X",
    why="Off by default (deployment context: the server may see early data the app cannot).",
    bad=(_ex(425, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(425, (("Content-Type", "text/plain"),), b"x", req=(("Early-Data", "1"),)),),
    reads=Reads(request_fields={"early-data"}),
)

_rule(
    "425-early-data-not-in-response", "MUST", None,
    "Early-Data is a request header and never appears in a response.",
    "RFC 8470 §5.1",
    "Remove Early-Data from the response (it was probably copied from the request).",
    lambda x: f"the response carries Early-Data: {escape(x.get('early-data') or '')}",
    fields=frozenset({"early-data"}),
    why="Intermediaries use it to mark requests; in a response it is meaningless or misleading.",
    fix=lambda d, x, o: d.remove("early-data"), fix_summary="strip it",
    bad=(_ex(200, (("Early-Data", "1"), ("Content-Type", "text/plain")), b"x"),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"x"),),
    reads=Reads(fields={"early-data"}),
)


def _check_426(x: Exchange) -> str | None:
    problems = []
    if not x.has("upgrade"):
        problems.append("no Upgrade header listing acceptable protocols")
    connection = [m.lower() for m in split_list(x.get("connection") or "") or []]
    if "upgrade" not in connection:
        problems.append("no 'upgrade' in Connection")
    if not problems:
        return None
    if not x.http_version.startswith("1"):
        return None  # HTTP/2 and HTTP/3 have no Upgrade (RFC 9113 §8.2.2): there it cannot be added
    extra = " (a WSGI app cannot send either: both are hop-by-hop)" if x.gateway == "wsgi" else ""
    return "426 with " + " and ".join(problems) + extra


def _fix_426(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if options.upgrade is None or x.gateway == "wsgi" or not x.http_version.startswith("1"):
        return False
    if not draft.has("upgrade"):
        draft.add("Upgrade", options.upgrade)
    connection = [m for m in split_list(", ".join(draft.get_all("connection"))) or [] if m]
    if "upgrade" not in (m.lower() for m in connection):
        draft.set("Connection", ", ".join([*connection, "upgrade"]))
    return True


_rule(
    "426-upgrade-field", "MUST", {426},
    "A 426 sends Upgrade with the acceptable protocols plus Connection: upgrade.",
    "RFC 9110 §15.5.22, §7.8",
    "Send Upgrade: <protocol> and Connection: upgrade (ASGI over HTTP/1.1); for HTTP/2 advertise Alt-Svc.",
    _check_426,
    needs="S,V",
    why="The client is told to upgrade without being told to what. Over HTTP/2 and HTTP/3 Upgrade does not "
    "exist, so the rule does not apply there (advertise Alt-Svc instead).",
    fix=_fix_426, fix_summary="ASGI over HTTP/1.1: add the configured upgrade value; WSGI and HTTP/2: report only",
    bad=(_ex(426, (("Content-Type", "text/plain"),), b"upgrade"),),
    good=(_ex(426, (("Upgrade", "TLS/1.3"), ("Connection", "upgrade"), ("Content-Type", "text/plain")), b"upgrade",
              gateway="asgi"),
          _ex(426, (("Content-Type", "text/plain"),), b"upgrade", http_version="2",
              note="HTTP/2 forbids Upgrade (RFC 9113 §8.2.2)")),
    reads=Reads(fields={"connection", "upgrade"}, interface=True, http_version=True),
)




_explain_rule(
    "428-explain", frozenset({428}),
    "A 428 explains how to resubmit successfully (which precondition to send).",
    "RFC 6585 §3",
    "Return a body naming the precondition header the client must send (e.g. If-Match).",
    "The client must learn which conditional header to add.",
    "say which precondition to send",
)
_not_storable_rule("428-not-storable", "RFC 6585 §3")
_explain_rule(
    "429-explain", frozenset({429}),
    "A 429 explains the limit that was hit.",
    "RFC 6585 §4",
    "Return a body describing the limit (and Retry-After for when it resets).",
    "Clients (and their developers) need to know which limit they hit.",
    "explain the rate limit",
)
_not_storable_rule("429-not-storable", "RFC 6585 §4")
# RFC 6585 §4: a 429 MAY include Retry-After: added in fix mode when the user configured one.
_addition("429-retry-after", {429}, "Retry-After", "retry_after")
_explain_rule(
    "431-name-field", frozenset({431}),
    "A 431 names the offending field when a single field is too large.",
    "RFC 6585 §5",
    "Return a body naming the oversized header (often Cookie).",
    "Users can only fix an oversized header (often a cookie) if they know which.",
    "name the header field that was too large",
)
_not_storable_rule("431-not-storable", "RFC 6585 §5")
_explain_rule(
    "451-explain", frozenset({451}),
    "A 451 explains the legal demand: who made it, under which law, what it covers.",
    "RFC 7725 §3",
    "Return a body describing the legal demand.",
    "Transparency about censorship is the point of 451.",
    "explain the legal demand",
)


def _check_451_link(x: Exchange) -> str | None:
    for value in x.get_all("link"):
        for _, params in parse_links(value) or []:
            if "blocked-by" in params.get("rel", "").lower().split():
                return None
    return "451 without Link: <...>; rel=\"blocked-by\" identifying the blocking entity"


def _fix_451_link(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if options.blocked_by is None:
        return False
    draft.add("Link", f'<{options.blocked_by}>; rel="blocked-by"')
    return True


_rule(
    "451-blocked-by-link", "SHOULD", {451},
    "A 451 identifies the blocking entity with Link: <uri>; rel=\"blocked-by\".",
    "RFC 7725 §4",
    "Add Link: <https://your-org.example/legal>; rel=\"blocked-by\" (the blocker, not the authority).",
    _check_451_link,
    why="It tells users and researchers who implemented the block.",
    fix=_fix_451_link, fix_summary="add the configured blocked_by Link",
    bad=(_ex(451, (("Content-Type", "text/plain"),), b"blocked"),),
    good=(_ex(451, (("Link", '<https://isp.example/>; rel="blocked-by"'), ("Content-Type", "text/plain")),
              b"blocked"),),
    reads=Reads(fields={"link"}),
)

