"""1.4 2xx"""

from __future__ import annotations

from ..headers import (
    parse_byte_ranges,
    parse_content_range,
)
from ..model import Draft, Exchange, escape
from ..options import FixOptions
from ..rule import Reads
from ._base import (
    _2XX,
    _declared_length,
    _empty_error_body,
    _ex,
    _is_multipart_byteranges,
    _rule,
    _set_field,
    decoded_content,
    open_section,
)
from ._repairs import drop_body

open_section(__name__, '1.4 2xx')


def _check_200_validators(x: Exchange) -> str | None:
    if x.has("etag") or x.has("last-modified"):
        return None
    return f"200 to {x.method} without ETag or Last-Modified"


def _fix_200_validators(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    import hashlib

    if draft.body is None or x.is_head or (draft.has("content-encoding") and x.body is None):
        return False
    digest = hashlib.sha256(draft.body).hexdigest()[:32]
    draft.set("ETag", f'"{digest}"')
    return True


_rule(
    "200-validators", "SHOULD", {200},
    "A 200 to GET/HEAD sends its validators, ideally a strong ETag plus Last-Modified.",
    "RFC 9110 §15.3.1, §8.8",
    "Set ETag (and Last-Modified) so clients can revalidate with If-None-Match instead of refetching.",
    _check_200_validators,
    enabled_by_default=False, needs="S,M", methods=frozenset({"GET", "HEAD"}),
    why="Off by default: many dynamic responses legitimately have none. Without validators, every "
    "revalidation is a full transfer.",
    fix=_fix_200_validators, fix_by_default=False,
    fix_summary="(opt-in) strong ETag from a hash of the fully buffered final bytes",
    bad=(_ex(200, (("Content-Type", "text/plain"),), b"ok"),),
    good=(_ex(200, (("Content-Type", "text/plain"), ("ETag", '"v1"')), b"ok"),
          _ex(200, (("Content-Type", "text/plain"),), b"ok", method="POST")),
    reads=Reads(fields={"etag", "last-modified"}, body="content", method=True),
)

_rule(
    "200-empty-consider-204", "ADVISORY", {200},
    "A 200 is expected to carry content; 204 fits when nothing is returned.",
    "RFC 9110 §15.3.1",
    "Return 204 No Content when there is nothing to send.",
    lambda x: "200 with empty content; 204 No Content says this explicitly"
    if _empty_error_body(x) and x.method != "OPTIONS" else None,
    enabled_by_default=False, needs="S,B",
    why="Off by default: an empty 200 is legal and common. 204 tells clients not to expect content.",
    bad=(_ex(200, (("Content-Length", "0"),), b""),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"), _ex(204, ())),
    reads=Reads(body="presence", method=True),
)


def _check_201_location(x: Exchange) -> str | None:
    location = x.get("location")
    if location is None:
        return "201 to POST without Location; clients will take the POST target as the created resource"
    if "#" in location:
        return f"201 Location {escape(location)!r} has a fragment"
    return None


_rule(
    "201-location-on-post", "SHOULD", {201},
    "A 201 to POST points Location at the created resource (no fragment).",
    "RFC 9110 §9.3.3, §15.3.2, §10.2.2",
    "Set Location to the new resource's URL, e.g. Location: /orders/42.",
    _check_201_location,
    methods=frozenset({"POST"}), needs="S,M",
    why="Without Location the target URI is taken as the created resource, which is rarely true for POST.",
    bad=(_ex(201, (("Content-Type", "application/json"),), b"{}", method="POST"),),
    good=(_ex(201, (("Location", "/orders/42"), ("Content-Type", "application/json")), b"{}", method="POST"),
          _ex(201, (("Content-Type", "application/json"),), b"{}", method="PUT")),
    reads=Reads(fields={"location"}, method=True),
)


def _check_put_status(x: Exchange) -> str | None:
    if x.status in (200, 201, 202, 204):
        return None
    return f"{x.status} to PUT; a created resource gets 201, a replaced one 200 or 204"


_rule(
    "put-create-201-else-200-204", "MUST", _2XX,
    "A PUT that creates answers 201; one that replaces answers 200 or 204.",
    "RFC 9110 §9.3.4",
    "Answer 201 (with Location) when the PUT created the resource, else 200 or 204.",
    _check_put_status,
    methods=frozenset({"PUT"}), enabled_by_default=False, needs="S,M,R",
    why="Off by default: whether a PUT created the resource is app knowledge. The partial check only flags "
    "2xx codes that fit neither case (203, 205, 206...).",
    bad=(_ex(205, (("Content-Length", "0"),), b"", method="PUT"),),
    good=(_ex(204, (), b"", method="PUT"), _ex(201, (("Location", "/a"),), b"", method="PUT")),
    reads=Reads(method=True),
)


def _fix_strip_validators(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    return any([draft.remove("etag"), draft.remove("last-modified")])


_rule(
    "put-validators-only-if-verbatim", "MUST", _2XX,
    "A 2xx to PUT carries ETag/Last-Modified only if the stored representation equals the request content.",
    "RFC 9110 §9.3.4",
    "Leave validators out of PUT responses unless you stored the bytes verbatim.",
    lambda x: "2xx to PUT carries " + " and ".join(n for n in ("ETag", "Last-Modified") if x.has(n.lower()))
    if x.has("etag") or x.has("last-modified") else None,
    methods=frozenset({"PUT"}), enabled_by_default=False, needs="S,M,R",
    why="Off by default: whether the content was stored verbatim is app knowledge. A validator for a "
    "transformed representation makes clients believe they hold the stored bytes.",
    fix=_fix_strip_validators, fix_by_default=False, fix_summary="(opt-in) strip ETag and Last-Modified",
    bad=(_ex(204, (("ETag", '"x"'),), b"", method="PUT"),),
    good=(_ex(204, (), b"", method="PUT"),),
    reads=Reads(fields={"etag", "last-modified"}, method=True),
)

_rule(
    "202-status-monitor", "ADVISORY", {202},
    "A 202 describes the request's status and points to a status monitor.",
    "RFC 9110 §15.3.3",
    "Return a body with the job's state and a link (or Location/Content-Location) to poll.",
    lambda x: "202 with no content describing the request's status" if _empty_error_body(x) else None,
    enabled_by_default=False, needs="B",
    why="Off by default. Without a monitor the client cannot learn whether the accepted work succeeded.",
    bad=(_ex(202, (("Content-Length", "0"),), b""),),
    good=(_ex(202, (("Content-Type", "application/json"), ("Location", "/jobs/1")), b'{"state":"queued"}'),),
    reads=Reads(body="presence", method=True),
)

_rule(
    "203-transforming-proxy-only", "ADVISORY", {203},
    "203 means a transforming proxy altered a 200; an origin app does not originate it.",
    "RFC 9110 §15.3.4",
    "Send 200 from the origin.",
    lambda x: "203 sent by the app; only a transforming proxy may originate it",
    enabled_by_default=False, needs="S,X",
    why="Off by default (deployment context): only correct when the app runs as a transforming proxy.",
    bad=(_ex(203, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"x"),),
    reads=Reads(),
)

_rule(
    "204-no-content", "MUST", {204},
    "A 204 has no content and no trailers.",
    "RFC 9110 §15.3.5; RFC 9112 §6.3",
    "Return an empty body with 204 (e.g. Response(status_code=204), not JSONResponse(None, 204)).",
    lambda x: f"204 carries {x.body_length if x.body_length is not None else 'some'} bytes of content"
    if x.has_body else None,
    needs="S,B",
    why="Clients read no content after a 204; the bytes corrupt the next response on the connection.",
    fix=drop_body, fix_summary="drop the body",
    bad=(_ex(204, (), b"null"),),
    good=(_ex(204, (), b""),),
    reads=Reads(body="presence"),
)

_rule(
    "204-no-content-length", "MUST", {204},
    "A 204 carries no Content-Length at all, not even 0.",
    "RFC 9110 §8.6",
    "Do not set Content-Length on 204 (Django's CommonMiddleware adds 'Content-Length: 0'; it is removed quietly).",
    lambda x: f"204 carries Content-Length: {escape(x.get('content-length') or '')}"
    if x.has("content-length") else None,
    quiet=True,
    why="RFC 9110 §8.6 forbids it outright; strict HTTP/2 peers reject the response. Added by common "
    "stacks, so it is fixed quietly even in strict mode.",
    fix=lambda d, x, o: d.remove("content-length"), fix_summary="remove the header",
    bad=(_ex(204, (("Content-Length", "0"),), b""),),
    good=(_ex(204, (), b""),),
    reads=Reads(fields={"content-length"}),
)

_rule(
    "205-no-content", "MUST", {205},
    "A 205 generates no content.",
    "RFC 9110 §15.3.6",
    "Return an empty body with 205.",
    lambda x: "205 carries content" if x.has_body else None,
    needs="S,B",
    why="205 tells the client to reset its view; there is nothing to show.",
    fix=drop_body, fix_summary="drop the body",
    bad=(_ex(205, (("Content-Length", "2"),), b"ok"),),
    good=(_ex(205, (("Content-Length", "0"),), b""),),
    reads=Reads(body="presence"),
)

def _check_205_framing(x: Exchange) -> str | None:
    # RFC 9112 §6.3 is HTTP/1.1 framing: HTTP/2 and HTTP/3 frame every message themselves (RFC 9113 §8.1).
    # Content-Length = 1*DIGIT (RFC 9110 §8.6): "00" is zero too.
    value = x.get("content-length")
    if value is not None and value.isdigit() and value.isascii() and not value.strip("0"):
        return None
    codings = [c.strip(" \t").lower() for c in (x.get("transfer-encoding") or "").split(",") if c.strip(" \t")]
    if codings and codings[-1] == "chunked" and value is None:
        return None  # RFC 9110 §15.3.6: chunked with a zero-length chunk is the other way to say "empty"
    if not x.http_version.startswith("1"):
        return None
    return f"205 with Content-Length {escape(value or 'absent')}; HTTP/1.1 needs an explicit 0"


_rule(
    "205-zero-length-framing", "MUST", {205},
    "Over HTTP/1.1 a 205 is framed as zero length: Content-Length: 0.",
    "RFC 9112 §6.3; RFC 9110 §15.3.6",
    "Send 'Content-Length: 0' with 205; it is not on HTTP/1.1's no-body list like 204 and 304.",
    _check_205_framing,
    needs="S,V",
    why="Code that frames 205 like 204 leaves an HTTP/1.1 client waiting for a body or desyncs keep-alive. "
    "HTTP/2 and HTTP/3 frame the message themselves, so there the rule does not apply.",
    fix=lambda d, x, o: not d.has("transfer-encoding") and _set_field(d, "Content-Length", "0"),
    fix_summary="set Content-Length: 0 (HTTP/1.x only; never next to the app's Transfer-Encoding, which it "
    "would contradict)",
    bad=(_ex(205, (), b""),),
    good=(_ex(205, (("Content-Length", "0"),), b""), _ex(205, (), b"", http_version="2"),
          _ex(205, (("Transfer-Encoding", "chunked"),), b"", gateway="asgi",
              note="RFC 9110 §15.3.6 also allows a zero-length chunked body")),
    reads=Reads(fields={"content-length", "transfer-encoding"}, http_version=True),
)


# 206 (RFC 9110 §15.3.7, §14) ------------------------------------------------------------------




def _check_206_needs_range(x: Exchange) -> str | None:
    if x.method != "GET":
        return f"206 to {x.method}; Range is defined only for GET"
    if parse_byte_ranges(x.request_get("range") or "") is None and not x.request_get("range"):
        return "206 to a GET without a Range header"
    return None


_rule(
    "206-needs-get-range", "MUST", {206},
    "206 answers only a GET carrying a Range.",
    "RFC 9110 §14.2, §15.3.7, §9.3.3",
    "Ignore Range on methods other than GET and answer 200 (or 204) instead.",
    _check_206_needs_range,
    needs="S,M,Q(Range)",
    why="Clients that did not ask for a part cannot assemble one.",
    bad=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Type", "text/plain")), b"ok", method="HEAD",
             req=(("Range", "bytes=0-1"),)),
         _ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Type", "text/plain")), b"ok")),
    good=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Type", "text/plain")), b"ok",
              req=(("Range", "bytes=0-1"),)),),
    reads=Reads(method=True, request_fields={"range"}),
)


