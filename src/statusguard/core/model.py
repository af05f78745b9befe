"""The values the core works on: the facts of one exchange, a rule, a violation, a draft response.

Charter: plain data and the normalisation of untrusted input into it. Nothing here logs,
imports a framework, or decides anything about HTTP semantics (that is the catalogue's job).
``Exchange`` is built once per response and parses headers lazily, so that a response no rule
looks at costs no parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

__all__ = [
    "LEVELS",
    "UNKNOWABLE",
    "Draft",
    "Example",
    "Exchange",
    "Finding",
    "HeaderInput",
    "Level",
    "Phase",
    "UnknownFact",
    "Violation",
    "escape",
    "normalise_headers",
    "normalise_indexed",
    "response_exchange",
]

Level = Literal["MUST", "SHOULD", "ADVISORY", "DEPRECATED"]
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD", "ADVISORY", "DEPRECATED")
SEVERITY: dict[str, str] = {"MUST": "error", "SHOULD": "warning", "ADVISORY": "info", "DEPRECATED": "info"}

# head: decided from status, headers and request facts alone, before any body byte.
# body: needs to know whether there is content (and, for a few rules, the bytes themselves).
# length: needs the total number of body bytes, known only once the body has ended.
Phase = Literal["head", "body", "length"]

HeaderInput = Iterable[Any]  # (name, value) pairs of str or bytes; anything else is reported, not raised on

_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_CTL_FORBIDDEN = frozenset("\r\n\x00")
_MAX_PROBLEMS = 20  # a hostile header list must not turn into a megabyte of messages


# The facts a caller may not know, in the vocabulary of ``Reads`` (core/rule.py). An ``Exchange`` lists
# the ones it lacks in ``unknown``; reading one raises ``UnknownFact``, and the dispatcher and the fixer
# take that as "this rule cannot judge this response": unknown is not absent.
#   request_fields: the request's header fields (check() without request_headers, a raw capture without
#                   its request); known_methods: the methods the server implements (not configured);
#   http_version:   the protocol version; final: whether the app handed the response over as the
#                   exchange's final response (start_response / http.response.start: the adapters know).
UNKNOWABLE = frozenset({"request_fields", "known_methods", "http_version", "final"})


class UnknownFact(LookupError):
    """A rule read a fact the exchange does not know (``Exchange.unknown``): the rule stays silent."""

    def __init__(self, fact: str) -> None:
        super().__init__(f"{fact} is not known for this response")
        self.fact = fact


class Finding(str):
    """A check's message that carries its own level, for a rule whose requirements mix levels (a MUST NOT
    and a SHOULD NOT in one row): the violation then says the level of what was found."""

    level: Level

    def __new__(cls, message: str, level: Level) -> Finding:
        finding = super().__new__(cls, message)
        finding.level = level
        return finding


class Violation(NamedTuple):
    """One broken rule on one response: immutable, comparable, cheap (flake8's ``Violation``)."""

    rule: str
    level: Level
    status: int
    message: str
    reference: str
    hint: str

    @property
    def severity(self) -> str:
        """``error`` for MUST, ``warning`` for SHOULD, ``info`` for the rest."""
        return SEVERITY[self.level]

    def __str__(self) -> str:
        return f"[{self.rule}] {self.level} ({self.reference}): {self.message}"


def _decode(item: object) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, bytes | bytearray | memoryview):
        return bytes(item).decode("latin-1")
    return None


