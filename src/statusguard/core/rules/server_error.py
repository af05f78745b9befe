"""1.7 5xx"""

from __future__ import annotations

from ..model import Draft, Exchange
from ..options import FixOptions
from ..rule import Reads
from ._base import (
    _5XX,
    _EXPLAINED_ELSEWHERE_5XX,
    _addition,
    _deprecated_code,
    _ex,
    _explain_rule,
    _not_storable_rule,
    _rule,
    decoded_content,
    open_section,
)
from ._repairs import add_problem_details

open_section(__name__, '1.7 5xx')

# RFC 9110 §15.6.4: a 503 MAY send Retry-After: added in fix mode when the user configured one.
_addition("503-retry-after", {503}, "Retry-After", "retry_after")

_explain_rule(
    "5xx-explain", _5XX - _EXPLAINED_ELSEWHERE_5XX,
    "Except for HEAD, a 5xx explains the error and whether it is temporary.",
    "RFC 9110 §15.6",
    "Return a body (problem+json is ideal) without stack traces; say whether to retry.",
    "Clients cannot tell a transient failure from a permanent one. 505 and 511 have their own rules.",
    "say what failed and whether it is temporary",
    generic=True,
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
    reads=Reads(),
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
    reads=Reads(),
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
    reads=Reads(request_fields={"depth"}),
)

_deprecated_code(
    "510-obsolete", "510 Not Extended is obsolete: RFC 2774 is Historic.", "RFC 2774 §7; IANA registry",
    "Use a current code; if you keep 510, say which extension the client needs.",
    "IANA marks 510 OBSOLETED; clients have no defined behaviour for it.",
)


def _check_511_link(x: Exchange) -> str | None:
    if x.is_head:
        return None
    if x.has_body is False:
        return "511 with an empty body; include a link to where credentials can be submitted"
    content = decoded_content(x)  # as the client sees it; unknown under a coding the stdlib cannot undo
    if content is not None and b"://" not in content and b"href" not in content and b'"/' not in content:
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
    needs="B",
    why="The user must reach the captive portal's login page.",
    fix=_fix_511_link, fix_summary="problem+json body with the configured login_url",
    bad=(_ex(511, (("Content-Length", "0"), ("Cache-Control", "no-store")), b""),),
    good=(_ex(511, (("Content-Type", "text/html"), ("Cache-Control", "no-store")),
              b"<a href='https://login.example/'>log in</a>"),),
    reads=Reads(fields={"content-encoding"}, body="content", method=True),
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
    reads=Reads(fields={"www-authenticate"}),
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
    reads=Reads(),
)
_not_storable_rule("511-not-storable", "RFC 6585 §6")