def _check_206_single_part(x: Exchange) -> str | None:
    if _is_multipart_byteranges(x):
        return None
    value = x.get("content-range")
    if value is None:
        return "single-part 206 without Content-Range"
    parsed = parse_content_range(value)
    if parsed is not None and parsed.first is None:
        return f"206 with the unsatisfied-range form Content-Range {escape(value)!r}"
    return None  # a malformed value is content-range-syntax's finding


_rule(
    "206-single-part-content-range", "MUST", {206},
    "A single-part 206 carries a valid Content-Range for the enclosed range.",
    "RFC 9110 §15.3.7.1, §14.4",
    "Send Content-Range: bytes FIRST-LAST/LENGTH with the part.",
    _check_206_single_part,
    why="Without it the client cannot place the bytes.",
    bad=(_ex(206, (("Content-Type", "text/plain"),), b"ok", req=(("Range", "bytes=0-1"),)),),
    good=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Type", "text/plain")), b"ok",
              req=(("Range", "bytes=0-1"),)),),
    reads=Reads(fields={"content-range", "content-type"}),
)


def _check_206_multipart(x: Exchange) -> str | None:
    if not _is_multipart_byteranges(x):
        return None
    problems = []
    content_type = x.get("content-type") or ""
    if "boundary=" not in content_type.lower():
        problems.append("multipart/byteranges without a boundary parameter")
    if x.has("content-range"):
        problems.append("a top-level Content-Range on a multipart 206")
    return "; ".join(problems) or None


