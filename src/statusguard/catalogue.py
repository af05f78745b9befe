"""The rule catalogue: every check statusguard makes, with its level, source, fix and examples.

Charter:
- Rule 1: every HTTP semantic statusguard enforces lives in this file, next to the RFC section it
  comes from. The checker, the fixer and the adapters only dispatch; they know no status code.
- Rule 2: a check is a pure function of an ``Exchange`` returning a one-line message (the facts
  seen) or None. It is silent when a fact it needs was not observed (``body`` None, no router
  knowledge): a false positive is as bad as a miss.
- Rule 3: a fix never guesses. It adds a challenge, Allow, Upgrade, Link or Retry-After only from
  ``FixOptions`` or router knowledge, and it never makes a response that broke no rule differ.
- Rule 4: ids are public and stable (RULES.md). New ids follow the same style and are documented.

The ``examples_bad`` / ``examples_good`` of each rule feed both docs/rules.md and the catalogue
tests: each bad example must make its rule fire, each good one must leave it silent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._fixes import add_problem_details, drop_body, make_not_storable
from ._model import Draft, Example, Exchange, Level, Phase, Rule, escape, field_name_problem, field_value_problem
from ._options import DEFAULT_KNOWN_METHODS, FixOptions
from ._phrases import REASON_PHRASES, reason_phrase
from ._syntax import (
    Directive,
    format_imf_fixdate,
    is_imf_fixdate,
    is_token,
    parse_byte_ranges,
    parse_cache_control,
    parse_challenges,
    parse_content_range,
    parse_http_date,
    parse_links,
    split_list,
)

__all__ = ["NOT_CHECKABLE", "OUT_OF_RANGE", "RULES", "RULE_LIST"]

# Marker for the statuses of ``status-in-range``: anything outside 100-599.
OUT_OF_RANGE: frozenset[int] = frozenset({-1})

_1XX = frozenset(range(100, 200))
_2XX = frozenset(range(200, 300))
_4XX = frozenset(range(400, 500))
_5XX = frozenset(range(500, 600))
_EXPLAINED_ELSEWHERE_4XX = frozenset({406, 409, 423, 428, 429, 431, 451})
_EXPLAINED_ELSEWHERE_5XX = frozenset({505, 511})
_NO_CONTENT_STATUSES = frozenset({204, 304}) | _1XX

_RULES: list[Rule] = []


def _rule(
    id: str,
    level: Level,
    statuses: frozenset[int] | set[int] | range | None,
    summary: str,
    reference: str,
    hint: str,
    check: Callable[[Exchange], str | None],
    *,
    phase: Phase = "head",
    needs: str = "S",
    why: str = "",
    fix: Callable[[Draft, Exchange, FixOptions], bool] | None = None,
    fix_summary: str = "",
    bad: tuple[Example, ...] = (),
    good: tuple[Example, ...] = (),
    **flags: Any,
) -> Rule:
    rule = Rule(
        id=id,
        level=level,
        statuses=frozenset(statuses) if statuses is not None else None,
        summary=summary,
        reference=reference,
        hint=hint,
        check=check,
        phase=phase,
        needs=needs,
        why=why,
        fix=fix,
        fix_summary=fix_summary,
        examples_bad=bad,
        examples_good=good,
        **flags,
    )
    _RULES.append(rule)
    return rule


def _ex(
    status: int | str,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes | None = b"",
    method: str = "GET",
    req: tuple[tuple[str, str], ...] = (),
    **kw: Any,
) -> Example:
    return Example(status, headers, body, method, req, **kw)


def _empty_error_body(x: Exchange) -> bool:
    """An error answer to anything but HEAD whose content is known to be empty."""
    return not x.is_head and x.has_body is False


# The last Cache-Control value list parsed, with its result: several rules read the same field of
# the same response, and a hostile 1 MB value must be parsed once, not once per rule. The list
# object itself is the key (an Exchange's index hands out the same list each time), held strongly
# so that its identity cannot be reused; one entry, replaced atomically, so threads cannot mix up.
_CACHE_CONTROL_MEMO: tuple[list[str], list[Directive] | None] | None = None


def _parsed_cache_control(values: list[str]) -> list[Directive] | None:
    global _CACHE_CONTROL_MEMO
    memo = _CACHE_CONTROL_MEMO
    if memo is not None and memo[0] is values:
        return memo[1]
    parsed = parse_cache_control(values)
    _CACHE_CONTROL_MEMO = (values, parsed)
    return parsed


def _cache_directives(x: Exchange) -> dict[str, str | None] | None:
    values = x.get_all("cache-control")
    parsed = _parsed_cache_control(values) if values else []
    if parsed is None:
        return None
    return {directive.name: directive.argument for directive in parsed}


# The last problem+json body parsed, with its result: the four problem-* rules read the same body of
# the same response (as _CACHE_CONTROL_MEMO, keyed by the bytes object itself, held strongly; bytes
# cannot change). Rules only read the parsed object; fixes parse the draft's body on their own.
_PROBLEM_MEMO: tuple[bytes, dict[str, Any] | None] | None = None


def _problem(x: Exchange) -> dict[str, Any] | None:
    """The parsed problem+json object of the response, when its bytes were observed."""
    global _PROBLEM_MEMO
    body = x.body
    if body is None or x.media_type != "application/problem+json" or len(body) > 1 << 20:
        return None
    memo = _PROBLEM_MEMO
    if memo is not None and memo[0] is body:
        return memo[1]
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        value = None
    problem = value if isinstance(value, dict) else None
    if type(body) is bytes:
        _PROBLEM_MEMO = (body, problem)
    return problem


def _draft_problem(draft: Draft, x: Exchange) -> dict[str, Any] | None:
    """The problem object as the draft now holds it: several fixes may rewrite the same body in
    one round, and each must start from the previous one's result, not from the app's bytes."""
    if draft.body is None or x.media_type != "application/problem+json" or len(draft.body) > 1 << 20:
        return None
    try:
        value = json.loads(draft.body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _remove_all(draft: Draft, names: Iterable[str]) -> bool:
    """Remove every one of the fields (no short-circuit); True if any was present."""
    removed = False
    for name in names:
        removed = draft.remove(name) or removed
    return removed


def _set_field(draft: Draft, name: str, value: str) -> bool:
    changed = draft.get_all(name.lower()) != [value]
    draft.set(name, value)
    return changed


def _set_problem(draft: Draft, problem: dict[str, Any]) -> None:
    draft.replace_body(json.dumps(problem, separators=(",", ":"), ensure_ascii=True).encode("ascii"))


def _methods_in(value: str) -> list[str]:
    return [member for member in (split_list(value) or []) if member]


def _allow_from_router(x: Exchange) -> str | None:
    """``Allow`` built from router knowledge: GET implies HEAD, the refused method never listed."""
    if x.allowed_methods is None:
        return None
    methods = set(x.allowed_methods)
    if "GET" in methods:
        methods.add("HEAD")
    if x.status == 405:
        methods.discard(x.method)
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    ordered = [m for m in order if m in methods] + sorted(methods.difference(order))
    return ", ".join(ordered)


# =============================================================================================
# 1.1 General, framing (RFC 9110 §5, §8, §15; RFC 9112 §4, §6; PEP 3333)
# =============================================================================================


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
)


def _check_one_final(x: Exchange) -> str | None:
    # RFC 9110 §15.2: 1xx responses are interim; each request gets exactly one final (>= 200) response.
    return f"{x.status} is an interim status, but it was sent as the final response"


_rule(
    "one-final-response", "MUST", _1XX,
    "Each request gets exactly one final (2xx-5xx) response; a 1xx cannot be it.",
    "RFC 9110 §15, §15.2",
    "Send a final status. For early hints in ASGI, use the http.response.early_hint extension.",
    _check_one_final,
    why="A 1xx passed to start_response or http.response.start goes out as the only response, and the "
    "client waits for a final one that never comes.",
    bad=(_ex(100), _ex(103, (("Link", "</a.css>; rel=preload"),))),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"),),
)

_HOP_BY_HOP_WSGI = frozenset(
    {"connection", "keep-alive", "te", "trailer", "trailers", "upgrade", "proxy-authenticate", "proxy-authorization"}
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
)

_CONNECTION_SPECIFIC = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})


def _check_connection_specific_h2(x: Exchange) -> str | None:
    # RFC 9113 §8.2.2: connection-specific fields make an HTTP/2 message malformed.
    if not x.http_version.startswith(("2", "3")):
        return None
    found = sorted(name for name in x.field_names() if name in _CONNECTION_SPECIFIC)
    if not found:
        return None
    return f"HTTP/{x.http_version} response carries connection-specific field(s) {', '.join(found)}"


def _fix_connection_specific(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    return _remove_all(draft, _CONNECTION_SPECIFIC)


_rule(
    "connection-specific-h2", "MUST", None,
    "HTTP/2 and HTTP/3 responses carry no Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding or Upgrade.",
    "RFC 9113 §8.2.2",
    "Do not set connection-management headers in the app; the server frames each protocol itself.",
    _check_connection_specific_h2,
    fields=_CONNECTION_SPECIFIC, needs="S,V",
    why="An HTTP/2 peer must treat such a message as malformed and reset the stream.",
    fix=_fix_connection_specific, fix_summary="strip the fields when the version is 2 or 3",
    bad=(_ex(200, (("Connection", "keep-alive"), ("Content-Type", "text/plain")), b"x", http_version="2"),),
    good=(_ex(200, (("Connection", "keep-alive"), ("Content-Type", "text/plain")), b"x", http_version="1.1"),
          _ex(200, (("Content-Type", "text/plain"),), b"x", http_version="2")),
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
    return "; ".join(f"{name} appears {len(x.get_all(name))} times" for name in repeated)


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
)


def _check_field_name(x: Exchange) -> str | None:
    # RFC 9110 §5.1: field-name = token.
    messages = [message for rule, message in x.header_problems if rule == "field-name-syntax"]
    return "; ".join(messages) or None


def _check_field_value(x: Exchange) -> str | None:
    # RFC 9110 §5.5: field values never contain CR, LF or NUL.
    messages = [message for rule, message in x.header_problems if rule == "field-value-syntax"]
    return "; ".join(messages) or None


def _fix_bad_fields(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    before = len(draft.headers)
    draft.headers = [
        (name, value) for name, value in draft.headers
        if field_name_problem(name) is None and field_value_problem(name, value) is None
    ]
    return len(draft.headers) != before or bool(x.header_problems)


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
)

_rule(
    "field-value-syntax", "MUST", None,
    "Header values contain no CR, LF or NUL and only ISO-8859-1 characters.",
    "RFC 9110 §5.5; PEP 3333",
    "Never copy user input into a header unescaped; percent-encode URLs and RFC 8187-encode text.",
    _check_field_value,
    always=True,
    why="CR/LF in a value lets the value start new header lines or a new response (response splitting).",
    fix=_fix_bad_fields, fix_summary="drop the offending header lines",
    bad=(_ex(302, (("Location", "/a\r\nSet-Cookie: x=1"),)), _ex(200, (("X-Name", "caf\u00e9\u2603"),), b"")),
    good=(_ex(200, (("X-Name", "cafe"), ("Content-Type", "text/plain")), b"x"),
          _ex(200, (("X-Name", "caf\u00e9"), ("Content-Type", "text/plain")), b"x",
              note="obs-text (0x80-0xFF) is allowed, though RFC 9110 §5.5 prefers visible ASCII")),
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
    phase="length", always=True, needs="S,B",
    why="Without it clients sniff, which is both unreliable and a security problem (content sniffing XSS).",
    bad=(_ex(200, (), b"{}"),),
    good=(_ex(200, (("Content-Type", "application/json"),), b"{}"), _ex(200, (), b"")),
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
)


def _declared_length(x: Exchange) -> int | None:
    values = x.get_all("content-length")
    if len(values) != 1 or not (values[0].isdigit() and values[0].isascii()):
        return None
    try:
        return int(values[0].lstrip("0") or "0")
    except ValueError:  # beyond Python's int/str conversion limit: no body is that long
        return None


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
    phase="length", fields=frozenset({"content-length"}), needs="S,B",
    why="A stale length truncates the response or leaves bytes that the next response on the "
    "connection is parsed from (response splitting, cache poisoning).",
    fix=_fix_content_length_accurate, fix_summary="recompute from the body when it is known",
    bad=(_ex(200, (("Content-Length", "10"), ("Content-Type", "text/plain")), b"short"),),
    good=(_ex(200, (("Content-Length", "5"), ("Content-Type", "text/plain")), b"short"),
          _ex(200, (("Content-Length", "10"), ("Content-Type", "text/plain")), b"", method="HEAD")),
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
)

# =============================================================================================
# 1.2 HEAD (RFC 9110 §9.3.2)
# =============================================================================================


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
    phase="body", methods=frozenset({"HEAD"}), quiet=True, needs="S,M",
    why="Clients read no body after a HEAD response; bytes sent anyway are parsed as the next response "
    "on a kept-alive connection. Starlette and Django send them and rely on the server to drop them: "
    "wsgiref and the Werkzeug dev server do not.",
    fix=drop_body, fix_summary="drop the body; keep Content-Length (never rewrite it to 0)",
    bad=(_ex(200, (("Content-Type", "text/plain"), ("Content-Length", "2")), b"ok", method="HEAD"),),
    good=(_ex(200, (("Content-Type", "text/plain"), ("Content-Length", "2")), b"", method="HEAD"),),
)

# =============================================================================================
# 1.3 1xx (RFC 9110 §15.2)
# =============================================================================================

_rule(
    "1xx-not-to-http10", "MUST", _1XX,
    "No interim (1xx) response to an HTTP/1.0 request.",
    "RFC 9110 §15.2, §7.8, §10.1.1",
    "Send early hints or 100 Continue only to HTTP/1.1 and later clients.",
    lambda x: f"{x.status} sent to an HTTP/1.0 request, which cannot receive interim responses"
    if x.http_version == "1.0" else None,
    needs="S,V",
    why="An HTTP/1.0 client takes the 1xx as the final response.",
    bad=(_ex(103, (("Link", "</a.css>; rel=preload"),), http_version="1.0"),),
    good=(_ex(103, (("Link", "</a.css>; rel=preload"),), http_version="1.1"),),
)


def _check_1xx_headers_only(x: Exchange) -> str | None:
    found = [name for name in ("content-length", "transfer-encoding") if x.has(name)]
    if x.has_body:
        found.append("content")
    if not found:
        return None
    return f"the interim {x.status} carries {', '.join(found)}"


_rule(
    "1xx-headers-only", "MUST", _1XX,
    "Interim responses end after the header section: no content, Content-Length or Transfer-Encoding.",
    "RFC 9110 §15.2, §8.6; RFC 9112 §6.1",
    "Send 1xx responses with headers only.",
    _check_1xx_headers_only,
    phase="body", needs="S,B",
    why="A 1xx never has content; any bytes after it are read as the start of the final response.",
    fix=lambda d, x, o: any([drop_body(d, x, o), d.remove("content-length"), d.remove("transfer-encoding")]),
    fix_summary="strip the body and the framing fields",
    bad=(_ex(103, (("Content-Length", "0"),), b""),),
    good=(_ex(103, (("Link", "</a.css>; rel=preload"),), b""),),
)


def _check_101_upgrade(x: Exchange) -> str | None:
    problems = []
    if not x.has("upgrade"):
        problems.append("no Upgrade header naming the new protocol")
    connection = [member.lower() for member in split_list(x.get("connection") or "") or []]
    if "upgrade" not in connection:
        problems.append("Connection does not list 'upgrade'")
    return "101 with " + " and ".join(problems) if problems else None


_rule(
    "101-upgrade-field", "MUST", {101},
    "101 names the new protocol(s) in Upgrade and lists 'upgrade' in Connection.",
    "RFC 9110 §15.2.2, §7.8",
    "Switch protocols through your server's WebSocket/upgrade support, not by hand.",
    _check_101_upgrade,
    why="The client cannot know what it is now talking to.",
    bad=(_ex(101, ()),),
    good=(_ex(101, (("Upgrade", "websocket"), ("Connection", "Upgrade")), req=(("Upgrade", "websocket"),)),),
)


def _check_101_offered(x: Exchange) -> str | None:
    # RFC 9110 §7.8: switch only to a protocol the client listed; RFC 9113 §8.6: no 101 in HTTP/2.
    if x.http_version.startswith(("2", "3")):
        return f"101 on HTTP/{x.http_version}, which has no protocol switching"
    offered = {m.split("/")[0].strip().lower() for m in split_list(x.request_get("upgrade") or "") or [] if m}
    chosen = {m.split("/")[0].strip().lower() for m in split_list(x.get("upgrade") or "") or [] if m}
    if not chosen:
        return None
    if not offered:
        return "101 although the request offered no Upgrade"
    unoffered = sorted(chosen - offered)
    if unoffered:
        return f"101 switches to {', '.join(unoffered)}, which the request's Upgrade did not offer"
    return None


_rule(
    "101-offered-protocol-only", "MUST", {101},
    "Switch only to a protocol the request's Upgrade listed, and never on HTTP/2.",
    "RFC 9110 §7.8; RFC 9113 §8.6",
    "Check the request's Upgrade header before answering 101.",
    _check_101_offered,
    needs="S,Q(Upgrade),V",
    why="The client cannot speak a protocol it did not ask for.",
    bad=(_ex(101, (("Upgrade", "h2c"), ("Connection", "upgrade")), req=(("Upgrade", "websocket"),)),),
    good=(_ex(101, (("Upgrade", "websocket"), ("Connection", "upgrade")), req=(("Upgrade", "websocket"),)),),
)

_rule(
    "101-not-from-app", "MUST", {101},
    "Apps cannot switch protocols: WSGI has no way to, ASGI only through the websocket scope.",
    "PEP 3333; ASGI HTTP and WebSocket specs",
    "Use the server's WebSocket support (ASGI websocket scope); never answer 101 from an HTTP handler.",
    lambda x: "an HTTP handler answered 101, but only the server can switch protocols",
    why="The server keeps parsing HTTP after the app's 101, so the connection breaks.",
    bad=(_ex(101, (("Upgrade", "websocket"), ("Connection", "upgrade")), req=(("Upgrade", "websocket"),)),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"),),
)


def _deprecated_code(code: int, suffix: str, summary: str, reference: str, hint: str, why: str) -> None:
    message = f"{code} {reason_phrase(code)} is {suffix}"
    _rule(
        f"{code}-{suffix}", "DEPRECATED", {code}, summary, reference, hint,
        lambda x: message,
        why=why,
        bad=(_ex(code, (("Content-Type", "text/plain"),), b"x"),),
        good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"),),
    )


_deprecated_code(
    102, "obsolete", "102 Processing is obsolete: RFC 4918 dropped it.", "RFC 2518 §10.1; RFC 4918",
    "Use 202 Accepted with a status monitor for long operations.",
    "Defined only by RFC 2518; clients may not expect it, and a final response must still follow.",
)

# =============================================================================================
# 1.4 2xx
# =============================================================================================


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
)

_rule(
    "200-empty-consider-204", "ADVISORY", {200},
    "A 200 is expected to carry content; 204 fits when nothing is returned.",
    "RFC 9110 §15.3.1",
    "Return 204 No Content when there is nothing to send.",
    lambda x: "200 with empty content; 204 No Content says this explicitly"
    if _empty_error_body(x) and x.method != "OPTIONS" else None,
    phase="body", enabled_by_default=False, needs="S,B",
    why="Off by default: an empty 200 is legal and common. 204 tells clients not to expect content.",
    bad=(_ex(200, (("Content-Length", "0"),), b""),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"), _ex(204, ())),
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
)

_rule(
    "202-status-monitor", "ADVISORY", {202},
    "A 202 describes the request's status and points to a status monitor.",
    "RFC 9110 §15.3.3",
    "Return a body with the job's state and a link (or Location/Content-Location) to poll.",
    lambda x: "202 with no content describing the request's status" if _empty_error_body(x) else None,
    phase="body", enabled_by_default=False, needs="B",
    why="Off by default. Without a monitor the client cannot learn whether the accepted work succeeded.",
    bad=(_ex(202, (("Content-Length", "0"),), b""),),
    good=(_ex(202, (("Content-Type", "application/json"), ("Location", "/jobs/1")), b'{"state":"queued"}'),),
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
)

_rule(
    "204-no-content", "MUST", {204},
    "A 204 has no content and no trailers.",
    "RFC 9110 §15.3.5; RFC 9112 §6.3",
    "Return an empty body with 204 (e.g. Response(status_code=204), not JSONResponse(None, 204)).",
    lambda x: f"204 carries {x.body_length if x.body_length is not None else 'some'} bytes of content"
    if x.has_body else None,
    phase="body", needs="S,B",
    why="Clients read no content after a 204; the bytes corrupt the next response on the connection.",
    fix=drop_body, fix_summary="drop the body",
    bad=(_ex(204, (), b"null"),),
    good=(_ex(204, (), b""),),
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
)

_rule(
    "205-no-content", "MUST", {205},
    "A 205 generates no content.",
    "RFC 9110 §15.3.6",
    "Return an empty body with 205.",
    lambda x: "205 carries content" if x.has_body else None,
    phase="body", needs="S,B",
    why="205 tells the client to reset its view; there is nothing to show.",
    fix=drop_body, fix_summary="drop the body",
    bad=(_ex(205, (("Content-Length", "2"),), b"ok"),),
    good=(_ex(205, (("Content-Length", "0"),), b""),),
)

_rule(
    "205-zero-length-framing", "MUST", {205},
    "A 205 is framed as zero length: Content-Length: 0.",
    "RFC 9112 §6.3",
    "Send 'Content-Length: 0' with 205; it is not on HTTP/1.1's no-body list like 204 and 304.",
    lambda x: None if x.get("content-length") == "0" else
    f"205 with Content-Length {escape(x.get('content-length') or 'absent')}; HTTP/1.1 needs an explicit 0",
    why="Code that frames 205 like 204 leaves the client waiting for a body or desyncs keep-alive.",
    fix=lambda d, x, o: _set_field(d, "Content-Length", "0"), fix_summary="set Content-Length: 0",
    bad=(_ex(205, (), b""),),
    good=(_ex(205, (("Content-Length", "0"),), b""),),
)


# 206 (RFC 9110 §15.3.7, §14) ------------------------------------------------------------------


def _is_multipart_byteranges(x: Exchange) -> bool:
    return x.media_type == "multipart/byteranges"


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
)


def _check_206_length(x: Exchange) -> str | None:
    if _is_multipart_byteranges(x):
        return None
    declared = _declared_length(x)
    parsed = parse_content_range(x.get("content-range") or "")
    if declared is None or parsed is None or parsed.first is None or parsed.last is None:
        return None
    expected = parsed.last - parsed.first + 1
    if declared == expected:
        return None
    return f"206 Content-Length is {declared} but Content-Range encloses {expected} bytes"


def _fix_206_length(draft: Draft, x: Exchange, options: FixOptions) -> bool:
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
              b"ok", req=(("Range", "bytes=0-1"),)),),
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
)


def _check_207(x: Exchange) -> str | None:
    media = x.media_type
    if media is not None and media not in ("application/xml", "text/xml"):
        return f"207 body is {escape(media)}, not XML"
    if x.body is not None and not x.is_head and b"multistatus" not in x.body[:4096]:
        return "207 body has no DAV:multistatus root element"
    return None


_rule(
    "207-multistatus-xml", "ADVISORY", {207},
    "A 207 body is XML with a DAV:multistatus root.",
    "RFC 4918 §11.1, §13",
    "Return application/xml with <D:multistatus xmlns:D='DAV:'>...",
    _check_207,
    phase="body", needs="S,B",
    why="WebDAV clients parse per-resource results from the multistatus document.",
    bad=(_ex(207, (("Content-Type", "application/json"),), b"{}"),),
    good=(_ex(207, (("Content-Type", "application/xml"),),
              b'<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"/>'),),
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
)

# =============================================================================================
# 1.5 3xx
# =============================================================================================

_rule(
    "redirect-location", "SHOULD", {301, 302, 307, 308},
    "A 301, 302, 307 or 308 carries Location with the new URI.",
    "RFC 9110 §15.4.2, §15.4.3, §15.4.8, §15.4.9",
    "Use your framework's redirect helper, which sets Location.",
    lambda x: None if x.has("location") else f"{x.status} redirect without Location",
    why="A redirect without a target strands the client.",
    bad=(_ex(302, (("Content-Type", "text/plain"),), b"moved"),),
    good=(_ex(302, (("Location", "/login"),), b""),),
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
)

_rule(
    "300-choices", "SHOULD", {300},
    "Except for HEAD, a 300 lists the alternatives in its content.",
    "RFC 9110 §15.4.1",
    "Return a body listing the choices (and Location for a preferred one).",
    lambda x: "300 Multiple Choices with no content listing the choices" if _empty_error_body(x) else None,
    phase="body", needs="S,M,B",
    why="The client cannot choose among alternatives it is not shown.",
    bad=(_ex(300, (("Content-Length", "0"),), b""),),
    good=(_ex(300, (("Content-Type", "text/html"),), b"<a href='/a.en'>en</a>"),),
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
)

_rule(
    "304-no-content", "MUST", {304},
    "A 304 has no content and no trailers.",
    "RFC 9110 §15.4.5; RFC 9112 §6.3",
    "Return an empty body with 304.",
    lambda x: "304 carries content" if x.has_body else None,
    phase="body", needs="S,B",
    why="Clients read no content after a 304; the bytes corrupt the next response on the connection.",
    fix=drop_body, fix_summary="drop the body (and the Content-Length that counted it)",
    bad=(_ex(304, (("ETag", '"a"'),), b"cached", req=(("If-None-Match", '"a"'),)),),
    good=(_ex(304, (("ETag", '"a"'),), b"", req=(("If-None-Match", '"a"'),)),),
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
)

_deprecated_code(
    305, "deprecated", "305 Use Proxy is deprecated.", "RFC 9110 §15.4.6",
    "Do not use 305; configure proxies out of band.",
    "Deprecated for security reasons: it let a response redirect a client through an arbitrary proxy.",
)
_deprecated_code(
    306, "reserved", "306 is reserved (Unused).", "RFC 9110 §15.4.7",
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
)

# =============================================================================================
# 1.6 4xx
# =============================================================================================


def _explain_rule(
    id: str, statuses: frozenset[int], summary: str, reference: str, hint: str, why: str, what: str,
    *, level: Level = "SHOULD", good_body: bytes = b'{"title":"explained"}', **flags: Any,
) -> Rule:
    example_status = min(statuses)
    return _rule(
        id, level, statuses, summary, reference, hint,
        lambda x: f"{x.status} to {x.method} with an empty body; {what}" if _empty_error_body(x) else None,
        phase="body", needs="S,M,B", why=why,
        fix=add_problem_details, fix_summary="synthesize an RFC 9457 application/problem+json body (about:blank)",
        bad=(_ex(example_status, (("Content-Length", "0"),), b""),),
        good=(_ex(example_status, (("Content-Type", "application/json"),), good_body),
              _ex(example_status, (("Content-Length", "0"),), b"", method="HEAD")),
        **flags,
    )


_explain_rule(
    "4xx-explain", _4XX - _EXPLAINED_ELSEWHERE_4XX,
    "Except for HEAD, a 4xx includes a representation explaining the error.",
    "RFC 9110 §15.5",
    "Return a body (RFC 9457 problem+json is ideal) saying what went wrong and whether to retry.",
    "Clients and people debugging get no explanation. Codes with their own explain rule (406, 409, 423, "
    "428, 429, 431, 451) are reported under that rule instead.",
    "say what went wrong and whether it is temporary",
)


def _check_401_challenge(x: Exchange) -> str | None:
    if x.has("www-authenticate"):
        return None
    return "401 without WWW-Authenticate; the client is told to authenticate but not how"


def _fix_add_challenge(field_name: str, attr: str) -> Callable[[Draft, Exchange, FixOptions], bool]:
    def fix(draft: Draft, x: Exchange, options: FixOptions) -> bool:
        challenges: tuple[str, ...] = getattr(options, attr)
        if not challenges or draft.has(field_name.lower()):
            return False
        if field_name == "Proxy-Authenticate" and x.gateway == "wsgi":
            return False  # hop-by-hop: a WSGI app cannot send it (RULES.md §3.17)
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
    fix=_fix_allow, fix_summary="Allow from the router (HEAD with GET, never the refused method)",
    bad=(_ex(405, (("Content-Type", "text/plain"),), b"no", method="POST"),),
    good=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="POST"),
          _ex(405, (("Allow", ""), ("Content-Type", "text/plain")), b"disabled", method="POST")),
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
    # HEAD is allow-get-implies-head's business; the refused method cannot be served, whatever the router says.
    served = set(x.allowed_methods) - {x.method}
    missing = sorted(served - listed - {"HEAD"})
    extra = sorted(listed - served - {"HEAD"})
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
    "route's methods. An empty Allow is legal: the resource is temporarily disabled.",
    fix=_fix_allow, fix_summary="recompute Allow from the router when known",
    bad=(_ex(405, (("Allow", "GET, POST"), ("Content-Type", "text/plain")), b"no", method="POST"),
         _ex(405, (("Allow", "GET"), ("Content-Type", "text/plain")), b"no", method="POST",
             allowed_methods=frozenset({"GET", "PUT"}))),
    good=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="POST"),
          _ex(405, (("Allow", "GET, HEAD, PUT"), ("Content-Type", "text/plain")), b"no", method="POST",
              allowed_methods=frozenset({"GET", "PUT"}))),
)


def _check_get_implies_head(x: Exchange) -> str | None:
    methods = _methods_in(x.get("allow") or "")
    if "GET" in methods and "HEAD" not in methods:
        return f"Allow lists GET but not HEAD ({escape(x.get('allow') or '')!r})"
    return None


def _fix_get_implies_head(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if x.allowed_methods is not None and "HEAD" not in x.allowed_methods and "GET" not in x.allowed_methods:
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
    "Add HEAD to Allow; servers must support HEAD wherever they support GET.",
    _check_get_implies_head,
    fields=frozenset({"allow"}),
    why="HEAD mirrors GET; an Allow without it tells clients (and caches checking freshness) it fails.",
    fix=_fix_get_implies_head, fix_summary="append HEAD (the frameworks serve it for every GET route)",
    bad=(_ex(405, (("Allow", "GET, POST"), ("Content-Type", "text/plain")), b"no", method="PUT"),),
    good=(_ex(405, (("Allow", "GET, HEAD, POST"), ("Content-Type", "text/plain")), b"no", method="PUT"),),
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
)


def _check_405_vs_501(x: Exchange) -> str | None:
    if x.method in (x.known_methods or DEFAULT_KNOWN_METHODS):
        return None
    return f"405 to the unknown method {escape(x.method)!r}; 501 says the server does not implement it"


def _fix_405_to_501(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if x.method in options.known_methods:
        return False
    draft.status = 501
    return True


_rule(
    "405-vs-501", "SHOULD", {405},
    "An unknown or unimplemented method gets 501; a known method not allowed here gets 405.",
    "RFC 9110 §9.1, §15.6.2",
    "Answer 501 Not Implemented to methods the server does not implement anywhere.",
    _check_405_vs_501,
    needs="S,M,R",
    why="405 claims the method exists on other resources; 501 tells the client not to try it anywhere.",
    fix=_fix_405_to_501, fix_by_default=False, fix_summary="(opt-in) 405 -> 501 for methods outside known_methods",
    bad=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="FROB"),),
    good=(_ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="POST"),),
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
    if x.has("proxy-authenticate"):
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
)

_rule(
    "408-close-guidance", "DEPRECATED", {408},
    "RFC 7231's 'close the connection on 408' is gone from RFC 9110; closing is the server's job.",
    "RFC 7231 §6.5.7; RFC 9110 §15.5.9",
    "Drop the Connection header; let the server manage the connection.",
    lambda x: "408 carries a Connection header; connection management belongs to the server"
    if x.has("connection") else None,
    why="Connection is hop-by-hop: an app setting it on 408 follows obsolete RFC 7231 guidance.",
    bad=(_ex(408, (("Connection", "close"), ("Content-Type", "text/plain")), b"slow"),),
    good=(_ex(408, (("Content-Type", "text/plain"),), b"slow"),),
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
)


def _check_423(x: Exchange) -> str | None:
    if x.is_head:
        return None
    if x.has_body is False:
        return "423 Locked with an empty body; include a DAV:error element naming the lock condition"
    if x.body is not None and b"error" not in x.body[:4096]:
        return "423 Locked body has no DAV:error element (e.g. <D:lock-token-submitted/>)"
    return None


_rule(
    "423-error-element", "SHOULD", {423},
    "A 423 includes a DAV:error XML body with a precondition code such as lock-token-submitted.",
    "RFC 4918 §11.3",
    "Return <D:error xmlns:D='DAV:'><D:lock-token-submitted/></D:error>.",
    _check_423,
    phase="body", needs="B",
    why="WebDAV clients use the error code to decide how to resolve the lock.",
    # No fix: a generic problem body cannot name the lock condition (RULES.md: log only).
    bad=(_ex(423, (("Content-Length", "0"),), b""),),
    good=(_ex(423, (("Content-Type", "application/xml"),),
              b"<D:error xmlns:D='DAV:'><D:lock-token-submitted/></D:error>"),),
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
    why="The client is told to upgrade without being told to what.",
    fix=_fix_426, fix_summary="ASGI over HTTP/1.1: add the configured upgrade value; WSGI and HTTP/2: report only",
    bad=(_ex(426, (("Content-Type", "text/plain"),), b"upgrade"),),
    good=(_ex(426, (("Upgrade", "TLS/1.3"), ("Connection", "upgrade"), ("Content-Type", "text/plain")), b"upgrade",
              gateway="asgi"),),
)


def _not_storable_rule(code: int, reference: str) -> None:
    def check(x: Exchange) -> str | None:
        directives = _cache_directives(x) or {}
        if "no-store" in directives:
            return None
        storable: list[str] = [name for name in ("public", "max-age", "s-maxage") if name in directives]
        if x.has("expires"):
            storable.append("Expires")
        worse = f"; worse, it is marked storable ({', '.join(storable)})" if storable else ""
        return f"{code} without Cache-Control: no-store{worse}"

    _rule(
        f"{code}-not-storable", "MUST", {code},
        f"A {code} carries Cache-Control: no-store.",
        f"{reference}; RFC 9111 §3",
        f"Set Cache-Control: no-store on {code} responses (and no max-age/public/Expires).",
        check,
        why=f"RFC 6585 says caches must not store a {code}; statusguard requires the response to say so, "
        "because CDNs have served cached 429s to everyone. Turn the rule off for a route that "
        "deliberately caches it.",
        fix=make_not_storable, fix_summary="set Cache-Control: no-store, dropping public/max-age/s-maxage/Expires",
        bad=(_ex(code, (("Content-Type", "text/plain"),), b"x"),
             _ex(code, (("Cache-Control", "public, max-age=60"), ("Content-Type", "text/plain")), b"x")),
        good=(_ex(code, (("Cache-Control", "no-store"), ("Content-Type", "text/plain")), b"x"),),
    )


_explain_rule(
    "428-explain", frozenset({428}),
    "A 428 explains how to resubmit successfully (which precondition to send).",
    "RFC 6585 §3",
    "Return a body naming the precondition header the client must send (e.g. If-Match).",
    "The client must learn which conditional header to add.",
    "say which precondition to send",
)
_not_storable_rule(428, "RFC 6585 §3")
_explain_rule(
    "429-explain", frozenset({429}),
    "A 429 explains the limit that was hit.",
    "RFC 6585 §4",
    "Return a body describing the limit (and Retry-After for when it resets).",
    "Clients (and their developers) need to know which limit they hit.",
    "explain the rate limit",
)
_not_storable_rule(429, "RFC 6585 §4")
_explain_rule(
    "431-name-field", frozenset({431}),
    "A 431 names the offending field when a single field is too large.",
    "RFC 6585 §5",
    "Return a body naming the oversized header (often Cookie).",
    "Users can only fix an oversized header (often a cookie) if they know which.",
    "name the header field that was too large",
)
_not_storable_rule(431, "RFC 6585 §5")
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
)

# =============================================================================================
# 1.7 5xx
# =============================================================================================

_explain_rule(
    "5xx-explain", _5XX - _EXPLAINED_ELSEWHERE_5XX,
    "Except for HEAD, a 5xx explains the error and whether it is temporary.",
    "RFC 9110 §15.6",
    "Return a body (problem+json is ideal) without stack traces; say whether to retry.",
    "Clients cannot tell a transient failure from a permanent one. 505 and 511 have their own rules.",
    "say what failed and whether it is temporary",
)

_rule(
    "502-504-gateway-role", "ADVISORY", {502, 504},
    "502 and 504 mean the server acted as a gateway and the upstream failed or timed out.",
    "RFC 9110 §15.6.3, §15.6.5",
    "Use 500 or 503 for failures that are not an upstream's.",
    lambda x: f"{x.status} from an app that is not a gateway",
    enabled_by_default=False, needs="S,X",
    why="Off by default (deployment context): correct when the app proxies an upstream.",
    bad=(_ex(502, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(500, (("Content-Type", "text/plain"),), b"x"),),
)

_explain_rule(
    "505-explain", frozenset({505}),
    "A 505 says why the version is refused and which protocols are supported.",
    "RFC 9110 §15.6.6",
    "Return a body naming the supported HTTP versions.",
    "The client must learn which version to use.",
    "name the supported protocol versions",
)

_rule(
    "506-tcn-config-error", "ADVISORY", {506},
    "506 reports a transparent content negotiation misconfiguration (experimental RFC 2295).",
    "RFC 2295 §8.1",
    "Fix the negotiation configuration; apps rarely mean 506.",
    lambda x: "506 Variant Also Negotiates signals a server configuration error",
    why="It is a configuration error of an experimental protocol; apps almost never mean it.",
    bad=(_ex(506, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(500, (("Content-Type", "text/plain"),), b"x"),),
)

_rule(
    "508-depth-infinity", "ADVISORY", {508},
    "508 reports a loop found while processing a Depth: infinity request.",
    "RFC 5842 §7.2",
    "Answer 508 only to Depth: infinity requests.",
    lambda x: None if (x.request_get("depth") or "").strip().lower() == "infinity"
    else "508 to a request without Depth: infinity",
    needs="Q(Depth)",
    why="Only an infinite-depth traversal can loop.",
    bad=(_ex(508, (("Content-Type", "text/plain"),), b"x", method="PROPFIND"),),
    good=(_ex(508, (("Content-Type", "text/plain"),), b"x", method="PROPFIND", req=(("Depth", "infinity"),)),),
)

_deprecated_code(
    510, "obsolete", "510 Not Extended is obsolete: RFC 2774 is Historic.", "RFC 2774 §7; IANA registry",
    "Use a current code; if you keep 510, say which extension the client needs.",
    "IANA marks 510 OBSOLETED; clients have no defined behaviour for it.",
)


def _check_511_link(x: Exchange) -> str | None:
    if x.is_head:
        return None
    if x.has_body is False:
        return "511 with an empty body; include a link to where credentials can be submitted"
    if x.body is not None and b"://" not in x.body and b"href" not in x.body and b'"/' not in x.body:
        return "511 body has no link to where credentials can be submitted"
    return None


def _fix_511_link(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    if options.login_url is None:
        return False  # a body without the link would not be the fix the rule asks for
    return add_problem_details(draft, x, options, {"login": options.login_url})


_rule(
    "511-link-to-login", "SHOULD", {511},
    "A 511 links to where the user can submit credentials.",
    "RFC 6585 §6",
    "Return a page linking to the network login.",
    _check_511_link,
    phase="body", needs="B",
    why="The user must reach the captive portal's login page.",
    fix=_fix_511_link, fix_summary="problem+json body with the configured login_url",
    bad=(_ex(511, (("Content-Length", "0"), ("Cache-Control", "no-store")), b""),),
    good=(_ex(511, (("Content-Type", "text/html"), ("Cache-Control", "no-store")),
              b"<a href='https://login.example/'>log in</a>"),),
)

_rule(
    "511-no-challenge", "SHOULD", {511},
    "A 511 carries no WWW-Authenticate challenge.",
    "RFC 6585 §6",
    "Remove WWW-Authenticate from 511; the login happens in the linked page.",
    lambda x: "511 carries WWW-Authenticate" if x.has("www-authenticate") else None,
    needs="S,B",
    why="A challenge makes browsers prompt for credentials meant for the origin, not the network.",
    fix=lambda d, x, o: d.remove("www-authenticate"), fix_summary="strip WWW-Authenticate",
    bad=(_ex(511, (("WWW-Authenticate", "Basic"), ("Cache-Control", "no-store"), ("Content-Type", "text/html")),
             b"<a href='/login'>x</a>"),),
    good=(_ex(511, (("Cache-Control", "no-store"), ("Content-Type", "text/html")), b"<a href='/login'>x</a>"),),
)

_rule(
    "511-not-from-origin", "SHOULD", {511},
    "511 is for intercepting network proxies; origin servers do not generate it.",
    "RFC 6585 §6",
    "Answer 401 or 403 from an origin server.",
    lambda x: "511 generated by an origin app",
    enabled_by_default=False, needs="S,X",
    why="Off by default (deployment context): correct only in a captive-portal proxy.",
    bad=(_ex(511, (("Cache-Control", "no-store"), ("Content-Type", "text/html")), b"<a href='/l'>x</a>"),),
    good=(_ex(401, (("WWW-Authenticate", "Basic"), ("Content-Type", "text/plain")), b"x"),),
)
_not_storable_rule(511, "RFC 6585 §6")

# =============================================================================================
# 1.8 Field-value validity (any status)
# =============================================================================================


def _check_allow_syntax(x: Exchange) -> str | None:
    problems = []
    for value in x.get_all("allow"):
        members = split_list(value)
        if members is None:
            problems.append(f"Allow {escape(value)!r} has an unterminated quote")
            continue
        if not value.strip():
            continue  # an empty Allow is valid: nothing is allowed (RFC 9110 §10.2.1)
        if any(not member for member in members):
            problems.append(f"Allow {escape(value)!r} has empty list members")
        bad = [member for member in members if member and not is_token(member)]
        if bad:
            problems.append(f"Allow lists {', '.join(repr(escape(m)) for m in bad[:5])}, which are not method tokens")
    return "; ".join(problems) or None


def _fix_allow_syntax(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    members = [m for value in draft.get_all("allow") for m in (split_list(value) or [])]
    kept = [m for m in members if m]
    if not all(is_token(m) for m in kept) or len(kept) == len(members):
        return False
    draft.set("Allow", ", ".join(kept))
    return True


_rule(
    "allow-syntax", "MUST", None,
    "Allow is a (possibly empty) list of case-sensitive method tokens.",
    "RFC 9110 §10.2.1, §9.1, §5.6.1",
    "Write Allow as 'GET, HEAD, POST': methods separated by commas.",
    _check_allow_syntax,
    fields=frozenset({"allow"}),
    why="Clients parse Allow to decide what to try next; junk entries are ignored or break them.",
    fix=_fix_allow_syntax, fix_summary="drop empty list members; anything else is only reported",
    bad=(_ex(405, (("Allow", "GET, , POST"), ("Content-Type", "text/plain")), b"no", method="PUT"),
         _ex(405, (("Allow", "GET HEAD"), ("Content-Type", "text/plain")), b"no", method="PUT")),
    good=(_ex(405, (("Allow", ""), ("Content-Type", "text/plain")), b"no", method="PUT"),
          _ex(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain")), b"no", method="PUT")),
)


def _check_challenge_syntax(x: Exchange) -> str | None:
    problems = []
    for name in ("www-authenticate", "proxy-authenticate"):
        for value in x.get_all(name):
            challenges = parse_challenges(value)
            label = "WWW-Authenticate" if name == "www-authenticate" else "Proxy-Authenticate"
            if challenges is None:
                problems.append(f"{label} {escape(value)!r} is not a valid challenge list")
                continue
            for challenge in challenges:
                for param, _, quoted in challenge.params:
                    if param == "realm" and not quoted:
                        problems.append(f"{label} {challenge.scheme} has an unquoted realm")
    return "; ".join(problems) or None


_rule(
    "www-authenticate-syntax", "MUST", None,
    "WWW-Authenticate/Proxy-Authenticate follow the challenge grammar; realm is quoted, no parameter twice.",
    "RFC 9110 §11.2, §11.3, §11.5",
    "Write challenges like: Bearer realm=\"api\", error=\"invalid_token\".",
    _check_challenge_syntax,
    fields=frozenset({"www-authenticate", "proxy-authenticate"}),
    why="Clients that cannot parse the challenge cannot authenticate.",
    bad=(_ex(401, (("WWW-Authenticate", "Basic realm=site"), ("Content-Type", "text/plain")), b"x"),
         _ex(401, (("WWW-Authenticate", 'Basic realm="a", realm="b"'), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(401, (("WWW-Authenticate", 'Basic realm="site", charset="UTF-8"'), ("Content-Type", "text/plain")),
              b"x"),
          _ex(401, (("WWW-Authenticate", 'Newauth realm="apps", type=1, title="Login", Basic realm="simple"'),
                    ("Content-Type", "text/plain")), b"x")),
)


def _check_retry_after(x: Exchange) -> str | None:
    for value in x.get_all("retry-after"):
        if (value.isdigit() and value.isascii()) or is_imf_fixdate(value):
            continue
        return f"Retry-After {escape(value)!r} is neither whole seconds nor an IMF-fixdate"
    return None


def _fix_retry_after_syntax(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    values = draft.get_all("retry-after")
    if len(values) != 1:
        return False
    value = values[0].strip(" \t")
    if value.isdigit() and value.isascii():
        draft.set("Retry-After", value)
        return True
    parsed = parse_http_date(value)
    if parsed is not None:
        draft.set("Retry-After", format_imf_fixdate(parsed))
    else:
        draft.remove("retry-after")
    return True


_rule(
    "retry-after-syntax", "MUST", None,
    "Retry-After is whole seconds or an IMF-fixdate.",
    "RFC 9110 §10.2.3, §5.6.7",
    "Send Retry-After: 120 or Retry-After: Wed, 21 Oct 2026 07:28:00 GMT (no units, signs or fractions).",
    _check_retry_after,
    fields=frozenset({"retry-after"}),
    why="Clients that cannot parse it retry immediately, which is what the header exists to prevent.",
    fix=_fix_retry_after_syntax, fix_summary="trim '120 ' to '120'; reformat parseable dates; drop the rest",
    bad=(_ex(503, (("Retry-After", "120s"), ("Content-Type", "text/plain")), b"x"),
         _ex(429, (("Retry-After", "1.5"), ("Cache-Control", "no-store"), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(503, (("Retry-After", "120"), ("Content-Type", "text/plain")), b"x"),
          _ex(503, (("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT"), ("Content-Type", "text/plain")), b"x")),
)


def _check_content_range_syntax(x: Exchange) -> str | None:
    for value in x.get_all("content-range"):
        if parse_content_range(value) is None:
            return f"Content-Range {escape(value)!r} is malformed (want 'bytes F-L/N' or 'bytes */N', L >= F, N > L)"
    return None


_rule(
    "content-range-syntax", "MUST", {206, 416},
    "Content-Range follows its grammar: last >= first, complete length > last.",
    "RFC 9110 §14.4",
    "Send Content-Range: bytes FIRST-LAST/LENGTH (206) or bytes */LENGTH (416).",
    _check_content_range_syntax,
    why="A client cannot place bytes it cannot locate.",
    bad=(_ex(206, (("Content-Range", "bytes 5-1/10"), ("Content-Type", "text/plain")), b"ok",
             req=(("Range", "bytes=5-1"),)),
         _ex(416, (("Content-Range", "bytes */*"), ("Content-Type", "text/plain")), b"x",
             req=(("Range", "bytes=100-"),))),
    good=(_ex(206, (("Content-Range", "bytes 0-1/*"), ("Content-Type", "text/plain")), b"ok",
              req=(("Range", "bytes=0-1"),)),),
)

_rule(
    "content-range-scope", "ADVISORY", frozenset(range(100, 600)) - {206, 416},
    "Content-Range has no meaning on statuses other than 206 and 416.",
    "RFC 9110 §14.4",
    "Remove Content-Range from full responses.",
    lambda x: f"Content-Range on a {x.status}, where it has no meaning",
    fields=frozenset({"content-range"}),
    why="Clients may misread a full response as partial.",
    fix=lambda d, x, o: d.remove("content-range"), fix_by_default=False, fix_summary="(opt-in) strip it",
    bad=(_ex(200, (("Content-Range", "bytes 0-1/2"), ("Content-Type", "text/plain")), b"ok"),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"),),
)


def _check_cache_control_forms(x: Exchange) -> str | None:
    values = x.get_all("cache-control")
    if not values:
        return None
    directives = _parsed_cache_control(values)
    if directives is None:
        return f"Cache-Control {escape(', '.join(values))!r} does not parse as a directive list"
    problems = []
    for directive in directives:
        if directive.name in ("max-age", "s-maxage"):
            if directive.argument is None:
                problems.append(f"{directive.name} has no value")
            elif directive.quoted:
                problems.append(f"{directive.name} uses the quoted form")
            elif not (directive.argument.isdigit() and directive.argument.isascii()):
                problems.append(f"{directive.name}={escape(directive.argument)} is not whole seconds")
        elif directive.name in ("no-cache", "private") and directive.argument is not None and not directive.quoted:
            problems.append(f"{directive.name}={escape(directive.argument)} must use the quoted form")
    return "Cache-Control " + "; ".join(problems) if problems else None


def _fix_cache_control_forms(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    directives = parse_cache_control(draft.get_all("cache-control"))
    if directives is None:
        return False
    members = []
    for directive in directives:
        if directive.argument is None:
            members.append(directive.name)
        elif directive.name in ("max-age", "s-maxage"):
            if not (directive.argument.isdigit() and directive.argument.isascii()):
                return False  # cannot repair a non-numeric age without guessing
            members.append(f"{directive.name}={directive.argument}")
        elif directive.quoted or directive.name in ("no-cache", "private"):
            escaped = directive.argument.replace("\\", "\\\\").replace('"', '\\"')
            members.append(f'{directive.name}="{escaped}"')
        else:
            members.append(f"{directive.name}={directive.argument}")
    draft.set("Cache-Control", ", ".join(members))
    return True


_rule(
    "cache-control-arg-forms", "MUST", None,
    "max-age and s-maxage take a bare integer; the field lists of no-cache and private are quoted.",
    "RFC 9111 §5.2, §5.2.2.1, §5.2.2.4, §5.2.2.7, §5.2.2.10",
    "Write Cache-Control: max-age=60, private=\"Set-Cookie\".",
    _check_cache_control_forms,
    fields=frozenset({"cache-control"}),
    why="Caches disagree on malformed directives; some ignore them, some treat the response as uncacheable.",
    fix=_fix_cache_control_forms, fix_summary="normalize the quoting",
    bad=(_ex(200, (("Cache-Control", 'max-age="60"'), ("Content-Type", "text/plain")), b"x"),
         _ex(200, (("Cache-Control", "no-cache=Set-Cookie"), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(200, (("Cache-Control", 'max-age=60, no-cache="Set-Cookie"'), ("Content-Type", "text/plain")), b"x"),),
)


def _check_expires(x: Exchange) -> str | None:
    for value in x.get_all("expires"):
        if not is_imf_fixdate(value):
            return f"Expires {escape(value)!r} is not an IMF-fixdate"
    return None


def _fix_expires(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    values = draft.get_all("expires")
    if not values:
        return False  # another fix (e.g. *-not-storable) removed it
    parsed = parse_http_date(values[0].strip()) if len(values) == 1 else None
    # Caches read an invalid Expires as "already expired" (RFC 9111 §5.3): keep that meaning.
    draft.set("Expires", format_imf_fixdate(parsed) if parsed else "Thu, 01 Jan 1970 00:00:00 GMT")
    return True


_rule(
    "expires-syntax", "MUST", None,
    "Expires is an HTTP-date in IMF-fixdate form; '0' and other junk are invalid.",
    "RFC 9111 §5.3; RFC 9110 §5.6.7",
    "Use Cache-Control: no-cache or max-age instead, or format Expires with formatdate(usegmt=True).",
    _check_expires,
    fields=frozenset({"expires"}),
    why="Caches treat junk as 'already expired', which is rarely what was meant and is unreliable.",
    fix=_fix_expires, fix_summary="reformat a parseable date; replace junk with a past IMF-fixdate",
    bad=(_ex(200, (("Expires", "0"), ("Content-Type", "text/plain")), b"x"),
         _ex(200, (("Expires", "-1"), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(200, (("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"), ("Content-Type", "text/plain")), b"x"),),
)

# =============================================================================================
# 1.9 Caching
# =============================================================================================

_HEURISTIC = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 451, 501})


def _check_heuristic(x: Exchange) -> str | None:
    if x.has("expires"):
        return None
    directives = _cache_directives(x)
    if directives is None or any(n in directives for n in ("max-age", "s-maxage", "no-store", "no-cache")):
        return None
    return f"{x.status} is heuristically cacheable and carries no explicit freshness (Cache-Control/Expires)"


def _fix_heuristic(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    value = options.cache_control.get(x.status)
    if value is None:
        return False
    draft.set("Cache-Control", value)
    return True


_rule(
    "heuristic-cacheable", "ADVISORY", _HEURISTIC,
    "Caches may reuse these statuses without explicit freshness; say how long if that matters.",
    "RFC 9110 §15.1; RFC 9111 §4.2.2, §3; RFC 7725 §3",
    "Set Cache-Control explicitly (e.g. no-cache for a 404 that may soon exist).",
    _check_heuristic,
    enabled_by_default=False,
    why="Off by default (RULES.md lists it as a MAY). Caches commonly keep such responses for 10% of "
    "their age since Last-Modified.",
    fix=_fix_heuristic, fix_by_default=False, fix_summary="(opt-in) the configured cache_control for the status",
    bad=(_ex(404, (("Content-Type", "text/plain"),), b"x"),),
    good=(_ex(404, (("Cache-Control", "no-cache"), ("Content-Type", "text/plain")), b"x"),),
)


def _check_must_understand(x: Exchange) -> str | None:
    directives = _cache_directives(x)
    if directives is None or "must-understand" not in directives or "no-store" in directives:
        return None
    return "Cache-Control has must-understand without no-store"


def _fix_must_understand(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    values = draft.get_all("cache-control")  # another fix (e.g. *-not-storable) may have added no-store
    directives = parse_cache_control(values)
    if directives is not None and any(directive.name == "no-store" for directive in directives):
        return False
    draft.set("Cache-Control", ", ".join([*values, "no-store"]))
    return True


_rule(
    "must-understand-with-no-store", "SHOULD", None,
    "must-understand is accompanied by no-store.",
    "RFC 9111 §5.2.2.3",
    "Write Cache-Control: must-understand, no-store.",
    _check_must_understand,
    fields=frozenset({"cache-control"}),
    why="Caches that do not understand the status code fall back to no-store only if it is there.",
    fix=_fix_must_understand, fix_summary="append no-store",
    bad=(_ex(200, (("Cache-Control", "must-understand, max-age=60"), ("Content-Type", "text/plain")), b"x"),),
    good=(_ex(200, (("Cache-Control", "must-understand, no-store"), ("Content-Type", "text/plain")), b"x"),),
)


def _check_authorized_shared(x: Exchange) -> str | None:
    if x.request_get("authorization") is None:
        return None
    directives = _cache_directives(x) or {}
    found = [name for name in ("public", "s-maxage", "must-revalidate") if name in directives]
    if not found or "private" in directives or "no-store" in directives:
        return None
    return f"response to an Authorization request is made shareable by {', '.join(found)}"


_rule(
    "authorized-response-shared-cache", "ADVISORY", None,
    "A response to a request with Authorization becomes shareable with public, s-maxage or must-revalidate.",
    "RFC 9111 §3.5",
    "Add Cache-Control: private to per-user responses.",
    _check_authorized_shared,
    fields=frozenset({"cache-control"}), enabled_by_default=False, needs="S,Q(Authorization)",
    why="Off by default: often intended. When not, one user's data is served to another from a shared cache.",
    bad=(_ex(200, (("Cache-Control", "public, max-age=60"), ("Content-Type", "text/plain")), b"x",
             req=(("Authorization", "Bearer t"),)),),
    good=(_ex(200, (("Cache-Control", "private, max-age=60"), ("Content-Type", "text/plain")), b"x",
              req=(("Authorization", "Bearer t"),)),),
)

_rule(
    "pragma-warning-obsolete", "DEPRECATED", None,
    "Pragma is deprecated and Warning is obsolete.",
    "RFC 9111 §5.4, §5.5",
    "Use Cache-Control instead of Pragma; drop Warning.",
    lambda x: "the response carries " + " and ".join(n for n in ("Pragma", "Warning") if x.has(n.lower())),
    fields=frozenset({"pragma", "warning"}),
    why="Neither has response semantics caches honour today.",
    fix=lambda d, x, o: d.remove("warning"), fix_summary="strip Warning; Pragma is only reported",
    bad=(_ex(200, (("Warning", '199 - "x"'), ("Content-Type", "text/plain")), b"x"),),
    good=(_ex(200, (("Cache-Control", "no-cache"), ("Content-Type", "text/plain")), b"x"),),
)

# =============================================================================================
# 1.10 Problem details (RFC 9457), when the body is application/problem+json
# =============================================================================================

_PROBLEM_FIELDS = frozenset({"content-type"})
_PROBLEM_JSON = frozenset({"application/problem+json"})


def _check_problem_status(x: Exchange) -> str | None:
    problem = _problem(x)
    if problem is None or "status" not in problem:
        return None
    member = problem["status"]
    if member == x.status and isinstance(member, int) and not isinstance(member, bool):
        return None
    return f"problem+json status member is {escape(json.dumps(member))} but the response status is {x.status}"


def _fix_problem_status(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    problem = _draft_problem(draft, x)
    if problem is None:
        return False
    problem["status"] = draft.status
    _set_problem(draft, problem)
    return True


_rule(
    "problem-status-match", "MUST", None,
    "A problem+json status member equals the HTTP status actually sent.",
    "RFC 9457 §3.1.2, §5",
    "Build the problem body from the status you send (re-check after middleware that changes it).",
    _check_problem_status,
    phase="body", fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="S,B",
    why="Clients that read the body and those that read the status line must agree.",
    fix=_fix_problem_status, fix_summary="rewrite the member to the real status",
    bad=(_ex(503, (("Content-Type", "application/problem+json"),), b'{"status":500,"title":"x"}'),),
    good=(_ex(503, (("Content-Type", "application/problem+json"),),
              b'{"type":"about:blank","status":503,"title":"Service Unavailable"}'),),
)

_PROBLEM_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "type": str, "instance": str, "title": str, "detail": str, "status": int,
}


def _mistyped(problem: dict[str, Any]) -> list[str]:
    bad = []
    for name, expected in _PROBLEM_TYPES.items():
        if name not in problem:
            continue
        value = problem[name]
        wrong_type = not isinstance(value, expected) or isinstance(value, bool)
        if wrong_type or (name == "status" and isinstance(value, int) and not 100 <= value <= 599):
            bad.append(name)
    return bad


def _fix_problem_types(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    problem = _draft_problem(draft, x)
    if problem is None:
        return False
    for name in _mistyped(problem):
        del problem[name]
    _set_problem(draft, problem)
    return True


_rule(
    "problem-member-types", "ADVISORY", None,
    "type/instance are URI-reference strings, title/detail strings, status an integer in 100-599.",
    "RFC 9457 §3.1, Appendix A",
    "Use the member types RFC 9457 defines; put other data in extension members.",
    lambda x: (lambda p: f"problem+json members of the wrong type: {', '.join(_mistyped(p))}"
               if p is not None and _mistyped(p) else None)(_problem(x)),
    phase="body", fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="B",
    why="Consumers must ignore mistyped members, so the information is lost.",
    fix=_fix_problem_types, fix_summary="drop the mistyped members",
    bad=(_ex(400, (("Content-Type", "application/problem+json"),), b'{"title":["a"],"status":"400"}'),),
    good=(_ex(400, (("Content-Type", "application/problem+json"),), b'{"title":"Bad Request","status":400}'),),
)


_CODE_BY_PHRASE = {phrase.lower(): code for code, phrase in REASON_PHRASES.items()}  # built once, not per check


def _check_problem_title(x: Exchange) -> str | None:
    problem = _problem(x)
    if problem is None or problem.get("type", "about:blank") != "about:blank":
        return None
    title = problem.get("title")
    expected = reason_phrase(x.status)
    if title is None:
        return f"about:blank problem without a title; it should be {expected!r}"
    if not isinstance(title, str):
        return None  # problem-member-types reports it
    code = _CODE_BY_PHRASE.get(title.strip().lower())
    if code is not None and code != x.status:
        return f"about:blank problem titled {escape(title)!r} (the phrase of {code}) on a {x.status}"
    return None  # a localized or reworded phrase is allowed (RFC 9457 §4.2.1)


def _fix_problem_title(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    problem = _draft_problem(draft, x)
    if problem is None:
        return False
    problem["title"] = reason_phrase(draft.status)
    _set_problem(draft, problem)
    return True


_rule(
    "problem-about-blank-title", "SHOULD", None,
    "With type absent or about:blank, title is the status's reason phrase (it may be localized).",
    "RFC 9457 §4.2.1",
    "Set title to the reason phrase (e.g. 'Not Found'), or use your own problem type URI.",
    _check_problem_title,
    phase="body", fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="S,B",
    why="about:blank means 'no more semantics than the status code', so the title must match it.",
    fix=_fix_problem_title, fix_summary="set the title from the registry phrase",
    bad=(_ex(410, (("Content-Type", "application/problem+json"),), b'{"title":"Not Found","status":410}'),
         _ex(404, (("Content-Type", "application/problem+json"),), b'{"status":404}')),
    good=(_ex(404, (("Content-Type", "application/problem+json"),), b'{"title":"Nicht gefunden","status":404}'),),
)


def _check_problem_uris(x: Exchange) -> str | None:
    problem = _problem(x)
    if problem is None:
        return None
    bad = []
    for name in ("type", "instance"):
        value = problem.get(name)
        if isinstance(value, str) and value != "about:blank" and ":" not in value.split("/", 1)[0] \
                and not value.startswith("/"):
            bad.append(f"{name} {escape(value)!r}")
    return "problem+json has relative " + ", ".join(bad) + " that is not a full path" if bad else None


_rule(
    "problem-uri-absolute", "SHOULD", None,
    "type and instance are absolute URIs, or at least full paths.",
    "RFC 9457 §3.1.1, §3.1.5",
    "Use 'https://example.com/probs/out-of-credit' or '/probs/out-of-credit'.",
    _check_problem_uris,
    phase="body", fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="B",
    why="Relative references resolve against the request URI, so the same type gets different identities.",
    bad=(_ex(403, (("Content-Type", "application/problem+json"),),
             b'{"type":"probs/out-of-credit","title":"x","status":403}'),),
    good=(_ex(403, (("Content-Type", "application/problem+json"),),
              b'{"type":"https://example.com/probs/out-of-credit","title":"x","status":403}'),),
)


def _check_problem_media_type(x: Exchange) -> str | None:
    if x.body is None or x.media_type != "application/json" or not 400 <= x.status <= 599 or len(x.body) > 65536:
        return None
    try:
        value = json.loads(x.body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or value.get("status") != x.status or not isinstance(value.get("title"), str):
        return None
    if "type" not in value and "detail" not in value:
        return None
    return "a problem details object is served as application/json instead of application/problem+json"


_rule(
    "problem-media-type", "ADVISORY", _4XX | _5XX,
    "A JSON problem object travels as application/problem+json.",
    "RFC 9457 §3, Appendix B",
    "Set Content-Type: application/problem+json on problem details bodies.",
    _check_problem_media_type,
    phase="body", fields=_PROBLEM_FIELDS, content_types=frozenset({"application/json"}), needs="S,B",
    why="Clients recognise problem details by media type; it may be sent even if Accept did not list it.",
    bad=(_ex(404, (("Content-Type", "application/json"),),
             b'{"type":"about:blank","title":"Not Found","status":404}'),),
    good=(_ex(404, (("Content-Type", "application/problem+json"),),
              b'{"type":"about:blank","title":"Not Found","status":404}'),),
)

# =============================================================================================
# The public catalogue
# =============================================================================================

RULE_LIST: tuple[Rule, ...] = tuple(_RULES)
RULES: Mapping[str, Rule] = {rule.id: rule for rule in RULE_LIST}
assert len(RULES) == len(RULE_LIST), "duplicate rule id"

# Rows of RULES.md that no middleware can check soundly, with the reason; docs/rules.md lists them.
NOT_CHECKABLE: Mapping[str, str] = {
    "head-content-length": "needs the Content-Length a GET would have sent (G); the head-no-content fix "
    "never rewrites the app's value to 0 and never invents one",
    "head-same-headers": "needs the header set a GET would have sent (G)",
    "100-server-managed": "100 Continue is sent by the server before the app runs; WSGI and ASGI apps never see it",
    "103-early-hints": "a MAY: hints are optional; an ASGI app sends them through the early-hint extension",
    "403-may-hide-as-404": "a MAY: answering 404 to hide a forbidden resource is the origin's choice",
    "404-vs-410": "whether an absence is lasting is app knowledge that no response reveals",
    "413-may-close": "a MAY about connection handling, which is the server's",
    "415-accept": "a MAY: Accept on 415 is optional",
    "429-retry-after": "a MAY: statusguard adds a configured retry_after for 429 in fix mode, "
    "never reports its absence",
    "503-retry-after": "a MAY: statusguard adds a configured retry_after for 503 in fix mode, "
    "never reports its absence",
    "507-temporary": "describes client behaviour; the server has nothing to check",
}
