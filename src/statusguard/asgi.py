"""ASGI adapter: ``ASGIMiddleware(app, mode=..., rules=..., **fix_options)``.

Theory of operation (pure ASGI, in the shape of Starlette's GZipMiddleware; never
BaseHTTPMiddleware, which costs a task and a stream per request). Each HTTP request gets a
_Response, the response session of ``runtime/session.py`` with the app's ``send`` around it:
- Non-HTTP scopes (websocket, lifespan) pass straight through.
- ``http.response.start`` is the session's head. When the session holds it for its first content,
  it waits for the first non-empty body message (or the end), never longer: at most one message of
  the app's is ever held.
- Body messages are counted, not kept. Trailers, ``pathsend``, ``zerocopysend`` and early hints are
  forwarded; an early hint to an HTTP/1.0 client is suppressed (RFC 9110 §15.2).
- A client disconnect (an exception from the server's ``send``) propagates as it would without us.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from .core.errors import ConfigurationError
from .core.model import Violation
from .core.policy import Policy
from .runtime.report import Reporter, ViolationContext
from .runtime.session import BROKEN, HELD, HOLD, IDLE, OPEN, OWNED, SEND, Gateway, Session
from .runtime.verdict import Decision, Verdict

__all__ = ["ASGIMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_STATE_KEY = "statusguard.violations"
# The message types a response session acts on (any other is forwarded as it is).
_START, _BODY, _FILE, _EARLY_HINT, _TRAILERS = 1, 2, 3, 4, 5
_KINDS: dict[object, int] = {
    "http.response.start": _START, "http.response.body": _BODY, "http.response.pathsend": _FILE,
    "http.response.zerocopysend": _FILE, "http.response.early_hint": _EARLY_HINT, "http.response.trailers": _TRAILERS,
}


class ASGIMiddleware:
    """Check (and per the policy log, fix or raise on) every HTTP response of an ASGI app."""

    def __init__(
        self,
        app: ASGIApp,
        mode: str | None = None,
        rules: Mapping[str, str] | None = None,
        *,
        on_violation: Callable[[Violation, ViolationContext], object] | None = None,
        allowed_methods: Callable[[Scope], Iterable[str] | None] | None = None,
        log_interval: float = 60.0,
        **fix_options: Any,
    ) -> None:
        self.app = app
        self.policy = Policy(mode, rules, **fix_options)
        self.reporter = Reporter(interval=log_interval, on_violation=on_violation)
        if allowed_methods is not None and not callable(allowed_methods):
            raise ConfigurationError(
                f"allowed_methods={allowed_methods!r}: expected a callable taking the scope and returning the "
                "methods served at its path (or None), e.g. statusguard.contrib.starlette.allowed_methods(app)"
            )
        self.allowed_methods = allowed_methods
        self._gateway = _Scope("asgi", self.policy, self.reporter, allowed_methods)
        self.memo = self._gateway.memo
        self._off = self.policy.mode == "off"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._off:
            await self.app(scope, receive, send)
            return
        violations: list[Violation] = []
        state = scope.get("state")
        if type(state) is dict or isinstance(state, MutableMapping):  # dict first: the ABC check is slow
            state[_STATE_KEY] = violations
        else:
            scope["state"] = {_STATE_KEY: violations}
        response = _Response()
        response.gateway = self._gateway
        response.request = scope
        response.violations = violations
        response.server_send = send
        response.state = IDLE
        response.sent = 0
        await self.app(scope, receive, response.send)
        if response.state is HELD:  # the app sent no body message: its head goes out as it sent it
            await send(response.start)


class _Response(Session):
    """One request's response session, with the app's ``send`` around it."""

    __slots__ = ("server_send", "start")
    server_send: Send
    start: Message  # the app's start message, once it is held or goes out changed

    async def send(self, message: Message) -> None:
        if self.state is OPEN:  # every chunk of a stream: count and forward
            try:  # subscripts, the cheapest reads; a message without them takes the long way
                size = len(message["body"]) if message["type"] == "http.response.body" else -1
            except (KeyError, TypeError):
                size = -1
            if size >= 0:
                sent = self.sent = self.sent + size
                await self.server_send(message)
                if not message.get("more_body", False) and sent != self.settled:
                    self.end()
                return
        try:
            kind = _KINDS.get(message.get("type"), 0)
        except TypeError:  # an unhashable type: not one of ours
            kind = 0
        if self.state is BROKEN:
            await self.server_send(message)
        elif kind is _START:
            try:  # the memo key of a first head of usual types (a broken message is judged in full)
                status, headers = message["status"], message["headers"]
                key = (status, tuple(headers), self.request["method"], self.request["http_version"]) \
                    if self.state is IDLE and type(status) is int and type(headers) is list else None
            except KeyError:
                status, headers, key = message.get("status"), message.get("headers"), None
            action = self.head(status, headers or (), key)
            if action is SEND:
                await self.server_send(message)
            else:
                self.start = message
                if action is not HOLD:
                    await self.server_send(self._decided(action))
        elif kind is _BODY:
            body = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if self.state is HELD:
                if not body and more:
                    return  # an empty chunk carries nothing; keep holding until content or the end
                whole = None if more else body if type(body) is bytes else bytes(body)
                await self.server_send(self._decided(self.decide(whole)))
            if self.state is OWNED:
                if not more:  # ASGI still needs one final body message (RULES.md §3.20)
                    await self.server_send(_last_body(self.decision))
                return
            self.sent += len(body)
            await self.server_send(message)
            if not more:
                self.end()
        elif kind is _FILE:
            if self.state is HELD:
                await self.server_send(self._decided(self.decide(None)))
            if self.state is not OWNED:
                await self.server_send(message)
            elif not message.get("more_body", False):  # zerocopysend may come in parts; pathsend is whole
                await self.server_send(_last_body(self.decision))
        elif kind is _EARLY_HINT and self.request.get("http_version") == "1.0":
            return  # 1xx-not-to-http10: an HTTP/1.0 client would take it as the final response
        elif kind is _TRAILERS and self.state is OWNED and self.start.get("trailers"):
            return  # the server was told there are none (the body is ours); it would reject them
        else:
            await self.server_send(message)

    def _decided(self, action: int) -> Message:
        """The held (or just decided) start message as the session's action has it go out."""
        message = self.start
        if action is SEND:
            return message
        decision = self.decision
        assert decision is not None
        try:  # a copy carrying the decision's head: the app's message is not mutated
            fixed = dict(message)
            fixed["status"] = decision.status
            fixed["headers"] = _raw_headers(decision, self.verdict)
            if self.state is OWNED:
                fixed.pop("trailers", None)  # no trailers on a body we own (RULES.md §3.20)
        except Exception as exc:
            self.fail(self.gateway.head_event, exc)
            return message
        return fixed


