"""1.8 Field-value validity (any status)"""

from __future__ import annotations

from ..headers import (
    format_imf_fixdate,
    is_imf_fixdate,
    is_token,
    parse_cache_control,
    parse_challenges,
    parse_content_range,
    parse_http_date,
    split_list,
)
from ..model import Draft, Exchange, Finding, escape
from ..options import FixOptions
from ..rule import Reads
from ._base import _ex, _parsed_cache_control, _rule, open_section

open_section(__name__, '1.8 Field-value validity (any status)')


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
    reads=Reads(fields={"allow"}),
)


def _check_challenge_syntax(x: Exchange) -> str | None:
    problems = []
    for name in ("www-authenticate", "proxy-authenticate"):
        # Several lines of a list-based field are one comma-joined value (RFC 9110 §5.3): a second line
        # is a second challenge, or the rest of the first one's parameters.
        value = x.get(name)
        if value is not None:
            challenges = [] if not value.strip(" \t,") else parse_challenges(value)  # an empty list is valid
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
    reads=Reads(fields={"proxy-authenticate", "www-authenticate"}),
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
    reads=Reads(fields={"retry-after"}),
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
    reads=Reads(fields={"content-range"}),
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
    reads=Reads(fields={"content-range"}),
)


def _check_cache_control_forms(x: Exchange) -> str | None:
    values = x.get_all("cache-control")
    if not values:
        return None
    directives = _parsed_cache_control(values)
    if directives is None:
        return f"Cache-Control {escape(', '.join(values))!r} does not parse as a directive list"
    must: list[str] = []  # RFC 9111 §5.2.2.1, §5.2.2.10: a sender MUST NOT quote max-age/s-maxage
    should: list[str] = []  # §5.2.2.4, §5.2.2.7: a sender SHOULD NOT use the token form of no-cache/private
    for directive in directives:
        if directive.name in ("max-age", "s-maxage"):
            if directive.argument is None:
                must.append(f"{directive.name} has no value")
            elif directive.quoted:
                must.append(f"{directive.name} uses the quoted form")
            elif not (directive.argument.isdigit() and directive.argument.isascii()):
                must.append(f"{directive.name}={escape(directive.argument)} is not whole seconds")
        elif directive.name in ("no-cache", "private") and directive.argument is not None and not directive.quoted:
            should.append(f"{directive.name}={escape(directive.argument)} should use the quoted form")
    if not must and not should:
        return None
    # The finding carries the level of the words the RFC uses for what was found.
    return Finding("Cache-Control " + "; ".join(must + should), "MUST" if must else "SHOULD")


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
    "max-age and s-maxage take a bare integer (MUST); the field lists of no-cache and private are quoted (SHOULD).",
    "RFC 9111 §5.2, §5.2.2.1, §5.2.2.4, §5.2.2.7, §5.2.2.10",
    "Write Cache-Control: max-age=60, private=\"Set-Cookie\".",
    _check_cache_control_forms,
    fields=frozenset({"cache-control"}),
    why="Caches disagree on malformed directives; some ignore them, some treat the response as uncacheable. "
    "RFC 9111 words the two halves differently: a quoted max-age or s-maxage is a MUST NOT (reported as "
    "MUST), the token form of no-cache or private a SHOULD NOT (reported as SHOULD).",
    fix=_fix_cache_control_forms, fix_summary="normalize the quoting",
    bad=(_ex(200, (("Cache-Control", 'max-age="60"'), ("Content-Type", "text/plain")), b"x"),
         _ex(200, (("Cache-Control", "no-cache=Set-Cookie"), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(200, (("Cache-Control", 'max-age=60, no-cache="Set-Cookie"'), ("Content-Type", "text/plain")), b"x"),),
    reads=Reads(fields={"cache-control"}),
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
    # Only a real HTTP-date (one of its three forms) keeps its moment: caches read anything else, and
    # several values, as "already expired" (RFC 9111 §5.3), so the fix keeps it in the past.
    parsed = parse_http_date(values[0].strip(" \t")) if len(values) == 1 else None
    draft.set("Expires", format_imf_fixdate(parsed) if parsed else _PAST)
    return True


_PAST = "Thu, 01 Jan 1970 00:00:00 GMT"


_rule(
    "expires-syntax", "MUST", None,
    "Expires is an HTTP-date in IMF-fixdate form; '0' and other junk are invalid.",
    "RFC 9111 §5.3; RFC 9110 §5.6.7",
    "Use Cache-Control: no-cache or max-age instead, or format Expires with formatdate(usegmt=True).",
    _check_expires,
    fields=frozenset({"expires"}),
    why="Caches treat junk as 'already expired', which is rarely what was meant and is unreliable.",
    fix=_fix_expires,
    fix_summary="reformat an RFC 850 or asctime date to IMF-fixdate (same moment); anything else becomes a past "
    "IMF-fixdate, as caches already read it",
    bad=(_ex(200, (("Expires", "0"), ("Content-Type", "text/plain")), b"x"),
         _ex(200, (("Expires", "-1"), ("Content-Type", "text/plain")), b"x")),
    good=(_ex(200, (("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"), ("Content-Type", "text/plain")), b"x"),),
    reads=Reads(fields={"expires"}),
)

