"""What every section of the catalogue shares: the registry, the example builder, helpers.

Charter: helpers used by more than one section live here; a helper used by one section lives in
that section's module. Registering a rule (``_rule``) appends it to ``REGISTERED`` in the order
the section modules are imported by ``__init__.py``, which is the catalogue's order.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ..headers import (
    Directive,
    parse_cache_control,
    split_list,
)
from ..model import Draft, Example, Exchange, Level
from ..options import FixOptions
from ..phrases import reason_phrase
from ..rule import Addition, Reads, Rule
from ._repairs import add_problem_details, make_not_storable

# Marker for the statuses of ``status-in-range``: anything outside 100-599.
OUT_OF_RANGE: frozenset[int] = frozenset({-1})

_1XX = frozenset(range(100, 200))
_2XX = frozenset(range(200, 300))
_4XX = frozenset(range(400, 500))
_5XX = frozenset(range(500, 600))
_EXPLAINED_ELSEWHERE_4XX = frozenset({406, 409, 423, 428, 429, 431, 451})
_EXPLAINED_ELSEWHERE_5XX = frozenset({505, 511})
_NO_CONTENT_STATUSES = frozenset({204, 304}) | _1XX

# Every rule in registration order, with the module and the title of the section that registered it.
REGISTERED: list[tuple[Rule, str, str]] = []
_section = ["", "Rules"]


# The MAY rows that feed fixes (``Addition``), in registration order.
ADDITIONS: list[Addition] = []


def _addition(id: str, statuses: set[int], field: str, option: str) -> None:
    ADDITIONS.append(Addition(id, frozenset(statuses), field, option))


def open_section(module: str, title: str) -> None:
    """Rules registered from now on belong to section ``title`` of ``module`` (a section module's
    ``__name__``); each section module calls this before its rules."""
    _section[:] = [module, title]


def _rule(
    id: str,
    level: Level,
    statuses: frozenset[int] | set[int] | range | None,
    summary: str,
    reference: str,
    hint: str,
    check: Callable[[Exchange], str | None],
    *,
    reads: Reads,
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
        reads=reads,
        needs=needs,
        why=why,
        fix=fix,
        fix_summary=fix_summary,
        examples_bad=bad,
        examples_good=good,
        **flags,
    )
    REGISTERED.append((rule, _section[0], _section[1]))
    return rule


def _ex(
    status: int | str,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes | None = b"",
    method: str = "GET",
    req: tuple[tuple[str, str], ...] = (),
    **kw: Any,
) -> Example:
    """An example exchange: the request and its version are known (``req=()``: no request fields)."""
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


_MAX_DECODED = 1 << 20  # a body is inspected up to 1 MB decoded: a small gzip must not become gigabytes
_IDENTITY = frozenset({"", "identity"})


def content_codings(values: list[str]) -> list[str]:
    """The content codings of Content-Encoding values, in the order applied (lower-case, no identity)."""
    return [c for c in (m.strip(" \t").lower() for v in values for m in v.split(",")) if c not in _IDENTITY]


def decoded_content(x: Exchange) -> bytes | None:
    """The content as the client sees it (RFC 9110 §8.4): the body with its content codings undone.

    gzip and deflate are what the standard library decodes; with any other coding (br, zstd...), or
    bytes that do not decode, the representation is unknown and None is returned, so that the rules
    reading it stay silent rather than judge compressed bytes as if they were the document.
    """
    body = x.body
    if body is None:
        return None
    codings = content_codings(x.get_all("content-encoding"))
    if not codings:
        return body
    for coding in reversed(codings):  # the last coding listed was applied last (RFC 9110 §8.4)
        decoded = _decode(body, coding)
        if decoded is None:
            return None
        body = decoded
    return body


def _decode(data: bytes, coding: str) -> bytes | None:
    if coding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif coding == "deflate":  # the zlib format (RFC 9110 §8.4.1.2); raw deflate too, as clients accept it
        wbits = zlib.MAX_WBITS if len(data) >= 2 and (data[0] << 8 | data[1]) % 31 == 0 else -zlib.MAX_WBITS
    else:
        return None
    try:
        decompressor = zlib.decompressobj(wbits)
        out = decompressor.decompress(data, _MAX_DECODED)
        if decompressor.unconsumed_tail or not decompressor.eof:
            return None  # too large to inspect, or truncated: not known
        return out
    except zlib.error:
        return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's json accepts them, JSON does not


def loads_json(data: bytes) -> Any:
    """Strict JSON (RFC 8259): NaN and Infinity are not JSON values. Raises ValueError/RecursionError."""
    return json.loads(data, parse_constant=_reject_constant)


def _problem(x: Exchange) -> dict[str, Any] | None:
    """The parsed problem+json object of the response, when its content is known (decoded)."""
    global _PROBLEM_MEMO
    if x.media_type != "application/problem+json" or x.body is None:
        return None
    body = decoded_content(x)
    if body is None or len(body) > 1 << 20:
        return None
    memo = _PROBLEM_MEMO
    if memo is not None and memo[0] is body:
        return memo[1]
    try:
        value = loads_json(body)
    except (ValueError, RecursionError):
        value = None
    problem = value if isinstance(value, dict) else None
    if type(body) is bytes:
        _PROBLEM_MEMO = (body, problem)
    return problem


def _draft_problem(draft: Draft, x: Exchange) -> dict[str, Any] | None:
    """The problem object as the draft now holds it: several fixes may rewrite the same body in
    one round, and each must start from the previous one's result, not from the app's bytes.
    Only an unencoded body is rewritten (a fix never re-encodes, so it never leaves bytes a client
    cannot decode)."""
    if draft.body is None or x.media_type != "application/problem+json" or len(draft.body) > 1 << 20:
        return None
    if content_codings(draft.get_all("content-encoding")):
        return None
    try:
        value = loads_json(draft.body)
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


def _set_problem(draft: Draft, problem: dict[str, Any], changed: Iterable[str]) -> bool:
    """Write ``problem`` back as the draft's body, when that keeps the meaning of every member the fix
    did not change (``changed``): a value Python's json would re-serialise differently (1e400 as
    Infinity, a float's digits rounded) leaves the app's body alone and returns False (the violation
    is then reported, not fixed)."""
    try:
        text = json.dumps(problem, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")
        before = json.loads(draft.body or b"{}", parse_float=Decimal, parse_constant=_reject_constant)
        after = json.loads(text, parse_float=Decimal)
    except (ValueError, TypeError, RecursionError):
        return False
    skip = set(changed)
    if not isinstance(before, dict) or any(
        before.get(key, _MISSING) != after.get(key, _MISSING) for key in set(before) | set(after) if key not in skip
    ):
        return False
    draft.replace_body(text)
    return True


_MISSING = object()


def _methods_in(value: str) -> list[str]:
    return [member for member in (split_list(value) or []) if member]


def _allow_from_router(x: Exchange) -> str | None:
    """``Allow`` built from router knowledge: exactly the methods the router reported, never the
    refused one. Nothing is implied: a route that does not answer HEAD (FastAPI's ``@app.get``)
    must not be advertised as answering it (RFC 9110 §10.2.1: Allow lists the methods supported)."""
    if x.allowed_methods is None:
        return None
    methods = set(x.allowed_methods)
    if x.status == 405:
        methods.discard(x.method)
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    ordered = [m for m in order if m in methods] + sorted(methods.difference(order))
    return ", ".join(ordered)


def _declared_length(x: Exchange) -> int | None:
    values = x.get_all("content-length")
    if len(values) != 1 or not (values[0].isdigit() and values[0].isascii()):
        return None
    try:
        return int(values[0].lstrip("0") or "0")
    except ValueError:  # beyond Python's int/str conversion limit: no body is that long
        return None


def _deprecated_code(id: str, summary: str, reference: str, hint: str, why: str) -> None:
    """A rule for a code that is deprecated, obsolete or reserved: ``id`` is ``"<code>-<what it is>"``."""
    code_text, suffix = id.split("-", 1)
    code = int(code_text)
    message = f"{code} {reason_phrase(code)} is {suffix}"
    _rule(
        id, "DEPRECATED", {code}, summary, reference, hint,
        lambda x: message,
        reads=Reads(),  # the status alone
        why=why,
        bad=(_ex(code, (("Content-Type", "text/plain"),), b"x"),),
        good=(_ex(200, (("Content-Type", "text/plain"),), b"ok"),),
    )


def _is_multipart_byteranges(x: Exchange) -> bool:
    return x.media_type == "multipart/byteranges"


def _not_storable_rule(id: str, reference: str) -> None:
    """``<code>-not-storable``: the response says caches must not store it (RFC 6585)."""
    code = int(id.split("-", 1)[0])

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
        id, "MUST", {code},
        f"A {code} carries Cache-Control: no-store.",
        f"{reference}; RFC 9111 §3",
        f"Set Cache-Control: no-store on {code} responses (and no max-age/public/Expires).",
        check,
        why=f"RFC 6585 says caches must not store a {code}; statusguard requires the response to say so, "
        "because CDNs have served cached 429s to everyone. Turn the rule off for a route that "
        "deliberately caches it.",
        reads=Reads(fields={"cache-control", "expires"}),
        fix=make_not_storable, fix_summary="set Cache-Control: no-store, dropping public/max-age/s-maxage/Expires",
        bad=(_ex(code, (("Content-Type", "text/plain"),), b"x"),
             _ex(code, (("Cache-Control", "public, max-age=60"), ("Content-Type", "text/plain")), b"x")),
        good=(_ex(code, (("Cache-Control", "no-store"), ("Content-Type", "text/plain")), b"x"),),
    )


def _explain_rule(
    id: str, statuses: frozenset[int], summary: str, reference: str, hint: str, why: str, what: str,
    *, level: Level = "SHOULD", good_body: bytes = b'{"title":"explained"}', generic: bool = False, **flags: Any,
) -> Rule:
    """An "explain the error" rule. Only the class rules (``generic``: 4xx-explain, 5xx-explain) are
    satisfied by a generic about:blank problem body, so only they synthesize one; a code's own rule
    asks for something specific (the alternatives, the field, the legal demand, the limit...) that no
    generic body says, so it reports and never claims a fix."""
    example_status = min(statuses)
    fix: dict[str, Any] = {}
    if generic:
        fix = {"fix": add_problem_details,
               "fix_summary": "synthesize an RFC 9457 application/problem+json body (about:blank)"}
    return _rule(
        id, level, statuses, summary, reference, hint,
        lambda x: f"{x.status} to {x.method} with an empty body; {what}" if _empty_error_body(x) else None,
        reads=Reads(body="presence", method=True), needs="S,M,B", why=why, **fix,
        bad=(_ex(example_status, (("Content-Length", "0"),), b""),),
        good=(_ex(example_status, (("Content-Type", "application/json"),), good_body),
              _ex(example_status, (("Content-Length", "0"),), b"", method="HEAD")),
        **flags,
    )
