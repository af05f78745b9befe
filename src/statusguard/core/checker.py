"""The pure checker: facts in, violations out.

Charter: ``check`` is the public entry point of the core, a total function of one response's
facts. It normalises untrusted arguments into an ``Exchange`` and runs the rules through the
dispatcher (``dispatch.py``); it does no I/O and knows no status code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .dispatch import Dispatcher, Gateway, parse_status
from .model import Exchange, HeaderInput, Violation, normalise_headers
from .policy import Action, Policy
from .rules import RULE_LIST

__all__ = ["DEFAULT_DISPATCHER", "build_exchange", "check"]


DEFAULT_DISPATCHER = Dispatcher(rule for rule in RULE_LIST if rule.enabled_by_default)


def build_exchange(
    status: int | str | bytes,
    headers: HeaderInput,
    body: bytes | None,
    *,
    method: str | bytes = "GET",
    request_headers: HeaderInput | None = None,
    http_version: str | bytes | None = None,
    allowed_methods: Iterable[str] | None = None,
    gateway: Gateway = None,
    known_methods: Iterable[str] | str | None = None,
    final: bool | None = None,
) -> Exchange:
    """Normalise the arguments of ``check``/``fix`` into an ``Exchange``.

    What the caller does not give is unknown, not absent (``Exchange.unknown``): no ``request_headers``
    (None) means the request's fields are unknown (``[]`` says it had none); no ``http_version``, no
    ``known_methods`` and no ``final`` are unknown too, and the rules that need them stay silent.
    Values arrive in the forms real stacks use: a method or version as bytes (some ASGI servers),
    headers as a list of pairs or a mapping (``{"Set-Cookie": ["a=1", "b=2"]}`` gives two lines), names
    in any case. A value of a type no stack uses raises ``TypeError`` naming it (never misread: a
    ``b"HEAD"`` is HEAD, not the default GET); malformed header entries are reported as violations.
    """
    code, line = parse_status(status)
    pairs, problems = normalise_headers(_header_pairs(headers))
    request_known = request_headers is not None
    request_pairs, _ = normalise_headers(() if request_headers is None else _header_pairs(request_headers))
    observed: object = body
    if not isinstance(observed, bytes | type(None)):
        body = bytes(observed) if isinstance(observed, bytearray | memoryview) else None
    return Exchange(
        code,
        pairs,
        body=body,
        method=_method(method),
        request_headers=request_pairs,
        http_version=_version(http_version),
        allowed_methods=_method_set("allowed_methods", allowed_methods, lenient=True),
        gateway=gateway if gateway in ("wsgi", "asgi") else None,
        status_line=line,
        header_problems=problems,
        known_methods=_method_set("known_methods", known_methods),
        final=final if final is None else bool(final),
        request_known=request_known,
    )


def _text(name: str, value: object) -> str:
    """A str, or bytes as ISO-8859-1 (what ASGI servers hand over); anything else is refused by name."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    raise TypeError(f"{name}={value!r}: expected a str (or bytes), e.g. {name}='GET'")


def _method(method: object) -> str:
    # Case-sensitive (RFC 9110 §9.1): "get" is not GET, and is kept as sent. None: the default, GET.
    return "GET" if method is None else _text("method", method)


def _version(version: object) -> str | None:
    """``"HTTP/1.1"``, ``"1.1"``, ``b"2"``, ``2`` → ``"1.1"``/``"2"``; None: unknown."""
    if version is None:
        return None
    if isinstance(version, int | float) and not isinstance(version, bool):
        text = str(version)
    else:
        text = _text("http_version", version)
    text = text.strip().upper().removeprefix("HTTP/")
    if text in ("2.0", "3.0"):
        text = text[0]
    return text


def _method_set(name: str, methods: object, *, lenient: bool = False) -> frozenset[str] | None:
    """Methods as a set: an iterable of str/bytes, or one comma-separated str; None: unknown."""
    if methods is None:
        return None
    if isinstance(methods, str | bytes | bytearray | memoryview):  # "GET, POST" is one value, not G, E, T...
        text = _text(name, methods)
        return frozenset(m for m in (part.strip(" \t") for part in text.split(",")) if m)
    try:
        items = [_text(name, m).strip(" \t") for m in methods]  # type: ignore[attr-defined]
    except TypeError:
        if lenient:  # router knowledge that cannot be read is no knowledge
            return None
        raise TypeError(f"{name}={methods!r}: expected an iterable of method names, e.g. ['GET', 'POST']") from None
    except Exception:
        if lenient:
            return None
        raise
    if lenient:
        items = [m.upper() for m in items]  # routers' spellings ("get" in some route tables)
    return frozenset(m for m in items if m)


def _header_pairs(headers: HeaderInput) -> HeaderInput:
    """A mapping's items (its ``multi_items()`` when it has them: Starlette, httpx), each value of a
    list value as a line of its own; anything else unchanged (``normalise_headers`` judges it)."""
    if not isinstance(headers, Mapping):
        return headers
    multi = getattr(headers, "multi_items", None)
    items = list(multi()) if callable(multi) else list(headers.items())
    pairs: list[object] = []
    for name, value in items:
        if isinstance(value, list | tuple):
            pairs.extend((name, item) for item in value)
        else:
            pairs.append((name, value))
    return pairs


def check(
    status: int | str | bytes,
    headers: HeaderInput,
    body: bytes | None = None,
    *,
    method: str | bytes = "GET",
    request_headers: HeaderInput | None = None,
    http_version: str | bytes | None = None,
    allowed_methods: Iterable[str] | None = None,
    rules: Mapping[str, str] | None = None,
    gateway: Gateway = None,
    known_methods: Iterable[str] | str | None = None,
    final: bool | None = None,
) -> list[Violation]:
    """Check one response against the catalogue; return its violations (empty when it is correct).

    ``body`` is the complete content, or None when it was not observed (rules that need it stay
    silent). What is not given is unknown, not absent, and the rules that need it stay silent:
    ``request_headers`` (a list of pairs or a mapping; ``[]`` says the request had none),
    ``http_version`` ("1.1", "2"...), ``allowed_methods`` (the router's methods at the target),
    ``known_methods`` (the methods the server implements anywhere, for ``405-vs-501``) and
    ``final`` (True: the app handed this response to the server as its final response, as
    start_response and http.response.start do; a 1xx is then a broken final response).
    ``rules`` takes the policy's selectors (``{"405-allow": "off", "200-validators": "log"}``) to
    turn rules on or off; rules RULES.md marks opt-in are off unless selected here.
    ``gateway`` ("wsgi"/"asgi") enables the rules specific to one interface.
    """
    x = build_exchange(
        status, headers, body, method=method, request_headers=request_headers, http_version=http_version,
        allowed_methods=allowed_methods, gateway=gateway, known_methods=known_methods, final=final,
    )
    if rules is None:
        return DEFAULT_DISPATCHER.run(x)

    policy = Policy(mode="log", rules=rules)
    by_id = {rule.id: rule for rule in policy.enabled_rules}
    return [v for v in policy.dispatcher.run(x) if policy.action(by_id[v.rule], v.status) is not Action.OFF]
