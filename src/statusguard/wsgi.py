"""WSGI adapter: ``WSGIMiddleware(app, mode=..., rules=..., **fix_options)``.

Theory of operation (PEP 3333; werkzeug's LintMiddleware is the model for observing a response
without disturbing it):
- ``start_response`` is wrapped. The head is checked when the app calls it, so strict mode raises
  before a byte leaves. When a decision needs the first body chunk (an error with no
  Content-Length, HEAD, 204/205/304), the call to the server's ``start_response`` is deferred to
  the first iteration, which PEP 3333 allows.
- The legacy ``write()`` callable is wrapped the same way.
- A re-call with ``exc_info`` before any body byte went out replaces the response, so the new
  head is the one inspected; once a byte went out it goes to the server, which re-raises.
- The returned iterable is wrapped to count bytes (never to keep them) and to forward ``close()``
  exactly once, whatever raised. A ``wsgi.file_wrapper`` object passes through untouched when
  nothing about its body needs deciding.
- In log and fix modes an internal error of statusguard is logged and the response continues as
  the app sent it. In strict mode our errors propagate.
- Two objects carry a request: a _FastPath first, which decides a head already judged by a memo
  look-up (see _memo.py), and a _Responder, which judges in full, as soon as the fast path cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .core.errors import ConfigurationError, StatusViolationError
from .core.model import Violation, normalise_headers
from .core.policy import Policy
from .runtime.memo import Memo
from .runtime.report import Reporter, ViolationContext, secrets_of
from .runtime.session import Inspection, replay
from .runtime.verdict import Decision, Verdict

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["WSGIMiddleware"]

_ENVIRON_KEY = "statusguard.violations"
# None, typed as what the app's calls may set in their place (mypy would take a literal None as final).
_NO_RESPONDER: _Responder | None = None
_NO_VERDICT: Verdict | None = None
_MAX_WHOLE_BODY = 256 * 1024  # a list/tuple body up to this size is checked whole (it is already in memory)


class WSGIMiddleware:
    """Check (and per the policy log, fix or raise on) every response of a WSGI app."""

    def __init__(
        self,
        app: WSGIApplication,
        mode: str | None = None,
        rules: Mapping[str, str] | None = None,
        *,
        on_violation: Callable[[Violation, ViolationContext], object] | None = None,
        allowed_methods: Callable[[WSGIEnvironment], Iterable[str] | None] | None = None,
        log_interval: float = 60.0,
        **fix_options: Any,
    ) -> None:
        self.app = app
        self.policy = Policy(mode, rules, **fix_options)
        self.reporter = Reporter(interval=log_interval, on_violation=on_violation)
        if allowed_methods is not None and not callable(allowed_methods):  # type: ignore[redundant-expr,unused-ignore]
            raise ConfigurationError(
                f"allowed_methods={allowed_methods!r}: expected a callable taking the environ and returning "
                "the methods served at its path (or None), e.g. statusguard.contrib.flask.allowed_methods(app)"
            )
        self.allowed_methods = allowed_methods
        self.memo = Memo(self.policy.dispatcher)
        self.policy.on_new_dispatcher(self.memo.current)  # the memo is emptied when hints are installed
        self._off = self.policy.mode == "off"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._off:
            return self.app(environ, start_response)
        violations: list[Violation] = []
        environ[_ENVIRON_KEY] = violations
        # The common cases go through a _FastPath (see _memo.py): a head whose remembered verdict is
        # plain (sent as it is, nothing to report) with its body counted, and a held head whose small
        # list body was decided before. Anything else hands over to a _Responder.
        fast = _FastPath()  # no __init__: a call frame costs more than these stores
        fast.middleware = self  # one store per line: a tuple assignment would build a tuple
        fast.environ = environ
        fast.server_start_response = start_response
        fast.violations = violations
        fast.responder = _NO_RESPONDER
        fast.verdict = _NO_VERDICT
        fast.written = 0
        result = self.app(environ, fast.start_response)
        responder = fast.responder
        if responder is None:
            verdict = fast.verdict
            if verdict is None:  # the app has not called start_response yet (a lazy iterable)
                responder = fast.responder = _Responder(self, environ, start_response, violations)
                return responder.finish(result)
            if verdict.held:
                if type(result) is list:
                    served = fast.held_list(result)
                    if served is not None:
                        return served
            elif type(result) is list:
                try:  # one chunk, the common case, costs less than summing
                    total = fast.written + (len(result[0]) if len(result) == 1 else sum(map(len, result)))
                except TypeError:
                    total = -1  # not a list of bytes: the guarded iterable forwards it as it comes
                if total == verdict.settled_total or (total >= 0 and verdict.settles(total)):
                    return result  # checked whole: nothing to count, nothing to close
            elif not _is_file_wrapper(environ, result):
                return _CountedBody(result, fast.stream(result))
            responder = fast.adopt()
        return responder.finish(result)


class _FastPath:
    """Per-request state of ``WSGIMiddleware.__call__`` while a remembered verdict (see _memo.py)
    serves the response: one slotted object, the cheapest state CPython offers (closures cost more).

    It hands over to a _Responder (``adopt``) as soon as anything unusual happens; from then on
    its ``start_response`` and ``write`` forward to the responder.
    """

    __slots__ = (
        "environ", "held_headers", "key", "middleware", "responder", "server_start_response", "server_write",
        "verdict", "violations", "written",
    )
    middleware: WSGIMiddleware
    environ: WSGIEnvironment
    server_start_response: StartResponse
    violations: list[Violation]
    responder: _Responder | None
    verdict: Verdict | None  # plain: the head went out; held: it waits for the body
    written: int  # bytes the app gave write() under a plain verdict
    key: tuple[Any, ...]  # the memo key of the head (set with the verdict)
    server_write: Callable[[bytes], object]  # set with a plain verdict
    held_headers: list[tuple[str, str]]  # the app's own header list, set with a held verdict

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        responder = self.responder
        if responder is None:
            if self.verdict is None and exc_info is None and type(status) is str and type(headers) is list:
                environ = self.environ
                memo = self.middleware.memo
                try:  # PEP 3333 requires both keys; without them (or unhashable entries): judged in full
                    key = (status, tuple(headers), environ["REQUEST_METHOD"], environ["SERVER_PROTOCOL"])
                    found = memo.entries.get(key)
                except (KeyError, TypeError):
                    found = None
                else:
                    if found is None and memo.shapes:
                        found = memo.recall(key, self.middleware.policy.dispatcher)  # another Content-Length
                if found is not None:
                    if found.plain:
                        self.verdict = found
                        self.key = key
                        self.server_write = self.server_start_response(status, headers)
                        return self.write
                    if found.held:  # decided with the body, when the app returns it
                        self.verdict = found
                        self.key = key
                        self.held_headers = headers
                        return self.write
            responder = self.adopt()
        return responder.start_response(status, headers, exc_info)

    def write(self, data: bytes) -> object:
        responder = self.responder
        if responder is None:
            verdict = self.verdict
            if verdict is not None and not verdict.held:
                self.written += len(data)
                return self.server_write(data)
            responder = self.adopt()
        return responder.write(data)

    def adopt(self, sent: int | None = None) -> _Responder:
        """Hand the request over to a _Responder, from where the fast path leaves it."""
        responder = _Responder(self.middleware, self.environ, self.server_start_response, self.violations)
        verdict = self.verdict
        if verdict is not None:
            key = self.key
            responder.app_status, responder.app_called = key[0], True
            if verdict.held:  # the head waits for its body, as _Responder._start_remembered leaves it
                responder.app_headers, responder.hold, responder.head_key = self.held_headers, True, key
            else:  # the head went out as the app sent it
                responder.app_headers = list(key[1])
                responder.verdict, responder.decision = verdict, verdict.decision
                responder.started, responder.server_write = True, self.server_write
                responder.sent = self.written if sent is None else sent
                responder.body_started = responder.sent > 0
        self.responder = responder
        return responder

    def held_list(self, result: list[bytes]) -> Iterable[bytes] | None:
        """A held head whose whole body, a list of at most one chunk, was decided before: served as
        then. None: not remembered (or its reports may not be replayed here): judged in full."""
        if not result:
            body = b""
        elif len(result) == 1 and type(result[0]) is bytes:
            body = result[0]
        else:
            return None
        key = self.key
        verdict = self.middleware.memo.held(key, body)
        if verdict is None or verdict.held or (verdict.reports and _has_credentials(self.environ)):
            return None
        decision = verdict.decision
        if decision is None:
            return None
        if verdict.reports:
            environ = self.environ
            try:
                path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
                self.middleware.reporter.replay(verdict.reports, self.violations, str(key[2]), path, "wsgi")
            except Exception as exc:  # as the responder does: reported, and the response passes as the app sent it
                responder = self.adopt()
                responder._internal_error("report", exc)
                return responder.finish(result)
        if decision.changed:  # a copy: servers add their own fields to the list they are given
            self.server_start_response(decision.status_line, list(decision.headers))
        else:
            self.server_start_response(key[0], self.held_headers)
        if decision.drop_body:
            return []
        if decision.replace_body is not None:
            return [decision.replace_body] if decision.replace_body else []
        return result if body else []

    def stream(self, body: Iterable[bytes]) -> Generator[bytes, None, None]:
        """The app's body under a plain verdict, counted as it goes out (never kept)."""
        iterator = iter(body)
        for chunk in iterator:
            if self.responder is not None:  # the app replaced its head (exc_info) before a byte went out
                yield from _GuardedIterable(self.responder, body).resumed(iterator, chunk)
                return
            self.written += len(chunk)
            yield chunk
            if self.written:
                break
        count = 0
        for chunk in iterator:  # a byte went out: the head is on the wire, the app can no longer replace it
            count += len(chunk)
            yield chunk
        responder = self.responder
        if responder is not None:  # adopted since (the app swallowed the server's re-raise of exc_info)
            responder.sent += count
            responder.end()
            return
        total = self.written + count
        verdict = self.verdict
        assert verdict is not None
        if total != verdict.settled_total and not verdict.settles(total):
            # A total the verdict did not foresee: checked in full, as without the memo.
            self.adopt(sent=total).end()



