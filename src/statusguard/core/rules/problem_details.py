"""1.10 Problem details (RFC 9457), when the body is application/problem+json"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..model import Draft, Exchange, escape
from ..options import FixOptions
from ..phrases import REASON_PHRASES, reason_phrase
from ..rule import Reads
from ._base import (
    _4XX,
    _5XX,
    _draft_problem,
    _ex,
    _problem,
    _rule,
    _set_problem,
    decoded_content,
    loads_json,
    open_section,
)

open_section(__name__, '1.10 Problem details (RFC 9457), when the body is application/problem+json')

_PROBLEM_FIELDS = frozenset({"content-type"})
_PROBLEM_JSON = frozenset({"application/problem+json"})


def _json_integer(value: object) -> int | None:
    """A JSON number with an integral value as an int (RFC 8259 numbers have no int/float types:
    ``404.0`` and ``4.04e2`` are the number 404); None for anything else (true, "404", 404.5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _check_problem_status(x: Exchange) -> str | None:
    problem = _problem(x)
    if problem is None or "status" not in problem:
        return None
    member = problem["status"]
    if _json_integer(member) == x.status:
        return None
    return f"problem+json status member is {escape(json.dumps(member))} but the response status is {x.status}"


def _fix_problem_status(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    problem = _draft_problem(draft, x)
    if problem is None:
        return False
    problem["status"] = draft.status
    return _set_problem(draft, problem, {"status"})


_rule(
    "problem-status-match", "MUST", None,
    "A problem+json status member equals the HTTP status actually sent.",
    "RFC 9457 §3.1.2, §5",
    "Build the problem body from the status you send (re-check after middleware that changes it).",
    _check_problem_status,
    fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="S,B",
    why="Clients that read the body and those that read the status line must agree.",
    fix=_fix_problem_status, fix_summary="rewrite the member to the real status",
    bad=(_ex(503, (("Content-Type", "application/problem+json"),), b'{"status":500,"title":"x"}'),),
    good=(_ex(503, (("Content-Type", "application/problem+json"),),
              b'{"type":"about:blank","status":503,"title":"Service Unavailable"}'),),
    reads=Reads(fields={"content-type", "content-encoding"}, body="content"),
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
        if name == "status":
            number = _json_integer(value)
            if number is None or not 100 <= number <= 599:
                bad.append(name)
        elif not isinstance(value, expected):
            bad.append(name)
    return bad


def _fix_problem_types(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    problem = _draft_problem(draft, x)
    if problem is None:
        return False
    mistyped = _mistyped(problem)
    for name in mistyped:
        del problem[name]
    return _set_problem(draft, problem, mistyped)


_rule(
    "problem-member-types", "ADVISORY", None,
    "type/instance are URI-reference strings, title/detail strings, status an integer in 100-599.",
    "RFC 9457 §3.1, Appendix A",
    "Use the member types RFC 9457 defines; put other data in extension members.",
    lambda x: (lambda p: f"problem+json members of the wrong type: {', '.join(_mistyped(p))}"
               if p is not None and _mistyped(p) else None)(_problem(x)),
    fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="B",
    why="Consumers must ignore mistyped members, so the information is lost.",
    fix=_fix_problem_types, fix_summary="drop the mistyped members",
    bad=(_ex(400, (("Content-Type", "application/problem+json"),), b'{"title":["a"],"status":"400"}'),),
    good=(_ex(400, (("Content-Type", "application/problem+json"),), b'{"title":"Bad Request","status":400}'),),
    reads=Reads(fields={"content-type", "content-encoding"}, body="content"),
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
    return _set_problem(draft, problem, {"title"})


_rule(
    "problem-about-blank-title", "SHOULD", None,
    "With type absent or about:blank, title is the status's reason phrase (it may be localized).",
    "RFC 9457 §4.2.1",
    "Set title to the reason phrase (e.g. 'Not Found'), or use your own problem type URI.",
    _check_problem_title,
    fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="S,B",
    why="about:blank means 'no more semantics than the status code', so the title must match it.",
    fix=_fix_problem_title, fix_summary="set the title from the registry phrase",
    bad=(_ex(410, (("Content-Type", "application/problem+json"),), b'{"title":"Not Found","status":410}'),
         _ex(404, (("Content-Type", "application/problem+json"),), b'{"status":404}')),
    good=(_ex(404, (("Content-Type", "application/problem+json"),), b'{"title":"Nicht gefunden","status":404}'),),
    reads=Reads(fields={"content-type", "content-encoding"}, body="content"),
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
    fields=_PROBLEM_FIELDS, content_types=_PROBLEM_JSON, needs="B",
    why="Relative references resolve against the request URI, so the same type gets different identities.",
    bad=(_ex(403, (("Content-Type", "application/problem+json"),),
             b'{"type":"probs/out-of-credit","title":"x","status":403}'),),
    good=(_ex(403, (("Content-Type", "application/problem+json"),),
              b'{"type":"https://example.com/probs/out-of-credit","title":"x","status":403}'),),
    reads=Reads(fields={"content-type", "content-encoding"}, body="content"),
)


def _check_problem_media_type(x: Exchange) -> str | None:
    if x.body is None or x.media_type != "application/json" or not 400 <= x.status <= 599:
        return None
    content = decoded_content(x)
    if content is None or len(content) > 65536:
        return None
    try:
        value = loads_json(content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or _json_integer(value.get("status")) != x.status \
            or not isinstance(value.get("title"), str):
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
    fields=_PROBLEM_FIELDS, content_types=frozenset({"application/json"}), needs="S,B",
    why="Clients recognise problem details by media type; it may be sent even if Accept did not list it.",
    bad=(_ex(404, (("Content-Type", "application/json"),),
             b'{"type":"about:blank","title":"Not Found","status":404}'),),
    good=(_ex(404, (("Content-Type", "application/problem+json"),),
              b'{"type":"about:blank","title":"Not Found","status":404}'),),
    reads=Reads(fields={"content-type", "content-encoding"}, body="content"),
)