def normalise_headers(headers: HeaderInput) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Decode a header list into ``(name, value)`` str pairs, keeping order, case and duplicates.

    Returns the pairs and a list of ``(rule id, message)`` problems: entries that are not
    (name, value) pairs of str/bytes are left out and reported under ``field-name-syntax``;
    invalid names and values are kept (so that the response can pass through as sent) and
    reported under ``field-name-syntax`` / ``field-value-syntax``. Never raises.
    """
    pairs, _, problems = normalise_indexed(headers)
    return pairs, list(problems)


def normalise_indexed(
    headers: HeaderInput,
) -> tuple[list[tuple[str, str]], dict[str, list[str]] | None, Sequence[tuple[str, str]]]:
    """``normalise_headers``, plus the index of the pairs by lower-case name when the hot path built
    it on the way (None otherwise: ``Exchange`` builds it on first use).

    The hot path takes a list of well-formed (str, str) or (bytes, bytes) pairs, as nearly every
    app sends, in one pass; anything unusual goes to the careful path, which gives the same result
    for every list the hot path accepts.
    """
    if type(headers) is not list:
        pairs, problems = _normalise_careful(headers)
        return pairs, None, problems
    pairs = []
    index: dict[str, list[str]] = {}
    names = _NAMES
    try:
        for entry in headers:
            if type(entry) is not tuple:
                break
            name, value = entry  # ValueError unless a pair
            known = names.get(name)  # hashes the name: an unhashable or odd object raises, and goes below
            if known is None:
                known = _learn_name(name)
                if known is None:
                    break
            text, lower = known
            if type(value) is not str:
                if type(value) is not bytes:
                    break
                value = value.decode("latin-1")
            if not (value.isascii() and value.isprintable()) and not _TAB_OR_OBS_TEXT_ONLY(value):
                break
            pairs.append((text, value))
            index[lower] = [_trim(value)]
        else:
            if len(index) != len(pairs):  # a repeated field: index every line of it
                index = {}
                for text, value in pairs:
                    lower = text.lower()
                    values = index.get(lower)
                    if values is None:
                        index[lower] = [_trim(value)]
                    else:
                        values.append(_trim(value))
            return pairs, index, ()
    except Exception:  # not a pair (ValueError), an unhashable name (TypeError), an app object's own error
        pass
    pairs, problems = _normalise_careful(headers)
    return pairs, None, problems


def _normalise_careful(headers: HeaderInput) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    pairs: list[tuple[str, str]] = []
    problems: list[tuple[str, str]] = []
    overflow: dict[str, int] = {}

    def report(rule: str, text: str) -> None:
        # A hostile header list must not become a megabyte of messages: a few per rule, then a count.
        if sum(1 for reported, _ in problems if reported == rule) < _MAX_PROBLEMS:
            problems.append((rule, text))
        else:
            overflow[rule] = overflow.get(rule, 0) + 1

    message = f"the header list is a {type(headers).__name__}, not a list of (name, value) pairs"
    # A str or bytes iterates as characters and a dict as its keys: either would be silently misread
    # (a two-character key unpacks as a name and a value), so both are reported whole.
    if isinstance(headers, str | bytes | bytearray | memoryview | Mapping):
        return pairs, [("field-name-syntax", message)]
    try:
        iterator = iter(headers)
    except Exception:
        return pairs, [("field-name-syntax", message)]
    index = -1
    while True:
        try:
            entry = next(iterator)
        except StopIteration:
            break
        except Exception as exc:  # an app's broken iterable is reported, not propagated
            report("field-name-syntax", f"iterating the header list failed: {type(exc).__name__}")
            break
        index += 1
        if isinstance(entry, str | bytes | bytearray | memoryview):  # "ab" would unpack as ("a", "b")
            report("field-name-syntax", f"header #{index} is {_describe(entry)}, not a (name, value) pair")
            continue
        try:
            name_raw, value_raw = entry
        except Exception:
            report("field-name-syntax", f"header #{index} is {_describe(entry)}, not a (name, value) pair")
            continue
        name = _decode(name_raw)
        value = _decode(value_raw)
        if name is None or value is None:
            report(
                "field-name-syntax",
                f"header #{index} has a {type(name_raw).__name__} name and a {type(value_raw).__name__} "
                "value; both must be str or bytes",
            )
            continue
        if name not in _KNOWN_GOOD_NAMES:
            name_problem = field_name_problem(name)
            if name_problem is not None:
                report("field-name-syntax", name_problem)
        if not (value.isascii() and value.isprintable()):
            value_problem = field_value_problem(name, value)
            if value_problem is not None:
                report("field-value-syntax", value_problem)
        pairs.append((name, value))
    for rule, count in overflow.items():
        problems.append((rule, f"and {count} more"))
    return pairs, problems


def _learn_name(name: object) -> tuple[str, str] | None:
    """``(name as str, lower-case name)`` for a valid field name (a token) of exact type str or bytes,
    remembered (bounded: names are app-chosen); None for anything else."""
    if type(name) is bytes:
        text = name.decode("latin-1")
    elif type(name) is str:
        text = name
    else:
        return None
    if not text or not _TCHARS.issuperset(text):
        return None
    known = (text, text.lower())
    if len(_NAMES) < _MAX_VALID_NAMES:
        _NAMES[name] = known
    return known


def _tab_or_obs_text_only(value: str) -> bool:
    """True when the only non-printable-ASCII characters are tabs and obs-text (allowed, RFC 9110 §5.5)."""
    return all(char == "\t" or " " <= char <= "~" or "\x80" <= char <= "\xff" for char in value)


_TAB_OR_OBS_TEXT_ONLY = _tab_or_obs_text_only
_UNSET = object()
_MAX_VALID_NAMES = 1024

# Names seen on most responses, in the spellings apps use: validated once here, not per response.
_COMMON_NAMES = (
    "content-type", "content-length", "cache-control", "etag", "last-modified", "location", "date",
    "server", "vary", "set-cookie", "allow", "www-authenticate", "retry-after", "expires", "link",
    "content-encoding", "content-language", "content-range", "accept-ranges", "x-content-type-options",
)
_KNOWN_GOOD_NAMES = frozenset(
    [*_COMMON_NAMES, *("-".join(part.capitalize() for part in name.split("-")) for name in _COMMON_NAMES), "ETag"]
)
# Valid names (exact str or bytes, as apps send them) -> (str name, lower-case name); grows with the
# names an app uses (bounded). A str or bytes subclass equal to a known name is read as that name.
_NAMES: dict[str | bytes, tuple[str, str]] = {}
for _name in _KNOWN_GOOD_NAMES:
    _NAMES[_name] = _NAMES[_name.encode("latin-1")] = (_name, _name.lower())
del _name


def _describe(entry: object) -> str:
    try:
        text = repr(entry)
    except Exception:  # an app object with a broken __repr__ is still only reported
        text = f"a {type(entry).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def field_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid field name (RFC 9110 §5.1: a token), or None."""
    if not name:
        return "a header has an empty name"
    if all(char in _TCHARS for char in name):
        return None
    return f"the header name {escape(name)!r} is not a token (no spaces, colons or control characters)"