class _Responder:
    """Per-request state: one instance per call, never shared (WSGI servers are threaded).

    The per-request defaults live on the class, so that a response decided from a remembered
    verdict (see _memo.py) costs only the attributes it sets.
    """

    inspection: Inspection | None = None
    broken = False  # an internal error: pass everything through from here on
    app_status: str = ""
    app_called = False  # the app has called start_response (its status may be any value, even "")
    app_headers: list[tuple[str, str]] = []  # noqa: RUF012 (never mutated: replaced per call)
    app_exc_info: OptExcInfo | None = None
    hold = False
    started = False  # the server's start_response has been called for the current head
    body_started = False  # a body byte has gone to the server: the head is on the wire
    decision: Decision | None = None
    server_write: Callable[[bytes], object] | None = None
    sent = 0
    verdict: Verdict | None = None  # the remembered verdict this head went out on (no inspection made)
    head_key: tuple[object, ...] | None = None  # the memo key of the current head, when it has one

    def __init__(
        self, middleware: WSGIMiddleware, environ: WSGIEnvironment, start_response: StartResponse,
        violations: list[Violation],
    ) -> None:
        self.middleware = middleware
        self.environ = environ
        self.server_start_response = start_response
        self.violations = violations

    @property
    def _strict(self) -> bool:
        return self.middleware.policy.mode == "strict"

    # -- the app's view -----------------------------------------------------------------------
    def finish(self, result: Iterable[bytes]) -> Iterable[bytes]:
        """What the server gets for the app's iterable: it, when nothing is left to do, else a wrapper."""
        try:
            verdict = self.verdict
            if type(result) is list and self.started and not self.hold and not self.broken:
                if verdict is not None and self.inspection is None and not self._owns_body():
                    try:
                        total = self.sent + sum(map(len, result))
                    except TypeError:
                        total = -1  # not a list of bytes: the guarded iterable forwards it as it comes
                    if total == verdict.settled_total or (total >= 0 and verdict.settles(total)):
                        return result  # nothing to count, nothing to close
                elif self._settled(result):
                    return result  # its length was checked from the list: nothing to count, nothing to close
            if (
                self.started and not self.hold and _is_file_wrapper(self.environ, result)
                and (self.broken or not self._owns_body())
            ):
                return result  # let the server use sendfile; the server frames what it sends
            return _GuardedIterable(self, result)
        except BaseException:
            _close(result)  # PEP 3333: whoever gets the iterable closes it; nobody else will now
            raise

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is None and not self.app_called and type(status) is str and type(headers) is list \
                and not self.broken:
            # The common case first: a head like one already judged (see _memo.py).
            # A first head the middleware's fast path did not send (see WSGIMiddleware.__call__): it may
            # still be remembered with reports, as held, or have been served lazily from the iterable.
            environ = self.environ
            key = (status, tuple(headers), environ.get("REQUEST_METHOD"), environ.get("SERVER_PROTOCOL"))
            memo, dispatcher = self.middleware.memo, self.middleware.policy.dispatcher
            try:
                verdict = memo.get(key, dispatcher)
            except TypeError:  # an unhashable entry: judged in full (and reported)
                verdict = None
            else:
                self.head_key = key
                if verdict is None:
                    verdict = memo.recall(key, dispatcher)  # another Content-Length
                if verdict is not None and (not verdict.reports or not _has_credentials(environ)):
                    return self._start_remembered(status, headers, verdict)
        elif exc_info is not None and self.body_started:
            # PEP 3333: the head is on the wire; the server re-raises exc_info, as it would without us.
            return self.server_start_response(status, headers, exc_info)
        else:
            self.head_key = None  # a replaced head (exc_info) is judged in full
        # A first call, or the app replacing its response before any byte was sent (exc_info set):
        # this head is the one that will go out, so it is the one inspected.
        self.app_status, self.app_headers, self.app_exc_info = status, headers, exc_info
        self.app_called = True
        self.decision = None
        self.verdict = None
        self.started = False
        self.sent = 0
        if self.broken:
            return self._start_server_passthrough()
        try:
            inspection = self._new_inspection()
            self.hold = inspection.begin(status, headers)
            if self.hold and self.head_key is not None:
                self._remember(self.head_key, inspection.verdict(held=True))
        except StatusViolationError:
            raise  # a rule whose action is raise (strict mode): before a byte leaves
        except Exception as exc:
            self._internal_error("start_response", exc)
            return self._start_server_passthrough()
        if not self.hold:
            self._decide(None, None)
            self._start_server()
        return self.write

    def _start_remembered(
        self, status: str, headers: list[tuple[str, str]], verdict: Verdict
    ) -> Callable[[bytes], object]:
        """Send (or hold) a head on its remembered verdict: no inspection is made unless one is needed later."""
        self.app_status, self.app_headers = status, headers
        self.app_called = True
        if verdict.held:
            self.hold = True
            return self.write
        self.verdict = verdict
        decision = verdict.decision
        self.decision = decision
        if verdict.reports:
            self._replay(verdict)
        self.started = True
        if decision is None or not decision.changed:
            self.server_write = self.server_start_response(status, headers)
        else:  # a copy: servers add their own fields to the list they are given
            self.server_write = self.server_start_response(decision.status_line, list(decision.headers))
        return self.write

    def _take(self, verdict: Verdict) -> bool:
        """Decide on a remembered whole-body verdict, unless its reports may not be replayed to this request."""
        if verdict.reports and _has_credentials(self.environ):
            return False
        self.inspection, self.verdict, self.decision = None, verdict, verdict.decision
        if verdict.reports:
            self._replay(verdict)
        return True

    def _replay(self, verdict: Verdict) -> None:
        try:
            environ = self.environ
            path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
            replay(verdict, self.middleware.reporter, self.violations, str(environ.get("REQUEST_METHOD", "GET")),
                   path, "wsgi")
        except Exception as exc:
            self._internal_error("report", exc)

    def _remember(self, key: tuple[object, ...], verdict: Verdict | None) -> None:
        if verdict is not None:
            self.middleware.memo.put(key, verdict, self.middleware.policy.dispatcher)

    def _inspection_now(self) -> Inspection:
        """The inspection of a head that was held on a remembered verdict: begun now, as at start_response."""
        inspection = self._new_inspection()
        inspection.begin(self.app_status, self.app_headers)
        return inspection

    def write(self, data: bytes) -> object:
        if not self.started:
            if data == b"" and not self.broken:
                return None  # nothing to decide on yet
            self._decide(None, True)
            self._start_server()
        if not self.broken and self._owns_body():
            return None
        self.sent += len(data)
        if data:
            self.body_started = True
        assert self.server_write is not None
        return self.server_write(data)

    def _settled(self, result: list[bytes]) -> bool:
        """A list body under a head already sent as the app wrote it: the length phase is checked now,
        from the list (its bytes are in memory). True when nothing is left to check as it is sent."""
        inspection = self.inspection
        if inspection is None:
            return False
        try:
            total = self.sent + sum(map(len, result))
        except TypeError:
            return False  # not a list of bytes: the guarded iterable forwards it as it comes
        try:
            return inspection.end_ahead(total)
        except Exception as exc:
            self._internal_error("end", exc)
            return False

    def _owns_body(self) -> bool:
        """Has the decision replaced or dropped the app's body (so that its bytes are not forwarded)?"""
        decision = self.decision
        return decision is not None and (decision.drop_body or decision.replace_body is not None)

    # -- decisions ----------------------------------------------------------------------------
    def _new_inspection(self) -> Inspection:
        environ = self.environ
        callable_methods = self.middleware.allowed_methods
        self.inspection = Inspection(
            self.middleware.policy,
            self.middleware.reporter,
            # Case-sensitive (RFC 9110 §9.1), as the checker takes it: "get" is not GET.
            method=str(environ.get("REQUEST_METHOD", "GET")),
            path=str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
            request_headers=lambda: _request_headers(environ),
            http_version=str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")).removeprefix("HTTP/"),
            gateway="wsgi",
            allowed_methods=(lambda: callable_methods(environ)) if callable_methods is not None else None,
            violations=self.violations,
        )
        return self.inspection

    def _decide(self, body: bytes | None, has_body: bool | None, complete: bool = False) -> None:
        if self.broken or not self.app_called:
            return
        key = self.head_key
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
            elif key is not None and not self.hold:
                self._remember(key, inspection.verdict())
        except Exception as exc:
            if isinstance(exc, StatusViolationError) or self._strict:
                raise
            self._internal_error("decide", exc)

    def _start_server(self) -> None:
        decision = self.decision
        self.started = True
        if self.broken or decision is None or not decision.changed:
            self.server_write = self.server_start_response(self.app_status, self.app_headers, self.app_exc_info)
            return
        # A copy: servers add their own fields to the list they are given, and decisions are remembered.
        self.server_write = self.server_start_response(decision.status_line, list(decision.headers), self.app_exc_info)

    def _start_server_passthrough(self) -> Callable[[bytes], object]:
        self.started = True
        self.server_write = self.server_start_response(self.app_status, self.app_headers, self.app_exc_info)
        return self.write

    def _internal_error(self, where: str, exc: BaseException) -> None:
        if self._strict:
            raise exc
        self.broken = True
        if self.inspection is not None:
            secrets = self.inspection.secrets()
        else:  # a head that went out on a remembered verdict
            secrets = secrets_of(_request_headers(self.environ), normalise_headers(self.app_headers)[0])
        self.middleware.reporter.internal_error(f"WSGIMiddleware.{where}", exc, secrets)

    def end(self) -> None:
        if self.broken or self.decision is None:
            return
        try:
            inspection = self.inspection
            if inspection is None:
                verdict = self.verdict
                if verdict is None or self.sent == verdict.settled_total or verdict.settles(self.sent):
                    return
                # A total the remembered verdict did not foresee: checked in full, as without the memo.
                assert verdict.decision is not None
                inspection = self._new_inspection()
                inspection.resume(self.app_status, self.app_headers, verdict.decision)
            inspection.end(self.sent)
        except Exception as exc:
            if isinstance(exc, StatusViolationError) or self._strict:
                raise
            self._internal_error("end", exc)


