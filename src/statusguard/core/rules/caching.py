"""1.9 Caching"""

from __future__ import annotations

from ..headers import (
    parse_cache_control,
)
from ..model import Draft, Exchange
from ..options import FixOptions
from ..rule import Reads
from ._base import _cache_directives, _ex, _rule, open_section

open_section(__name__, '1.9 Caching')

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
    reads=Reads(fields={"cache-control", "expires"}),
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
    reads=Reads(fields={"cache-control"}),
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
    reads=Reads(fields={"cache-control"}, request_fields={"authorization"}),
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
    reads=Reads(fields={"pragma", "warning"}),
)

