"""Recording facts: an ``Exchange`` that notes every fact a rule reads, for the catalogue's meta-test.

A rule's ``reads=`` declaration is what the engine trusts (which heads wait for a body chunk, when the
router is asked, which header values a remembered verdict depends on). This module makes the
declaration checkable: a ``RecordingExchange`` behaves exactly like the exchange it copies, and
``seen`` holds the facts read through its public surface, in the vocabulary of ``Reads``.
Reads made by the exchange's own methods on behalf of a rule (``get`` calling ``get_all``,
``media_type`` building the index) are not counted twice or as something else.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statusguard.core.checker import build_exchange
from statusguard.core.model import Draft, Exchange
from statusguard.core.options import FixOptions
from statusguard.core.rule import ALL_FIELDS, Reads, Rule

Fact = tuple[str, str]  # (kind, detail): ("field", "allow"), ("body", "content"), ("method", "")...

# Plain attributes, and the fact that reading one is.
_ATTRIBUTES: dict[str, Fact] = {
    "body": ("body", "content"),
    "body_length": ("body", "length"),
    "has_body": ("body", "presence"),
    "method": ("method", ""),
    "is_head": ("method", ""),
    "allowed_methods": ("router", ""),
    "known_methods": ("known_methods", ""),
    "gateway": ("interface", ""),
    "http_version": ("http_version", ""),
    "status_line": ("status_line", ""),
    "final": ("final", ""),
    "headers": ("field", ALL_FIELDS),
    "header_problems": ("field", ALL_FIELDS),
    "request_headers": ("request_field", ALL_FIELDS),
    "media_type": ("field", "content-type"),
}
# Methods, and the fact a call with these arguments is.
_METHODS: dict[str, Callable[[tuple[Any, ...]], Fact]] = {
    "get_all": lambda args: ("field", str(args[0]).lower()),
    "get": lambda args: ("field", str(args[0]).lower()),
    "has": lambda args: ("field", str(args[0]).lower()),
    "field_names": lambda args: ("field_names", ""),
    "repeated_fields": lambda args: ("field_names", ""),
    "count": lambda args: ("field_names", ""),
    "request_get_all": lambda args: ("request_field", str(args[0]).lower()),
    "request_get": lambda args: ("request_field", str(args[0]).lower()),
}


@dataclass
class _Log:
    seen: set[Fact] = field(default_factory=set)
    depth: int = 0


class RecordingExchange(Exchange):
    """An exchange whose public facts, when read from outside it, are noted in ``seen``."""

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_") or name in ("status", "seen"):
            return object.__getattribute__(self, name)
        log: _Log = object.__getattribute__(self, "_log")
        if log.depth:
            return object.__getattribute__(self, name)
        describe = _METHODS.get(name)
        if describe is not None:
            method = object.__getattribute__(self, name)

            def recorded(*args: Any) -> Any:
                log.seen.add(describe(args))
                log.depth += 1
                try:
                    return method(*args)
                finally:
                    log.depth -= 1

            return recorded
        fact = _ATTRIBUTES.get(name)
        if fact is not None:
            log.seen.add(fact)
        log.depth += 1  # a property's own reads are made on the rule's behalf, already counted
        try:
            return object.__getattribute__(self, name)
        finally:
            log.depth -= 1

    @property
    def seen(self) -> set[Fact]:
        return object.__getattribute__(self, "_log").seen


def recording(x: Exchange) -> RecordingExchange:
    """A recording copy of ``x`` (the same facts, nothing read yet)."""
    copy = object.__new__(RecordingExchange)
    for slot in Exchange.__slots__:
        with contextlib.suppress(AttributeError):
            object.__setattr__(copy, slot, object.__getattribute__(x, slot))
    object.__setattr__(copy, "_log", _Log())
    return copy


def undeclared(reads: Reads, seen: set[Fact]) -> list[str]:
    """The facts in ``seen`` that ``reads`` does not declare, in words (empty: the declaration holds)."""
    missing = []
    for kind, detail in sorted(seen):
        if kind == "field":
            ok = reads.reads_syntax(detail) if detail != ALL_FIELDS else ALL_FIELDS in reads.fields | reads.syntax
        elif kind == "request_field":
            ok = detail in reads.request_fields or ALL_FIELDS in reads.request_fields
        elif kind == "body":
            # Whole content implies its length and its presence. A rule that reads whether there is
            # content may quote the size when it is already known (its message), not wait for it.
            ok = detail in {"none": set(), "presence": {"presence", "length"}, "length": {"presence", "length"},
                            "content": {"presence", "length", "content"}}[reads.body]
        else:
            ok = bool(getattr(reads, kind))
        if not ok:
            missing.append(f"{kind} {detail}".strip())
    return missing


def facts_read(rule: Rule, x: Exchange, options: FixOptions | None = None) -> tuple[set[Fact], set[Fact]]:
    """What ``rule`` reads of ``x``: (by its check, by its fix when the check fires)."""
    checked = recording(x)
    try:
        message = rule.check(checked)
    except Exception:
        message = None
    fix_seen: set[Fact] = set()
    if message is not None and rule.fix is not None:
        fixed = recording(x)
        draft = Draft(x.status, list(x.headers), x.body)
        with contextlib.suppress(Exception):
            rule.fix(draft, fixed, options or FixOptions.build())
        fix_seen = set(fixed.seen)
    return set(checked.seen), fix_seen


# -- generated exchanges ---------------------------------------------------------------------------

_FIELD_VALUES: dict[str, list[str]] = {
    "Content-Type": ["text/plain", "application/json", "application/problem+json", "multipart/byteranges; boundary=x",
                     "text/xml", "application/xml", "text/html; charset=utf-8", ""],
    "Content-Length": ["0", "1", "5", "007", "-1", "abc", "5, 5", "99999999999999999999"],
    "Content-Range": ["bytes 0-4/10", "bytes */10", "bytes 5-2/10", "items 0-1/2", "bytes 0-4/*", "x"],
    "Cache-Control": [
        "no-store", "public, max-age=60", "private", "no-cache", "max-age=0, must-revalidate", "s-maxage=1",
    ],
    "Expires": ["Thu, 01 Jan 1970 00:00:00 GMT", "0", "Wed, 21 Oct 2015 07:28:00 GMT"],
    "Allow": ["GET, HEAD", "POST", "", "GET"],
    "WWW-Authenticate": ['Bearer realm="api"', "Basic", "", "Negotiate, Basic realm=x"],
    "Proxy-Authenticate": ['Basic realm="p"', ""],
    "Retry-After": ["120", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "soon", "1.5"],
    "Location": ["/next", "https://example.com/a", "http://[bad", "/a#frag", ""],
    "ETag": ['"abc"', 'W/"x"', "abc"],
    "Last-Modified": ["Wed, 21 Oct 2015 07:28:00 GMT", "yesterday"],
    "Date": ["Wed, 21 Oct 2015 07:28:00 GMT", "now"],
    "Vary": ["Accept", "*"],
    "Link": ['</login>; rel="login"', "<x>", "junk"],
    "Upgrade": ["websocket", "TLS/1.3, HTTP/1.1", "h2c"],
    "Connection": ["upgrade", "close", "keep-alive", "X-Foo"],
    "Transfer-Encoding": ["chunked", "gzip, chunked"],
    "Content-Encoding": ["gzip", "br", "identity"],
    "Accept-Encoding": ["gzip", "identity"],
    "Accept-Ranges": ["bytes", "none"],
    "Content-Location": ["/a"],
    "Keep-Alive": ["timeout=5"],
    "Trailer": ["X-Checksum"],
    "Set-Cookie": ["a=b"],
    "DAV": ["1"],
    "IM": ["feed"],
    "Accept-Patch": ["application/json-patch+json"],
    "Accept-Post": ["text/plain"],
    "Content-Language": ["en"],
    "Accept": ["text/plain"],
    "Alt-Svc": ["h3=\":443\""],
    "Preference-Applied": ["return=minimal"],
    "X-Custom": ["1", "a\r\nb"],
}
_REQUEST_FIELDS: dict[str, list[str]] = {
    "Range": ["bytes=0-4", "bytes=0-1,3-4", "items=0-1", "bytes=9-1", "junk"],
    "If-None-Match": ['"abc"', "*"],
    "If-Modified-Since": ["Wed, 21 Oct 2015 07:28:00 GMT"],
    "If-Match": ['"abc"'],
    "If-Unmodified-Since": ["Wed, 21 Oct 2015 07:28:00 GMT"],
    "If-Range": ['"abc"'],
    "Expect": ["100-continue"],
    "Upgrade": ["websocket", "h2c"],
    "Connection": ["upgrade"],
    "Authorization": ["Bearer t0ken-secret"],
    "Proxy-Authorization": ["Basic abc"],
    "Early-Data": ["1"],
    "Depth": ["infinity", "1"],
    "A-IM": ["feed"],
    "Content-Encoding": ["gzip"],
    "Content-Type": ["application/json"],
    "Cookie": ["a=b"],
    "Accept": ["application/json"],
}
_STATUSES = [*range(100, 104), *range(200, 209), 226, *range(300, 309), *range(400, 432), 451,
             *range(500, 512), 0, 99, 600, 299, 418, 425]
_METHODS_POOL = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "PROPFIND", "TRACE", "BREW"]
_BODIES: list[bytes | None] = [
    None, b"", b"x", b"hello world", b'{"type":"about:blank","title":"Not Found","status":404}',
    b'{"status": 500, "title": 1}', b"<?xml version='1.0'?><d:multistatus xmlns:d='DAV:'/>", b"\x1f\x8b garbage",
    b"--x\r\nContent-Range: bytes 0-1/10\r\n\r\nab\r\n--x--",
]


def random_exchange(rng: random.Random, statuses: list[int] | None = None) -> Exchange:
    """A varied, often wrong, response and request: what a rule may meet in the wild."""
    status = rng.choice(statuses or _STATUSES)
    headers = []
    for name in rng.sample(sorted(_FIELD_VALUES), rng.randint(0, 7)):
        headers.append((rng.choice([name, name.lower()]), rng.choice(_FIELD_VALUES[name])))
        if rng.random() < 0.1:
            headers.append((name, rng.choice(_FIELD_VALUES[name])))
    request = [(name, rng.choice(values)) for name, values in _REQUEST_FIELDS.items() if rng.random() < 0.25]
    status_arg: int | str = status
    if rng.random() < 0.2:
        status_arg = rng.choice([f"{status} Reason", f"{status}", f"{status}  Two spaces", "junk"])
    x = build_exchange(
        status_arg,
        headers,
        rng.choice(_BODIES),
        method=rng.choice(_METHODS_POOL),
        request_headers=request if rng.random() < 0.9 else None,
        http_version=rng.choice(["1.0", "1.1", "2", "3", None]),
        allowed_methods=rng.choice([None, ["GET"], ["GET", "POST"], ["POST"], ["GET", "HEAD", "OPTIONS"]]),
        gateway=rng.choice([None, "wsgi", "asgi"]),
        final=rng.choice([True, False, None]),
    )
    if rng.random() < 0.3:  # a streamed body: known to exist (or not), its bytes unseen, sometimes counted
        x.body = None
        x.has_body = rng.choice([True, False, None])
        x.body_length = rng.choice([None, 0, 5, 10]) if x.has_body is not False else 0
    if rng.random() < 0.3:
        x.known_methods = frozenset(rng.choice([["GET", "HEAD", "POST"], ["GET", "HEAD", "BREW", "PROPFIND"]]))
    return x


def example_exchange(example: Any) -> Exchange:
    """The exchange of a catalogue example (its documented request and response)."""
    return build_exchange(
        example.status, list(example.headers), example.body, method=example.method,
        request_headers=list(example.request_headers), http_version=example.http_version,
        allowed_methods=example.allowed_methods, gateway=example.gateway, known_methods=example.known_methods,
        final=example.final,
    )
