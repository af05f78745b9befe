"""Fix options: the values statusguard may add to a response, validated once at construction.

Charter: statusguard never guesses a challenge, an Allow, an Upgrade, a Link or a Retry-After.
Each comes from here (configuration) or from router knowledge. Everything a user writes is
checked when the policy is built, so that a typo fails at start-up with a message saying what to
write instead, never on the first 401 in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .errors import ConfigurationError
from .headers import is_imf_fixdate, is_token, parse_cache_control, parse_challenges

__all__ = ["DEFAULT_KNOWN_METHODS", "FixOptions"]

# Methods a server may reasonably "know" (RFC 9110 §9, RFC 5789 PATCH, RFC 4918/3253/5842 WebDAV,
# RFC 9113 PRI is left out on purpose). Not a default: which methods a server implements is its own
# knowledge, so 405-vs-501 judges only with a configured ``known_methods`` (this set is a convenient
# value to configure, ``known_methods=DEFAULT_KNOWN_METHODS | {"PURGE"}``).
DEFAULT_KNOWN_METHODS = frozenset(
    {
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "QUERY",
        "REPORT", "MKCALENDAR", "ACL", "BIND", "UNBIND", "REBIND", "VERSION-CONTROL", "CHECKOUT",
        "CHECKIN", "UNCHECKOUT", "MERGE", "LABEL", "UPDATE", "MKWORKSPACE", "MKACTIVITY",
        "BASELINE-CONTROL", "ORDERPATCH", "LINK", "UNLINK",
    }
)


@dataclass(frozen=True, slots=True)
class FixOptions:
    """Validated values the fixer may add. Build it with :meth:`build`, which checks every value."""

    www_authenticate: tuple[str, ...] = ()
    proxy_authenticate: tuple[str, ...] = ()
    retry_after: Mapping[int, str] = field(default_factory=dict)
    upgrade: str | None = None
    blocked_by: str | None = None
    login_url: str | None = None
    status_map: Mapping[int, int] = field(default_factory=dict)
    cache_control: Mapping[int, str] = field(default_factory=dict)
    known_methods: frozenset[str] | None = None  # None: not configured, so not known
    problem_details: bool = True

    @classmethod
    def build(
        cls,
        *,
        www_authenticate: str | Iterable[str] | None = None,
        proxy_authenticate: str | Iterable[str] | None = None,
        retry_after: int | str | Mapping[int, int | str] | None = None,
        upgrade: str | None = None,
        blocked_by: str | None = None,
        login_url: str | None = None,
        status_map: Mapping[int, int] | None = None,
        cache_control: Mapping[int, str] | None = None,
        known_methods: Iterable[str] | None = None,
        problem_details: bool = True,
    ) -> FixOptions:
        return cls(
            www_authenticate=_challenges("www_authenticate", www_authenticate),
            proxy_authenticate=_challenges("proxy_authenticate", proxy_authenticate),
            retry_after=_retry_after(retry_after),
            upgrade=_upgrade(upgrade),
            blocked_by=_uri("blocked_by", blocked_by),
            login_url=_uri("login_url", login_url),
            status_map=_status_map(status_map),
            cache_control=_cache_control(cache_control),
            known_methods=_methods(known_methods),
            problem_details=_flag("problem_details", problem_details),
        )


def _field_value(option: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{option}={value!r}: expected a str header value")
    if any(char in value for char in "\r\n\x00"):
        raise ConfigurationError(
            f"{option}={value!r} contains CR, LF or NUL, which would split the response; "
            "write the value on one line"
        )
    if any(ord(char) > 0xFF for char in value) or not value.strip():
        raise ConfigurationError(f"{option}={value!r}: expected a non-empty ISO-8859-1 header value")
    return value


def _challenges(option: str, value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else _as_list(option, value)
    checked = []
    for item in values:
        text = _field_value(option, item)
        if parse_challenges(text) is None:
            raise ConfigurationError(
                f"{option}={item!r} is not a valid challenge; write e.g. 'Bearer realm=\"api\"' or "
                "'Basic realm=\"site\", charset=\"UTF-8\"' (RFC 9110 §11.3)"
            )
        checked.append(text)
    return tuple(checked)


def _retry_after(value: int | str | Mapping[int, int | str] | None) -> dict[int, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return {429: _retry_value(value), 503: _retry_value(value)}
    result = {}
    for status, delay in value.items():
        if status not in (413, 429, 503) and not (isinstance(status, int) and 300 <= status <= 399):
            raise ConfigurationError(
                f"retry_after={{{status!r}: ...}}: Retry-After is meaningful on 413, 429, 503 and 3xx; "
                "write e.g. retry_after={503: 120, 429: 60}"
            )
        result[status] = _retry_value(delay)
    return result


def _retry_value(delay: object) -> str:
    if isinstance(delay, bool) or not isinstance(delay, int | str):
        raise ConfigurationError(f"retry_after={delay!r}: expected whole seconds (e.g. 120) or an IMF-fixdate")
    if isinstance(delay, int):
        if delay < 0:
            raise ConfigurationError(f"retry_after={delay!r}: seconds cannot be negative; write e.g. 120")
        return str(delay)
    text = _field_value("retry_after", delay)
    if (text.isdigit() and text.isascii()) or is_imf_fixdate(text):
        return text
    raise ConfigurationError(
        f"retry_after={delay!r}: write whole seconds like 120 or an IMF-fixdate like "
        "'Wed, 21 Oct 2026 07:28:00 GMT' (RFC 9110 §10.2.3)"
    )


def _upgrade(value: str | None) -> str | None:
    if value is None:
        return None
    text = _field_value("upgrade", value)
    for member in text.split(","):
        name, _, version = member.strip(" \t").partition("/")
        if not is_token(name) or (version and not is_token(version)):
            raise ConfigurationError(
                f"upgrade={value!r}: expected a list of protocol[/version] tokens, e.g. 'HTTP/2' or 'websocket'"
            )
    return text


def _uri(option: str, value: str | None) -> str | None:
    if value is None:
        return None
    text = _field_value(option, value)
    if any(char in text for char in ' <>"') or not text.isascii():
        raise ConfigurationError(f"{option}={value!r}: expected a URI such as 'https://example.net/blocked'")
    return text


def _status_map(value: Mapping[int, int] | None) -> dict[int, int]:
    if not value:
        return {}
    result = {}
    for source, target in value.items():
        if not isinstance(target, int) or isinstance(target, bool) or not 200 <= target <= 599:
            raise ConfigurationError(
                f"status_map={{{source!r}: {target!r}}}: the target must be a final status from 200 to 599"
            )
        if not isinstance(source, int) or isinstance(source, bool):
            raise ConfigurationError(f"status_map={{{source!r}: ...}}: keys are int status codes, e.g. {{509: 503}}")
        result[source] = target
    return result


def _cache_control(value: Mapping[int, str] | None) -> dict[int, str]:
    if not value:
        return {}
    result = {}
    for status, directives in value.items():
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ConfigurationError(
                f"cache_control={{{status!r}: ...}}: keys are int status codes, e.g. {{404: 'max-age=60'}}"
            )
        text = _field_value("cache_control", directives)
        if parse_cache_control([text]) is None:
            raise ConfigurationError(
                f"cache_control={{{status!r}: {directives!r}}}: not a Cache-Control value; "
                "write e.g. {404: 'max-age=60'}"
            )
        result[status] = text
    return result


def _as_list(option: str, value: object) -> list[object]:
    if not isinstance(value, Iterable):
        raise ConfigurationError(f"{option}={value!r}: expected a str or a list of str")
    try:
        return list(value)
    except TypeError:
        raise ConfigurationError(f"{option}={value!r}: expected a str or a list of str") from None


def _methods(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None  # nobody said which methods the server implements: 405-vs-501 cannot judge
    items = [value] if isinstance(value, str) else _as_list("known_methods", value)
    methods = [method for method in items if isinstance(method, str) and is_token(method)]
    bad = [method for method in items if not (isinstance(method, str) and is_token(method))]
    if bad:
        raise ConfigurationError(f"known_methods contains {bad!r}: methods are tokens such as 'GET' or 'PURGE'")
    return frozenset(methods)


def _flag(option: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{option}={value!r}: expected True or False")
    return value