def field_value_problem(name: str, value: str) -> str | None:
    """Why ``value`` cannot go on the wire (RFC 9110 §5.5), or None.

    Tabs and obs-text (0x80-0xFF) are allowed; CR, LF and NUL never are, and a str value must
    be encodable as ISO-8859-1 (PEP 3333, and what every HTTP/1.1 server writes).
    """
    if not _CTL_FORBIDDEN.isdisjoint(value):
        return f"{escape(name)} contains CR, LF or NUL (header injection / response splitting)"
    if any(ord(char) > 0xFF for char in value):
        return f"{escape(name)} has characters outside ISO-8859-1, which HTTP/1.1 cannot carry"
    return None


def escape(text: str, limit: int = 120) -> str:
    """Make an untrusted value safe to print on one line: control characters escaped, length capped."""
    if len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")


class Exchange:
    """The facts of one request/response pair, as a rule sees them.

    Header lookups are case-insensitive and keep duplicates in order. ``body`` is the content
    when it was observed, else None; ``body_length`` is the total size when it is known (a
    streamed body is counted, not kept); ``has_body`` is True/False once the middleware knows
    whether any content exists, None when it cannot know yet.
    """

    __slots__ = (
        "_final",
        "_http_version",
        "_index",
        "_known_methods",
        "_media_type",
        "_request_index",
        "_request_source",
        "allowed_methods",
        "body",
        "body_length",
        "gateway",
        "has_body",
        "header_problems",
        "headers",
        "is_head",
        "method",
        "status",
        "status_line",
        "unknown",
    )

    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]],
        *,
        body: bytes | None = None,
        body_length: int | None = None,
        has_body: bool | None = None,
        method: str = "GET",
        request_headers: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]] | None = None,
        http_version: str | None = "1.1",
        allowed_methods: frozenset[str] | None = None,
        gateway: Literal["wsgi", "asgi"] | None = None,
        status_line: str | None = None,
        header_problems: Sequence[tuple[str, str]] = (),
        known_methods: frozenset[str] | None = None,
        final: bool | None = True,
        request_known: bool = True,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        if body is not None:
            body_length = len(body)
        self.body_length = body_length
        if has_body is None and body_length is not None:
            has_body = body_length > 0
        self.has_body = has_body
        self.method = method
        self.is_head = method == "HEAD"  # the method is fixed at construction, like every fact of the exchange
        # A list, or a callable that builds it: most responses never look at the request's headers.
        self._request_source = request_headers if request_headers is not None else []
        self._http_version = http_version
        self.allowed_methods = allowed_methods  # None: the router's knowledge is not available
        self.gateway = gateway
        self.status_line = status_line
        self.header_problems = tuple(header_problems)
        self._known_methods = known_methods  # the methods the server implements
        self._final = final
        self.unknown = _unknown_facts(request_known, known_methods, http_version, final)
        self._index: dict[str, list[str]] | None = None
        self._media_type: object = _UNSET
        self._request_index: dict[str, list[str]] | None = None

    # Response fields -----------------------------------------------------------------------
    def _build_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for name, value in self.headers:
            index.setdefault(name.lower(), []).append(_trim(value))
        self._index = index
        return index

    def get_all(self, name: str) -> list[str]:
        """Every value of field ``name`` (lower-case), in order, trimmed of surrounding OWS (a field
        value excludes it, RFC 9110 §5.5); ``[]`` when absent."""
        index = self._index if self._index is not None else self._build_index()
        return index.get(name, [])

    def get(self, name: str) -> str | None:
        """The field's values joined as one list value (RFC 9110 §5.3), or None when absent."""
        values = self.get_all(name)
        if not values:
            return None
        return values[0] if len(values) == 1 else ", ".join(values)

    def has(self, name: str) -> bool:
        index = self._index if self._index is not None else self._build_index()
        return name in index

    def field_names(self) -> Iterable[str]:
        index = self._index if self._index is not None else self._build_index()
        return index.keys()

    # Facts a caller may not know (``unknown``): reading one that is not known raises UnknownFact.
    @property
    def http_version(self) -> str:
        """``"1.0"``, ``"1.1"``, ``"2"``, ``"3"``..., as the exchange ran."""
        if "http_version" in self.unknown or self._http_version is None:
            raise UnknownFact("http_version")
        return self._http_version

    @property
    def known_methods(self) -> frozenset[str]:
        """The methods the server implements anywhere (configured ``known_methods``)."""
        if "known_methods" in self.unknown or self._known_methods is None:
            raise UnknownFact("known_methods")
        return self._known_methods

    @known_methods.setter
    def known_methods(self, methods: frozenset[str] | None) -> None:
        self._known_methods = methods
        self.unknown = (self.unknown | {"known_methods"}) if methods is None else self.unknown - {"known_methods"}

    @property
    def final(self) -> bool:
        """Did the app hand this response over as the exchange's final response?"""
        if "final" in self.unknown or self._final is None:
            raise UnknownFact("final")
        return self._final

    def knows(self, fact: str) -> bool:
        """Is ``fact`` (one of ``UNKNOWABLE``) known for this exchange?"""
        return fact not in self.unknown

    # Request fields ------------------------------------------------------------------------
    @property
    def request_headers(self) -> list[tuple[str, str]]:
        if "request_fields" in self.unknown:
            raise UnknownFact("request_fields")
        source = self._request_source
        if callable(source):
            source = self._request_source = source()
        return source

    def request_get_all(self, name: str) -> list[str]:
        index = self._request_index
        if index is None:
            index = {}
            for key, value in self.request_headers:
                index.setdefault(key.lower(), []).append(_trim(value))
            self._request_index = index
        return index.get(name, [])

    def request_get(self, name: str) -> str | None:
        values = self.request_get_all(name)
        if not values:
            return None
        return values[0] if len(values) == 1 else ", ".join(values)

    @property
    def media_type(self) -> str | None:
        """``'Application/JSON; charset=utf-8'`` → ``'application/json'``; None without Content-Type."""
        found = self._media_type
        if found is _UNSET:
            index = self._index if self._index is not None else self._build_index()
            values = index.get("content-type")
            found = (_MEDIA_TYPES.get(values[0]) or _media_type_of(values[0])) if values else None
            self._media_type = found
        return found  # type: ignore[return-value]

    def count(self, name: str) -> int:
        """How many field lines named ``name`` (lower-case) the response has."""
        index = self._index if self._index is not None else self._build_index()
        return len(index.get(name, ()))

    def repeated_fields(self) -> list[str]:
        """The (lower-case) names of the fields that appear more than once."""
        index = self._index if self._index is not None else self._build_index()
        if len(index) == len(self.headers):  # as many names as lines: nothing repeats
            return []
        return [name for name, values in index.items() if len(values) > 1]