_rule(
    "206-multipart-shape", "MUST", {206},
    "A multipart 206 is multipart/byteranges with a boundary, and has no top-level Content-Range.",
    "RFC 9110 §15.3.7.2, §14.6",
    "Put Content-Range in each part, not in the response headers.",
    _check_206_multipart,
    why="Clients parse the parts by boundary; a top-level Content-Range contradicts the parts.",
    fix=lambda d, x, o: d.remove("content-range"), fix_summary="remove the top-level Content-Range",
    bad=(_ex(206, (("Content-Type", "multipart/byteranges; boundary=x"), ("Content-Range", "bytes 0-1/10")),
             b"--x--", req=(("Range", "bytes=0-1,4-5"),)),),
    good=(_ex(206, (("Content-Type", "multipart/byteranges; boundary=x"),), b"--x--",
              req=(("Range", "bytes=0-1,4-5"),)),),
    reads=Reads(fields={"content-range", "content-type"}),
)


def _check_206_single_range_multipart(x: Exchange) -> str | None:
    ranges = parse_byte_ranges(x.request_get("range") or "")
    if ranges is None or len(ranges) != 1 or not _is_multipart_byteranges(x):
        return None
    return "multipart/byteranges answer to a request for a single range"


_rule(
    "206-no-multipart-for-single-range", "MUST", {206},
    "A request for one range does not get a multipart reply.",
    "RFC 9110 §15.3.7.2",
    "Send a single-part 206 with Content-Range when one range was asked for.",
    _check_206_single_range_multipart,
    needs="S,Q(Range)",
    why="A client asking for one range need not implement multipart parsing.",
    bad=(_ex(206, (("Content-Type", "multipart/byteranges; boundary=x"),), b"--x--",
             req=(("Range", "bytes=0-1"),)),),
    good=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Type", "text/plain")), b"ok",
              req=(("Range", "bytes=0-1"),)),),
    reads=Reads(fields={"content-type"}, request_fields={"range"}),
)


