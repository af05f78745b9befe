"""Total parsers for the header fields the rules read (RFC 9110 §5.6, §10-§14; RFC 9111 §5).

Charter: every function here is pure and total. Malformed input returns ``None`` (or an
empty result) and never raises, so the checker decides what "malformed" means and reports
it. Every parser is linear in its input: no backtracking regular expression runs over a
field value, because the values come from apps we do not trust and headers can be 1 MB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "Challenge",
    "ContentRange",
    "Directive",
    "format_imf_fixdate",
    "is_imf_fixdate",
    "is_token",
    "parse_byte_ranges",
    "parse_cache_control",
    "parse_challenges",
    "parse_content_range",
    "parse_http_date",
    "parse_links",
    "split_list",
]

# token = 1*tchar  (RFC 9110 §5.6.2)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="  (RFC 9110 §11.2)
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_DIGITS = re.compile(r"[0-9]+")
_OWS = " \t"
_OWS_RUN = re.compile(r"[ \t]*")
_SEPARATORS = re.compile(r"[ \t,]*")  # OWS and empty list members
# quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, written "unrolled" so that the engine never
# has two ways to match the same text: linear, even on an unterminated 1 MB run of backslashes.
_QUOTED_SRC = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_QUOTED = re.compile(_QUOTED_SRC, re.DOTALL)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_LIST_PIECE = re.compile(_QUOTED_SRC + r'|"|,', re.DOTALL)  # a whole quoted-string, a stray quote, a comma
_TOKEN_SRC = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# auth-scheme and the spaces after it; auth-param = token BWS "=" BWS ( token / quoted-string ), then OWS;
# token68 then OWS (RFC 9110 §11.2, §11.3)
_SCHEME = re.compile(rf"({_TOKEN_SRC})([ \t]*)")
_AUTH_PARAM = re.compile(rf"({_TOKEN_SRC})[ \t]*=[ \t]*(?:({_TOKEN_SRC})|({_QUOTED_SRC}))[ \t]*", re.DOTALL)
_TOKEN68_OWS = re.compile(r"([A-Za-z0-9\-._~+/]+=*)[ \t]*")
# "<" URI-Reference ">" OWS  (RFC 8288 §3)
_LINK_TARGET = re.compile(r"<([^>]*)>[ \t]*")
# link-param = ";" OWS token BWS [ "=" BWS ( token / quoted-string ) ] OWS  (RFC 8288 §3)
_LINK_PARAM = re.compile(
    rf";[ \t]*({_TOKEN_SRC})[ \t]*(?:=[ \t]*(?:({_TOKEN_SRC})|({_QUOTED_SRC})))?[ \t]*", re.DOTALL
)

# IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT  (RFC 9110 §5.6.7): fixed width, case-sensitive.
# [0-9], not \d: \d also matches non-ASCII digits (e.g. Arabic-Indic), which int() would accept.
_IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
# rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT, date2 = day "-" month "-" 2DIGIT (RFC 9110 §5.6.7)
_RFC850_DATE = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), ([0-9]{2})-"
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
# asctime-date = day-name SP date3 SP time-of-day SP year, date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
_ASCTIME_DATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{2}| [0-9]) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([0-9]{4})"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where a run of ``pattern`` (which can match the empty string) starting at ``pos`` ends."""
    found = pattern.match(text, pos)
    return found.end() if found is not None else pos


def is_token(value: str) -> bool:
    """``"GET"`` → True; ``"GET "`` or ``""`` → False (RFC 9110 §5.6.2)."""
    return _TOKEN.fullmatch(value) is not None


def split_list(value: str) -> list[str] | None:
    """Split a list-based field on top-level commas, respecting quoted strings.

    ``'a, "b,c" , ,d'`` → ``['a', '"b,c"', '', 'd']`` (empty members are kept so that callers can
    report them). An unterminated quoted string → None.
    """
    if '"' not in value:
        return [member.strip(_OWS) for member in value.split(",")]
    members: list[str] = []
    start = 0
    for piece in _LIST_PIECE.finditer(value):
        text = piece.group()
        if text == ",":
            members.append(value[start : piece.start()].strip(_OWS))
            start = piece.end()
        elif text == '"':
            return None  # a quote that no quoted-string closes
    members.append(value[start:].strip(_OWS))
    return members


def _unquote(value: str) -> str:
    """``'"a\\"b"'`` → ``'a"b'``; assumes ``value`` is a well-formed quoted-string."""
    inner = value[1:-1]
    return _QUOTED_PAIR.sub(_second_char, inner) if "\\" in inner else inner


def _second_char(match: re.Match[str]) -> str:
    # A function, not the template r"\1": the template is expanded per match, several times slower.
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# Cache-Control (RFC 9111 §5.2): list( name [ "=" ( token / quoted-string ) ] )


@dataclass(frozen=True, slots=True)
class Directive:
    name: str  # lower-cased
    argument: str | None  # unquoted
    quoted: bool  # the argument was sent as a quoted-string


