"""ASGI adapter: ``ASGIMiddleware(app, mode=..., rules=..., **fix_options)``.

Theory of operation (pure ASGI, in the shape of Starlette's GZipMiddleware; never
BaseHTTPMiddleware, which costs a task and a stream per request):
- Non-HTTP scopes (websocket, lifespan) pass straight through.
- ``http.response.start`` is forwarded at once unless a decision needs the first body message
  (an error with no Content-Length, HEAD, 204/205/304). Then it is held until the first non-empty
  body message (or the end), never longer: at most one body message is ever held.
- Body messages are counted, not kept. Trailers, ``pathsend``, ``zerocopysend`` and early hints are
  forwarded; an early hint to an HTTP/1.0 client is suppressed (RFC 9110 §15.2).
- In log and fix modes an internal error of statusguard is logged and the response continues as
  the app sent it. In strict mode our errors propagate. A client disconnect (an exception from the
  server's ``send``) propagates as it would without us; nothing is left behind.
- Two objects carry a request: a _FastPath first, which decides a head already judged by a memo
  look-up (see _memo.py), and a _Responder, which judges in full, as soon as the fast path cannot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from .core.errors import ConfigurationError, StatusViolationError
from .core.model import Violation, normalise_headers
from .core.policy import Policy
from .runtime.memo import Memo
from .runtime.report import Reporter, ViolationContext, secrets_of
from .runtime.session import Inspection, replay
from .runtime.verdict import Decision, Verdict

__all__ = ["ASGIMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_STATE_KEY = "statusguard.violations"
_SERVED: tuple[Any, ...] = ("served",)  # stands for a held head's response the fast path completed
# None, typed as what the app's calls may set in their place (mypy would take a literal None as final).
_NO_RESPONDER: _Responder | None = None
_NO_VERDICT: Verdict | None = None
_NO_KEY: tuple[Any, ...] | None = None


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
        self.memo = Memo(self.policy.dispatcher)
        self.policy.on_new_dispatcher(self.memo.current)  # the memo is emptied when hints are installed
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
        # The common cases go through a _FastPath (see _memo.py): a head whose remembered verdict is
        # plain (sent as it is, nothing to report), then its body, counted; and a held head whose whole
        # body, in one message, was decided before. Anything else hands over to a _Responder.
        fast = _FastPath()  # no __init__: a call frame costs more than these stores
        fast.middleware = self  # one store per line: a tuple assignment would build a tuple
        fast.scope = scope
        fast.server_send = send
        fast.violations = violations
        fast.responder = _NO_RESPONDER
        fast.verdict = _NO_VERDICT
        fast.waiting = _NO_KEY
        fast.sent = 0
        await self.app(scope, receive, fast.send)
        responder = fast.responder
        if responder is None:
            waiting = fast.waiting
            if waiting is not None and waiting is not _SERVED:  # the app sent no body for its held head
                await fast.adopt_held(waiting).app_returned()
        elif responder.held_start is not None:
            await responder.app_returned()


class _FastPath:
    """Per-request state of ``ASGIMiddleware.__call__`` while a remembered verdict (see _memo.py)
    serves the response: one slotted object, the cheapest state CPython offers (closures cost more).

    It hands over to a _Responder (``adopt``) as soon as anything unusual happens; from then on its
    ``send`` forwards to the responder.
    """

    __slots__ = ("middleware", "responder", "scope", "sent", "server_send", "start", "verdict", "violations", "waiting")
    middleware: ASGIMiddleware
    scope: Scope
    server_send: Send
    violations: list[Violation]
    responder: _Responder | None
    verdict: Verdict | None  # the plain verdict the head went out on
    start: Message  # the app's start message (sent, or held): set with ``verdict`` or ``waiting``
    waiting: tuple[Any, ...] | None  # the memo key of a held head until its body comes, then _SERVED
    sent: int

    async def send(self, message: Message) -> None:
        responder = self.responder
        if responder is None:
            # Subscripts, not .get(): the cheapest reads. A message without one of these keys (body
            # and headers are optional), or not a dict, takes the full path.
            verdict = self.verdict
            if verdict is not None:  # every chunk of a stream: count and forward
                try:
                    size = len(message["body"]) if message["type"] == "http.response.body" else -1
                except (KeyError, TypeError):
                    size = -1
                if size >= 0:
                    sent = self.sent = self.sent + size
                    await self.server_send(message)
                    if not message.get("more_body", False) and sent != verdict.settled_total \
                            and not verdict.settles(sent):
                        self.adopt()._end()  # a total the verdict did not foresee: checked in full
                    return
                responder = self.adopt()
            elif self.waiting is not None:
                outcome = None if self.waiting is _SERVED else self.held_outcome(self.waiting, message)
                if outcome is not None:
                    self.waiting = _SERVED
                    await self.server_send(outcome[0])
                    await self.server_send(outcome[1])
                    return
                responder = self.adopt_held(self.waiting)
            else:
                key: tuple[Any, ...] = ()
                found = None
                memo = self.middleware.memo
                try:
                    if message["type"] == "http.response.start":
                        status, headers = message["status"], message["headers"]
                        if type(status) is int and type(headers) is list:
                            scope = self.scope
                            key = (status, tuple(headers), scope["method"], scope["http_version"])
                            found = memo.entries.get(key)
                except (KeyError, TypeError):  # a broken scope or message, unhashable entries
                    key = ()
                else:
                    if key:
                        if found is None and memo.shapes:
                            found = memo.recall(key, self.middleware.policy.dispatcher)  # another Content-Length
                        if found is not None:
                            if found.plain:
                                self.verdict = found
                                self.start = message
                                await self.server_send(message)
                                return
                            if found.held and not message.get("trailers"):
                                self.waiting = key  # decided with the body that follows
                                self.start = message
                                return
                responder = self.responder = _Responder(self.middleware, self.scope, self.server_send, self.violations)
                if key:  # a start message already looked up: not again
                    await responder.start(message, key, found)
                    return
        await responder.send(message)

    def adopt(self) -> _Responder:
        """Hand over a response whose head went out on a plain verdict to a _Responder."""
        responder = _Responder(self.middleware, self.scope, self.server_send, self.violations)
        verdict = self.verdict
        assert verdict is not None
        responder.start_message = self.start
        responder.verdict, responder.decision = verdict, verdict.decision
        responder.counting, responder.sent = True, self.sent
        self.responder = responder
        return responder

    def adopt_held(self, key: tuple[Any, ...]) -> _Responder:
        """Hand over a response whose head the fast path holds (or, once ``key`` is _SERVED, whose body
        it sent: anything the app sends after that goes to the server) to a _Responder."""
        responder = _Responder(self.middleware, self.scope, self.server_send, self.violations)
        responder.start_message = self.start
        if key is _SERVED:
            responder.broken = True  # the response is complete: the server answers for what follows
        else:
            responder.held_start, responder.head_key = self.start, key
        self.responder = responder
        return responder

    def held_outcome(self, key: tuple[Any, ...], message: Message) -> tuple[Message, Message] | None:
        """The start and body messages to send for a held head and its whole body (one message), as the
        remembered verdict for both says, its reports replayed; None when there is none, or its reports
        may not be replayed to this request. (Not a coroutine: the caller sends, one frame less.)"""
        try:
            if message["type"] != "http.response.body" or message.get("more_body"):
                return None
            body = message.get("body", b"")
        except (KeyError, TypeError, AttributeError):
            return None
        if type(body) is not bytes:
            return None
        middleware = self.middleware
        verdict = middleware.memo.held(key, body)
        scope = self.scope
        if verdict is None or verdict.held or (verdict.reports and _has_credentials(scope)):
            return None
        decision = verdict.decision
        if decision is None:
            return None
        start = self.start
        if verdict.reports:
            try:
                middleware.reporter.replay(verdict.reports, self.violations, str(scope.get("method", "GET")),
                                           _full_path(scope), "asgi")
            except Exception as exc:  # as the responder does: reported, and the response goes as the app sent it
                self.adopt_held(key)._internal_error("report", exc)
                self.responder = None  # this message is answered here; nothing else is looked at
                return start, message
        if decision.changed:
            start = dict(start)
            start["status"] = decision.status
            start["headers"] = _raw_headers(decision, verdict)
        if decision.replace_body is not None:
            return start, {"type": "http.response.body", "body": decision.replace_body, "more_body": False}
        if decision.drop_body:
            return start, {"type": "http.response.body", "body": b"", "more_body": False}
        return start, message


class _Responder:
    """Per-request state. The per-request defaults live on the class, so that a response decided from
    a remembered verdict (see _memo.py) costs only the attributes it sets."""

    inspection: Inspection | None = None
    held_start: Message | None = None
    start_message: Message | None = None  # the app's start message for the current head
    decision: Decision | None = None
    broken = False
    # The head went out and the body is the app's own (not dropped, not replaced): body messages are
    # only counted and forwarded. Set when the start is sent; cleared by a new start or an internal error.
    counting = False
    drop_trailers = False  # the start went out without its trailers flag: swallow the trailers
    sent = 0
    verdict: Verdict | None = None  # the remembered verdict this head went out on (no inspection made)
    head_key: tuple[object, ...] | None = None  # the memo key of the current head, when it has one

    def __init__(self, middleware: ASGIMiddleware, scope: Scope, send: Send, violations: list[Violation]) -> None:
        self.middleware = middleware
        self.scope = scope
        self.server_send = send
        self.violations = violations

    async def send(self, message: Message) -> None:
        if self.counting and message.get("type") == "http.response.body":
            # The hot path (every chunk of a stream), inline: count and forward.
            self.sent += len(message.get("body", b""))
            await self.server_send(message)
            if not message.get("more_body", False):
                verdict = self.verdict
                if verdict is None or self.sent != verdict.settled_total:  # else settled: nothing to check
                    self._end()
            return
        kind = message.get("type")
        if self.broken:
            await self.server_send(message)
        elif kind == "http.response.start":
            await self._start(message)
        elif kind == "http.response.body":
            await self._body(message)
        elif kind in ("http.response.pathsend", "http.response.zerocopysend"):
            await self._file(message)
        elif kind == "http.response.early_hint" and self.scope.get("http_version") == "1.0":
            return  # 1xx-not-to-http10: an HTTP/1.0 client would take it as the final response
        elif kind == "http.response.trailers" and self.drop_trailers:
            return  # the server was told there are none (the body is ours); it would reject them
        else:
            await self.server_send(message)

    @property
    def _strict(self) -> bool:
        return self.middleware.policy.mode == "strict"

    # -- start --------------------------------------------------------------------------------
    async def start(self, message: Message, key: tuple[Any, ...], verdict: Verdict | None) -> None:
        """The first start message, already looked up in the memo under ``key`` (``verdict``: what was found)."""
        self.start_message = message
        self.head_key = key
        if verdict is not None and self.middleware.memo.current(self.middleware.policy.dispatcher) and (
            not verdict.reports or not _has_credentials(self.scope)
        ):
            await self._start_remembered(message, verdict)
        else:
            await self._judge_start(message)

    async def _start(self, message: Message) -> None:
        """A start message the fast path did not look up (after early hints, a second one, an unusual one)."""
        if self.start_message is None:
            status, headers = message.get("status"), message.get("headers")
            if type(status) is int and type(headers) is list:
                try:
                    key = (status, tuple(headers), self.scope["method"], self.scope["http_version"])
                    found = self.middleware.memo.entries.get(key)
                except (KeyError, TypeError):
                    pass
                else:
                    await self.start(message, key, found)
                    return
        self.start_message = message
        self.verdict = None
        self.head_key = None
        await self._judge_start(message)

    async def _judge_start(self, message: Message) -> None:
        self.counting = False
        try:
            inspection = self._new_inspection()
            hold = inspection.begin(message.get("status"), message.get("headers") or ())
        except StatusViolationError:
            raise  # a rule whose action is raise (strict mode): raised into the app's send(start)
        except Exception as exc:
            self._internal_error("http.response.start", exc)
            await self.server_send(message)
            return
        self.held_start = message
        if hold:
            if self.head_key is not None:
                self._remember(self.head_key, inspection.verdict(held=True))
        else:
            self._decide(None, None)
            if self.head_key is not None and not self.broken:
                self._remember(self.head_key, inspection.verdict())
            await self._flush_start()

    async def _start_remembered(self, message: Message, verdict: Verdict) -> None:
        """Send (or hold) a head on its remembered verdict: no inspection is made unless one is needed later."""
        self.inspection = None
        if verdict.held:
            self.held_start = message
            return
        self.verdict = verdict
        decision = self.decision = verdict.decision
        if verdict.reports:
            self._replay(verdict)
        if decision is not None and decision.changed:
            message = self._fixed_start(message, decision)
        await self.server_send(message)
        self.counting = decision is None or (decision.replace_body is None and not decision.drop_body)

    def _take(self, verdict: Verdict) -> bool:
        """Decide on a remembered whole-body verdict, unless its reports may not be replayed to this request."""
        if verdict.reports and _has_credentials(self.scope):
            return False
        self.inspection, self.verdict, self.decision = None, verdict, verdict.decision
        if verdict.reports:
            self._replay(verdict)
        return True

    def _replay(self, verdict: Verdict) -> None:
        try:
            replay(verdict, self.middleware.reporter, self.violations, str(self.scope.get("method", "GET")),
                   _full_path(self.scope), "asgi")
        except Exception as exc:
            self._internal_error("report", exc)

    def _remember(self, key: tuple[object, ...], verdict: Verdict | None) -> None:
        if verdict is not None:
            self.middleware.memo.put(key, verdict, self.middleware.policy.dispatcher)

    def _inspection_now(self) -> Inspection:
        """The inspection of a head held on a remembered verdict: begun now, as at its start message."""
        message = self.held_start
        assert message is not None
        inspection = self._new_inspection()
        inspection.begin(message.get("status"), message.get("headers") or ())
        return inspection

    def _new_inspection(self) -> Inspection:
        scope = self.scope
        callable_methods = self.middleware.allowed_methods
        self.inspection = Inspection(
            self.middleware.policy,
            self.middleware.reporter,
            method=str(scope.get("method", "GET")),  # case-sensitive (RFC 9110 §9.1), as the checker takes it
            path=_full_path(scope),
            request_headers=lambda: _request_headers(scope),
            http_version=str(scope.get("http_version", "1.1")),
            gateway="asgi",
            allowed_methods=(lambda: callable_methods(scope)) if callable_methods is not None else None,
            violations=self.violations,
        )
        return self.inspection

    def _decide(self, body: bytes | None, has_body: bool | None, complete: bool = False) -> None:
        if self.broken or (self.inspection is None and self.held_start is None):
            return
        key = self.head_key if self.held_start is not None else None
        try:
            # A held head decided on its whole (small) body is remembered with the body as part of the key.
            whole_key, verdict = self.middleware.memo.whole(key, body, self.middleware.policy.dispatcher) \
                if complete else (None, None)
            if verdict is not None and self._take(verdict):
                return
            inspection = self.inspection if self.inspection is not None else self._inspection_now()
            self.decision = inspection.decide(body, has_body, complete=complete)
            if whole_key is not None:
                self._remember(whole_key, inspection.verdict())
        except StatusViolationError:
            # The violating head is never sent: not later by app_returned() either, should the app
            # swallow the error and return (the server then answers 500 as for any unstarted response).
            self.held_start = None
            raise
        except Exception as exc:
            self._internal_error("decide", exc)

    async def _flush_start(self) -> None:
        message = self.held_start
        if message is None:
            return
        self.held_start = None
        decision = self.decision
        if not self.broken and decision is not None and decision.changed:
            try:
                message = self._fixed_start(message, decision)
            except Exception as exc:
                self._internal_error("http.response.start", exc)
        await self.server_send(message)
        self.counting = (
            not self.broken and decision is not None and decision.replace_body is None and not decision.drop_body
        )

    def _fixed_start(self, message: Message, decision: Decision) -> Message:
        """A copy of the app's start message carrying the decision's head (the app's is not mutated)."""
        fixed = dict(message)
        fixed["status"] = decision.status
        fixed["headers"] = _raw_headers(decision, self.verdict)
        if (decision.drop_body or decision.replace_body is not None) and fixed.pop("trailers", False):
            self.drop_trailers = True  # no trailers on a body we own (RULES.md §3.20)
        return fixed

    # -- body ---------------------------------------------------------------------------------
    async def _body(self, message: Message) -> None:
        body = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self.held_start is not None:
            if not body and more:
                return  # an empty chunk carries nothing; keep holding until content or the end
            if more:
                self._decide(None, True)
            else:
                self._decide(bytes(body), None, complete=True)
            await self._flush_start()
        decision = self.decision
        if not self.broken and decision is not None:
            if decision.replace_body is not None:
                if not more:
                    await self.server_send(
                        {"type": "http.response.body", "body": decision.replace_body, "more_body": False}
                    )
                return
            if decision.drop_body:
                if not more:  # ASGI still needs one final body message (RULES.md §3.20)
                    await self.server_send({"type": "http.response.body", "body": b"", "more_body": False})
                return
        self.sent += len(body)
        await self.server_send(message)
        if not more:
            self._end()

    async def _file(self, message: Message) -> None:
        if self.held_start is not None:
            self._decide(None, True)
            await self._flush_start()
        decision = self.decision
        if not self.broken and decision is not None and (decision.drop_body or decision.replace_body is not None):
            if not message.get("more_body", False):  # zerocopysend may come in parts; pathsend is whole
                body = decision.replace_body or b""
                await self.server_send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self.server_send(message)

    def _end(self) -> None:
        if self.broken or self.decision is None:
            return
        try:
            inspection = self.inspection
            if inspection is None:
                verdict = self.verdict
                if verdict is None or self.sent == verdict.settled_total or verdict.settles(self.sent):
                    return
                # A total the remembered verdict did not foresee: checked in full, as without the memo.
                message = self.start_message
                assert verdict.decision is not None
                assert message is not None
                inspection = self._new_inspection()
                inspection.resume(message.get("status"), message.get("headers") or (), verdict.decision)
            inspection.end(self.sent)
        except StatusViolationError:
            raise
        except Exception as exc:
            self._internal_error("end", exc)

    async def app_returned(self) -> None:
        """The app returned while its head was still held (it sent no body message): send it as is."""
        if self.held_start is not None:
            message, self.held_start = self.held_start, None
            await self.server_send(message)

    def _internal_error(self, where: str, exc: BaseException) -> None:
        if self._strict:
            raise exc
        self.broken = True
        self.counting = False
        if self.inspection is not None:
            secrets = self.inspection.secrets()
        else:  # a head that went out on a remembered verdict
            message = self.start_message or {}
            secrets = secrets_of(_request_headers(self.scope), normalise_headers(message.get("headers") or ())[0])
        self.middleware.reporter.internal_error(f"ASGIMiddleware.{where}", exc, secrets)


def _request_headers(scope: Scope) -> list[tuple[str, str]]:
    return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in scope.get("headers") or ()]


_CREDENTIAL_FIELDS = frozenset({b"authorization", b"proxy-authorization", b"cookie"})


def _has_credentials(scope: Scope) -> bool:
    try:
        for name, _ in scope.get("headers") or ():
            if type(name) is not bytes:
                name = bytes(name)
            # Servers give lower-case names (the ASGI spec asks them to): those need no lowering.
            if name in _CREDENTIAL_FIELDS or (not name.islower() and name.lower() in _CREDENTIAL_FIELDS):
                return True
    except Exception:  # a malformed request header list: judged in full, where it is reported
        return True
    return False


def _raw_headers(decision: Decision, verdict: Verdict | None = None) -> list[tuple[bytes, bytes]]:
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


def _full_path(scope: Scope) -> str:
    """The request path for reports. ``path`` already includes ``root_path`` in current ASGI servers
    (asgiref 3.x, uvicorn, Starlette's Mount); older ones give it stripped, like PATH_INFO."""
    path = scope.get("path")
    if not isinstance(path, str):
        return "?"
    root = scope.get("root_path") or ""
    return path if not isinstance(root, str) or path.startswith(root) else root + path