def _check_206_length(x: Exchange) -> str | None:
    if _is_multipart_byteranges(x):
        return None
    declared = _declared_length(x)
    parsed = parse_content_range(x.get("content-range") or "")
    if declared is None or parsed is None or parsed.first is None or parsed.last is None:
        return None
    if parsed.unit != "bytes":
        return None  # positions of another unit (RFC 9110 §14.1) do not count octets
    expected = parsed.last - parsed.first + 1
    if declared == expected:
        return None
    return f"206 Content-Length is {declared} but Content-Range encloses {expected} bytes"


def _fix_206_length(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if _check_206_length(x) is None:
        return False  # another unit, or nothing to mend: the app's Content-Length stays
    if draft.body is not None:
        draft.set("Content-Length", str(len(draft.body)))
    else:
        draft.remove("content-length")  # let the server frame it
    return True


_rule(
    "206-content-length-matches", "MUST", {206},
    "A 206's Content-Length counts this message's bytes (last - first + 1), not the full length.",
    "RFC 9110 §15.3.7, §8.6, §14.4",
    "Set Content-Length to the size of the part you send, not the whole file.",
    _check_206_length,
    why="A full-length Content-Length on a part leaves the client waiting or desyncs the connection.",
    fix=_fix_206_length, fix_summary="recompute from the body, or remove it and let the server frame",
    bad=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Length", "10"), ("Content-Type", "text/plain")),
             b"ok", req=(("Range", "bytes=0-1"),)),),
    good=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Length", "2"), ("Content-Type", "text/plain")),
              b"ok", req=(("Range", "bytes=0-1"),)),
          _ex(206, (("Content-Range", "items 0-1/10"), ("Content-Length", "5"), ("Content-Type", "text/plain")),
              b"ab,cd", req=(("Range", "items=0-1"),), note="a range unit other than bytes (RFC 9110 §14.1)")),
    reads=Reads(fields={"content-length", "content-range", "content-type"}),
)


