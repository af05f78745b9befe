"""1.5 3xx"""

from __future__ import annotations

from ..model import Draft, Exchange, escape
from ..options import FixOptions
from ..rule import Reads
from ._base import _deprecated_code, _empty_error_body, _ex, _remove_all, _rule, open_section
from ._repairs import drop_body

open_section(__name__, '1.5 3xx')

_rule(
    "redirect-location", "SHOULD", {301, 302, 307, 308},
    "A 301, 302, 307 or 308 carries Location with the new URI.",
    "RFC 9110 §15.4.2, §15.4.3, §15.4.8, §15.4.9",
    "Use your framework's redirect helper, which sets Location.",
    lambda x: None if x.has("location") else f"{x.status} redirect without Location",
    why="A redirect without a target strands the client.",
    bad=(_ex(302, (("Content-Type", "text/plain"),), b"moved"),),
    good=(_ex(302, (("Location", "/login"),), b""),),
    reads=Reads(fields={"location"}),
)

_rule(
    "303-location", "ADVISORY", {303},
    "A 303 points at the other resource with Location.",
    "RFC 9110 §15.4.4",
    "Set Location to the resource the client should GET.",
    lambda x: None if x.has("location") else "303 See Other without Location",
    why="303 means 'see the resource in Location'; without it the response has no meaning.",
    bad=(_ex(303, (), b""),),
    good=(_ex(303, (("Location", "/orders/1"),), b""),),
    reads=Reads(fields={"location"}),
)

_rule(
    "300-choices", "SHOULD", {300},
    "Except for HEAD, a 300 lists the alternatives in its content.",
    "RFC 9110 §15.4.1",
    "Return a body listing the choices (and Location for a preferred one).",
    lambda x: "300 Multiple Choices with no content listing the choices" if _empty_error_body(x) else None,
    needs="S,M,B",
    why="The client cannot choose among alternatives it is not shown.",
    bad=(_ex(300, (("Content-Length", "0"),), b""),),
    good=(_ex(300, (("Content-Type", "text/html"),), b"<a href='/a.en'>en</a>"),),
    reads=Reads(body="presence", method=True),
)

_URI_REF_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)


def _check_location(x: Exchange) -> str | None:
    # RFC 9110 §10.2.2: Location = URI-reference, exactly one.
    values = x.get_all("location")
    if len(values) > 1:
        return f"Location appears {len(values)} times; it takes exactly one URI reference"
    value = values[0]
    if not value:
        return "Location is empty"
    if not _URI_REF_CHARS.issuperset(value):
        bad = sorted({char for char in value if char not in _URI_REF_CHARS})
        shown = ", ".join(repr(escape(char)) for char in bad[:5])
        return f"Location {escape(value)!r} is not a URI reference (unencoded {shown})"
    return None


_rule(
    "location-single-uri-ref", "MUST", None,
    "Location is exactly one URI reference (relative allowed), never a list.",
    "RFC 9110 §10.2.2, §5.3",
    "Percent-encode the URL (e.g. urllib.parse.quote, Django's iri_to_uri) and set Location once.",
    _check_location,
    fields=frozenset({"location"}),
    why="Two Locations cannot be told apart (a comma is a legal URI character); spaces and non-ASCII "
    "characters are parsed differently by each client.",
    bad=(_ex(302, (("Location", "/a"), ("Location", "/b")), b""), _ex(302, (("Location", "/a b"),), b"")),
    good=(_ex(302, (("Location", "/a%20b?x=1#top"),), b""),
          _ex(301, (("Location", "https://example.com/new"),), b"")),
    reads=Reads(fields={"location"}),
)


def _check_304_conditional(x: Exchange) -> str | None:
    if x.method not in ("GET", "HEAD"):
        return f"304 to {x.method}; a failed precondition on other methods gets 412"
    if x.request_get("if-none-match") is None and x.request_get("if-modified-since") is None:
        return "304 to a request with neither If-None-Match nor If-Modified-Since"
    return None


