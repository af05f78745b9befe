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
from email.utils import parsedate_to_datetime

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
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def is_token(value: str) -> bool:
    """``"GET"`` → True; ``"GET "`` or ``""`` → False (RFC 9110 §5.6.2)."""
    return _TOKEN.fullmatch(value) is not None


def split_list(value: str) -> list[str] | None:
    """Split a list-based field on top-level commas, respecting quoted strings.

    ``'a, "b,c" , ,d'`` → ``['a', '"b,c"', '', 'd']`` (empty members are kept so that callers can
    report them). An unterminated quoted string → None.
    """
    members: list[str] = []
    start = 0
    in_quote = False
    escaped = False
    for index, char in enumerate(value):
        if in_quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_quote = False
        elif char == '"':
            in_quote = True
        elif char == ",":
            members.append(value[start:index].strip(_OWS))
            start = index + 1
    if in_quote:
        return None
    members.append(value[start:].strip(_OWS))
    return members


def _unquote(value: str) -> str:
    """``'"a\\"b"'`` → ``'a"b'``; assumes ``value`` is a well-formed quoted-string."""
    out: list[str] = []
    escaped = False
    for char in value[1:-1]:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def _quoted_string_end(value: str, start: int) -> int:
    """Index just past the quoted-string opening at ``start``, or -1 if it never closes."""
    index = start + 1
    length = len(value)
    while index < length:
        char = value[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            return index + 1
        index += 1
    return -1


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
                if len(arg) < 2 or _quoted_string_end(arg, 0) != len(arg):
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
    match = _IMF_FIXDATE.fullmatch(value)
    if match is None:
        return None
    day_name, day, month, year, hour, minute, second = match.groups()
    try:
        parsed = datetime(
            int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        return None
    if _DAYS[parsed.weekday()] != day_name:
        return None
    return parsed


def parse_http_date(value: str) -> datetime | None:
    """Any of the three HTTP-date forms a recipient must accept, or None.

    ``'Sunday, 06-Nov-94 08:49:37 GMT'`` → 1994-11-06 08:49:37 UTC; ``'soon'`` → None.
    """
    strict = parse_imf_fixdate(value)
    if strict is not None:
        return strict
    if len(value) > 64 or not value.isascii():
        return None
    rfc850 = _RFC850_DATE.fullmatch(value)
    if rfc850 is not None:
        return _parse_rfc850(rfc850)
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)  # a lenient parse of a zone offset can leave datetime's range
    except (TypeError, ValueError, IndexError, OverflowError):
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
    try:
        return datetime(year, _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        return None


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


class _Scanner:
    """A cursor over a field value; every method advances by at least one char or not at all."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ows(self) -> int:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] in _OWS:
            self.pos += 1
        return self.pos - start

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group()

    def quoted(self) -> str | None:
        end = _quoted_string_end(self.text, self.pos)
        if end < 0:
            return None
        value = _unquote(self.text[self.pos : end])
        self.pos = end
        return value


def parse_challenges(value: str) -> list[Challenge] | None:
    """``'Basic realm="x", Bearer'`` → two challenges; anything off-grammar → None.

    challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; a new challenge starts where a
    token is followed by a space rather than "=". A parameter name repeated within one
    challenge makes the value malformed (RFC 9110 §11.2).
    """
    scanner = _Scanner(value)
    challenges: list[Challenge] = []
    scanner.skip_ows()
    while not scanner.at_end():
        if scanner.peek() == ",":  # empty list member
            scanner.pos += 1
            scanner.skip_ows()
            continue
        scheme = scanner.match(_TOKEN)
        if scheme is None:
            return None
        spaces = scanner.skip_ows()
        token68: str | None = None
        params: list[tuple[str, str, bool]] = []
        if spaces and not scanner.at_end() and scanner.peek() != ",":
            # token68 or the first auth-param: look ahead for "name BWS =" followed by a value.
            mark = scanner.pos
            name = scanner.match(_TOKEN)
            scanner.skip_ows()
            is_param = name is not None and scanner.peek() == "="
            if is_param:
                # "abc==" is a token68 whose padding looks like an "=": it is a param only if a value follows.
                probe = scanner.pos + 1
                while probe < len(value) and value[probe] in _OWS:
                    probe += 1
                if probe >= len(value) or value[probe] in ",=":
                    is_param = False
            scanner.pos = mark
            if not is_param:
                token68 = scanner.match(_TOKEN68)
                if token68 is None:
                    return None
                scanner.skip_ows()
            else:
                parsed = _parse_auth_params(scanner)
                if parsed is None:
                    return None
                params = parsed
        challenges.append(Challenge(scheme, token68, tuple(params)))
        if scanner.at_end():
            break
        if scanner.peek() != ",":
            return None
        scanner.pos += 1
        scanner.skip_ows()
    return challenges or None


def _parse_auth_params(scanner: _Scanner) -> list[tuple[str, str, bool]] | None:
    params: list[tuple[str, str, bool]] = []
    seen: set[str] = set()
    while True:
        mark = scanner.pos
        name = scanner.match(_TOKEN)
        if name is None:
            return None
        scanner.skip_ows()
        if scanner.peek() != "=":
            # A token followed by something else starts the next challenge.
            scanner.pos = mark
            return params
        scanner.pos += 1
        scanner.skip_ows()
        if scanner.peek() == '"':
            quoted_value = scanner.quoted()
            if quoted_value is None:
                return None
            param = (name.lower(), quoted_value, True)
        else:
            token_value = scanner.match(_TOKEN)
            if token_value is None:
                return None
            param = (name.lower(), token_value, False)
        if param[0] in seen:
            return None
        seen.add(param[0])
        params.append(param)
        scanner.skip_ows()
        if scanner.at_end() or scanner.peek() != ",":
            return params
        # Skip the comma (and empty members), then decide: another param, or the next challenge.
        while scanner.peek() == ",":
            scanner.pos += 1
            scanner.skip_ows()
        if scanner.at_end():
            return params
        lookahead = scanner.pos
        next_name = scanner.match(_TOKEN)
        scanner.skip_ows()
        starts_param = next_name is not None and scanner.peek() == "="
        scanner.pos = lookahead
        if not starts_param:
            # Put the comma back for the caller, which expects to consume it.
            scanner.pos = scanner.text.rfind(",", 0, lookahead)
            return params


# ---------------------------------------------------------------------------------------------
# Link (RFC 8288 §3)


def parse_links(value: str) -> list[tuple[str, dict[str, str]]] | None:
    """``'<https://isp.example/>; rel="blocked-by"'`` → ``[('https://isp.example/', {'rel': 'blocked-by'})]``.

    Only the first occurrence of each parameter counts (RFC 8288 §3.3). Malformed → None.
    """
    scanner = _Scanner(value)
    links: list[tuple[str, dict[str, str]]] = []
    scanner.skip_ows()
    while not scanner.at_end():
        if scanner.peek() == ",":
            scanner.pos += 1
            scanner.skip_ows()
            continue
        if scanner.peek() != "<":
            return None
        end = value.find(">", scanner.pos)
        if end < 0:
            return None
        target = value[scanner.pos + 1 : end]
        scanner.pos = end + 1
        params: dict[str, str] = {}
        scanner.skip_ows()
        while scanner.peek() == ";":
            scanner.pos += 1
            scanner.skip_ows()
            name = scanner.match(_TOKEN)
            if name is None:
                return None
            scanner.skip_ows()
            param_value = ""
            if scanner.peek() == "=":
                scanner.pos += 1
                scanner.skip_ows()
                if scanner.peek() == '"':
                    quoted_value = scanner.quoted()
                    if quoted_value is None:
                        return None
                    param_value = quoted_value
                else:
                    token_value = scanner.match(_TOKEN)
                    if token_value is None:
                        return None
                    param_value = token_value
            params.setdefault(name.lower(), param_value)
            scanner.skip_ows()
        links.append((target, params))
        if scanner.at_end():
            break
        if scanner.peek() != ",":
            return None
    return links