class _Scope(Gateway):
    label = "ASGIMiddleware"
    head_event = "http.response.start"

    def request_line(self, scope: Scope) -> tuple[str, str]:
        # ``path`` already includes ``root_path`` in current ASGI servers (asgiref 3.x, uvicorn,
        # Starlette's Mount); older ones give it stripped, like PATH_INFO.
        path = scope.get("path")
        if not isinstance(path, str):
            path = "?"
        else:
            root = scope.get("root_path") or ""
            if isinstance(root, str) and not path.startswith(root):
                path = root + path
        return str(scope.get("method", "GET")), path

    def version(self, scope: Scope) -> str:
        return str(scope.get("http_version", "1.1"))

    def request_headers(self, scope: Scope) -> list[tuple[str, str]]:
        return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in scope.get("headers") or ()]

    def replay_line(self, scope: Scope) -> tuple[str, str] | None:
        try:
            for name, _ in scope.get("headers") or ():
                if type(name) is not bytes:
                    name = bytes(name)
                # Servers give lower-case names (the ASGI spec asks them to): those need no lowering.
                if name in _CREDENTIAL_FIELDS or (not name.islower() and name.lower() in _CREDENTIAL_FIELDS):
                    return None
        except Exception:  # a malformed request header list: judged in full, where it is reported
            return None
        return self.request_line(scope)


_CREDENTIAL_FIELDS = frozenset({b"authorization", b"proxy-authorization", b"cookie"})


def _last_body(decision: Decision | None) -> Message:
    """The one body message of a body we own: the replacement, or none at all."""
    assert decision is not None
    return {"type": "http.response.body", "body": decision.replace_body or b"", "more_body": False}


def _raw_headers(decision: Decision, verdict: Verdict | None) -> list[tuple[bytes, bytes]]:
    """A decision's headers as ASGI sends them (lower-case bytes), in a new list (servers may extend the
    list they are given). Made once per remembered verdict: its decision goes out again and again."""
    if verdict is None or verdict.decision is not decision:
        return [(_encode(name.lower()), _encode(value)) for name, value in decision.headers]
    raw = verdict.raw_headers
    if raw is None:
        raw = verdict.raw_headers = tuple((_encode(name.lower()), _encode(value)) for name, value in decision.headers)
    return list(raw)


def _encode(text: str) -> bytes:
    """A header name or value as bytes. It came from bytes (Latin-1) unless the app broke the spec with a str;
    a str outside Latin-1 that the policy only logs (field-value-syntax) goes out as UTF-8, not as a crash."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