def parse_cache_control(values: list[str]) -> list[Directive] | None:
    """``['no-store, max-age=0']`` → two directives; a malformed member anywhere → None."""
    directives: list[Directive] = []
    for value in values:
        members = split_list(value)
        if members is None:
            return None
        for member in members:
            if not member:
                continue
            name, eq, arg = member.partition("=")
            name = name.strip(_OWS)
            if not is_token(name):
                return None
            if not eq:
                directives.append(Directive(name.lower(), None, False))
                continue
            arg = arg.strip(_OWS)
            if arg.startswith('"'):
                if _QUOTED.fullmatch(arg) is None:
                    return None
                directives.append(Directive(name.lower(), _unquote(arg), True))
            elif is_token(arg):
                directives.append(Directive(name.lower(), arg, False))
            else:
                return None
    return directives


# ---------------------------------------------------------------------------------------------
# Dates (RFC 9110 §5.6.7)


def is_imf_fixdate(value: str) -> bool:
    """``'Sun, 06 Nov 1994 08:49:37 GMT'`` → True; the RFC 850 and asctime forms → False."""
    return parse_imf_fixdate(value) is not None


def parse_imf_fixdate(value: str) -> datetime | None:
    """``'Sun, 06 Nov 1994 08:49:37 GMT'`` → that moment; a leap second (``23:59:60``, RFC 9110 §5.6.7:
    time-of-day runs to 23:59:60) is valid and read as the second before it; malformed → None."""
    match = _IMF_FIXDATE.fullmatch(value)
    if match is None:
        return None
    day_name, day, month, year, hour, minute, second = match.groups()
    parsed = _moment(int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second))
    if parsed is None or _DAYS[parsed.weekday()] != day_name:
        return None
    return parsed


def _moment(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime | None:
    if second == 60 and hour == 23 and minute == 59:
        second = 59  # a leap second: datetime has no 60th second
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def parse_http_date(value: str) -> datetime | None:
    """Any of the three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7), or None.

    ``'Sunday, 06-Nov-94 08:49:37 GMT'`` → 1994-11-06 08:49:37 UTC; ``'Sun Nov  6 08:49:37 1994'``
    (asctime) → the same; ``'soon'``, ``'Tue, 19 Jan 2038 03:14:07 +0100'`` (a zone that is not GMT)
    → None: what is not an HTTP-date is not read as one, because a recipient reads it as invalid
    (an invalid Expires is already expired, RFC 9111 §5.3).
    """
    strict = parse_imf_fixdate(value)
    if strict is not None:
        return strict
    if len(value) > 64 or not value.isascii():
        return None
    rfc850 = _RFC850_DATE.fullmatch(value)
    if rfc850 is not None:
        return _parse_rfc850(rfc850)
    asctime = _ASCTIME_DATE.fullmatch(value)
    if asctime is not None:
        day_name, month, day, hour, minute, second, year = asctime.groups()
        parsed = _moment(int(year), _MONTHS.index(month) + 1, int(day.strip()), int(hour), int(minute), int(second))
        if parsed is not None and _DAYS[parsed.weekday()] == day_name:
            return parsed
    return None


def _parse_rfc850(match: re.Match[str]) -> datetime | None:
    """RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.

    (``email.utils`` puts 69-99 in the 1900s and 00-68 in the 2000s, whatever today's date.)
    """
    day, month, year2, hour, minute, second = match.groups()
    now = datetime.now(UTC)
    year = now.year // 100 * 100 + int(year2)
    if year > now.year + 50:
        year -= 100
    return _moment(year, _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second))