def _trim(value: str) -> str:
    """The field value without the leading and trailing SP/HTAB around it (RFC 9110 §5.5)."""
    if value and (value[0] in " \t" or value[-1] in " \t"):
        return value.strip(" \t")
    return value


_NOTHING_UNKNOWN: frozenset[str] = frozenset()


def _unknown_facts(
    request_known: bool, known_methods: frozenset[str] | None, http_version: str | None, final: bool | None
) -> frozenset[str]:
    if request_known and known_methods is not None and http_version is not None and final is not None:
        return _NOTHING_UNKNOWN
    unknown = set()
    if not request_known:
        unknown.add("request_fields")
    if known_methods is None:
        unknown.add("known_methods")
    if http_version is None:
        unknown.add("http_version")
    if final is None:
        unknown.add("final")
    return frozenset(unknown)


_new_exchange = object.__new__


def response_exchange(
    status: int,
    headers: list[tuple[str, str]],
    index: dict[str, list[str]] | None,
    method: str,
    request_headers: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]],
    http_version: str,
    gateway: Literal["wsgi", "asgi"] | None,
    status_line: str | None,
    header_problems: Sequence[tuple[str, str]],
    known_methods: frozenset[str] | None,
) -> Exchange:
    """``Exchange(status, headers, method=..., ...)`` for a response head whose body is not known yet,
    built without keyword parsing (the middlewares build one per response), with the name index
    ``normalise_indexed`` made on the way when there is one.

    The middlewares know the request, its version and interface, and that the app handed this head
    over as its response (``final``); the server's known methods only when they are configured."""
    x: Exchange = _new_exchange(Exchange)
    x.status = status
    x.headers = headers
    x.body = None
    x.body_length = None
    x.has_body = None
    x.method = method
    x.is_head = method == "HEAD"
    x._request_source = request_headers
    x._http_version = http_version
    x.allowed_methods = None
    x.gateway = gateway
    x.status_line = status_line
    x.header_problems = tuple(header_problems) if header_problems else ()
    x._known_methods = known_methods
    x._final = True
    x.unknown = _NOTHING_UNKNOWN if known_methods is not None else _UNKNOWN_METHODS
    x._index = index
    x._media_type = _UNSET
    x._request_index = None
    return x


