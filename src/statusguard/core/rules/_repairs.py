"""Repairs shared by several rules: the building blocks the catalogue's ``fix`` entries call.

Charter: each function takes a ``Draft`` (the response being repaired), the ``Exchange`` it was
checked as, and the validated ``FixOptions``; it changes the draft only when it can do so
without guessing, and returns whether it changed anything. Content-Length bookkeeping after a
body change is done once, by the fixer, not here.
"""

from __future__ import annotations

import json

from ..headers import parse_cache_control
from ..model import Draft, Exchange
from ..options import FixOptions
from ..phrases import reason_phrase

__all__ = [
    "add_problem_details",
    "drop_body",
    "make_not_storable",
    "problem_details_body",
]


def problem_details_body(status: int, extra: dict[str, object] | None = None) -> bytes:
    """An RFC 9457 body for ``status``: ``about:blank``, the current reason phrase, nothing from the request."""
    problem: dict[str, object] = {"type": "about:blank", "title": reason_phrase(status), "status": status}
    if extra:
        problem.update(extra)
    return json.dumps(problem, separators=(",", ":")).encode("ascii")


def add_problem_details(draft: Draft, x: Exchange, options: FixOptions, extra: dict[str, object] | None = None) -> bool:
    """Give an empty error response (not to HEAD) an ``application/problem+json`` body (RFC 9457 §3, §4.2)."""
    if not options.problem_details or x.is_head or x.has_body is not False or draft.dropped:
        return False  # draft.dropped: content the adapter will discard; a synthesized body would be too
    if draft.body or not 400 <= draft.status <= 599:
        return False  # never over an existing body; never for a status some other fix changed
    draft.replace_body(problem_details_body(draft.status, extra))
    draft.set("Content-Type", "application/problem+json")
    return True


def drop_body(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    """Remove the content (HEAD, 1xx, 204, 205, 304); framing fields are the fixer's and the rules' job."""
    if draft.dropped or (not draft.body and x.has_body is not True):
        return False
    if draft.body is not None:
        draft.replace_body(b"")
    draft.dropped = True
    return True


_STORABLE_DIRECTIVES = frozenset({"public", "max-age", "s-maxage"})


def make_not_storable(draft: Draft, x: Exchange, options: FixOptions) -> bool:
    """``Cache-Control: no-store``, dropping what made the response storable (RFC 9111 §3, §5.2.2.5)."""
    values = draft.get_all("cache-control")
    directives = parse_cache_control(values) or []
    kept = []
    for directive in directives:
        if directive.name in _STORABLE_DIRECTIVES or directive.name == "no-store":
            continue
        if directive.argument is None:
            kept.append(directive.name)
        elif directive.quoted:
            kept.append(f'{directive.name}="{_escape_quoted(directive.argument)}"')
        else:
            kept.append(f"{directive.name}={directive.argument}")
    new_value = ", ".join(["no-store", *kept])
    changed = values != [new_value] or draft.has("expires")
    draft.set("Cache-Control", new_value)
    draft.remove("expires")
    return changed


def _escape_quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