def format_imf_fixdate(moment: datetime) -> str:
    """The one date format a sender may generate: ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


# ---------------------------------------------------------------------------------------------
# Content-Range (RFC 9110 §14.4)


@dataclass(frozen=True, slots=True)
class ContentRange:
    unit: str
    first: int | None  # None for the unsatisfied form "*/length"
    last: int | None
    length: int | None  # None when sent as "*"


def parse_content_range(value: str) -> ContentRange | None:
    """``'bytes 0-499/1234'`` → ContentRange('bytes', 0, 499, 1234); ``'bytes */1234'`` → unsatisfied form.

    Returns None when the grammar or the arithmetic (last >= first, length > last) fails.
    """
    unit, sp, rest = value.partition(" ")
    if not sp or not is_token(unit):
        return None
    range_part, slash, length_part = rest.partition("/")
    if not slash:
        return None
    if length_part == "*":
        length = None
    elif _DIGITS.fullmatch(length_part):
        length = _to_int(length_part)
        if length is None:
            return None
    else:
        return None
    if range_part == "*":
        if length is None:
            return None  # "*/*" is not a form the grammar has
        return ContentRange(unit.lower(), None, None, length)
    first_s, dash, last_s = range_part.partition("-")
    if not dash or not _DIGITS.fullmatch(first_s) or not _DIGITS.fullmatch(last_s):
        return None
    first, last = _to_int(first_s), _to_int(last_s)
    if first is None or last is None:
        return None
    if last < first or (length is not None and length <= last):
        return None
    return ContentRange(unit.lower(), first, last, length)


def _to_int(digits: str) -> int | None:
    """ASCII digits of any size Python will convert (arbitrary precision up to the interpreter's
    int/str conversion limit, sys.get_int_max_str_digits: 4300 digits by default); None beyond it."""
    try:
        return int(digits.lstrip("0") or "0")
    except ValueError:
        return None


def parse_byte_ranges(value: str) -> list[str] | None:
    """The range specs of a request's ``Range: bytes=...``, or None if it is not a byte range.

    ``'bytes=0-1, 5-'`` → ``['0-1', '5-']``. Only the count and presence matter to the rules.
    """
    unit, eq, specs = value.partition("=")
    if not eq or unit.strip(_OWS).lower() != "bytes":
        return None
    members = [member for member in (split_list(specs) or []) if member]
    return members or None


# ---------------------------------------------------------------------------------------------
# WWW-Authenticate / Proxy-Authenticate (RFC 9110 §11.3, §11.6.1)


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str
    token68: str | None
    params: tuple[tuple[str, str, bool], ...]  # (lower name, unquoted value, was quoted)


def parse_challenges(value: str) -> list[Challenge] | None:
    """``'Basic realm="x", Bearer'`` → two challenges; anything off-grammar → None.

    challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; a new challenge starts where a
    token is followed by a space rather than "=". A parameter name repeated within one
    challenge makes the value malformed (RFC 9110 §11.2). Each step is one anchored match of a
    linear pattern that never re-reads what an earlier step consumed: linear in the value.
    """
    text = value
    length = len(text)
    challenges: list[Challenge] = []
    pos = _skip(_SEPARATORS, text, 0)  # leading OWS and empty list members
    while pos < length:
        scheme = _SCHEME.match(text, pos)
        if scheme is None:
            return None
        pos = scheme.end()
        following = -1  # where the next challenge starts, when the parameters already found it
        token68: str | None = None
        params: list[tuple[str, str, bool]] = []
        if scheme.group(2) and pos < length and text[pos] != ",":
            param = _AUTH_PARAM.match(text, pos)
            if param is not None:
                parsed = _parse_auth_params(text, param)
                if parsed is None:
                    return None
                params, pos, following = parsed
            else:
                # token68, e.g. "abc==" (whose padding looks like an "=" with no value after it).
                found = _TOKEN68_OWS.match(text, pos)
                if found is None:
                    return None
                token68 = found.group(1)
                pos = found.end()
        challenges.append(Challenge(scheme.group(1), token68, tuple(params)))
        if pos >= length:
            break
        if text[pos] != ",":
            return None
        pos = following if following >= 0 else _skip(_SEPARATORS, text, pos)
    return challenges or None


def _parse_auth_params(text: str, found: re.Match[str]) -> tuple[list[tuple[str, str, bool]], int, int] | None:
    """The auth-params from the match ``found`` on: (params, position after them, start of what follows
    the comma after them or -1). They end at the end, at a non-comma, or at a comma followed by
    something that is not a parameter (the next challenge)."""
    params: list[tuple[str, str, bool]] = []
    seen: set[str] = set()
    length = len(text)
    while True:
        name = found.group(1).lower()
        if name in seen:
            return None
        seen.add(name)
        token_value = found.group(2)
        if token_value is not None:
            params.append((name, token_value, False))
        else:
            params.append((name, _unquote(found.group(3)), True))
        pos = found.end()
        if pos >= length or text[pos] != ",":
            return params, pos, -1
        following = _skip(_SEPARATORS, text, pos)
        if following >= length:
            return params, following, -1
        next_param = _AUTH_PARAM.match(text, following)
        if next_param is None:
            return params, pos, following  # a token not followed by "=": the next challenge
        found = next_param


# ---------------------------------------------------------------------------------------------
# Link (RFC 8288 §3)


def parse_links(value: str) -> list[tuple[str, dict[str, str]]] | None:
    """``'<https://isp.example/>; rel="blocked-by"'`` → ``[('https://isp.example/', {'rel': 'blocked-by'})]``.

    Only the first occurrence of each parameter counts (RFC 8288 §3.3). Malformed → None.
    """
    text = value
    length = len(text)
    links: list[tuple[str, dict[str, str]]] = []
    pos = _skip(_SEPARATORS, text, 0)
    while pos < length:
        head = _LINK_TARGET.match(text, pos)
        if head is None:
            return None
        target = head.group(1)
        pos = head.end()
        params: dict[str, str] = {}
        while pos < length and text[pos] == ";":
            found = _LINK_PARAM.match(text, pos)
            if found is None:
                return None
            token_value, quoted_value = found.group(2), found.group(3)
            if token_value is not None:
                param_value = token_value
            elif quoted_value is not None:
                param_value = _unquote(quoted_value)
            else:
                param_value = ""
            params.setdefault(found.group(1).lower(), param_value)
            pos = found.end()
        links.append((target, params))
        if pos >= length:
            break
        if text[pos] != ",":
            return None
        pos = _skip(_SEPARATORS, text, pos)
    return links