_UNKNOWN_METHODS = frozenset({"known_methods"})
_MEDIA_TYPES: dict[str, str] = {}


def _media_type_of(value: str) -> str:
    """The media type of a Content-Type value, lower-case, without parameters (remembered, bounded)."""
    found = _MEDIA_TYPES.get(value)
    if found is None:
        found = value.split(";", 1)[0].strip(" \t").lower()
        if len(_MEDIA_TYPES) < 256:
            _MEDIA_TYPES[value] = found
    return found


class Example(NamedTuple):
    """A response (and the request it answers) used in the docs and the catalogue's own tests."""

    status: int | str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes | None = b""
    method: str = "GET"
    request_headers: Sequence[tuple[str, str]] = ()
    http_version: str = "1.1"
    allowed_methods: frozenset[str] | None = None
    gateway: Literal["wsgi", "asgi"] | None = None
    note: str = ""
    known_methods: frozenset[str] | None = None
    final: bool | None = None


# The fields that describe a body's bytes or its representation: a fix that replaces the body drops them.
DESCRIBES_CONTENT = (
    "content-encoding", "content-digest", "repr-digest", "etag", "last-modified", "content-md5", "content-range",
    "content-language",
)


def _unsatisfied_range(value: str) -> bool:
    """``'bytes */500'`` → True: the unsatisfied-range form describes no enclosed bytes (RFC 9110 §14.4)."""
    return value.strip(" \t").partition(" ")[2].lstrip(" ").startswith("*/")


@dataclass
class Draft:
    """A response being repaired by the fixer: mutable, owned by one call of ``fix``."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | None  # None: the content was not observed (streamed); it can still be dropped
    body_changed: bool = False
    dropped: bool = False  # the content (observed or not) must not be sent
    status_changed: bool = False

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name]

    def has(self, name: str) -> bool:
        return any(key.lower() == name for key, _ in self.headers)

    def remove(self, name: str) -> bool:
        before = len(self.headers)
        self.headers = [(key, value) for key, value in self.headers if key.lower() != name]
        return len(self.headers) != before

    def set(self, name: str, value: str) -> None:
        """Replace every line of the field with one line, keeping the first line's position."""
        lowered = name.lower()
        for position, (key, _) in enumerate(self.headers):
            if key.lower() == lowered:
                self.headers = [pair for pair in self.headers if pair[0].lower() != lowered]
                self.headers.insert(position, (name, value))
                return
        self.headers.append((name, value))

    def add(self, name: str, value: str) -> None:
        self.headers.append((name, value))

    def replace_body(self, body: bytes | None) -> None:
        """New content. What described the old content goes with it (a synthesized or rewritten body
        is sent as itself: no Content-Encoding it does not have, no digest, validator or range of the
        old bytes). Emptying the body (HEAD, 304, 204...) keeps them: they describe the representation."""
        if body != self.body:
            self.body = body
            self.body_changed = True
            if body:
                for name in DESCRIBES_CONTENT:
                    if name == "content-range":
                        # "bytes */N" (a 416's) states the representation's length, not these bytes': kept.
                        self.headers = [(k, v) for k, v in self.headers
                                        if k.lower() != name or _unsatisfied_range(v)]
                    else:
                        self.remove(name)