class _GuardedIterable:
    """Wraps the app's iterable: decides on the first chunk if needed, counts, forwards close().

    It holds at most one chunk of the app's (the one a held head is decided on), never more.
    """

    def __init__(self, responder: _Responder, result: Iterable[bytes]) -> None:
        self.responder = responder
        self.result = result
        self.iterator: Iterator[bytes] | None = None
        self.pending: list[bytes] = []
        self.finished = False
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        responder = self.responder
        if self.iterator is None and responder.started and not responder.broken and not self._owned_body():
            # The head went out and the body is the app's: a generator counts it, cheaper per chunk
            # than a method call; anything unusual hands over to __next__.
            self.iterator = iter(self.result)
            return self._stream(self.iterator)
        return self

    def _stream(self, iterator: Iterator[bytes]) -> Iterator[bytes]:
        responder = self.responder
        for chunk in iterator:
            if not responder.started:
                # The app replaced its head (start_response with exc_info) while iterating, before any
                # byte was sent: the careful path decides the new head on this chunk.
                self._first(pulled=chunk)
                yield from self
                return
            responder.sent += len(chunk)
            if chunk:
                responder.body_started = True
            yield chunk
        if not responder.started:  # the app replaced its head (exc_info) and then ended
            self._first(exhausted=True)
            yield from self
            return
        self._finish()

    def __next__(self) -> bytes:  # one call per chunk: this runs for every chunk of a stream
        responder = self.responder
        if self.iterator is None:
            self.iterator = iter(self.result)
            if not responder.started:
                self._first(whole_ok=True)
            elif self._owned_body():
                # Decided at start_response (e.g. from Content-Length: 0): our body replaces the app's.
                replacement = responder.decision.replace_body if responder.decision is not None else None
                self.pending = [replacement] if replacement else []
                self.finished = True
        while True:
            if self.pending:
                chunk = self.pending.pop(0)
                if chunk:
                    responder.body_started = True
                return chunk
            if self.finished:
                raise StopIteration
            decision = responder.decision  # self._owned_body(), inline: this runs for every chunk
            if decision is not None and not responder.broken and (
                decision.drop_body or decision.replace_body is not None
            ):
                self._finish()
                raise StopIteration
            try:
                chunk = next(self.iterator)
            except StopIteration:
                if not responder.started:  # the app replaced its head (exc_info) and then ended
                    self._first(exhausted=True)
                    continue
                self._finish()
                raise
            if not responder.started:
                # The app replaced its head (start_response with exc_info) while iterating, before any
                # byte was sent: the new head is decided on this chunk, like a first one.
                self._first(pulled=chunk)
                continue
            responder.sent += len(chunk)
            if chunk:
                responder.body_started = True
            return chunk

    def resumed(self, iterator: Iterator[bytes], chunk: bytes) -> Iterator[bytes]:
        """The rest of a body the middleware's fast path was counting when the app replaced its head
        (start_response with exc_info) before a byte went out; ``chunk`` was pulled from ``iterator`` since.

        The fast path closes the app's iterable itself: this one is iterated, never closed.
        """
        self.iterator = iterator
        responder = self.responder
        if not responder.started:
            self._first(pulled=chunk)
        elif self._owned_body():  # the new head was decided at once, with a body of ours
            replacement = responder.decision.replace_body if responder.decision is not None else None
            self.pending = [replacement] if replacement else []
            self.finished = True
        else:
            responder.sent += len(chunk)
            self.pending = [chunk]
        for out in self:  # noqa: UP028 (``yield from`` would close the app's iterable twice when we are closed)
            yield out

    def _owned_body(self) -> bool:
        return not self.responder.broken and self.responder._owns_body()

    def _first(self, pulled: bytes = b"", exhausted: bool = False, whole_ok: bool = False) -> None:
        """The head was held (or the app calls start_response lazily): decide with the first chunk.

        ``pulled`` is a chunk already taken from the app's iterator; ``exhausted`` says it has ended.
        """
        responder = self.responder
        assert self.iterator is not None
        result = self.result
        if whole_ok and isinstance(result, list | tuple) and all(isinstance(c, bytes) for c in result) \
                and sum(len(c) for c in result) <= _MAX_WHOLE_BODY:
            self._whole(result)
            return
        first = pulled
        while not first and not exhausted:
            try:
                first = next(self.iterator)
            except StopIteration:
                exhausted = True
        if not responder.started:
            if not responder.app_called:
                raise AssertionError("the WSGI app returned without calling start_response")
            if exhausted:
                responder._decide(first, None, complete=True)
            else:
                responder._decide(None, True)
            responder._start_server()
        decision = responder.decision
        replaced = not responder.broken and decision is not None and decision.replace_body is not None
        dropped = not responder.broken and decision is not None and decision.drop_body
        if replaced:
            assert decision is not None
            assert decision.replace_body is not None
            self.pending = [decision.replace_body] if decision.replace_body else []
            self.finished = True
        elif dropped:
            self.finished = True
        elif first:
            responder.sent += len(first)
            self.pending = [first]
        if exhausted:
            self.finished = True
            if not replaced and not dropped:
                self.responder.end()

    def _whole(self, result: list[bytes] | tuple[bytes, ...]) -> None:
        """The whole body is already in memory (a small list): check it whole, as one piece."""
        responder = self.responder
        assert self.iterator is not None
        self.iterator = iter(())
        if not responder.started:
            if not responder.app_called:
                raise AssertionError("the WSGI app returned without calling start_response")
            responder._decide(b"".join(result), None, complete=True)
            responder._start_server()
        decision = responder.decision
        if responder.broken or decision is None:
            self.pending = [c for c in result if c]
        elif decision.drop_body:
            self.pending = []
        elif decision.replace_body is not None:
            self.pending = [decision.replace_body] if decision.replace_body else []
        else:
            self.pending = [c for c in result if c]
        self.finished = True  # checked whole in decide(): no length phase left for end()

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.responder.end()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        _close(self.result)