def _check_206_companions(x: Exchange) -> str | None:
    if_range = x.request_get("if-range")
    if if_range is None or not if_range.strip().startswith(('"', "W/")):
        return None
    if x.has("etag"):
        return None
    return "206 to an If-Range with an entity tag, but the 206 carries no ETag"


_rule(
    "206-companion-headers", "MUST", {206},
    "A 206 carries the ETag, Cache-Control, Expires, Content-Location and Vary a 200 would.",
    "RFC 9110 §15.3.7",
    "Send the same validators and caching headers as the full response.",
    _check_206_companions,
    enabled_by_default=False, needs="S,Q(If-Range),G",
    why="Off by default: what a 200 would carry cannot be observed. The sound partial check: an If-Range "
    "entity tag matched, so the representation has an ETag the 206 must repeat.",
    bad=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("Content-Type", "text/plain")), b"ok",
             req=(("Range", "bytes=0-1"), ("If-Range", '"v1"'))),),
    good=(_ex(206, (("Content-Range", "bytes 0-1/10"), ("ETag", '"v1"'), ("Content-Type", "text/plain")), b"ok",
              req=(("Range", "bytes=0-1"), ("If-Range", '"v1"'))),),
    reads=Reads(fields={"etag"}, request_fields={"if-range"}),
)


def _check_207(x: Exchange) -> str | None:
    # RFC 4918 §13: XML is the *default* 207 body; another media type (JSON, negotiated) is not malformed XML.
    media = x.media_type
    if x.is_head or (media is not None and media not in ("application/xml", "text/xml") and not media.endswith("+xml")):
        return None
    content = decoded_content(x)  # as the client sees it: after its Content-Encoding, or unknown
    if content is not None and b"multistatus" not in content[:4096]:
        return "207 XML body has no DAV:multistatus root element"
    return None


_rule(
    "207-multistatus-xml", "ADVISORY", {207},
    "A 207 XML body has a DAV:multistatus root.",
    "RFC 4918 §11.1, §13",
    "Return application/xml with <D:multistatus xmlns:D='DAV:'>...",
    _check_207,
    needs="S,B",
    why="WebDAV clients parse per-resource results from the multistatus document.",
    bad=(_ex(207, (("Content-Type", "application/xml"),), b'<?xml version="1.0"?><D:response/>'),),
    good=(_ex(207, (("Content-Type", "application/xml"),),
              b'<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"/>'),
          _ex(207, (("Content-Type", "application/json"),), b'{"responses": []}',
              note="RFC 4918 makes XML the default 207 body, not the only one")),
    reads=Reads(fields={"content-type", "content-encoding"}, body="content", method=True),
)

_rule(
    "208-not-top-level", "SHOULD", {208},
    "208 is used only inside a 207 body, never as the response status.",
    "RFC 5842 §7.1",
    "Use 208 in a multistatus body; at top level answer 508 or 207.",
    lambda x: "208 Already Reported sent as the top-level status",
    needs="S,Q(DAV)",
    why="208 only makes sense as a member status of a multistatus response.",
    bad=(_ex(208, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(207, (("Content-Type", "application/xml"),), b"<D:multistatus xmlns:D='DAV:'/>"),),
    reads=Reads(),
)


def _check_226(x: Exchange) -> str | None:
    problems = []
    if x.request_get("a-im") is None:
        problems.append("the request carried no A-IM")
    if not x.has("etag"):
        problems.append("the response has no ETag")
    return "226 but " + " and ".join(problems) if problems else None


_rule(
    "226-a-im-and-etag", "MUST", {226},
    "226 answers a request with A-IM and carries the current instance's ETag.",
    "RFC 3229 §10.4.1",
    "Only answer 226 to delta-encoding requests, and send ETag (and IM).",
    _check_226,
    needs="S,Q(A-IM)",
    why="A delta is meaningless without the instance it applies to.",
    bad=(_ex(226, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(226, (("ETag", '"v2"'), ("IM", "vcdiff"), ("Content-Type", "text/plain")), b"x",
              req=(("A-IM", "vcdiff"),)),),
    reads=Reads(fields={"etag"}, request_fields={"a-im"}),
)