def _fix_304_to_412(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if x.method in ("GET", "HEAD"):
        return False
    draft.status = 412
    return True


_rule(
    "304-only-for-conditional-get-head", "MUST", {304},
    "304 answers only a conditional GET/HEAD whose If-None-Match or If-Modified-Since evaluated false.",
    "RFC 9110 §15.4.5, §13.1.2, §13.2.1, §13.2.2",
    "Answer 412 Precondition Failed to other methods; send 304 only to conditional GET/HEAD.",
    _check_304_conditional,
    needs="S,M,Q(If-*)",
    why="A client that did not ask conditionally has no cached copy to reuse.",
    fix=_fix_304_to_412, fix_by_default=False, fix_summary="(opt-in) 304 -> 412 for methods other than GET/HEAD",
    bad=(_ex(304, (), b"", method="POST", req=(("If-None-Match", '"a"'),)), _ex(304, (), b"")),
    good=(_ex(304, (("ETag", '"a"'),), b"", req=(("If-None-Match", '"a"'),)),),
    reads=Reads(method=True, request_fields={"if-modified-since", "if-none-match"}),
)

_rule(
    "304-no-content", "MUST", {304},
    "A 304 has no content and no trailers.",
    "RFC 9110 §15.4.5; RFC 9112 §6.3",
    "Return an empty body with 304.",
    lambda x: "304 carries content" if x.has_body else None,
    needs="S,B",
    why="Clients read no content after a 304; the bytes corrupt the next response on the connection.",
    fix=drop_body, fix_summary="drop the body (and the Content-Length that counted it)",
    bad=(_ex(304, (("ETag", '"a"'),), b"cached", req=(("If-None-Match", '"a"'),)),),
    good=(_ex(304, (("ETag", '"a"'),), b"", req=(("If-None-Match", '"a"'),)),),
    reads=Reads(body="presence"),
)

_rule(
    "304-companion-headers", "MUST", {304},
    "A 304 repeats the ETag, Vary, Cache-Control... that a 200 would carry.",
    "RFC 9110 §15.4.5",
    "Send the same ETag and caching headers on 304 as on the 200.",
    lambda x: "304 to If-None-Match but the 304 has no ETag"
    if x.request_get("if-none-match") is not None and not x.has("etag") else None,
    enabled_by_default=False, needs="S,G",
    why="Off by default: what a 200 would carry cannot be observed. The sound partial check: an "
    "If-None-Match matched, so the representation has an ETag the 304 must repeat for cache updates.",
    bad=(_ex(304, (), b"", req=(("If-None-Match", '"a"'),)),),
    good=(_ex(304, (("ETag", '"a"'),), b"", req=(("If-None-Match", '"a"'),)),),
    reads=Reads(fields={"etag"}, request_fields={"if-none-match"}),
)

_304_METADATA = ("content-type", "content-encoding", "content-language", "content-md5")


def _check_304_metadata(x: Exchange) -> str | None:
    found = [name for name in _304_METADATA if x.has(name)]
    if not found:
        return None
    return f"304 carries representation metadata {', '.join(found)}"


_rule(
    "304-minimal-metadata", "SHOULD", {304},
    "A 304 leaves out representation metadata (Content-Type, Content-Encoding...) that does not guide cache updates.",
    "RFC 9110 §15.4.5",
    "Send only ETag, Cache-Control, Expires, Vary, Content-Location and Date on 304.",
    _check_304_metadata,
    why="Caches update the stored response with the 304's fields; stray metadata can corrupt it.",
    fix=lambda d, x, o: _remove_all(d, _304_METADATA), fix_by_default=False,
    fix_summary="(opt-in) strip the metadata fields",
    bad=(_ex(304, (("Content-Type", "text/html"), ("ETag", '"a"')), b"", req=(("If-None-Match", '"a"'),)),),
    good=(_ex(304, (("ETag", '"a"'),), b"", req=(("If-None-Match", '"a"'),)),),
    reads=Reads(fields={"content-encoding", "content-language", "content-md5", "content-type"}),
)

_rule(
    "304-content-length", "MUST", {304},
    "Content-Length on a 304 must equal the 200's length; removing it is always safe.",
    "RFC 9110 §8.6",
    "Do not set Content-Length on 304.",
    lambda x: f"304 carries Content-Length: {escape(x.get('content-length') or '')}, which cannot be verified"
    if x.has("content-length") else None,
    enabled_by_default=False, needs="S,G",
    why="Off by default: the 200's length is not observable. A wrong value (typically 0) poisons caches.",
    fix=lambda d, x, o: d.remove("content-length"), fix_summary="remove the header",
    bad=(_ex(304, (("Content-Length", "0"),), b"", req=(("If-None-Match", '"a"'),)),),
    good=(_ex(304, (), b"", req=(("If-None-Match", '"a"'),)),),
    reads=Reads(fields={"content-length"}),
)

_deprecated_code(
    "305-deprecated", "305 Use Proxy is deprecated.", "RFC 9110 §15.4.6",
    "Do not use 305; configure proxies out of band.",
    "Deprecated for security reasons: it let a response redirect a client through an arbitrary proxy.",
)
_deprecated_code(
    "306-reserved", "306 is reserved (Unused).", "RFC 9110 §15.4.7",
    "Use a defined 3xx code.",
    "306 was used in a previous version of the spec and is no longer used.",
)

_rule(
    "308-deployment", "ADVISORY", {308},
    "Clients unaware of 308 treat it as 300; do not pick 308 by sniffing User-Agent (or add Vary).",
    "RFC 7538 §4",
    "Use 308 for permanent method-preserving redirects; for very old clients consider 301.",
    lambda x: "308 sent; clients unaware of it treat it as 300 Multiple Choices",
    enabled_by_default=False,
    why="Off by default: it would fire on every 308.",
    bad=(_ex(308, (("Location", "/new"),), b""),),
    good=(_ex(301, (("Location", "/new"),), b""),),
    reads=Reads(),
)