class _CountedBody:
    """The app's iterable under a plain remembered verdict: iterated through the fast path's counting
    generator, with ``close()`` forwarded to the app's iterable exactly once (PEP 3333), even when the
    server never iterates it (a generator's own close would then run nothing)."""

    __slots__ = ("_result", "_stream")

    def __init__(self, result: Iterable[bytes], stream: Generator[bytes, None, None]) -> None:
        self._result: Iterable[bytes] | None = result
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        return self._stream

    def close(self) -> None:
        result, self._result = self._result, None
        if result is None:
            return
        try:
            self._stream.close()  # a stream left half-way: nothing runs on, nothing is checked
        finally:
            _close(result)


def _is_file_wrapper(environ: WSGIEnvironment, result: object) -> bool:
    file_wrapper = environ.get("wsgi.file_wrapper")
    return isinstance(file_wrapper, type) and isinstance(result, file_wrapper)


def _close(result: object) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


def _has_credentials(environ: WSGIEnvironment) -> bool:
    return "HTTP_AUTHORIZATION" in environ or "HTTP_COOKIE" in environ or "HTTP_PROXY_AUTHORIZATION" in environ


def _request_headers(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            headers.append((key[5:].replace("_", "-").lower(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and isinstance(value, str) and value:
            headers.append((key.replace("_", "-").lower(), value))
    return headers

