"""1.1 General, framing (RFC 9110 §5, §8, §15; RFC 9112 §4, §6; PEP 3333)"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..headers import (
    is_imf_fixdate,
)
from ..model import Draft, Exchange, escape, field_name_problem, field_value_problem
from ..options import FixOptions
from ..phrases import REASON_PHRASES, reason_phrase
from ..rule import ALL_FIELDS, Reads
from ._base import _1XX, _2XX, _NO_CONTENT_STATUSES, OUT_OF_RANGE, _ex, _remove_all, _rule, open_section
from ._repairs import drop_body

open_section(__name__, '1.1 General, framing (RFC 9110 §5, §8, §15; RFC 9112 §4, §6; PEP 3333)')


def _check_status_in_range(x: Exchange) -> str | None:
    # RFC 9110 §15: a status code is a three-digit integer, 100-599 in use.
    if 100 <= x.status <= 599:
        return None
    return f"status {x.status} is not a three-digit code from 100 to 599; clients treat it as a 5xx"


def _fix_status_in_range(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    draft.status = options.status_map.get(x.status, 500)
    return True


_rule(
    "status-in-range", "MUST", OUT_OF_RANGE,
    "The status is a three-digit integer from 100 to 599.",
    "RFC 9110 §15; RFC 9112 §4",
    "Return a registered status code; an exception that escaped as a status is usually a 500.",
    _check_status_in_range,
    why="A status outside 100-599 cannot be written on a status line; clients that accept it read it as a 5xx.",
    fix=_fix_status_in_range, fix_by_default=False,
    fix_summary="(opt-in) map to the configured status_map target, else 500",
    bad=(_ex(0), _ex(1000), _ex(99)),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"),),
    reads=Reads(),
)

# PEP 3333: status is "NNN Reason" — three digits, one space, then the reason phrase.
_WSGI_STATUS_CHARS = frozenset("0123456789")


def _check_wsgi_status_string(x: Exchange) -> str | None:
    problems = []
    line = x.status_line
    if line is not None:
        code, space, reason = line.partition(" ")
        if len(code) != 3 or not _WSGI_STATUS_CHARS.issuperset(code) or not space:
            problems.append(f"the status {escape(line)!r} is not three digits, a space and a reason phrase")
        elif not reason.strip() or not reason.isprintable():
            problems.append(f"the status {escape(line)!r} has no printable reason phrase")
    if x.has("status"):
        problems.append("the app sent a Status header, which a WSGI app must never send")
    return "; ".join(problems) or None


def _fix_wsgi_status_string(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    draft.remove("status")
    return True  # the adapter always rebuilds the status line as "NNN " + registered phrase


_rule(
    "wsgi-status-string", "MUST", None,
    "A WSGI status is three digits, one space, then the reason phrase; never a Status header.",
    "PEP 3333 (start_response); wsgiref.validate",
    "Call start_response('404 Not Found', headers): a str with the code and the phrase.",
    _check_wsgi_status_string,
    gateways=frozenset({"wsgi"}), always=True,
    why="Servers write the status string verbatim on the status line; '200' or '200OK' produces an "
    "invalid response and wsgiref rejects it outright.",
    fix=_fix_wsgi_status_string, fix_summary='rebuild the status as "NNN " + the registered phrase; drop Status',
    bad=(_ex("200", gateway="wsgi"), _ex("404Not Found", gateway="wsgi"),
         _ex("200 OK", (("Status", "200"),), gateway="wsgi")),
    good=(_ex("404 Not Found", (("Content-Type", "text/plain"),), b"gone", gateway="wsgi"),),
    reads=Reads(fields={"status"}, interface=True, status_line=True),
)


def _check_unregistered(x: Exchange) -> str | None:
    # RFC 9110 §15: unrecognised codes are treated as the x00 of their class.
    if x.status in REASON_PHRASES:
        return None
    note = " and is never meant for the wire" if x.status in (444, 499) else ""
    return (
        f"{x.status} is not in the IANA registry{note}; recipients treat it as "
        f"{x.status // 100 * 100} {reason_phrase(x.status // 100 * 100)}"
    )


def _fix_remap(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    target = options.status_map.get(x.status)
    if target is None:
        return False
    draft.status = target
    return True


_rule(
    "unregistered-status", "ADVISORY",
    frozenset(range(100, 600)) - frozenset(REASON_PHRASES),
    "The status code is not registered with IANA.",
    "RFC 9110 §15, §16.2",
    "Use the registered code whose meaning fits (e.g. 503 or 429 instead of 509, 401 instead of 419).",
    _check_unregistered,
    why="Clients, proxies and monitoring only know registered codes; an unknown one degrades to its "
    "class's x00, so a 509 is read as a plain 500.",
    fix=_fix_remap, fix_by_default=False, fix_summary="(opt-in) remap via status_map, e.g. {509: 503}",
    bad=(_ex(509, (("Content-Type", "text/plain"),), b"limit"), _ex(499, (("Content-Type", "text/plain"),), b"x")),
    good=(_ex(503, (("Content-Type", "text/plain"),), b"down"),),
    reads=Reads(),
)

_rule(
    "418-reserved", "DEPRECATED", {418},
    "418 is reserved as (Unused); it has no semantics.",
    "RFC 9110 §15.5.19",
    "Send a code with real semantics, usually 400.",
    lambda x: "418 is reserved (Unused); clients treat it as 400",
    why="418 was an April-fools code; RFC 9110 reserves it so that nothing can depend on it.",
    fix=_fix_remap, fix_by_default=False, fix_summary="(opt-in) remap via status_map, e.g. {418: 400}",
    bad=(_ex(418, (("Content-Type", "text/plain"),), b"teapot"),),
    good=(_ex(400, (("Content-Type", "text/plain"),), b"bad"),),
    reads=Reads(),
)


def _check_one_final(x: Exchange) -> str | None:
    # RFC 9110 §15.2: 1xx responses are interim; each request gets exactly one final (>= 200) response.
    # Only the adapters know that the app handed this 1xx over as its response (start_response,
    # http.response.start): a 103 in a capture or given to check() is an interim response (unknown).
    if not x.final:
        return None
    return f"{x.status} is an interim status, but it was sent as the final response"


_rule(
    "one-final-response", "MUST", _1XX,
    "Each request gets exactly one final (2xx-5xx) response; a 1xx cannot be it.",
    "RFC 9110 §15, §15.2",
    "Send a final status. For early hints in ASGI, use the http.response.early_hint extension.",
    _check_one_final,
    why="A 1xx passed to start_response or http.response.start goes out as the only response, and the "
    "client waits for a final one that never comes.",
    bad=(_ex(100, final=True), _ex(103, (("Link", "</a.css>; rel=preload"),), final=True)),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok", final=True),
          _ex(103, (("Link", "</a.css>; rel=preload"),),
              note="a 103 the server sent before the final response (a capture): interim, as it should be")),
    reads=Reads(final=True),
)

# PEP 3333's list (RFC 2616 §13.5.1's, "Trailers" spelled as there and in wsgiref): Trailer, the field that
# announces trailer fields, is end-to-end (RFC 9110 §6.6.2) and not on it.
_HOP_BY_HOP_WSGI = frozenset(
    {"connection", "keep-alive", "te", "trailers", "upgrade", "proxy-authenticate", "proxy-authorization"}
)


def _check_hop_by_hop_wsgi(x: Exchange) -> str | None:
    # PEP 3333: the app must not use hop-by-hop features; Transfer-Encoding is reported by its own rule.
    found = [name for name in x.field_names() if name in _HOP_BY_HOP_WSGI]
    if not found:
        return None
    return f"a WSGI app set hop-by-hop field(s) {', '.join(sorted(found))}, which only the server may send"


def _fix_hop_by_hop_wsgi(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    return _remove_all(draft, _HOP_BY_HOP_WSGI)


_rule(
    "hop-by-hop-forbidden-wsgi", "MUST", None,
    "A WSGI app must not set Connection, Keep-Alive, TE, Trailer, Upgrade or Proxy-Authenticate/-Authorization.",
    "PEP 3333 (start_response)",
    "Remove the header; connection management belongs to the server.",
    _check_hop_by_hop_wsgi,
    fields=_HOP_BY_HOP_WSGI, gateways=frozenset({"wsgi"}),
    why="The server owns the connection; wsgiref asserts on these headers and other servers send "
    "contradictory framing. This is why a compliant 407 or 426 cannot come from WSGI.",
    fix=_fix_hop_by_hop_wsgi, fix_summary="strip the fields",
    bad=(_ex(200, (("Connection", "close"), ("Content-Type", "text/plain")), b"x", gateway="wsgi"),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"x", gateway="wsgi"),
          _ex(200, (("Connection", "close"), ("Content-Type", "text/plain")), b"x", gateway="asgi")),
    reads=Reads(field_names=True, interface=True),
)

# RFC 9113 §8.2.2 / RFC 9114 §4.2: Connection, the connection-specific fields of RFC 9110 §7.6.1, and
# TE (allowed in a request only, as "trailers"). The fields Connection names are connection-specific too.
_CONNECTION_SPECIFIC = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"}
)


def _connection_named(values: list[str]) -> set[str]:
    """The field names a Connection value lists (its connection options), lower-case (RFC 9110 §7.6.1)."""
    return {m.strip(" \t").lower() for v in values for m in v.split(",") if m.strip(" \t")}


def _check_connection_specific_h2(x: Exchange) -> str | None:
    # RFC 9113 §8.2.2: connection-specific fields make an HTTP/2 message malformed.
    if not x.http_version.startswith(("2", "3")):
        return None
    found = sorted(name for name in x.field_names() if name in _CONNECTION_SPECIFIC)
    if not found:
        return None
    return f"HTTP/{x.http_version} response carries connection-specific field(s) {', '.join(found)}"


def _fix_connection_specific(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    # What Connection names is connection-specific as well: it goes with it (RFC 9113 §8.2.2).
    named = _connection_named(draft.get_all("connection"))
    return _remove_all(draft, sorted(_CONNECTION_SPECIFIC | named))


_rule(
    "connection-specific-h2", "MUST", None,
    "HTTP/2 and HTTP/3 responses carry no Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade or TE.",
    "RFC 9113 §8.2.2",
    "Do not set connection-management headers in the app; the server frames each protocol itself.",
    _check_connection_specific_h2,
    fields=_CONNECTION_SPECIFIC, needs="S,V",
    why="An HTTP/2 peer must treat such a message as malformed and reset the stream.",
    fix=_fix_connection_specific,
    fix_summary="strip the fields (and those Connection names) when the version is 2 or 3",
    bad=(_ex(200, (("Connection", "keep-alive"), ("Content-Type", "text/plain")), b"x", http_version="2"),),
    good=(_ex(200, (("Connection", "keep-alive"), ("Content-Type", "text/plain")), b"x", http_version="1.1"),
          _ex(200, (("Content-Type", "text/plain"),), b"x", http_version="2")),
    reads=Reads(field_names=True, http_version=True),
)

_SINGLETONS = ("content-length", "content-type", "content-range", "retry-after", "etag", "last-modified",
               "expires", "date", "age")


def _check_singleton(x: Exchange) -> str | None:
    # RFC 9110 §5.3: a field that is not a list must not be repeated. Location has its own rule.
    duplicated = x.repeated_fields()
    if not duplicated:
        return None
    repeated = [name for name in _SINGLETONS if name in duplicated]
    if not repeated:
        return None
    return "; ".join(f"{name} appears {x.count(name)} times" for name in repeated)


def _fix_singleton(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    changed = False
    for name in _SINGLETONS:
        values = draft.get_all(name)
        if len(values) > 1 and len(set(values)) == 1:
            draft.set(name.title() if name != "etag" else "ETag", values[0])
            changed = True
        elif len(values) > 1 and name == "content-length":
            changed = _settle_content_length(draft) or changed
    return changed


_rule(
    "singleton-field-once", "MUST", None,
    "Single-valued fields (Content-Length, Content-Type, ETag, Retry-After...) appear at most once.",
    "RFC 9110 §5.3, §8.3, §10.2.2",
    "Set each of these headers once; look for two layers (app and middleware) both adding it.",
    _check_singleton,
    fields=frozenset(_SINGLETONS),
    why="Recipients pick different copies (first, last, or reject), which is how cache poisoning and "
    "request smuggling start.",
    fix=_fix_singleton,
    fix_summary="collapse identical duplicates; differing Content-Lengths become the body's length or none; "
    "other differing values are only reported",
    bad=(_ex(200, (("Content-Type", "text/plain"), ("Content-Type", "text/html")), b"x"),
         _ex(200, (("ETag", '"a"'), ("ETag", '"a"'), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(200, (("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")), b"x"),),
    reads=Reads(field_names=True),
)


def _check_field_name(x: Exchange) -> str | None:
    # RFC 9110 §5.1: field-name = token.
    messages = [message for rule, message in x.header_problems if rule == "field-name-syntax"]
    return "; ".join(messages) or None


def _check_field_value(x: Exchange) -> str | None:
    # RFC 9110 §5.5: field values never contain CR, LF or NUL.
    messages = [message for rule, message in x.header_problems if rule == "field-value-syntax"]
    return "; ".join(messages) or None


_OBS_FOLD = re.compile(r"\r?\n[ \t]+")
_LINE_BREAK_OR_NUL = re.compile(r"[\r\n\x00]")


def repair_field_value(value: str) -> str:
    """A value with line breaks made safe without losing it: an obs-fold (a line break followed by
    SP/HTAB) becomes one SP (RFC 9112 §5.2), and every other CR, LF or NUL becomes SP, as a recipient
    must read them (RFC 9110 §5.5). ``'a\r\n b'`` → ``'a b'``; ``'/a\r\nSet-Cookie: x'`` → ``'/a  Set-Cookie: x'``."""
    return _LINE_BREAK_OR_NUL.sub(" ", _OBS_FOLD.sub(" ", value))


def _fix_bad_fields(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    # A header lost is protection lost (a Content-Security-Policy) or state lost (a Set-Cookie):
    # repair what can be repaired; drop only what cannot go on the wire at all.
    before = list(draft.headers)
    kept = []
    for name, value in draft.headers:
        if field_name_problem(name) is not None:
            continue  # a name that is not a token cannot be repaired into the app's meaning
        if field_value_problem(name, value) is not None:
            value = repair_field_value(value)
            if field_value_problem(name, value) is not None:
                continue  # characters beyond ISO-8859-1: HTTP/1.1 cannot carry them
        kept.append((name, value))
    draft.headers = kept
    return kept != before or bool(x.header_problems)


_rule(
    "field-name-syntax", "MUST", None,
    "Every header is a (name, value) pair whose name is a token.",
    "RFC 9110 §5.1, §5.6.2; PEP 3333",
    "Use plain ASCII header names without spaces or colons, and pass headers as (name, value) pairs.",
    _check_field_name,
    always=True,
    why="A name with a space or colon cannot be parsed by the recipient; servers either crash on it "
    "or write a response that another parser reads differently.",
    fix=_fix_bad_fields, fix_summary="drop the malformed entries",
    bad=(_ex(200, (("Content Type", "text/plain"),), b"x"),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"x"),),
    reads=Reads(syntax={ALL_FIELDS}),
)

_rule(
    "field-value-syntax", "MUST", None,
    "Header values contain no CR, LF or NUL and only ISO-8859-1 characters.",
    "RFC 9110 §5.5; PEP 3333",
    "Never copy user input into a header unescaped; percent-encode URLs and RFC 8187-encode text.",
    _check_field_value,
    always=True,
    why="CR/LF in a value lets the value start new header lines or a new response (response splitting).",
    fix=_fix_bad_fields,
    fix_summary="unfold obs-fold to one SP and replace other CR, LF and NUL by SP; drop only values outside "
    "ISO-8859-1",
    bad=(_ex(302, (("Location", "/a\r\nSet-Cookie: x=1"),)), _ex(200, (("X-Name", "caf\u00e9\u2603"),), b"")),
    good=(_ex(200, (("X-Name", "cafe"), ("Content-Type", "text/plain")), b"x"),
          _ex(200, (("X-Name", "caf\u00e9"), ("Content-Type", "text/plain")), b"x",
              note="obs-text (0x80-0xFF) is allowed, though RFC 9110 §5.5 prefers visible ASCII")),
    reads=Reads(syntax={ALL_FIELDS}),
)

_rule(
    "date-present", "MUST", frozenset(range(200, 500)),
    "An origin with a clock sends Date on 2xx-4xx, as an IMF-fixdate.",
    "RFC 9110 §6.6.1, §5.6.7",
    "Let the server add Date (most do, after the app), or set it with email.utils.formatdate(usegmt=True).",
    lambda x: _date_problem(x.get("date")),
    enabled_by_default=False, needs="S,X",
    why="Off by default: servers normally append Date after the app, so a missing Date at the app is "
    "expected. Turn it on where the app is the last layer that can add it.",
    bad=(_ex(200, (("Content-Type", "text/plain"),), b"x"),
         _ex(200, (("Date", "Sunday, 06-Nov-94 08:49:37 GMT"), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(200, (("Date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Content-Type", "text/plain")), b"x"),),
    reads=Reads(fields={"date"}),
)


def _date_problem(value: str | None) -> str | None:
    if value is None:
        return "no Date header"
    if not is_imf_fixdate(value):
        return f"Date {escape(value)!r} is not an IMF-fixdate"
    return None


def _check_content_type(x: Exchange) -> str | None:
    # RFC 9110 §8.3: a sender that generates content should send Content-Type.
    if x.has_body is not True or x.is_head or x.status in _NO_CONTENT_STATUSES or x.status == 205:
        return None
    if x.has("content-type"):
        return None
    size = f" ({x.body_length} bytes)" if x.body_length is not None else ""
    return f"the {x.status} response has content{size} but no Content-Type"


_rule(
    "content-type-with-content", "SHOULD", None,
    "A response with content says its media type.",
    "RFC 9110 §8.3",
    "Set Content-Type (e.g. 'application/json' or 'text/html; charset=utf-8').",
    _check_content_type,
    always=True, needs="S,B",
    why="Without it clients sniff, which is both unreliable and a security problem (content sniffing XSS).",
    bad=(_ex(200, (), b"{}"),),
    good=(_ex(200, (("Content-Type", "application/json"),), b"{}"), _ex(200, (), b"")),
    reads=Reads(fields={"content-type"}, body="length", method=True),
)


def _check_content_length_syntax(x: Exchange) -> str | None:
    # RFC 9110 §8.6: Content-Length = 1*DIGIT.
    values = x.get_all("content-length")
    for value in values:
        if not (value.isdigit() and value.isascii()):
            return f"Content-Length {escape(value)!r} is not a single non-negative integer"
    return None


def _settle_content_length(draft: Draft) -> bool:
    """Contradictory or invalid Content-Length values: the body's own length when it was observed,
    else no Content-Length at all, so that the server frames the body (RFC 9112 §6.3): a guessed
    length would truncate the response or desync the connection."""
    if draft.body is not None:
        draft.set("Content-Length", str(len(draft.body)))
        return True
    return draft.remove("content-length")


def _fix_content_length_syntax(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    # Judged on the values the app sent (another fix may already have dropped an invalid line: the
    # app still contradicted itself, so the remaining value is no more trustworthy than the other).
    values = x.get_all("content-length")
    members = {member.strip(" \t") for value in values for member in value.split(",")}
    if len(members) == 1:
        (only,) = members
        if only.isdigit() and only.isascii():
            draft.set("Content-Length", only)
            return True
    return _settle_content_length(draft)


_rule(
    "content-length-syntax", "MUST", None,
    "Content-Length is digits only: no sign, spaces, unit or list.",
    "RFC 9110 §8.6, §5.3",
    "Set Content-Length to str(len(body_bytes)), once.",
    _check_content_length_syntax,
    fields=frozenset({"content-length"}),
    why="An invalid Content-Length makes HTTP/1.1 framing ambiguous, the root of request smuggling.",
    fix=_fix_content_length_syntax,
    fix_summary="collapse '42, 42' to '42'; otherwise the body's length, or no Content-Length (the server frames)",
    bad=(_ex(200, (("Content-Length", "2, 2"), ("Content-Type", "text/plain")), b"ok"),
         _ex(200, (("Content-Length", "-1"), ("Content-Type", "text/plain")), b"ok")),
    good=(_ex(200, (("Content-Length", "2"), ("Content-Type", "text/plain")), b"ok"),),
    reads=Reads(syntax={"content-length"}),
)




def _check_content_length_accurate(x: Exchange) -> str | None:
    # RFC 9112 §6.3 / RFC 9110 §8.6: the declared length is the exact number of content octets.
    if x.body_length is None or x.is_head or x.status in _NO_CONTENT_STATUSES or x.method == "CONNECT":
        return None
    values = x.get_all("content-length")
    if len(values) != 1 or not (values[0].isdigit() and values[0].isascii()):
        return None  # content-length-syntax / singleton-field-once report these
    declared = values[0].lstrip("0") or "0"  # compared as digits: any size, no int conversion limit
    if declared == str(x.body_length):
        return None
    return f"Content-Length says {escape(declared, 40)} bytes but the body has {x.body_length}"


def _fix_content_length_accurate(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if draft.body is None:
        return False
    draft.set("Content-Length", str(len(draft.body)))
    return True


_rule(
    "content-length-accurate", "MUST", None,
    "Content-Length equals the number of body bytes actually sent.",
    "RFC 9110 §8.6; RFC 9112 §6.3",
    "Compute Content-Length from the final bytes, after compression or any rewrite of the body.",
    _check_content_length_accurate,
    fields=frozenset({"content-length"}), needs="S,B",
    why="A stale length truncates the response or leaves bytes that the next response on the "
    "connection is parsed from (response splitting, cache poisoning).",
    fix=_fix_content_length_accurate, fix_summary="recompute from the body when it is known",
    bad=(_ex(200, (("Content-Length", "10"), ("Content-Type", "text/plain")), b"short"),),
    good=(_ex(200, (("Content-Length", "5"), ("Content-Type", "text/plain")), b"short"),
          _ex(200, (("Content-Length", "10"), ("Content-Type", "text/plain")), b"", method="HEAD")),
    reads=Reads(fields={"content-length"}, body="length", method=True),
)


def _check_transfer_encoding(x: Exchange) -> str | None:
    # RFC 9112 §6.1-6.2: no Transfer-Encoding with Content-Length, on 1xx/204, or on a 2xx to CONNECT.
    if not x.has("transfer-encoding"):
        return None
    if x.gateway == "wsgi":
        return "a WSGI app set Transfer-Encoding, a hop-by-hop field only the server may send"
    if x.has("content-length"):
        return "Transfer-Encoding and Content-Length are both present"
    if x.status in _1XX or x.status == 204:
        return f"Transfer-Encoding on a {x.status}, which has no content"
    if x.method == "CONNECT" and x.status in _2XX:
        return "Transfer-Encoding on a 2xx to CONNECT"
    return None


def _strip_framing(names: tuple[str, ...]) -> Callable[[Draft, Exchange, FixOptions], bool]:
    def fix(draft: Draft, x: Exchange, options: FixOptions) -> bool:
        return _remove_all(draft, names)

    return fix


_rule(
    "transfer-encoding-app-forbidden", "MUST", None,
    "No Transfer-Encoding with Content-Length, on 1xx/204, on a 2xx to CONNECT, or from a WSGI app at all.",
    "RFC 9112 §6.1, §6.2; PEP 3333; ASGI HTTP spec",
    "Do not set Transfer-Encoding; return the body and let the server choose the framing.",
    _check_transfer_encoding,
    fields=frozenset({"transfer-encoding"}),
    why="Both framings at once is the textbook request-smuggling setup; a proxy and a server disagree on "
    "where the body ends.",
    fix=_strip_framing(("transfer-encoding",)), fix_summary="strip Transfer-Encoding",
    bad=(_ex(200, (("Transfer-Encoding", "chunked"), ("Content-Length", "2"),
                   ("Content-Type", "text/plain")), b"ok", gateway="asgi"),
         _ex(200, (("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain")), b"ok", gateway="wsgi")),
    good=(_ex(200, (("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain")), b"ok", gateway="asgi"),),
    reads=Reads(fields={"content-length", "transfer-encoding"}, method=True, interface=True),
)


def _check_connect_2xx(x: Exchange) -> str | None:
    # RFC 9110 §9.3.6, §8.6: a 2xx to CONNECT switches to a tunnel; it has no framing fields.
    if x.status not in _2XX:
        return None
    found = [name for name in ("content-length", "transfer-encoding") if x.has(name)]
    if not found:
        return None
    return f"a {x.status} to CONNECT carries {' and '.join(found)}"


_rule(
    "connect-2xx-no-framing", "MUST", None,
    "A 2xx to CONNECT has no Content-Length and no Transfer-Encoding.",
    "RFC 9110 §9.3.6, §8.6",
    "Answer CONNECT without framing headers; the connection becomes a tunnel.",
    _check_connect_2xx,
    methods=frozenset({"CONNECT"}), needs="S,M",
    why="After a 2xx the bytes belong to the tunnel; a length makes the client wait for a body.",
    fix=_strip_framing(("content-length", "transfer-encoding")), fix_summary="strip both fields",
    bad=(_ex(200, (("Content-Length", "0"),), b"", method="CONNECT"),),
    good=(_ex(200, (), b"", method="CONNECT"),),
    reads=Reads(fields={"content-length", "transfer-encoding"}, method=True),
)

open_section(__name__, '1.2 HEAD (RFC 9110 §9.3.2)')


def _check_head_no_content(x: Exchange) -> str | None:
    if x.has_body is not True:
        return None
    size = f"{x.body_length} bytes of " if x.body_length is not None else ""
    return f"the {x.status} answer to HEAD carries {size}content"


_rule(
    "head-no-content", "MUST", None,
    "A response to HEAD never carries content, whatever the status.",
    "RFC 9110 §9.3.2, §6.4.1; RFC 9112 §6.3",
    "Nothing to do in most frameworks: statusguard (or the server) drops the body and keeps the headers.",
    _check_head_no_content,
    methods=frozenset({"HEAD"}), quiet=True, needs="S,M",
    why="Clients read no body after a HEAD response; bytes sent anyway are parsed as the next response "
    "on a kept-alive connection. Starlette and Django send them and rely on the server to drop them: "
    "wsgiref and the Werkzeug dev server do not.",
    fix=drop_body, fix_summary="drop the body; keep Content-Length (never rewrite it to 0)",
    bad=(_ex(200, (("Content-Type", "text/plain"), ("Content-Length", "2")), b"ok", method="HEAD"),),
    good=(_ex(200, (("Content-Type", "text/plain"), ("Content-Length", "2")), b"", method="HEAD"),),
    reads=Reads(body="presence", method=True),
)

