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
    method: str = "GET",
    request_headers: HeaderInput | None = None,
    http_version: str = "1.1",
    allowed_methods: Iterable[str] | None = None,
    gateway: Gateway = None,
) -> Exchange:
    """Normalise untrusted arguments into an ``Exchange``; never raises."""
    code, line = parse_status(status)
    pairs, problems = normalise_headers(headers)
    if isinstance(request_headers, Mapping):  # a convenience for callers: {"Range": "bytes=0-1"}
        request_headers = list(request_headers.items())
    request_pairs, _ = normalise_headers(() if request_headers is None else request_headers)
    observed: object = body
    if not isinstance(observed, bytes | type(None)):
        body = bytes(observed) if isinstance(observed, bytearray | memoryview) else None
    methods = None
    if allowed_methods is not None:
        if isinstance(allowed_methods, str):  # "GET, POST" is one value, not the characters G, E, T...
            allowed_methods = [m for m in (part.strip(" \t") for part in allowed_methods.split(",")) if m]
        try:
            methods = frozenset(str(m).upper() for m in allowed_methods)
        except Exception:  # router knowledge that cannot be read is no knowledge
            methods = None
    return Exchange(
        code,
        pairs,
        body=body,
        method=method if isinstance(method, str) else "GET",  # case-sensitive (RFC 9110 §9.1): "get" is not GET
        request_headers=request_pairs,
        http_version=str(http_version).removeprefix("HTTP/"),
        allowed_methods=methods,
        gateway=gateway if gateway in ("wsgi", "asgi") else None,
        status_line=line,
        header_problems=problems,
    )


def check(
    status: int | str | bytes,
    headers: HeaderInput,
    body: bytes | None = None,
    *,
    method: str = "GET",
    request_headers: HeaderInput | None = None,
    http_version: str = "1.1",
    allowed_methods: Iterable[str] | None = None,
    rules: Mapping[str, str] | None = None,
    gateway: Gateway = None,
) -> list[Violation]:
    """Check one response against the catalogue; return its violations (empty when it is correct).

    ``body`` is the complete content, or None when it was not observed (rules that need it stay
    silent). ``allowed_methods`` is the router's knowledge of the methods served at the target.
    ``rules`` takes the policy's selectors (``{"405-allow": "off", "200-validators": "log"}``) to
    turn rules on or off; rules RULES.md marks opt-in are off unless selected here.
    ``gateway`` ("wsgi"/"asgi") enables the rules specific to one interface.
    """
    x = build_exchange(
        status, headers, body, method=method, request_headers=request_headers, http_version=http_version,
        allowed_methods=allowed_methods, gateway=gateway,
    )
    if rules is None:
        return DEFAULT_DISPATCHER.run(x)

    policy = Policy(mode="log", rules=rules)
    by_id = {rule.id: rule for rule in policy.enabled_rules}
    return [v for v in policy.dispatcher.run(x) if policy.action(by_id[v.rule], v.status) is not Action.OFF]
